"""The grounded strategy: the framework finds where each field is stated; the model only chooses.

A small model cannot read a whole report and fill forty fields, but it can
answer one closed question about a few sentences. So, for each field that
declares an ``Ask`` (``extractor.record.markers``), the framework:

1. finds the candidates the text offers (``finders``, ``items``): values
   stated in sentences of the right part of the article, each with the
   verbatim sentence that states it;
2. keeps none when there is none (the field is null: nothing is invented);
3. keeps the one value when all candidates agree: it is stated by a pattern
   the spec defines (an age written as an age, a site named by the
   vocabulary), which is the check;
4. asks the model when candidates disagree, with a grammar that allows only
   the candidates or ``none``, over only the sentences that state them.

Every kept value therefore carries a verbatim evidence quote by
construction, and ``sources`` records which mechanism gave each field
(``rule``, ``model`` or ``none``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal, get_origin

from pydantic import BaseModel, create_model

from extractor.config import StrategyName
from extractor.errors import TemplateError
from extractor.extraction.entities import blocks, entity_count
from extractor.extraction.evidence import Candidate, Evidence
from extractor.extraction.finders import FINDERS
from extractor.extraction.prompts import Prompt, fill
from extractor.hashing import canonical_json, sha256_text
from extractor.io.sections import Section
from extractor.model.base import Completion, ModelClient, Usage
from extractor.record.markers import Ask, asks, quote_fields
from extractor.record.template import (
    Template,
    blank_record,
    default_template,
    item_model,
    list_field,
    model_of,
    models_in,
)
from extractor.record.vocabulary import Vocabulary

NONE = "none"
LABEL = "label"  # the finder of an entity's label: the name a series gives it ("Case 2")
MAX_OPTIONS = 6  # a closed question lists at most this many candidates
MAX_SENTENCES = 6  # and quotes at most this many sentences
FinderFunction = Callable[[Evidence, Ask, Vocabulary], Any]
_CHOOSE = (
    "Question: {{ question }}\nOptions: {{ options }}\n"
    "Answer with the option that the sentences state, or none."
)


@cache
def choice_model(path: str, options: tuple[str, ...]) -> type[BaseModel]:
    """The answer model of one closed question: one of ``options`` or ``none``."""
    answer: Any = Literal[(*options, NONE)]
    return create_model("Choice", __doc__=path, answer=(answer, ...))


class _Asker:
    """Asks the closed questions of one document, adding up what they cost."""

    def __init__(self, client: ModelClient, prompt: Prompt) -> None:
        self.client, self.prompt = client, prompt
        self.usage, self.attempts = Usage(), 0
        self.sources: dict[str, str] = {}  # each field's mechanism: rule, model or none

    async def choose(
        self, path: str, ask: Ask, options: dict[str, Candidate], evidence: Evidence
    ) -> str | None:
        """The option the model picks for ``path`` (``None`` for ``none``).

        The question quotes the sentences of ``evidence`` (the document, or one
        patient's part of a case series) that state the options.
        """
        keys = tuple(options)[:MAX_OPTIONS]
        sentences = sorted({options[key].sentence for key in keys})[:MAX_SENTENCES]
        numbered = "\n".join(
            f"[{n}] {evidence.sentences[i].text}" for n, i in enumerate(sentences, start=1)
        )
        task = fill(self.prompt.tasks.get("choose", _CHOOSE), question=ask.question,
                    options=", ".join(keys))  # fmt: skip
        messages = [
            {"role": "system", "content": self.prompt.system},
            {"role": "user", "content": fill(self.prompt.user, document=numbered, task=task)},
        ]
        answer = await self.client.complete(messages, choice_model(path, keys))
        self.usage += answer.usage
        self.attempts += answer.attempts
        chosen = str(getattr(answer.record, "answer", NONE))
        return None if chosen == NONE else chosen


@dataclass(frozen=True)
class _Slot:
    """Where a field's value goes: its path in the record, and its model and name."""

    path: str
    model: type[BaseModel]
    name: str


class Grounded:
    """Each field from the sentences that state it; the model chooses among candidates."""

    name: StrategyName = "grounded"
    code_revision = 7  # bump whenever a finder or a marker changes an answer
    splits = False  # each question quotes a few sentences, never the whole text

    def __init__(
        self, ask_model: bool = True, vocab: Vocabulary | None = None,
        template: Template | None = None,
    ) -> None:  # fmt: skip
        self.ask_model = ask_model
        self.template = template or default_template()
        self.vocab = vocab or self.template.vocabulary
        self.finders = _finders(self.template.model, self.vocab)

    async def extract(
        self, client: ModelClient, prompt: Prompt, text: str, sections: tuple[Section, ...] = ()
    ) -> Completion[BaseModel]:
        closed = [(s.start, s.end) for s in sections if s.kind in ("background", "discussion")]
        evidence = Evidence(text, closed=closed)
        asker = _Asker(client, prompt)
        template, model = self.template, self.template.model
        record = blank_record(model)
        for name, ask in asks(model).items():
            if name != template.entities:
                record[name], _ = await self._field(_Slot(name, model, name), ask, evidence, asker)
        if template.entities is not None and template.entity is not None:
            rules = template.rules
            if rules is None or rules.count is None:
                count = entity_count(evidence)
            else:
                count = rules.count(record)
            entity, path = template.entity.model, template.entities
            record[template.entities] = [
                await self._entity(
                    f"{path}[{n}]",
                    entity,
                    block.evidence,
                    asker,
                    label=block.label,
                    named=block.named,
                )
                for n, block in enumerate(blocks(evidence, count))
            ]
        return Completion(
            record=model.model_validate(record),
            usage=asker.usage,
            attempts=asker.attempts,
            sources=asker.sources,
        )

    @property
    def revision(self) -> str:
        """The code revision, the vocabulary's hash and the template's ``Ask`` markers' hash."""
        revision = f"{self.code_revision}.{self.vocab.sha256[:12]}"
        return f"{revision}.{_asks_sha256(self.template.model)[:12]}"

    async def _field(
        self, slot: _Slot, ask: Ask, evidence: Evidence, asker: _Asker,
        *, siblings: dict[str, Any] | None = None,
    ) -> tuple[Any, str | None]:  # fmt: skip
        """The value of one field and its quote, and its mechanism in ``asker.sources``."""
        path, sources = slot.path, asker.sources
        found = self._find(slot.model, slot.name, ask, evidence)
        if ask.words_of is not None:
            meant = (siblings or {}).get(ask.words_of)
            found = [c for c in found if meant is not None and c.meaning == meant]
        if not found:
            sources[path] = "none"
            return None, None
        options = _options(found, ask)
        if len(options) == 1 or not self.ask_model or ask.pick in ("any_true", "max", "last"):
            sources[path] = "rule"
            chosen = _picked(found, options, ask)
        else:
            sources[path] = "model"
            chosen = await asker.choose(
                path, ask, {str(k): c for k, c in options.items()}, evidence
            )
            chosen = next((k for k in options if str(k) == chosen), None)
        if chosen is None:
            return None, None
        return chosen, options[chosen].quote

    def _find(self, model: type[BaseModel], name: str, ask: Ask, evidence: Evidence) -> Any:
        """What the finder of ``model``'s field ``name`` finds in ``evidence``."""
        finder = self.finders[(model, name)]
        assert finder is not None
        return finder(evidence, ask, self.vocab)

    async def _entity(
        self,
        path: str,
        model: type[BaseModel],
        evidence: Evidence,
        asker: _Asker,
        *,
        label: str | None = None,
        named: str | None = None,
    ) -> dict[str, Any]:
        """One entity (or nested model) of ``model``, its quotes in its ``Quotes`` map.

        ``label`` is the entity's label in a series and ``named`` the words of
        the text that name it, its label's quote.
        """
        entity, sources = blank_record(model), asker.sources
        quotes = _quote_map(model)
        if quotes is not None:
            entity[quotes] = {}
        for name, ask in asks(model).items():
            where = f"{path}.{name}"
            annotation = model.model_fields[name].annotation
            if self.finders[(model, name)] is None:  # the entity's label, from the document
                entity[name] = label
                sources[where] = "rule"
                if quotes is not None and label is not None and named is not None:
                    entity[quotes][name] = named  # the words that name it: "the second case"
                continue
            if item_model(annotation) is not None:
                entity[name] = _items(model, name, self._find(model, name, ask, evidence))
                continue
            if ask.many:
                value, quote = self._values(
                    model, name, evidence, ask, entity.get(ask.unlike or "")
                )
                sources[where] = "rule" if value else "none"
            else:
                slot = _Slot(where, model, name)
                value, quote = await self._field(slot, ask, evidence, asker, siblings=entity)
            entity[name] = value
            if quotes is not None and quote is not None and value not in (None, []):
                entity[quotes][name] = quote
        for name, info in model.model_fields.items():
            nested = model_of(info.annotation)
            if nested is not None and name != quotes:
                entity[name] = await self._entity(f"{path}.{name}", nested, evidence, asker)
        return entity

    def _values(
        self, model: type[BaseModel], name: str, evidence: Evidence, ask: Ask, unlike: Any
    ) -> tuple[list[Any], str | None]:
        """Every distinct value stated for a list field (``unlike`` left out), first quote."""
        found = [c for c in self._find(model, name, ask, evidence) if c.value != unlike]
        return sorted({c.value for c in found}), (found[0].quote if found else None)


def _items(model: type[BaseModel], name: str, found: list[Any]) -> list[dict[str, Any]]:
    """A list field's items: as a template's finder made them, or one per distinct candidate.

    A candidate (a phrase) becomes an item whose first key field is its value
    and whose quote is its sentence; the item's other fields are left empty.
    """
    if not found or not isinstance(found[0], Candidate):
        return found
    spec = list_field(model, name)
    assert spec.item is not None
    items: dict[str, dict[str, Any]] = {}
    for candidate in found:
        made = {**blank_record(spec.item), spec.keys[0]: candidate.value}
        if spec.quote is not None:
            made[spec.quote] = candidate.quote
        items.setdefault(" ".join(str(candidate.value).casefold().split()), made)
    return list(items.values())


def _quote_map(model: type[BaseModel]) -> str | None:
    """The field of ``model`` that maps its fields to their quotes, if it has one."""
    for name in quote_fields(model):
        annotation = model.model_fields[name].annotation
        if model_of(annotation) is not None or get_origin(annotation) is dict:
            return name
    return None


@cache
def _finders(
    model: type[BaseModel], vocab: Vocabulary
) -> dict[tuple[type[BaseModel], str], FinderFunction | None]:
    """Every ``Ask`` marker's finder, by (model, field), checked (``TemplateError`` naming it).

    A finder is a built-in name (``extractor.extraction.finders``), ``label``
    (the entity's label), or ``module:function`` (a template's own finder).
    """
    found: dict[tuple[type[BaseModel], str], FinderFunction | None] = {}
    kinds = set(vocab.kinds())
    for current in models_in(model):
        for name, ask in asks(current).items():
            where = f"{current.__name__}.{name}"
            found[(current, name)] = _finder(ask.finder, where)
            if ask.vocabulary is not None and ask.vocabulary not in kinds:
                raise TemplateError(
                    f"{where}: the vocabulary has no kind {ask.vocabulary!r} "
                    f"(it has {', '.join(sorted(kinds)) or 'none'})"
                )
    return found


def _finder(name: str, where: str) -> FinderFunction | None:
    if name == LABEL:
        return None
    if ":" not in name:
        if name not in FINDERS:
            known = ", ".join(sorted([*FINDERS, LABEL]))
            raise TemplateError(f"{where}: unknown finder {name!r} (built in: {known})")
        return FINDERS[name]
    module, _, function = name.partition(":")
    try:
        found = getattr(importlib.import_module(module), function)
    except (ImportError, AttributeError) as e:
        raise TemplateError(f"{where}: cannot import finder {name!r}: {e}") from None
    if not callable(found):
        raise TemplateError(f"{where}: finder {name!r} is not a function")
    return found  # type: ignore[no-any-return]


@cache
def _asks_sha256(model: type[BaseModel]) -> str:
    """A hash of every ``Ask`` marker of ``model`` and its nested models."""
    markers = {
        f"{current.__name__}.{name}": repr(ask)
        for current in models_in(model)
        for name, ask in asks(current).items()
    }
    return sha256_text(canonical_json(markers))


def _options(found: list[Candidate], ask: Ask) -> dict[Any, Candidate]:
    """The distinct candidate values, most often stated first, each with its first quote."""
    counts: dict[Any, float] = {}
    for candidate in found:
        counts[candidate.value] = counts.get(candidate.value, 0.0) + candidate.weight
    first: dict[Any, Candidate] = {}
    for candidate in found:
        first.setdefault(candidate.value, candidate)
    order = sorted(first, key=lambda value: -counts[value]) if ask.pick == "most" else list(first)
    return {value: first[value] for value in order}


def _picked(found: list[Candidate], options: dict[Any, Candidate], ask: Ask) -> Any:
    """The candidate that stands without a model, by the field's ``pick`` rule."""
    if ask.pick == "any_true":
        return any(c.value for c in found) if True in options or False in options else None
    if ask.pick == "max":
        return max(options)
    if ask.pick == "last":
        return found[-1].value
    return next(iter(options))
