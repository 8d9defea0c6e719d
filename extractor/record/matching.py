"""Matching records: comparators, item keys, and the one-to-one patient pairing.

The comparators and keys follow the spec's scoring rules (*How a record is
scored*): text is compared after case and whitespace normalisation, DOIs
without their resolver prefix, titles by similarity, Ki-67 and follow-up
within a tolerance, and list fields by their key tuples. Patients are paired
by the Hungarian assignment on how many values they share. Scoring, the
merging of a long document's parts, and review all pair patients this way.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from extractor.record.markers import Compare, compares
from extractor.record.schema import PATIENT_SCALARS, CaseReport, Outcome, Patient, Treatment

Comparator = Callable[[Any, Any], bool]
Key = tuple[str | None, ...]

LIST_FIELDS: tuple[str, ...] = ("metastatic_sites", "imaging", "biomarkers", "treatments")
RESPONSE_FIELD = "treatments.response"
OUTCOME_FIELDS: tuple[str, ...] = ("outcome.status", "outcome.follow_up_months")

_DOI_PREFIX = re.compile(r"^(?:doi:\s*|(?:https?://)?(?:dx\.)?doi\.org/)")
_EPSILON = 1e-9


def normalise_text(value: str) -> str:
    """Case-fold, collapse whitespace, strip, and drop one trailing full stop."""
    text = " ".join(value.casefold().split())
    return text.removesuffix(".").rstrip()


def same_value(gold: Any, predicted: Any) -> bool:
    """Exact equality (numbers, booleans, enumerations)."""
    return bool(gold == predicted)


def same_text(gold: str, predicted: str) -> bool:
    """Equal after :func:`normalise_text`."""
    return normalise_text(gold) == normalise_text(predicted)


def normalise_doi(value: str) -> str:
    """A bare lower-case DOI: :func:`normalise_text` without a resolver or ``doi:`` prefix."""
    return _DOI_PREFIX.sub("", normalise_text(value))


def same_doi(gold: str, predicted: str) -> bool:
    """Equal after :func:`normalise_doi`."""
    return normalise_doi(gold) == normalise_doi(predicted)


def same_title(gold: str, predicted: str) -> bool:
    """Normalised titles with a SequenceMatcher ratio of at least 0.9."""
    return _similar(gold, predicted, threshold=0.9)


def comparator(marker: Compare) -> Comparator:
    """The comparison a field's ``Compare`` marker declares."""
    if marker.how == "text":
        return same_text
    if marker.how == "doi":
        return same_doi
    if marker.how == "title":
        return partial(_similar, threshold=marker.similarity)
    if marker.how == "within":
        return partial(_within, absolute=marker.absolute, relative=marker.relative)
    return same_value


def _similar(gold: str, predicted: str, *, threshold: float) -> bool:
    ratio = difflib.SequenceMatcher(None, normalise_text(gold), normalise_text(predicted)).ratio()
    return ratio >= threshold


def _within(
    gold: float, predicted: float, *, absolute: float | None, relative: float | None
) -> bool:
    if absolute is not None:
        return abs(gold - predicted) <= absolute + _EPSILON
    if relative is None or gold == 0:
        return bool(gold == predicted)
    return abs(gold - predicted) <= relative * abs(gold) + _EPSILON


COMPARATORS: dict[str, Comparator] = {
    **{name: comparator(m) for name, m in compares(CaseReport).items()},
    **{name: comparator(m) for name, m in compares(Patient).items()},
    **{f"outcome.{name}": comparator(m) for name, m in compares(Outcome).items()},
}
"""Each scored field's comparator, from the ``Compare`` markers the record declares."""


def treatment_key(treatment: Treatment) -> Key:
    """A treatment's scoring key: ``(type, normalised agent)``."""
    agent = None if treatment.agent is None else normalise_text(treatment.agent)
    return (treatment.type, agent)


def item_keys(patient: Patient, name: str) -> frozenset[Key]:
    """The set of key tuples of the list field ``name`` of ``patient``."""
    if name == "metastatic_sites":
        return frozenset((site,) for site in patient.metastatic_sites)
    if name == "imaging":
        return frozenset((item.modality, item.tracer) for item in patient.imaging)
    if name == "biomarkers":
        return frozenset((item.name, item.result) for item in patient.biomarkers)
    if name == "treatments":
        return frozenset(treatment_key(item) for item in patient.treatments)
    raise ValueError(f"not a list field: {name!r}")


def treatment_responses(patient: Patient) -> dict[Key, str | None]:
    """Each treatment key's response: the first non-null one in list order."""
    responses: dict[Key, str | None] = {}
    for treatment in patient.treatments:
        key = treatment_key(treatment)
        if responses.get(key) is None:
            responses[key] = treatment.response
    return responses


def scalar_value(patient: Patient, name: str) -> Any:
    """The value of a patient scalar field, ``outcome.*`` included."""
    if name.startswith("outcome."):
        return getattr(patient.outcome, name.removeprefix("outcome."))
    return getattr(patient, name)


def agreement(gold: Patient, predicted: Patient) -> int:
    """How well two patients agree: the values both state alike (list items each count).

    Scalars (the outcome's included) agree when both have a value and the
    field's comparator accepts them; list fields count their common keys;
    treatment responses count the treatments both have with the same response.
    """
    scalars = sum(
        g is not None and p is not None and COMPARATORS.get(name, same_value)(g, p)
        for name in PATIENT_SCALARS + OUTCOME_FIELDS
        for g, p in [(scalar_value(gold, name), scalar_value(predicted, name))]
    )
    items = sum(len(item_keys(gold, name) & item_keys(predicted, name)) for name in LIST_FIELDS)
    g_responses, p_responses = treatment_responses(gold), treatment_responses(predicted)
    responses = sum(
        g_responses[key] is not None and g_responses[key] == p_responses[key]
        for key in g_responses.keys() & p_responses.keys()
    )
    return int(scalars) + items + int(responses)


def pair_patients(
    predicted: list[Patient], gold: list[Patient]
) -> list[tuple[int | None, int | None]]:
    """Pair patients one-to-one by best total agreement, as ``(pred_index, gold_index)``.

    Gold patients come in order (``None`` when unpaired), then unpaired
    predicted patients. Ties prefer pairing the same positions in both lists.
    """
    if not predicted or not gold:
        return [(None, g) for g in range(len(gold))] + [(p, None) for p in range(len(predicted))]
    scale = min(len(predicted), len(gold)) + 1  # the position bonus never beats one agreement
    weights = [
        [agreement(g_patient, p_patient) * scale + (p == g) for g, g_patient in enumerate(gold)]
        for p, p_patient in enumerate(predicted)
    ]
    gold_of = assign(weights)
    pred_of = {g: p for p, g in enumerate(gold_of)}
    pairs: list[tuple[int | None, int | None]] = [(pred_of.get(g), g) for g in range(len(gold))]
    return pairs + [(p, None) for p, g in enumerate(gold_of) if g is None]


# --- the assignment ----------------------------------------------------------------------


def assign(weights: list[list[int]]) -> list[int | None]:
    """Hungarian assignment: the column of each row maximising the total weight.

    ``min(rows, columns)`` pairs are made; surplus rows get ``None``.
    """
    rows, columns = len(weights), len(weights[0]) if weights else 0
    if rows > columns:
        transposed = assign([list(column) for column in zip(*weights, strict=True)])
        row_of = {row: column for column, row in enumerate(transposed) if row is not None}
        return [row_of.get(row) for row in range(rows)]
    state = _Potentials(u=[0.0] * (rows + 1), v=[0.0] * (columns + 1), owner=[0] * (columns + 1))
    for row in range(1, rows + 1):
        state.add_row(weights, row)
    result: list[int | None] = [None] * rows
    for column, owner in enumerate(state.owner):
        if column and owner:
            result[owner - 1] = column - 1
    return result


@dataclass
class _Potentials:
    """Hungarian-method state, 1-based with a dummy column 0 (after e-maxx.ru).

    Minimises the cost ``-weight``; ``owner[j]`` is the row holding column ``j``.
    """

    u: list[float]
    v: list[float]
    owner: list[int]

    def add_row(self, weights: list[list[int]], row: int) -> None:
        """Assign ``row`` along a shortest augmenting path, updating the potentials."""
        columns = len(self.v) - 1
        way = [0] * (columns + 1)
        slack, used = [float("inf")] * (columns + 1), [False] * (columns + 1)
        self.owner[0], free = row, 0
        while self.owner[free] != 0:
            used[free], current, delta, nearest = True, self.owner[free], float("inf"), 0
            for j in range(1, columns + 1):
                if used[j]:
                    continue
                cost = -weights[current - 1][j - 1] - self.u[current] - self.v[j]
                if cost < slack[j]:
                    slack[j], way[j] = cost, free
                if slack[j] < delta:
                    delta, nearest = slack[j], j
            for j in range(columns + 1):
                if used[j]:
                    self.u[self.owner[j]] += delta
                    self.v[j] -= delta
                else:
                    slack[j] -= delta
            free = nearest
        while free:
            self.owner[free] = self.owner[way[free]]
            free = way[free]
