"""Extraction strategies: how a record is asked of the model.

``whole`` asks for the whole record in one call. ``sections`` asks several
smaller, enum-constrained questions and merges the answers:

1. the document-level fields;
2. for each question the template's entity fields declare (``Part``; fields
   without one go in the first, named after the entity list), those fields
   for every entity.

The entity questions ask for exactly as many entities as the template's
``count`` rule says the first answer implies (for the NEN record: one for a
case report, the stated count for a case series, none for other documents),
so the grammar stops a small model from inventing patients without end.
``grounded`` (``extractor.extraction.grounded``) is the default.
"""

from __future__ import annotations

from functools import cache
from typing import Any, Protocol

from pydantic import BaseModel, Field, create_model

from extractor.config import STRATEGIES, StrategyName
from extractor.errors import ConfigError
from extractor.extraction.grounded import Grounded
from extractor.extraction.prompts import Prompt
from extractor.io.sections import Section
from extractor.model.base import Completion, ModelClient, Usage
from extractor.record.markers import Part
from extractor.record.template import Template, default_template

MAX_SERIES = 10  # entities asked for at most when the template has no count rule


SectionList = tuple[Section, ...]


class Strategy(Protocol):
    """Turns one document into a validated record of its template through a model client.

    ``revision`` changes whenever the strategy's code would answer differently;
    it is part of cache keys, so a changed strategy never returns stale records.
    ``splits`` is True when the model reads the whole text, so a document
    longer than its context must be split into parts first.
    """

    name: StrategyName
    splits: bool
    template: Template

    @property
    def revision(self) -> int | str:
        """The strategy's code revision (part of cache keys)."""
        ...

    async def extract(
        self, client: ModelClient, prompt: Prompt, text: str, sections: SectionList = ()
    ) -> Completion[BaseModel]:
        """One validated record, with the usage and calls of every request made.

        ``sections`` are the document's titled parts (from its markup or its
        headings); a strategy may use them to keep background and discussion
        out of patient fields.
        """
        ...


class Whole:
    """One call fills the whole record."""

    name: StrategyName = "whole"
    revision = 1
    splits = True

    def __init__(self, template: Template | None = None) -> None:
        self.template = template or default_template()

    async def extract(
        self, client: ModelClient, prompt: Prompt, text: str, sections: SectionList = ()
    ) -> Completion[BaseModel]:
        return await client.complete(prompt.messages(text, "whole"), self.template.model)


def _submodel(name: str, source: type[BaseModel], fields: tuple[str, ...]) -> type[BaseModel]:
    """A model with some of ``source``'s fields, as they are there (types, bounds, defaults)."""
    definitions: dict[str, Any] = {
        field: (info.annotation, info)
        for field, info in source.model_fields.items()
        if field in fields
    }
    return create_model(name, __config__=source.model_config, **definitions)


@cache
def document_model(template: Template) -> type[BaseModel]:
    """The answer model of the first question: the document-level fields."""
    fields = tuple(name for name in template.model.model_fields if name != template.entities)
    return _submodel("Bibliographic", template.model, fields)


@cache
def parts(template: Template) -> dict[str, tuple[str, ...]]:
    """The entity questions, by name, each with its fields (``Part`` markers, in field order)."""
    if template.entity is None or template.entities is None:
        return {}
    groups: dict[str, list[str]] = {template.entities: []}
    for name, info in template.entity.model.model_fields.items():
        part = next((m.name for m in info.metadata if isinstance(m, Part)), template.entities)
        groups.setdefault(part, []).append(name)
    return {part: tuple(fields) for part, fields in groups.items() if fields}


@cache
def part_model(template: Template, part: str, count: int | None) -> type[BaseModel]:
    """The answer model of one entity question: exactly ``count`` entries (any, up to ten)."""
    assert template.entity is not None
    assert template.entities is not None
    entity, entities = template.entity.model.__name__, template.entities
    item = _submodel(f"{entity}{part.title()}", template.entity.model, parts(template)[part])
    title = entities.title() if part == entities else f"{entity}{part.title()}List"
    low, high = (0, MAX_SERIES) if count is None else (count, count)
    fields: dict[str, Any] = {
        entities: (list[item], Field(min_length=low, max_length=high))  # type: ignore[valid-type]
    }
    return create_model(title, **fields)


class Sections:
    """Several smaller calls, each filling a part of the record, merged into one."""

    name: StrategyName = "sections"
    revision = 3
    splits = True

    def __init__(self, template: Template | None = None) -> None:
        self.template = template or default_template()

    async def extract(
        self, client: ModelClient, prompt: Prompt, text: str, sections: SectionList = ()
    ) -> Completion[BaseModel]:
        template = self.template
        calls: list[Completion[Any]] = []
        record: dict[str, Any] = {}
        document = document_model(template)
        if document.model_fields:  # a record of entities alone has no first question
            task = prompt.messages(
                text, "bibliographic", default=_task(tuple(document.model_fields))
            )
            calls.append(await client.complete(task, document))
            record = calls[0].record.model_dump()
        rules, name = template.rules, template.entities
        count = None if rules is None or rules.count is None else rules.count(record)
        entities: list[dict[str, Any]] = []
        for part, fields in parts(template).items():
            if count == 0:
                break
            task = prompt.messages(text, part, default=_task(fields))
            answer = await client.complete(task, part_model(template, part, count))
            calls.append(answer)
            given = answer.record.model_dump()[name or ""]
            entities += [{} for _ in range(len(given) - len(entities))]
            for merged, values in zip(entities, given, strict=False):
                merged.update(values)
        if name is not None:
            record[name] = entities
        if rules is not None and rules.settle is not None:
            rules.settle(record)
        return Completion(
            record=template.model.model_validate(record),
            usage=sum((c.usage for c in calls), Usage()),
            attempts=sum(c.attempts for c in calls),
        )


def _task(fields: tuple[str, ...]) -> str:
    """The question of a part the prompt has no task file for."""
    return f"Fill these fields from the document: {', '.join(fields)}."


def strategy(name: str, template: Template | None = None) -> Strategy:
    """The strategy called ``name``, for the records of ``template`` (default: the NEN record)."""
    if name == "whole":
        return Whole(template)
    if name == "sections":
        return Sections(template)
    if name == "grounded":
        return Grounded(template=template)
    raise ConfigError(f"unknown strategy {name!r}; choose one of {', '.join(STRATEGIES)}")
