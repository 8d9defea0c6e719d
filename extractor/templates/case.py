"""A generic case-report record: who each patient was, what they had, what they were given.

Any clinical reviewer's first table: the patient's age, sex and country, the
primary diagnosis in the document's own words, and every treatment given,
as free text with its evidence. The labelling rules are in
``gold-case/README.md``; the gold set there labels the same 19 documents as
``gold/``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from extractor.record.markers import Ask, Compare, Entities, Items, Quotes

SIMILAR = Compare("similar", similarity=0.6)  # free text: the same words, give or take a few

# How the grounded strategy finds each field: built-in finders over this template's vocabulary.
ASK_LABEL = Ask("label", "How does the document name this patient?")
ASK_AGE = Ask("age", "How old was the patient at presentation, in years?")
ASK_SEX = Ask("mentions", "What is the patient's sex?", vocabulary="sex", pick="most")
ASK_COUNTRY = Ask(
    "mentions", "In which country was the patient seen?", vocabulary="country", near="resides"
)
ASK_DIAGNOSIS = Ask("phrase", "What is the patient's diagnosis?", cue="diagnosis", scope="document")
ASK_TREATMENTS = Ask(
    "phrases", "Which treatments were given?", cue="treatment", cue_before="treatment_given"
)


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Therapy(_Record):
    """One treatment given, as the document names it."""

    text: Annotated[str, SIMILAR] = Field(max_length=120)
    evidence: Annotated[str | None, Quotes()] = Field(default=None, max_length=400)


class Case(_Record):
    """One individually described patient."""

    label: Annotated[str | None, ASK_LABEL, Compare("text")] = Field(max_length=50)
    age: Annotated[int | None, ASK_AGE] = Field(
        ge=0, le=120, description="Age at presentation in whole years."
    )
    sex: Annotated[Literal["male", "female"] | None, ASK_SEX]
    country: Annotated[str | None, ASK_COUNTRY, Compare("text")] = Field(max_length=60)
    diagnosis: Annotated[str | None, ASK_DIAGNOSIS, SIMILAR] = Field(max_length=200)
    treatments: Annotated[list[Therapy], ASK_TREATMENTS, Items(keys=("text",))] = Field(
        max_length=20
    )
    evidence: Annotated[dict[str, str], Quotes()] = Field(default_factory=dict)


class CaseRecord(_Record):
    """The patients a case report describes."""

    vocabulary_file: ClassVar[Path] = Path(__file__).with_name("case.toml")

    cases: Annotated[list[Case], Entities()] = Field(max_length=30)
