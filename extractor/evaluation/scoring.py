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

from extractor.evaluation.counts import FieldCounts, total
from extractor.record.grounding import evidence_quotes, is_grounded
from extractor.record.matching import (
    COMPARATORS,
    LIST_FIELDS,
    OUTCOME_FIELDS,
    RESPONSE_FIELD,
    Comparator,
    Key,
    item_keys,
    pair_patients,
    same_value,
    scalar_value,
    treatment_responses,
)
from extractor.record.schema import DOCUMENT_FIELDS, PATIENT_SCALARS, CaseReport, Patient

OutcomeClass = Literal["tp", "fp", "fn", "wrong", "abstain"]

FIELDS: tuple[str, ...] = (
    DOCUMENT_FIELDS + PATIENT_SCALARS + LIST_FIELDS + (RESPONSE_FIELD,) + OUTCOME_FIELDS
)


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
    gold: frozenset[Key], predicted: frozenset[Key]
) -> tuple[OutcomeClass, FieldCounts]:
    """The outcome and counts of a list field scored as sets of key tuples.

    The outcome summarises: ``tp`` when equal and non-empty, ``abstain`` when
    both are empty, ``fp``/``fn`` when only one side has items, else ``wrong``.
    """
    if not gold and not predicted:
        return "abstain", FieldCounts(abstain=1)
    counts = FieldCounts(
        tp=len(gold & predicted),
        fp=len(predicted - gold),
        fn=len(gold - predicted),
        invented=0 if gold else len(predicted),
    )
    if gold == predicted:
        return "tp", counts
    if not gold:
        return "fp", counts
    if not predicted:
        return "fn", counts
    return "wrong", counts


def _sorted_keys(keys: Iterable[Key]) -> list[Key]:
    """Key tuples in a stable order (``None`` sorts first)."""
    return sorted(keys, key=lambda key: tuple("" if part is None else part for part in key))


# --- comparing patients -------------------------------------------------------------------------


def compare_patients(
    gold: Patient | None,
    predicted: Patient | None,
    gold_index: int | None = None,
    predicted_index: int | None = None,
) -> list[ScoredSlot]:
    """Every patient-level comparison of a pair, in ``FIELDS`` order.

    One side ``None`` is an unpaired patient, compared against nothing: its
    values are FN (gold) or FP and invented (predicted); its empty slots count
    nothing (no abstentions).
    """
    paired = gold is not None and predicted is not None
    return [
        replace(item, patient=gold_index, predicted_patient=predicted_index)
        for item in (
            *_scalar_comparisons(gold, predicted, PATIENT_SCALARS),
            *_list_comparisons(gold, predicted),
            *_response_comparisons(gold, predicted),
            *_scalar_comparisons(gold, predicted, OUTCOME_FIELDS),
        )
        if paired or item.outcome != "abstain"
    ]


def _scalar_comparisons(
    gold: Patient | None, predicted: Patient | None, names: tuple[str, ...]
) -> list[ScoredSlot]:
    """The scalar fields ``names`` of a patient pair (``None``: no patient)."""
    comparisons = []
    for name in names:
        g = None if gold is None else scalar_value(gold, name)
        p = None if predicted is None else scalar_value(predicted, name)
        outcome, counts = compare_scalar(g, p, COMPARATORS.get(name, same_value))
        comparisons.append(ScoredSlot(name, None, g, p, outcome, counts))
    return comparisons


def _list_comparisons(gold: Patient | None, predicted: Patient | None) -> list[ScoredSlot]:
    """The list fields of a patient pair, one comparison per field."""
    comparisons = []
    for name in LIST_FIELDS:
        g = frozenset[Key]() if gold is None else item_keys(gold, name)
        p = frozenset[Key]() if predicted is None else item_keys(predicted, name)
        outcome, counts = compare_keys(g, p)
        comparisons.append(
            ScoredSlot(name, None, _sorted_keys(g), _sorted_keys(p), outcome, counts)
        )
    return comparisons


def _response_comparisons(gold: Patient | None, predicted: Patient | None) -> list[ScoredSlot]:
    """Treatment responses, one per treatment key both sides have.

    For an unpaired patient, every treatment key of the patient there is.
    """
    g_responses = {} if gold is None else treatment_responses(gold)
    p_responses = {} if predicted is None else treatment_responses(predicted)
    if gold is not None and predicted is not None:
        keys = g_responses.keys() & p_responses.keys()
    else:
        keys = g_responses.keys() | p_responses.keys()
    comparisons = []
    for key in _sorted_keys(keys):
        g, p = g_responses.get(key), p_responses.get(key)
        outcome, counts = compare_scalar(g, p)
        comparisons.append(ScoredSlot(RESPONSE_FIELD, None, g, p, outcome, counts, key=key))
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
    def from_documents(cls, documents: list[DocumentScore]) -> EvalScore:
        """Sum the documents' field counts into the run's."""
        fields = {name: total(doc.fields[name] for doc in documents) for name in FIELDS}
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


def compare_documents(gold: CaseReport, predicted: CaseReport | None) -> list[ScoredSlot]:
    """The document-level fields; a missing prediction counts only gold values (as FN)."""
    comparisons = []
    for name in DOCUMENT_FIELDS:
        g = getattr(gold, name)
        p = None if predicted is None else getattr(predicted, name)
        outcome, counts = compare_scalar(g, p, COMPARATORS.get(name, same_value))
        if predicted is not None or outcome != "abstain":
            comparisons.append(ScoredSlot(name, None, g, p, outcome, counts))
    return comparisons


def compare_patient_lists(predicted: list[Patient], gold: list[Patient]) -> list[ScoredSlot]:
    """Pair the patients, then compare each pair and each unpaired patient."""
    comparisons: list[ScoredSlot] = []
    for p, g in pair_patients(predicted, gold):
        comparisons.extend(
            compare_patients(
                None if g is None else gold[g], None if p is None else predicted[p], g, p
            )
        )
    return comparisons


def tally(comparisons: Iterable[ScoredSlot]) -> dict[str, FieldCounts]:
    """Counts per field, every field of ``FIELDS`` present and in order."""
    fields = {name: FieldCounts() for name in FIELDS}
    for item in comparisons:
        fields[item.field] = fields[item.field] + item.counts
    return fields


def score_record(
    doc_id: str, predicted: CaseReport | None, gold: CaseReport, text: str | None = None
) -> DocumentScore:
    """Score one predicted record against its gold label.

    ``predicted`` ``None`` means the run has no record for the document: every
    gold value is a FN and the score is flagged ``missing``. With the document
    ``text``, the predicted evidence quotes are checked for grounding.
    """
    comparisons = compare_documents(gold, predicted)
    comparisons += compare_patient_lists(
        [] if predicted is None else predicted.patients, gold.patients
    )
    quotes = [] if predicted is None or text is None else evidence_quotes(predicted)
    ungrounded = [(where, quote) for where, quote in quotes if not is_grounded(quote, text or "")]
    return DocumentScore(
        doc_id=doc_id,
        fields=tally(comparisons),
        comparisons=comparisons,
        quotes=len(quotes),
        grounded_quotes=len(quotes) - len(ungrounded),
        missing=predicted is None,
        ungrounded=ungrounded,
    )


def score_run(
    pairs: Iterable[tuple[str, CaseReport | None, CaseReport, str | None]],
) -> EvalScore:
    """Score every ``(doc_id, predicted, gold, text)`` of a run."""
    return EvalScore.from_documents(
        [score_record(doc_id, predicted, gold, text) for doc_id, predicted, gold, text in pairs]
    )


def _jsonable(value: Any) -> Any:
    """``value`` with tuples turned into lists, recursively."""
    if isinstance(value, tuple | list):
        return [_jsonable(item) for item in value]
    return value
