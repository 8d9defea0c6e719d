"""Agreement between runs of the same documents, and how far agreement can be trusted.

Two or more runs (two models, two prompts, repeated samples) are compared
slot by slot with the scorer's own comparators and patient pairing
(``extractor.record.matching``):

- **Documents.** A document is compared when every run has a record for it;
  the others are listed as skipped, with the reason.
- **Patients.** Each later run's patients are paired one-to-one to the first
  run's (``pair_patients``, as the scorer pairs a prediction to gold). A
  patient group is numbered by the first run's patient; a patient of a later
  run that pairs with none gets a group of its own, numbered after them, in
  which the other runs have no patient (null scalars, empty lists).
- **Slots.** Every document field; per patient group every patient scalar,
  each list field (``metastatic_sites``, ``imaging``, ``biomarkers``,
  ``treatments``) as the set of its scoring keys, the response of every
  treatment key that all runs' patients have, and the outcome fields.
- **Agreement.** A slot agrees when every run's value matches the first run's
  by the field's comparator (titles by similarity, Ki-67 and follow-up within
  a tolerance, text after normalisation), null matching only null; list
  slots agree when the key sets are equal. All-empty slots (every run null
  or empty) agree and are counted apart. A field's agreement rate is agreed
  slots over slots, empty ones included. Every slot that does not agree is a
  value to review: one line of ``triage.jsonl``.

**Accuracy of agreed and disagreed values** (with a gold set): each run's
value in a slot is one judged value, right when it matches gold by the
field's comparator; a null is right exactly when gold is null too, so
abstentions are judged like values. The runs' patient groups are paired to
the gold patients (``pair_patients`` on each group's first patient); a group
with no gold patient has gold null everywhere, and a gold patient that no
group pairs with is judged against runs that all say nothing (agreed). List
fields are judged per key: over the union of the runs' keys and gold's,
each run's value for a key is *present* or *absent*, right when gold says
the same, and the key is agreed when every run says the same. A response is
judged only where gold has the treatment.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from extractor.errors import ConfigError, InputError
from extractor.evaluation.evaluate import read_run
from extractor.evaluation.gold import load_gold
from extractor.io.runfile import write_atomically
from extractor.record.markers import Compare
from extractor.record.matching import (
    Key,
    comparator_of,
    item_keys,
    pair_entities,
    per_key_values,
    scalar_value,
    sorted_keys,
)
from extractor.record.template import Level, Template

Group = tuple[BaseModel | None, ...]
_TRIAGE_KEYS = (("doc_id", str), ("field", str), ("values", list))


@dataclass(frozen=True)
class Slot:
    """One compared slot: a field of a document or of a patient group, a value per run.

    ``patient`` is the patient group (``None`` for document fields);
    ``patients`` each run's index of that patient (``None``: no such patient).
    List values are the sorted scoring keys; ``key`` names the treatment of a
    ``treatments.response`` slot.
    """

    doc_id: str
    patient: int | None
    field: str
    values: tuple[Any, ...]
    agreed: bool
    key: Key | None = None
    patients: tuple[int | None, ...] | None = None

    @property
    def empty(self) -> bool:
        """True when every run says nothing here (null or an empty list)."""
        return all(value is None or value == [] for value in self.values)

    def to_dict(self) -> dict[str, Any]:
        """The triage line: ``doc_id``, ``patient``, ``field``, ``values``, maybe ``key``."""
        line: dict[str, Any] = {"doc_id": self.doc_id, "patient": self.patient,
                                "field": self.field, "values": list(self.values)}  # fmt: skip
        if self.key is not None:
            line["key"] = list(self.key)
        if self.patients is not None:
            line["patients"] = list(self.patients)
        return line


@dataclass(frozen=True)
class FieldAgreement:
    """How often the runs agree on one field."""

    slots: int = 0
    agreed: int = 0
    empty: int = 0

    @property
    def disagreed(self) -> int:
        """The slots to review."""
        return self.slots - self.agreed

    @property
    def rate(self) -> float | None:
        """Agreed slots over slots (all-empty ones included); ``None`` without slots."""
        return self.agreed / self.slots if self.slots else None


@dataclass(frozen=True)
class Accuracy:
    """Judged values and how many of them match gold."""

    right: int = 0
    judged: int = 0

    def __add__(self, other: Accuracy) -> Accuracy:
        return Accuracy(self.right + other.right, self.judged + other.judged)

    @property
    def rate(self) -> float | None:
        """Right over judged; ``None`` when nothing was judged."""
        return self.right / self.judged if self.judged else None


@dataclass(frozen=True)
class Split:
    """The accuracy of agreed values and of disagreed values."""

    agreed: Accuracy = Accuracy()
    disagreed: Accuracy = Accuracy()

    def __add__(self, other: Split) -> Split:
        return Split(self.agreed + other.agreed, self.disagreed + other.disagreed)

    def judge(self, agreed: bool, right: Sequence[bool]) -> Split:
        """This split with the values ``right`` (one per run) of one slot or key added."""
        judged = Accuracy(sum(right), len(right))
        if agreed:
            return Split(self.agreed + judged, self.disagreed)
        return Split(self.agreed, self.disagreed + judged)


@dataclass(frozen=True)
class Agreement:
    """The comparison of runs: every slot, the documents skipped, and the gold split."""

    runs: tuple[str, ...]
    documents: tuple[str, ...]
    slots: tuple[Slot, ...]
    scored: tuple[str, ...]
    skipped: dict[str, str] = field(default_factory=dict)
    accuracy: dict[str, Split] | None = None
    gold_documents: int = 0

    @property
    def fields(self) -> dict[str, FieldAgreement]:
        """Agreement per field, every scored field of the record present and in order."""
        return {
            name: _count([slot for slot in self.slots if slot.field == name])
            for name in self.scored
        }

    @property
    def overall(self) -> FieldAgreement:
        """Agreement over every slot."""
        return _count(self.slots)

    @property
    def disagreements(self) -> list[Slot]:
        """The slots to review, in document and field order."""
        return [slot for slot in self.slots if not slot.agreed]

    @property
    def overall_accuracy(self) -> Split | None:
        """The split summed over fields (``None`` without gold)."""
        return None if self.accuracy is None else sum(self.accuracy.values(), Split())


def _count(slots: Sequence[Slot]) -> FieldAgreement:
    """Slots, agreed slots and agreed all-empty slots."""
    agreed = [slot for slot in slots if slot.agreed]
    return FieldAgreement(len(slots), len(agreed), sum(slot.empty for slot in agreed))


# --- comparing -----------------------------------------------------------------------------------


def _same(marker: Compare | None, first: Any, other: Any) -> bool:
    """Whether two values match: null only null, else the field's comparator."""
    if first is None or other is None:
        return first is None and other is None
    return bool(comparator_of(marker)(first, other))


def _keys_json(keys: frozenset[Key]) -> list[list[Any]]:
    """Key tuples as sorted JSON lists (``None`` sorts first)."""
    return [list(key) for key in sorted_keys(keys)]


class _Tally:
    """Decides agreement slot by slot and, when judging, adds each run's value to the split."""

    def __init__(self, judging: bool) -> None:
        self.judging = judging
        self.splits: dict[str, Split] = {}

    def _add(self, name: str, agreed: bool, right: list[bool]) -> None:
        if self.judging:
            self.splits[name] = self.splits.get(name, Split()).judge(agreed, right)

    def scalar(
        self, name: str, values: Sequence[Any], gold: Any, marker: Compare | None = None,
        judged: bool = True,
    ) -> bool:  # fmt: skip
        """Whether the values agree; each is right when it matches ``gold``."""
        agreed = all(_same(marker, values[0], value) for value in values[1:])
        if judged:
            self._add(name, agreed, [_same(marker, gold, value) for value in values])
        return agreed

    def keys(self, name: str, keys: Sequence[frozenset[Key]], gold: frozenset[Key]) -> bool:
        """Whether the key sets agree; judged per key of the runs and gold, present or absent."""
        for key in frozenset[Key]().union(*keys, gold):
            said = [key in run for run in keys]
            self._add(name, len(set(said)) == 1, [s == (key in gold) for s in said])
        return all(run == keys[0] for run in keys[1:])


def _groups(template: Template, records: Sequence[BaseModel]) -> list[tuple[int | None, ...]]:
    """Each entity group as the index of its entity in every run (``None``: none)."""
    level = template.entity
    runs, first = len(records), template.entity_list(records[0])
    groups = [[g, *([None] * (runs - 1))] for g in range(len(first))]
    for r, record in enumerate(records[1:], start=1):
        if level is None:
            break
        for p, g in pair_entities(template.entity_list(record), first, level):
            if g is not None:
                groups[g][r] = p
            elif p is not None:
                groups.append([p if run == r else None for run in range(runs)])
    return [tuple(group) for group in groups]


def _gold_patients(
    template: Template, groups: list[Group], gold: BaseModel | None, runs: int
) -> list[tuple[Group, BaseModel | None]]:
    """Each group with its gold entity, then each unpaired gold entity with empty runs."""
    if gold is None or template.entity is None:
        return [(group, None) for group in groups]
    firsts = [next(p for p in group if p is not None) for group in groups]
    golds = template.entity_list(gold)
    paired: dict[int, BaseModel | None] = {}
    extra: list[tuple[Group, BaseModel | None]] = []
    for p, g in pair_entities(firsts, golds, template.entity):
        if p is not None:
            paired[p] = None if g is None else golds[g]
        elif g is not None:
            extra.append(((None,) * runs, golds[g]))
    return [(group, paired[i]) for i, group in enumerate(groups)] + extra


@dataclass(frozen=True)
class _At:
    """One level to compare: the document or one entity group, each run's value, and gold's."""

    doc_id: str
    index: int | None
    level: Level
    group: Group
    gold: BaseModel | None


def _level_slots(at: _At, tally: _Tally) -> list[Slot]:
    """The slots of one level, judged against its gold by ``tally``."""
    doc_id, index, level, group, gold = at.doc_id, at.index, at.level, at.group, at.gold
    slots = [_scalar_slot(at, name, tally) for name in level.scalars]
    for spec in level.lists:
        keys = [frozenset[Key]() if p is None else item_keys(p, spec) for p in group]
        gold_keys = frozenset[Key]() if gold is None else item_keys(gold, spec)
        agreed = tally.keys(spec.name, keys, gold_keys)
        slots.append(Slot(doc_id, index, spec.name, tuple(_keys_json(k) for k in keys), agreed))
    slots += [_scalar_slot(at, name, tally) for name in level.nested]
    present = [p for p in group if p is not None]
    if len(present) < len(group):
        return slots
    for spec in level.lists:
        for name in spec.per_key:
            path, marker = f"{spec.name}.{name}", spec.compare.get(name)
            runs = [per_key_values(p, spec, name) for p in present]
            golden = {} if gold is None else per_key_values(gold, spec, name)
            for key in sorted(set.intersection(*(set(r) for r in runs)), key=str):
                values = tuple(run[key] for run in runs)
                agreed = tally.scalar(path, values, golden.get(key), marker, key in golden)
                slots.append(Slot(doc_id, index, path, values, agreed, key))
    return slots


def _scalar_slot(at: _At, name: str, tally: _Tally) -> Slot:
    values = tuple(None if p is None else scalar_value(p, name) for p in at.group)
    truth = None if at.gold is None else scalar_value(at.gold, name)
    agreed = tally.scalar(name, values, truth, at.level.compare.get(name))
    return Slot(at.doc_id, at.index, name, values, agreed)


def agree_document(
    doc_id: str, records: Sequence[BaseModel], gold: BaseModel | None = None
) -> tuple[list[Slot], dict[str, Split]]:
    """Every slot of one document in two or more runs, and (with ``gold``) the split per field."""
    template = Template.of(type(records[0]))
    tally = _Tally(judging=gold is not None)
    slots = _level_slots(_At(doc_id, None, template.document, tuple(records), gold), tally)
    indices = _groups(template, records)
    groups: list[Group] = [
        tuple(
            None if i is None else template.entity_list(run)[i]
            for i, run in zip(group, records, strict=True)
        )
        for group in indices
    ]
    if template.entity is None:
        return slots, tally.splits
    pairs = _gold_patients(template, groups, gold, len(records))
    for number, (group, gold_entity) in enumerate(pairs):
        mine = _level_slots(_At(doc_id, number, template.entity, group, gold_entity), tally)
        if number < len(groups):  # else a gold entity no run has: judged, not a slot
            slots.extend(replace(slot, patients=indices[number]) for slot in mine)
    return slots, tally.splits


# --- runs ----------------------------------------------------------------------------------------


def agree_records(
    names: Sequence[str],
    runs: Sequence[Mapping[str, BaseModel]],
    failed: Sequence[Mapping[str, str]] | None = None,
    gold: Mapping[str, BaseModel] | None = None,
) -> Agreement:
    """Compare runs given as records by document id (``failed``: error messages by id)."""
    if len(runs) < 2:
        raise ConfigError(f"agreement needs two or more runs, not {len(runs)}")
    failed = failed or [{} for _ in runs]
    order = list(dict.fromkeys(doc for run in (*runs, *failed) for doc in run))
    slots: list[Slot] = []
    skipped: dict[str, str] = {}
    first = next((record for run in runs for record in run.values()), None)
    scored = () if first is None else Template.of(type(first)).fields
    accuracy = {name: Split() for name in scored}
    documents, with_gold = [], 0
    for doc_id in order:
        sides = zip(names, runs, failed, strict=True)
        missing = [_why(name, run, errors, doc_id) for name, run, errors in sides]
        if any(missing):
            skipped[doc_id] = "; ".join(reason for reason in missing if reason)
            continue
        label = None if gold is None else gold.get(doc_id)
        mine, splits = agree_document(doc_id, [run[doc_id] for run in runs], label)
        documents.append(doc_id)
        slots.extend(mine)
        with_gold += label is not None
        for name, split in splits.items():
            accuracy[name] += split
    return Agreement(
        tuple(names), tuple(documents), tuple(slots), scored, skipped,
        None if gold is None else accuracy, with_gold,
    )  # fmt: skip


def _why(name: str, run: Mapping[str, BaseModel], failed: Mapping[str, str], doc_id: str) -> str:
    """Why ``run`` has no record for ``doc_id`` ("" when it has one)."""
    if doc_id in run:
        return ""
    return f"{name}: {failed[doc_id]}" if doc_id in failed else f"{name}: no line"


def agree_runs(
    paths: Sequence[Path], gold_dir: Path | None = None, template: Template | None = None
) -> Agreement:
    """Compare the run files ``paths`` (the first fixes the entity numbering), with gold.

    Records are read as ``template``'s, or as the gold set's when one is given.
    """
    gold = None
    if gold_dir is not None:
        gold_set = load_gold(gold_dir, None if template is None else template.name)
        template = gold_set.template
        gold = {doc_id: item.label for doc_id, item in gold_set.items.items()}
    read = [read_run(path, template) for path in paths]
    return agree_records(
        [str(path) for path in paths],
        [run.records for run in read],
        [run.failed for run in read],
        gold,
    )


def write_triage(agreement: Agreement, path: Path) -> int:
    """Write one JSON line per disagreement to ``path`` (atomically); return how many."""
    lines = [json.dumps(slot.to_dict(), ensure_ascii=False) for slot in agreement.disagreements]
    write_atomically(path, lines)
    return len(lines)


def read_triage(path: Path) -> list[dict[str, Any]]:
    """The lines of a triage file; ``InputError`` naming a line that is not a triage line."""
    lines: list[dict[str, Any]] = []
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: cannot read the triage file: {e}") from e
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            line = json.loads(raw)
        except ValueError as e:
            raise InputError(f"{path}:{number}: not a JSON line: {e}") from e
        if not isinstance(line, dict) or not all(
            isinstance(line.get(key), kind) for key, kind in _TRIAGE_KEYS
        ):
            raise InputError(f"{path}:{number}: not a triage line (doc_id, field, values)")
        lines.append(line)
    return lines
