"""What changed between two evaluations: per-field F1 deltas, their uncertainty, and flips.

Two result dicts (the JSON form written by ``evaluate.write_result``) are
compared on the documents they share, matched by ``doc_id``. Each field's
delta ``F1(B) - F1(A)`` gets a 95 % confidence interval from a paired
bootstrap over documents: the same resampled documents are scored for both
runs, so differences between documents cancel and only the change between
runs remains.

A *flip* is one scored slot (document, field, gold patient, list key) that
went from not right to right (``fixed``) or the other way (``broken``).
"Right" is a TP. Abstentions are neither right nor wrong, except that a value
invented where the gold slot is empty (an FP) against an empty answer on the
other side is a flip. A slot one run did not score at all (a treatment
response whose treatment that run missed, a value of an unpaired predicted
patient) counts as an empty answer.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from extractor.errors import InputError
from extractor.evaluation.bootstrap import paired_bootstrap
from extractor.evaluation.counts import FieldCounts, total

Direction = Literal["fixed", "broken"]
SlotKey = tuple[str, int | None, int | None, tuple[Any, ...] | None]
DocSlots = dict[SlotKey, dict[str, Any]]

_COUNT_NAMES = ("tp", "fp", "fn", "abstain", "invented")
_EMPTY = frozenset({"abstain", None})


@dataclass(frozen=True)
class FieldDelta:
    """One field's F1 in runs A and B, the delta ``B - A`` and its 95 % bootstrap CI."""

    field: str
    f1_a: float
    f1_b: float
    delta: float
    ci_low: float
    ci_high: float


@dataclass(frozen=True)
class Flip:
    """One slot that became right (``fixed``) or stopped being right (``broken``) in B.

    ``patient`` is the gold patient index (``None`` for document fields and for
    an unpaired predicted patient, whose index in its run is
    ``predicted_patient``); ``key`` names the treatment of a
    ``treatments.response``. Values are in their JSON form.
    """

    doc_id: str
    field: str
    patient: int | None
    gold: Any
    predicted_a: Any
    predicted_b: Any
    direction: Direction
    key: tuple[Any, ...] | None = None
    predicted_patient: int | None = None

    def where(self) -> str:
        """Where the slot is, for humans: ``patient N``, a treatment key, or nothing."""
        parts = []
        if self.patient is not None:
            parts.append(f"patient {self.patient}")
        elif self.predicted_patient is not None:
            parts.append(f"unpaired predicted patient {self.predicted_patient}")
        if self.key is not None:
            parts.append("/".join("-" if part is None else str(part) for part in self.key))
        return f" ({', '.join(parts)})" if parts else ""


@dataclass(frozen=True)
class Comparison:
    """Two evaluations side by side on their shared documents.

    ``overall`` is the micro-F1 over every field; ``fields`` follow
    the record's scored fields. ``only_a``/``only_b`` are the documents left out
    because only one result has them.
    """

    label_a: str
    label_b: str
    overall: FieldDelta
    fields: list[FieldDelta]
    flips: list[Flip]
    documents: int
    only_a: tuple[str, ...] = ()
    only_b: tuple[str, ...] = ()

    @property
    def fixed(self) -> list[Flip]:
        """The flips from wrong (or missed, or invented) to right."""
        return [flip for flip in self.flips if flip.direction == "fixed"]

    @property
    def broken(self) -> list[Flip]:
        """The flips from right to wrong (or missed, or invented)."""
        return [flip for flip in self.flips if flip.direction == "broken"]

    def to_dict(self) -> dict[str, Any]:
        """The comparison as a JSON-ready dict."""
        return {
            "label_a": self.label_a,
            "label_b": self.label_b,
            "documents": self.documents,
            "only_a": list(self.only_a),
            "only_b": list(self.only_b),
            "overall": asdict(self.overall),
            "fields": [asdict(item) for item in self.fields],
            "flips": [asdict(flip) for flip in self.flips],
        }

    def to_markdown(self) -> str:
        """A one-page report: the delta table, then the fixed and the broken slots."""
        lines = [
            f"# Comparison: {self.label_a} (A) vs {self.label_b} (B)",
            "",
            f"- documents compared: {self.documents}; only in A: {len(self.only_a)}; "
            f"only in B: {len(self.only_b)}",
            f"- flips: {len(self.fixed)} fixed, {len(self.broken)} broken",
            "",
            "| field | F1 A | F1 B | delta | 95% CI |",
            "| --- | ---: | ---: | ---: | --- |",
            _table_row(self.overall, bold=True),
            *(_table_row(item) for item in self.fields),
        ]
        for title, flips in (
            ("## Fixed (wrong -> right)", self.fixed),
            ("## Broken (right -> wrong)", self.broken),
        ):
            lines += ["", title, ""]
            lines += [_flip_line(flip) for flip in flips] or ["(none)"]
        return "\n".join(lines) + "\n"


# --- reading results ----------------------------------------------------------------------------


def load_result(path: Path) -> dict[str, Any]:
    """Read an evaluation result JSON (as written by ``write_result``) and check its shape."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise InputError(f"{path}: cannot read the result: {e.strerror or e}") from e
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: not an evaluation result (not JSON): {e}") from e
    try:
        _documents(data)
    except InputError as e:
        raise InputError(f"{path}: {e}") from e
    return dict(data)


def _documents(result: Any) -> dict[str, list[dict[str, Any]]]:
    """Each document's comparison dicts by ``doc_id``; ``InputError`` if not a result."""
    try:
        documents = result["documents"]
        if not isinstance(result["fields"], dict) or not isinstance(documents, list):
            raise TypeError("'fields' must be an object and 'documents' a list")
        by_id = {str(doc["doc_id"]): list(doc["comparisons"]) for doc in documents}
        for comparisons in by_id.values():
            for item in comparisons:
                _check_comparison(item, result["fields"])
    except (KeyError, TypeError, ValueError) as e:
        reason = f"no {e.args[0]!r}" if isinstance(e, KeyError) else str(e)
        raise InputError(
            f"not an evaluation result ({reason}): expected the JSON written by 'extractor eval'"
        ) from e
    return by_id


def _check_comparison(item: Any, fields: dict[str, Any]) -> None:
    """Raise ``KeyError``/``TypeError``/``ValueError`` if ``item`` is not a comparison dict."""
    if item["field"] not in fields:
        raise ValueError(f"unknown field {item['field']!r}")
    for name in ("tp", "fp", "fn"):
        int(item["counts"][name])


def field_counts(
    comparisons: Iterable[Mapping[str, Any]], names: Iterable[str]
) -> dict[str, FieldCounts]:
    """Counts per field (every field of ``names``, in order) from comparison dicts."""
    fields = {name: FieldCounts() for name in names}
    for item in comparisons:
        counts = item["counts"]
        found = FieldCounts(**{name: int(counts.get(name, 0)) for name in _COUNT_NAMES})
        fields[item["field"]] = fields[item["field"]] + found
    return fields


# --- comparing ----------------------------------------------------------------------------------


def compare_results(
    a: dict[str, Any],
    b: dict[str, Any],
    *,
    label_a: str = "A",
    label_b: str = "B",
    resamples: int = 2000,
    seed: int = 0,
) -> Comparison:
    """Compare two evaluation results on the documents both have."""
    docs_a, docs_b = _documents(a), _documents(b)
    names = tuple(a["fields"])
    if tuple(b["fields"]) != names:
        raise InputError(f"{label_a} and {label_b} score different records: nothing to compare")
    shared = sorted(docs_a.keys() & docs_b.keys())
    if not shared:
        raise InputError(f"{label_a} and {label_b} have no document in common: nothing to compare")
    counts_a = [field_counts(docs_a[doc_id], names) for doc_id in shared]
    counts_b = [field_counts(docs_b[doc_id], names) for doc_id in shared]
    deltas = [
        _delta(name, _series(counts_a, name), _series(counts_b, name), resamples, seed)
        for name in ("overall", *names)
    ]
    flips: list[Flip] = []
    for doc_id in shared:
        flips += _doc_flips(doc_id, docs_a[doc_id], docs_b[doc_id])
    return Comparison(
        label_a=label_a,
        label_b=label_b,
        overall=deltas[0],
        fields=deltas[1:],
        flips=sorted(flips, key=lambda flip: _flip_order(flip, names)),
        documents=len(shared),
        only_a=tuple(sorted(docs_a.keys() - docs_b.keys())),
        only_b=tuple(sorted(docs_b.keys() - docs_a.keys())),
    )


def _series(per_doc: list[dict[str, FieldCounts]], name: str) -> list[FieldCounts]:
    """One field's counts per document; for ``overall``, every field's total."""
    if name == "overall":
        return [total(doc.values()) for doc in per_doc]
    return [doc[name] for doc in per_doc]


def _delta(
    name: str, per_doc_a: list[FieldCounts], per_doc_b: list[FieldCounts], resamples: int, seed: int
) -> FieldDelta:
    """The F1 of each run over all documents, the delta, and its bootstrap CI."""
    f1_a, f1_b = total(per_doc_a).f1, total(per_doc_b).f1
    low, high = paired_bootstrap(per_doc_a, per_doc_b, resamples, seed)
    return FieldDelta(name, f1_a, f1_b, f1_b - f1_a, low, high)


# --- flips --------------------------------------------------------------------------------------


def _slots(comparisons: list[dict[str, Any]]) -> DocSlots:
    """A document's comparisons by slot: field, gold patient, unpaired predicted patient, key."""
    slots: DocSlots = {}
    for item in comparisons:
        patient = item.get("patient")
        unpaired = item.get("predicted_patient") if patient is None else None
        key = item.get("key")
        slots[(item["field"], patient, unpaired, None if key is None else _frozen(key))] = item
    return slots


def _frozen(value: Any) -> Any:
    """``value`` with lists turned into tuples, recursively (hashable)."""
    if isinstance(value, list | tuple):
        return tuple(_frozen(item) for item in value)
    return value


def direction(outcome_a: str | None, outcome_b: str | None) -> Direction | None:
    """Whether a slot was fixed or broken from A to B (``None``: unscored, no flip)."""
    if outcome_a == outcome_b:
        return None
    if outcome_b == "tp":
        return "fixed"
    if outcome_a == "tp":
        return "broken"
    if outcome_a == "fp" and outcome_b in _EMPTY:
        return "fixed"
    if outcome_a in _EMPTY and outcome_b == "fp":
        return "broken"
    return None


def _doc_flips(doc_id: str, comparisons_a: list[Any], comparisons_b: list[Any]) -> list[Flip]:
    """The flips of one document."""
    slots_a, slots_b = _slots(comparisons_a), _slots(comparisons_b)
    flips = []
    for slot in slots_a.keys() | slots_b.keys():
        item_a, item_b = slots_a.get(slot), slots_b.get(slot)
        change = direction(_outcome(item_a), _outcome(item_b))
        if change is None:
            continue
        field, patient, unpaired, key = slot
        either = item_a if item_a is not None else item_b
        flips.append(
            Flip(
                doc_id=doc_id,
                field=field,
                patient=patient,
                gold=None if either is None else either.get("gold"),
                predicted_a=None if item_a is None else item_a.get("predicted"),
                predicted_b=None if item_b is None else item_b.get("predicted"),
                direction=change,
                key=key,
                predicted_patient=unpaired,
            )
        )
    return flips


def _outcome(item: dict[str, Any] | None) -> str | None:
    """A comparison's outcome; ``None`` when the slot was not scored."""
    return None if item is None else str(item.get("outcome"))


def _flip_order(flip: Flip, names: tuple[str, ...]) -> tuple[Any, ...]:
    """Field order of ``names``, then document, patient and key."""
    patient = -1 if flip.patient is None else flip.patient
    unpaired = -1 if flip.predicted_patient is None else flip.predicted_patient
    return names.index(flip.field), flip.doc_id, patient, unpaired, str(flip.key)


# --- rendering ----------------------------------------------------------------------------------


def _table_row(item: FieldDelta, *, bold: bool = False) -> str:
    """One row of the delta table."""
    cells = [
        item.field,
        f"{item.f1_a:.3f}",
        f"{item.f1_b:.3f}",
        f"{item.delta:+.3f}",
        f"[{item.ci_low:+.3f}, {item.ci_high:+.3f}]",
    ]
    if bold:
        cells = [f"**{cell}**" for cell in cells]
    return "| " + " | ".join(cells) + " |"


def _flip_line(flip: Flip) -> str:
    """``- doc_id · field (patient N): gold `x`; A `y`; B `z```."""
    return (
        f"- {flip.doc_id} · {flip.field}{flip.where()}: gold {_shown(flip.gold)}; "
        f"A {_shown(flip.predicted_a)}; B {_shown(flip.predicted_b)}"
    )


def _shown(value: Any) -> str:
    """A value in backticks: strings as they are, anything else as JSON."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return "`" + " ".join(text.replace("`", "'").split()) + "`"
