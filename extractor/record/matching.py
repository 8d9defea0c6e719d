"""Matching records: comparators, item keys, and the one-to-one pairing of entities.

Each field is compared as its template declares (``Compare`` markers): text
after case and whitespace normalisation, DOIs without their resolver prefix,
titles and free text by similarity, numbers within a tolerance, anything else
exactly; list fields by their key tuples (``Items``). Entities (patients) are
paired by the Hungarian assignment on how many values they share. Scoring,
the merging of a long document's parts, and review all pair entities this way.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache, partial
from typing import Any

from pydantic import BaseModel

from extractor.record.markers import Compare
from extractor.record.template import Level, ListField

Comparator = Callable[[Any, Any], bool]
Key = tuple[Any, ...]

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
    if marker.how in ("title", "similar"):
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


def comparator_of(marker: Compare | None) -> Comparator:
    """The comparison of a field with ``marker`` (exact equality when it has none)."""
    return same_value if marker is None else comparator(marker)


@cache
def _normaliser(marker: Compare | None) -> Callable[[Any], Any] | None:
    """How a key field is normalised before keys are compared as sets (None: fuzzy)."""
    if marker is None or marker.how == "exact":
        return lambda value: value
    if marker.how in ("text", "doi"):
        clean = normalise_text if marker.how == "text" else normalise_doi
        return lambda value: None if value is None else clean(value)
    return None


def is_fuzzy(spec: ListField) -> bool:
    """Whether some key field of ``spec`` is compared by similarity or tolerance."""
    return any(_normaliser(spec.compare.get(key)) is None for key in spec.keys)


def key_of(item: BaseModel, spec: ListField) -> Key:
    """The key tuple of one item of the list field ``spec`` (exact-compared parts normalised)."""
    parts = []
    for key in spec.keys:
        clean = _normaliser(spec.compare.get(key))
        value = getattr(item, key)
        parts.append(value if clean is None else clean(value))
    return tuple(parts)


def item_keys(entity: BaseModel, spec: ListField) -> frozenset[Key]:
    """The set of key tuples of the list field ``spec`` of ``entity``."""
    values = getattr(entity, spec.name)
    if spec.item is None:
        return frozenset((value,) for value in values)
    return frozenset(key_of(item, spec) for item in values)


def match_keys(gold: Iterable[Key], predicted: Iterable[Key], spec: ListField) -> dict[Key, Key]:
    """Each gold key the prediction has too, with the predicted key it is matched to, once.

    Keys of exact-compared fields are matched as sets; when a key field is
    compared by similarity (free text), each gold key in sorted order takes
    the first free predicted key that every key comparator accepts.
    """
    if not is_fuzzy(spec):
        both = set(gold) & set(predicted)
        return {key: key for key in sorted_keys(both)}
    same = [comparator_of(spec.compare.get(key)) for key in spec.keys]
    free, matched = sorted_keys(set(predicted)), {}
    for key in sorted_keys(set(gold)):
        found = next(
            (p for p in free if all(_both(g, v, c) for g, v, c in zip(key, p, same, strict=True))),
            None,
        )
        if found is not None:
            free.remove(found)
            matched[key] = found
    return matched


def _both(gold: Any, predicted: Any, same: Comparator) -> bool:
    if gold is None or predicted is None:
        return gold is None and predicted is None
    return same(gold, predicted)


def sorted_keys(keys: Iterable[Key]) -> list[Key]:
    """Key tuples in a stable order (``None`` sorts first)."""
    return sorted(keys, key=lambda key: tuple("" if part is None else str(part) for part in key))


def per_key_values(entity: BaseModel, spec: ListField, name: str) -> dict[Key, Any]:
    """Each item key's value of the item field ``name``: the first non-null one in list order."""
    values: dict[Key, Any] = {}
    for item in getattr(entity, spec.name):
        key = key_of(item, spec)
        if values.get(key) is None:
            values[key] = getattr(item, name)
    return values


def scalar_value(entity: BaseModel, path: str) -> Any:
    """The value of a scalar field of ``entity``; ``outer.inner`` reads a nested model."""
    value: Any = entity
    for part in path.split("."):
        value = getattr(value, part)
    return value


def agreement(gold: BaseModel, predicted: BaseModel, level: Level) -> int:
    """How well two entities agree: the values both state alike (list items each count).

    Scalars (nested models' included) agree when both have a value and the
    field's comparator accepts them; list fields count their common keys;
    per-key fields count the keys both have with the same non-null value.
    """
    scalars = sum(
        g is not None and p is not None and comparator_of(level.compare.get(name))(g, p)
        for name in level.scalars + level.nested
        for g, p in [(scalar_value(gold, name), scalar_value(predicted, name))]
    )
    items = per_key = 0
    for spec in level.lists:
        items += len(match_keys(item_keys(gold, spec), item_keys(predicted, spec), spec))
        for name in spec.per_key:
            g_values = per_key_values(gold, spec, name)
            p_values = per_key_values(predicted, spec, name)
            per_key += sum(
                g_values[g] is not None and g_values[g] == p_values[p]
                for g, p in match_keys(g_values, p_values, spec).items()
            )
    return int(scalars) + items + per_key


def pair_entities(
    predicted: list[BaseModel], gold: list[BaseModel], level: Level
) -> list[tuple[int | None, int | None]]:
    """Pair entities one-to-one by best total agreement, as ``(pred_index, gold_index)``.

    Gold entities come in order (``None`` when unpaired), then unpaired
    predicted ones. Ties prefer pairing the same positions in both lists.
    """
    if not predicted or not gold:
        return [(None, g) for g in range(len(gold))] + [(p, None) for p in range(len(predicted))]
    scale = min(len(predicted), len(gold)) + 1  # the position bonus never beats one agreement
    weights = [
        [
            agreement(g_patient, p_patient, level) * scale + (p == g)
            for g, g_patient in enumerate(gold)
        ]
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
