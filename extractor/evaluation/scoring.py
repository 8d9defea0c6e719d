"""Comparators and the record scorer (``shared/spec/case-record.md``, *How a record is scored*).

Every scored slot yields one outcome:

- ``tp``: both sides have a value and they agree (after the field's comparator);
- ``wrong``: both have a value and they differ, counted as one FP and one FN;
- ``fp``: only the prediction has a value; it is also *invented*;
- ``fn``: only the gold label has a value;
- ``abstain``: neither has a value, a correct abstention counted apart (not a TP).

List fields are scored as sets of key tuples (``tp = |P & G|``, ``fp = |P - G|``,
``fn = |G - P|``; all of ``P`` is invented when ``G`` is empty). Patients are
paired one-to-one (Hungarian assignment on agreement) before they are compared;
an unpaired gold patient counts each of its values as FN, an unpaired predicted
patient each of its values as FP and invented.

**Invented rate.** ``predicted`` counts the predicted values that were scored:
each non-null predicted scalar, each distinct predicted list key and each
non-null predicted response of a scored treatment. Every such value is either
a TP or a FP (a wrong value is one FP), so ``predicted == tp + fp``.
``invented`` counts those whose gold slot is empty: a gold ``null`` scalar or
response, a gold empty list, or any value of an unpaired predicted patient.
``invented_rate = invented / predicted`` over the whole run (``None`` when
nothing was predicted). ``grounding_rate = grounded quotes / predicted quotes``
(``None`` when there are no quotes, or no texts were given).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from pydantic import BaseModel

from extractor.evaluation.counts import FieldCounts, total
from extractor.record.grounding import evidence_quotes, is_grounded
from extractor.record.matching import (
    Comparator,
    Key,
    comparator_of,
    item_keys,
    match_keys,
    pair_entities,
    per_key_values,
    same_value,
    scalar_value,
    sorted_keys,
)
from extractor.record.template import Level, Template

OutcomeClass = Literal["tp", "fp", "fn", "wrong", "abstain"]


@dataclass(frozen=True)
class ScoredSlot:
    """One scored slot: a field of the document, or of a gold/predicted patient pair.

    ``patient`` is the gold patient index (``None`` for document fields and for
    an unpaired predicted patient, whose index is ``predicted_patient``). For
    list fields ``gold``/``predicted`` are the sorted key tuples. For
    ``treatments.response`` ``key`` names the treatment ``(type, agent)``.
    """

    field: str
    patient: int | None
    gold: Any
    predicted: Any
    outcome: OutcomeClass
    counts: FieldCounts
    predicted_patient: int | None = None
    key: Key | None = None

    def to_dict(self) -> dict[str, Any]:
        """The comparison as a JSON-ready dict (tuples become lists)."""
        return {
            "field": self.field,
            "patient": self.patient,
            "predicted_patient": self.predicted_patient,
            "key": _jsonable(self.key),
            "gold": _jsonable(self.gold),
            "predicted": _jsonable(self.predicted),
            "outcome": self.outcome,
            "counts": self.counts.to_dict(),
        }


def compare_scalar(
    gold: Any, predicted: Any, same: Comparator = same_value
) -> tuple[OutcomeClass, FieldCounts]:
    """The outcome and counts of one scalar slot; ``None`` means no value."""
    if gold is None and predicted is None:
        return "abstain", FieldCounts(abstain=1)
    if gold is None:
        return "fp", FieldCounts(fp=1, invented=1)
    if predicted is None:
        return "fn", FieldCounts(fn=1)
    if same(gold, predicted):
        return "tp", FieldCounts(tp=1)
    return "wrong", FieldCounts(fp=1, fn=1)


def compare_keys(
    gold: frozenset[Key], predicted: frozenset[Key], matched: int | None = None
) -> tuple[OutcomeClass, FieldCounts]:
    """The outcome and counts of a list field scored as sets of key tuples.

    ``matched`` is how many keys the two sides share (by default the exact
    intersection). The outcome summarises: ``tp`` when all match and there are
    some, ``abstain`` when both are empty, ``fp``/``fn`` when only one side has
    items, else ``wrong``.
    """
    if not gold and not predicted:
        return "abstain", FieldCounts(abstain=1)
    tp = len(gold & predicted) if matched is None else matched
    counts = FieldCounts(
        tp=tp, fp=len(predicted) - tp, fn=len(gold) - tp, invented=0 if gold else len(predicted)
    )
    if tp == len(gold) == len(predicted):
        return "tp", counts
    if not gold:
        return "fp", counts
    if not predicted:
        return "fn", counts
    return "wrong", counts


# --- comparing patients -------------------------------------------------------------------------


def compare_entities(
    level: Level,
    gold: BaseModel | None,
    predicted: BaseModel | None,
    gold_index: int | None = None,
    predicted_index: int | None = None,
) -> list[ScoredSlot]:
    """Every comparison of an entity pair, in the level's field order.

    One side ``None`` is an unpaired entity, compared against nothing: its
    values are FN (gold) or FP and invented (predicted); its empty slots count
    nothing (no abstentions).
    """
    paired = gold is not None and predicted is not None
    return [
        replace(item, patient=gold_index, predicted_patient=predicted_index)
        for item in (
            *_scalar_comparisons(level, gold, predicted, level.scalars),
            *_list_comparisons(level, gold, predicted),
            *_per_key_comparisons(level, gold, predicted),
            *_scalar_comparisons(level, gold, predicted, level.nested),
        )
        if paired or item.outcome != "abstain"
    ]


def _scalar_comparisons(
    level: Level, gold: BaseModel | None, predicted: BaseModel | None, names: tuple[str, ...]
) -> list[ScoredSlot]:
    """The scalar fields ``names`` of a pair (``None``: no such side)."""
    comparisons = []
    for name in names:
        g = None if gold is None else scalar_value(gold, name)
        p = None if predicted is None else scalar_value(predicted, name)
        outcome, counts = compare_scalar(g, p, comparator_of(level.compare.get(name)))
        comparisons.append(ScoredSlot(name, None, g, p, outcome, counts))
    return comparisons


def _list_comparisons(
    level: Level, gold: BaseModel | None, predicted: BaseModel | None
) -> list[ScoredSlot]:
    """The list fields of a pair, one comparison per field."""
    comparisons = []
    for spec in level.lists:
        g = frozenset[Key]() if gold is None else item_keys(gold, spec)
        p = frozenset[Key]() if predicted is None else item_keys(predicted, spec)
        outcome, counts = compare_keys(g, p, len(match_keys(g, p, spec)))
        comparisons.append(ScoredSlot(spec.name, None, sorted_keys(g), sorted_keys(p), outcome,
                                      counts))  # fmt: skip
    return comparisons


def _per_key_comparisons(
    level: Level, gold: BaseModel | None, predicted: BaseModel | None
) -> list[ScoredSlot]:
    """Per-key item fields (a treatment's response), one per key both sides have.

    For an unpaired entity, every key of the entity there is.
    """
    comparisons = []
    for spec in level.lists:
        for name in spec.per_key:
            g_values = {} if gold is None else per_key_values(gold, spec, name)
            p_values = {} if predicted is None else per_key_values(predicted, spec, name)
            if gold is not None and predicted is not None:
                pairs = list(match_keys(g_values, p_values, spec).items())
            else:
                pairs = [(key, key) for key in sorted_keys(g_values.keys() | p_values.keys())]
            same = comparator_of(spec.compare.get(name))
            for g_key, p_key in pairs:
                g, p = g_values.get(g_key), p_values.get(p_key)
                outcome, counts = compare_scalar(g, p, same)
                comparisons.append(
                    ScoredSlot(f"{spec.name}.{name}", None, g, p, outcome, counts, key=g_key)
                )
    return comparisons


# --- scoring records ----------------------------------------------------------------------------


@dataclass
class DocumentScore:
    """The scores of one document: per-field counts, every comparison, and grounding."""

    doc_id: str
    fields: dict[str, FieldCounts]
    comparisons: list[ScoredSlot]
    quotes: int = 0
    grounded_quotes: int = 0
    missing: bool = False
    ungrounded: list[tuple[str, str]] = field(default_factory=list)

    @property
    def micro(self) -> FieldCounts:
        """The counts summed over every field."""
        return total(self.fields.values())

    def to_dict(self) -> dict[str, Any]:
        """Micro P/R/F1, the missing flag, grounding and the comparisons, JSON-ready."""
        return {
            "doc_id": self.doc_id,
            "missing": self.missing,
            **self.micro.to_dict(),
            "quotes": self.quotes,
            "grounded_quotes": self.grounded_quotes,
            "ungrounded": [list(item) for item in self.ungrounded],
            "comparisons": [item.to_dict() for item in self.comparisons],
        }


@dataclass
class EvalScore:
    """The scores of a run: its documents, per-field totals and the overall total."""

    documents: list[DocumentScore]
    fields: dict[str, FieldCounts]
    micro: FieldCounts

    @classmethod
    def from_documents(cls, documents: list[DocumentScore], names: tuple[str, ...]) -> EvalScore:
        """Sum the documents' counts of the fields ``names`` into the run's."""
        fields = {name: total(doc.fields[name] for doc in documents) for name in names}
        return cls(documents=documents, fields=fields, micro=total(fields.values()))

    @property
    def invented_rate(self) -> float | None:
        """Invented values over predicted values scored (see the module docstring)."""
        predicted = self.micro.predicted
        return self.micro.invented / predicted if predicted else None

    @property
    def grounding_rate(self) -> float | None:
        """Grounded quotes over predicted quotes checked; ``None`` when there were none."""
        quotes = sum(doc.quotes for doc in self.documents)
        grounded = sum(doc.grounded_quotes for doc in self.documents)
        return grounded / quotes if quotes else None

    def to_dict(self) -> dict[str, Any]:
        """Per-field counts, the overall total and per-document scores, JSON-ready."""
        return {
            "fields": {name: counts.to_dict() for name, counts in self.fields.items()},
            "overall": {
                **self.micro.to_dict(),
                "invented_rate": self.invented_rate,
                "grounding_rate": self.grounding_rate,
                "quotes": sum(doc.quotes for doc in self.documents),
                "grounded_quotes": sum(doc.grounded_quotes for doc in self.documents),
                "documents": len(self.documents),
                "missing_documents": sum(doc.missing for doc in self.documents),
            },
            "documents": [doc.to_dict() for doc in self.documents],
        }


def compare_documents(
    template: Template, gold: BaseModel, predicted: BaseModel | None
) -> list[ScoredSlot]:
    """The document-level fields; a missing prediction counts only gold values (as FN)."""
    return compare_entities(template.document, gold, predicted)


def compare_entity_lists(
    template: Template, predicted: list[BaseModel], gold: list[BaseModel]
) -> list[ScoredSlot]:
    """Pair the entities, then compare each pair and each unpaired entity."""
    level = template.entity
    if level is None:
        return []
    comparisons: list[ScoredSlot] = []
    for p, g in pair_entities(predicted, gold, level):
        comparisons.extend(
            compare_entities(
                level, None if g is None else gold[g], None if p is None else predicted[p], g, p
            )
        )
    return comparisons


def tally(comparisons: Iterable[ScoredSlot], names: tuple[str, ...]) -> dict[str, FieldCounts]:
    """Counts per field, every field of ``names`` present and in order."""
    fields = {name: FieldCounts() for name in names}
    for item in comparisons:
        fields[item.field] = fields[item.field] + item.counts
    return fields


def score_record(
    doc_id: str, predicted: BaseModel | None, gold: BaseModel, text: str | None = None
) -> DocumentScore:
    """Score one predicted record against its gold label, by the gold record's template.

    ``predicted`` ``None`` means the run has no record for the document: every
    gold value is a FN and the score is flagged ``missing``. With the document
    ``text``, the predicted evidence quotes are checked for grounding.
    """
    template = Template.of(type(gold))
    comparisons = compare_documents(template, gold, predicted)
    comparisons += compare_entity_lists(
        template, [] if predicted is None else template.entity_list(predicted),
        template.entity_list(gold),
    )  # fmt: skip
    quotes = [] if predicted is None or text is None else evidence_quotes(predicted)
    ungrounded = [(where, quote) for where, quote in quotes if not is_grounded(quote, text or "")]
    return DocumentScore(
        doc_id=doc_id,
        fields=tally(comparisons, template.fields),
        comparisons=comparisons,
        quotes=len(quotes),
        grounded_quotes=len(quotes) - len(ungrounded),
        missing=predicted is None,
        ungrounded=ungrounded,
    )


def score_run(
    pairs: Iterable[tuple[str, BaseModel | None, BaseModel, str | None]],
    template: Template | None = None,
) -> EvalScore:
    """Score every ``(doc_id, predicted, gold, text)`` of a run (template: the gold's)."""
    pairs = list(pairs)
    if template is None and pairs:
        template = Template.of(type(pairs[0][2]))
    return EvalScore.from_documents(
        [score_record(doc_id, predicted, gold, text) for doc_id, predicted, gold, text in pairs],
        () if template is None else template.fields,
    )


def _jsonable(value: Any) -> Any:
    """``value`` with tuples turned into lists, recursively."""
    if isinstance(value, tuple | list):
        return [_jsonable(item) for item in value]
    return value
