"""What a record field declares to the framework, as a typed ``Annotated`` marker.

A field of a record model may carry an ``Ask`` in its ``Annotated`` metadata:
how the grounded strategy finds the sentences that may state it (a
vocabulary kind, a named pattern finder, cue words), where it may be read
(the whole document, or only the case presentation), and the one narrow
question the model is asked when the text offers several candidates. The
marker is not part of the JSON Schema, so declaring it changes no grammar,
no schema hash and no cache key. ``asks`` reads the markers of a model.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Literal

from pydantic import BaseModel

Scope = Literal["document", "case"]
Pick = Literal["first", "last", "most", "max", "any_true"]
Finder = Literal[
    "title", "doi", "journal", "year", "document_type", "reports_nen", "patient_count",
    "label", "age", "percent", "duration", "site_text", "metastatic", "mentions",
    "imaging", "biomarkers", "treatments",
]  # fmt: skip


@dataclass(frozen=True)
class Ask:
    """How the grounded strategy asks for one field.

    ``finder`` names the candidate finder (``mentions`` takes every mention
    of the ``vocabulary`` kind); ``cue`` names a cue list of the vocabulary
    that a candidate sentence must contain; ``scope`` ``case`` keeps
    background, discussion and literature review out, as the spec requires
    for patient fields; ``question`` is what the model is asked when it must
    choose among candidates. ``near`` names a cue list a candidate must be
    close to, ``avoid`` one it must not be close to; ``pick`` says which
    candidate stands when no model is asked (``first`` in the text, ``last``
    for a state at the last follow-up, ``most`` often mentioned, ``max``,
    ``any_true`` for a yes that any sentence states). ``many`` makes the field
    a list of every distinct value stated, leaving out the value of the sibling
    field named by ``unlike`` (a primary site is not a metastasis). A mention
    close to the ``prefer`` cue, or in the title, weighs more when ``most``
    picks. ``words_of`` keeps only the words that name the value chosen for
    the sibling field it names (the primary site's own words).
    """

    finder: Finder
    question: str
    vocabulary: str | None = None
    cue: str | None = None
    scope: Scope = "case"
    near: str | None = None
    avoid: str | None = None
    pick: Pick = "first"
    many: bool = False
    unlike: str | None = None
    prefer: str | None = None
    words_of: str | None = None


ComparatorName = Literal["exact", "text", "title", "doi", "within"]


@dataclass(frozen=True)
class Compare:
    """How the scorer compares a field's gold and predicted values (the spec's scoring rules).

    ``exact`` (the default for a field without a marker), ``text`` (after
    case and whitespace normalisation), ``title`` (normalised similarity of at
    least ``similarity``), ``doi`` (without a resolver prefix), ``within``
    (numbers ``absolute`` apart, or ``relative`` of the gold value apart).
    """

    how: ComparatorName
    absolute: float | None = None
    relative: float | None = None
    similarity: float = 0.9


@cache
def compares(model: type[BaseModel]) -> dict[str, Compare]:
    """The ``Compare`` markers of ``model``'s fields, by field name."""
    return {
        name: item
        for name, info in model.model_fields.items()
        for item in info.metadata
        if isinstance(item, Compare)
    }


@cache
def asks(model: type[BaseModel]) -> dict[str, Ask]:
    """The ``Ask`` markers of ``model``'s fields, by field name, in field order."""
    found: dict[str, Ask] = {}
    for name, info in model.model_fields.items():
        for item in info.metadata:
            if isinstance(item, Ask):
                found[name] = item
    return found
