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

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from pydantic import BaseModel

Scope = Literal["document", "case"]
Pick = Literal["first", "last", "most", "max", "any_true"]
Finder = str  # a built-in finder's name, ``label``, or ``module:function``


@dataclass(frozen=True)
class Ask:
    """How the grounded strategy asks for one field.

    ``finder`` names the candidate finder: a built-in one
    (``extractor.extraction.finders``: ``mentions`` takes every mention of
    the ``vocabulary`` kind), ``label`` for an entity's label, or a
    template's own as ``module:function``; ``cue`` names a cue list of the vocabulary
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
    picks (and its words are cut out of ``site_text``'s). ``words_of`` keeps
    only the words that name the value chosen for the sibling field it names
    (the primary site's own words). ``cue_before`` names a cue list whose
    phrase comes before it (``phrase``: "everolimus was started").
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
    cue_before: str | None = None


ComparatorName = Literal["exact", "text", "title", "similar", "doi", "within"]


@dataclass(frozen=True)
class Compare:
    """How the scorer compares a field's gold and predicted values (the spec's scoring rules).

    ``exact`` (the default for a field without a marker, enumerations
    included), ``text`` (after case and whitespace normalisation), ``title``
    or ``similar`` (normalised similarity of at least ``similarity``), ``doi``
    (without a resolver prefix), ``within`` (numbers ``absolute`` apart, or
    ``relative`` of the gold value apart).
    """

    how: ComparatorName
    absolute: float | None = None
    relative: float | None = None
    similarity: float = 0.9


@dataclass(frozen=True)
class Items:
    """How the scorer tells the items of a list of models apart.

    ``keys`` are the item fields that make two items the same item (all of
    the item's fields but its quote when not declared); ``per_key`` are item
    fields scored once for each key both sides have (a treatment's response).
    """

    keys: tuple[str, ...] = ()
    per_key: tuple[str, ...] = ()


@dataclass(frozen=True)
class Entities:
    """Marks the list of the record's entities, paired one to one when scored (patients).

    ``count`` is the template's rule for how many entities a document
    describes, given the document-level fields the strategy has already
    filled (a dict); ``settle`` fixes what the template's rules fix once the
    entities are filled (a single patient has no label); ``counted_by`` names
    the document field that states how many there are (never fewer than the
    entities a long document's parts found together). All are optional:
    without ``count`` a strategy lets the model say how many.
    """

    count: Callable[[dict[str, Any]], int] | None = None
    settle: Callable[[dict[str, Any]], None] | None = None
    counted_by: str | None = None


@dataclass(frozen=True)
class Quotes:
    """Marks the field that holds evidence quotes: one quote (``str``) or a map of field to quote.

    A map's quotes support the sibling fields they are keyed by; a single
    quote supports its whole item. A template without ``Quotes`` expects no
    evidence.
    """


@dataclass(frozen=True)
class Part:
    """The question of the ``sections`` strategy that asks for this entity field."""

    name: str


@dataclass(frozen=True)
class Codes:
    """The vocabulary kind whose codes stand beside this field in exports (``system``: NCIt)."""

    kind: str
    system: str = "ncit"


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
def quote_fields(model: type[BaseModel]) -> tuple[str, ...]:
    """The fields of ``model`` marked ``Quotes``, in field order."""
    return tuple(
        name
        for name, info in model.model_fields.items()
        if any(isinstance(item, Quotes) for item in info.metadata)
    )


@cache
def asks(model: type[BaseModel]) -> dict[str, Ask]:
    """The ``Ask`` markers of ``model``'s fields, by field name, in field order."""
    found: dict[str, Ask] = {}
    for name, info in model.model_fields.items():
        for item in info.metadata:
            if isinstance(item, Ask):
                found[name] = item
    return found
