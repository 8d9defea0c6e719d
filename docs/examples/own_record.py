"""A pharmacovigilance record: each patient, and which drug caused which reaction."""

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from extractor.record.markers import Ask, Compare, Entities, Items, Quotes


class Reaction(BaseModel):
    drug: Annotated[str, Compare("text")] = Field(max_length=80)
    reaction: Annotated[str, Compare("similar", similarity=0.6)] = Field(max_length=120)
    evidence: Annotated[str | None, Quotes()] = Field(default=None, max_length=400)


class Patient(BaseModel):
    age: Annotated[int | None, Ask("age", "How old was the patient?")] = Field(ge=0, le=120)
    sex: Literal["male", "female"] | None
    reactions: Annotated[list[Reaction], Items(keys=("drug",))] = Field(max_length=10)
    evidence: Annotated[dict[str, str], Quotes()] = Field(default_factory=dict)


class AdverseEvents(BaseModel):
    title: Annotated[str | None, Ask("title", "Which line is the title?", scope="document"),
                     Compare("title")] = Field(max_length=300)  # fmt: skip
    patients: Annotated[list[Patient], Entities()] = Field(max_length=10)
