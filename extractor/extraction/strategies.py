"""Extraction strategies: how a record is asked of the model.

``whole`` asks for the whole record in one call. ``sections`` asks several
smaller, enum-constrained questions and merges the answers:

1. bibliographic: title, DOI, journal, year, document type, NEN, patient count;
2. patients and tumour: the patient scalars, metastatic sites and evidence;
3. tests: imaging and biomarkers;
4. course: treatments and outcome.

Questions 2-4 ask for exactly as many patients as question 1 implies (one for
a case report, the stated count for a case series, none for other documents),
so the grammar stops a small model from inventing patients without end.
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
from extractor.record.schema import DOCUMENT_FIELDS, CaseReport, Patient

MAX_SERIES = 10  # patients asked for at most in one case series

_PART_FIELDS: dict[str, tuple[str, ...]] = {
    "patients": (
        "label", "age_years", "sex", "primary_site", "primary_site_text", "differentiation",
        "who_grade", "ki67_percent", "functional_syndrome", "metastatic", "metastatic_sites",
        "evidence",
    ),
    "tests": ("imaging", "biomarkers"),
    "course": ("treatments", "outcome"),
}  # fmt: skip


SectionList = tuple[Section, ...]


class Strategy(Protocol):
    """Turns one document into a validated ``CaseReport`` through a model client.

    ``revision`` changes whenever the strategy's code would answer differently;
    it is part of cache keys, so a changed strategy never returns stale records.
    ``splits`` is True when the model reads the whole text, so a document
    longer than its context must be split into parts first.
    """

    name: StrategyName
    splits: bool

    @property
    def revision(self) -> int | str:
        """The strategy's code revision (part of cache keys)."""
        ...

    async def extract(
        self, client: ModelClient, prompt: Prompt, text: str, sections: SectionList = ()
    ) -> Completion[CaseReport]:
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

    async def extract(
        self, client: ModelClient, prompt: Prompt, text: str, sections: SectionList = ()
    ) -> Completion[CaseReport]:
        return await client.complete(prompt.messages(text, "whole"), CaseReport)


def _submodel(name: str, source: type[BaseModel], fields: tuple[str, ...]) -> type[BaseModel]:
    """A model with some of ``source``'s fields, as they are there (types, bounds, defaults)."""
    definitions: dict[str, Any] = {
        field: (info.annotation, info)
        for field, info in source.model_fields.items()
        if field in fields
    }
    return create_model(name, __config__=source.model_config, **definitions)


Bibliographic = _submodel("Bibliographic", CaseReport, DOCUMENT_FIELDS)


@cache
def part_model(part: str, n_patients: int) -> type[BaseModel]:
    """The answer model of one per-patient question: exactly ``n_patients`` entries."""
    item = _submodel(f"Patient{part.title()}", Patient, _PART_FIELDS[part])
    title = "Patients" if part == "patients" else f"Patient{part.title()}List"
    return create_model(
        title,
        patients=(list[item], Field(min_length=n_patients, max_length=n_patients)),  # type: ignore[valid-type]
    )


def patients_to_ask(bibliographic: BaseModel) -> int:
    """How many patients to ask for, from the bibliographic answer."""
    kind = getattr(bibliographic, "document_type", "other")
    if kind == "case_report":
        return 1
    if kind == "case_series":
        return max(2, min(getattr(bibliographic, "n_patients", None) or 2, MAX_SERIES))
    return 0


class Sections:
    """Several smaller calls, each filling a part of the record, merged into one."""

    name: StrategyName = "sections"
    revision = 2
    splits = True

    async def extract(
        self, client: ModelClient, prompt: Prompt, text: str, sections: SectionList = ()
    ) -> Completion[CaseReport]:
        calls: list[Completion[Any]] = [
            await client.complete(prompt.messages(text, "bibliographic"), Bibliographic)
        ]
        record: dict[str, Any] = calls[0].record.model_dump()
        n = patients_to_ask(calls[0].record)
        patients: list[dict[str, Any]] = [{} for _ in range(n)]
        if n:
            for part in ("patients", "tests", "course"):
                answer = await client.complete(prompt.messages(text, part), part_model(part, n))
                calls.append(answer)
                for merged, given in zip(
                    patients, answer.record.model_dump()["patients"], strict=True
                ):
                    merged.update(given)
        record["patients"] = patients
        if record["document_type"] == "case_report":
            # What the spec fixes for a single-patient report, not left to the model.
            record["n_patients"] = 1
            patients[0]["label"] = None
        elif record["document_type"] == "other":
            record["n_patients"] = None
        return Completion(
            record=CaseReport.model_validate(record),
            usage=sum((c.usage for c in calls), Usage()),
            attempts=sum(c.attempts for c in calls),
        )


def strategy(name: str) -> Strategy:
    """The strategy called ``name``."""
    if name == "whole":
        return Whole()
    if name == "sections":
        return Sections()
    if name == "grounded":
        return Grounded()
    raise ConfigError(f"unknown strategy {name!r}; choose one of {', '.join(STRATEGIES)}")
