"""Long documents: split to fit the model's context, extract each part, merge into one record.

The budget comes from the model's context size (``ModelConfig.context_size``,
in tokens) less the answer's token limit and the prompt around the document,
at a conservative ``CHARS_PER_TOKEN``. Text is split at headings first, then
at paragraphs, then at sentences, and parts are packed up to the budget.
Records are merged: document fields take the first value any part gave;
entities (patients) are paired across parts by field agreement (as the
scorer pairs them) and their values combined, lists without duplicates.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

from pydantic import BaseModel

from extractor.config import StrategyName
from extractor.errors import ExtractionFailed
from extractor.extraction.prompts import Prompt
from extractor.extraction.strategies import Strategy
from extractor.io.sections import Section
from extractor.model.base import Completion, ModelClient, Usage
from extractor.record.matching import agreement, pair_entities
from extractor.record.template import Level, Template

R = TypeVar("R", bound=BaseModel)

CHARS_PER_TOKEN = 3.0  # clinical text runs about 4 characters a token; 3 leaves a margin
MIN_CHUNK_CHARS = 1000

_HEADING = re.compile(
    r"\n(?=(?:#+ |[A-Z][A-Za-z ]{0,40}\n|(?:case (?:report|presentation)|discussion|"
    r"conclusions?|introduction|background|results|methods|references)\b))",
    re.IGNORECASE,
)
_PARAGRAPH = re.compile(r"\n\s*\n")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def max_chunk_chars(context_tokens: int, answer_tokens: int, prompt: Prompt) -> int:
    """How many characters of document fit in one request."""
    around = len(prompt.text) / CHARS_PER_TOKEN
    budget = (context_tokens - answer_tokens - around) * CHARS_PER_TOKEN
    return max(MIN_CHUNK_CHARS, int(budget))


def split(text: str, limit: int) -> list[str]:
    """``text`` in consecutive parts of at most ``limit`` characters, cut at natural breaks."""
    if len(text) <= limit:
        return [text]
    for pattern in (_HEADING, _PARAGRAPH, _SENTENCE):
        pieces = [p for p in pattern.split(text) if p.strip()]
        if len(pieces) > 1:
            return _pack([part for piece in pieces for part in split(piece, limit)], limit)
    return [text[i : i + limit] for i in range(0, len(text), limit)]


def _pack(pieces: list[str], limit: int) -> list[str]:
    chunks: list[str] = []
    for piece in pieces:
        if chunks and len(chunks[-1]) + 2 + len(piece) <= limit:
            chunks[-1] = f"{chunks[-1]}\n\n{piece}"
        else:
            chunks.append(piece)
    return chunks


def _merge_values(first: Any, second: Any) -> Any:
    """The merged value of one field: lists joined without duplicates, else the first given."""
    if isinstance(first, list) and isinstance(second, list):
        return first + [item for item in second if item not in first]
    if isinstance(first, dict) and isinstance(second, dict):
        return {**second, **{k: v for k, v in first.items() if v is not None}}
    return first if first is not None else second


def _merge_entities(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    return {key: _merge_values(a.get(key), b.get(key)) for key in a.keys() | b.keys()}


def _same_entity(level: Level, a: BaseModel, b: BaseModel) -> bool:
    """Whether two parts' entities are one: their scalar values agree more than conflict."""
    conflicts = sum(
        1
        for name in level.scalars
        if getattr(a, name) is not None
        and getattr(b, name) is not None
        and getattr(a, name) != getattr(b, name)
    )
    return conflicts == 0 or agreement(a, b, level) > conflicts


def _merge_entity_lists(
    level: Level, entities: list[BaseModel], new: list[BaseModel], single: bool
) -> list[dict[str, Any]]:
    """``entities`` with a later part's ``new`` ones merged in (all into one when single)."""
    combined = [p.model_dump() for p in entities]
    if single and combined:
        for entity in new:
            combined[0] = _merge_entities(combined[0], entity.model_dump())
        return combined
    for index_new, index_old in pair_entities(new, entities, level):
        if index_new is None:
            continue
        entity = new[index_new]
        if index_old is not None and _same_entity(level, entities[index_old], entity):
            combined[index_old] = _merge_entities(combined[index_old], entity.model_dump())
        else:
            combined.append(entity.model_dump())
    return combined


def merge(records: list[R]) -> R:
    """One record from the records of a document's parts (their template's rules applied).

    The entities of a document the template counts as describing one are
    merged into one; otherwise they are paired across parts.
    """
    template = Template.of(type(records[0]))
    merged = records[0].model_dump()
    if template.entities is None or template.entity is None:
        for record in records[1:]:
            merged = _merge_entities(merged, record.model_dump())
        return type(records[0]).model_validate(merged)
    name, level, rules = template.entities, template.entity, template.rules
    entities = template.entity_list(records[0])
    for record in records[1:]:
        for key, value in record.model_dump().items():
            if key != name:
                merged[key] = _merge_values(merged[key], value)
        single = rules is not None and rules.count is not None and rules.count(merged) == 1
        combined = _merge_entity_lists(level, entities, template.entity_list(record), single)
        entities = [level.model.model_validate(item) for item in combined]
    merged[name] = [entity.model_dump() for entity in entities]
    counted = None if rules is None else rules.counted_by
    if counted is not None and merged.get(counted) is not None:
        merged[counted] = max(merged[counted], len(entities))
    return type(records[0]).model_validate(merged)


class Chunked:
    """Runs ``inner`` on each part of a long document and merges the records."""

    def __init__(self, inner: Strategy, limit: int) -> None:
        self.inner = inner
        self.limit = limit
        self.name: StrategyName = inner.name
        self.revision = inner.revision
        self.splits = True

    def parts(self, text: str) -> list[str]:
        """The parts ``text`` is extracted in (one when it fits)."""
        return split(text, self.limit)

    async def extract(
        self, client: ModelClient, prompt: Prompt, text: str, sections: tuple[Section, ...] = ()
    ) -> Completion[BaseModel]:
        """Every part of ``text`` in turn, merged (see ``extract_parts``)."""
        return await self.extract_parts(client, prompt, self.parts(text))

    async def extract_parts(
        self, client: ModelClient, prompt: Prompt, parts: list[str]
    ) -> Completion[BaseModel]:
        """Every part in turn; a part the model fails on is left out unless all fail."""
        completions: list[Completion[BaseModel]] = []
        failures: list[ExtractionFailed] = []
        for part in parts:
            try:
                completions.append(await self.inner.extract(client, prompt, part))
            except ExtractionFailed as e:
                failures.append(e)
        if not completions:
            raise failures[0]
        return Completion(
            record=merge([c.record for c in completions]),
            usage=sum((c.usage for c in completions), Usage()),
            attempts=sum(c.attempts for c in completions),
        )
