"""What a reviewer sees of one run line: its text, evidence spans and record tables.

A run line holds no text: it is the gold copy, else read from ``source`` (a
file or ``corpus.jsonl:N``); if it is not the text the run saw (sha256), the
quotes are aligned to it again and the page says so. With gold, the record
is shown beside the gold label, patients paired as the scorer pairs them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from extractor.errors import InputError
from extractor.evaluation.counts import FieldCounts
from extractor.evaluation.gold import GoldSet
from extractor.evaluation.scoring import ScoredSlot, score_record
from extractor.hashing import sha256_text
from extractor.io.documents import Document, iter_documents, read_document
from extractor.record.grounding import Alignment, align_record, evidence_quotes
from extractor.record.matching import Key, key_of, pair_entities
from extractor.record.template import Level, ListField, Template

MISMATCH = frozenset({"fp", "fn", "wrong"})

Data = dict[str, Any]


# --- the document text ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Found:
    """A document's text (``None`` if not found), whether the run saw it, and a note."""

    text: str | None
    current: bool = False
    note: str | None = None


class Texts:
    """Finds the text of a run line: the gold copy, else its source file or corpus line."""

    def __init__(self, gold: GoldSet | None) -> None:
        self.gold = gold
        self._corpora: dict[Path, dict[str, str]] = {}

    def find(self, line: dict[str, Any]) -> _Found:
        """The text of ``line``'s document, preferring one whose sha256 is the run's."""
        source = str(line.get("source") or "")
        candidates = (self._gold_text(line["doc_id"]), self._source_text(source))
        texts = [text for text in candidates if text is not None]
        for text in texts:
            if line.get("doc_sha256") == sha256_text(text):
                return _Found(text, current=True)
        if not texts:
            return _Found(None, note=f"document text not found (source: {source or 'none'})")
        note = "this text differs from the one the run saw: its quotes are aligned to it again"
        return _Found(texts[0], note=note if line.get("doc_sha256") else None)

    def _gold_text(self, doc_id: str) -> str | None:
        item = None if self.gold is None else self.gold.items.get(doc_id)
        return None if item is None else item.document.text

    def _source_text(self, source: str) -> str | None:
        container, sep, _ = source.partition(":")
        if sep and Path(container).is_file():  # corpus.jsonl:N, package.tar.gz:member, set.xml:N
            return self._container(Path(container)).get(source)
        path = Path(source)
        if not source or not path.is_file():
            return None
        try:
            return read_document(path).text
        except InputError:
            return None

    def _container(self, path: Path) -> dict[str, str]:
        """The texts of a file holding many documents, by their source, read once."""
        if path not in self._corpora:
            self._corpora[path] = {
                doc.source: doc.text for doc in iter_documents([path]) if isinstance(doc, Document)
            }
        return self._corpora[path]


# --- one document --------------------------------------------------------------------------------


def document_data(
    line: dict[str, Any], found: _Found, gold: BaseModel | None, template: Template
) -> tuple[Data, FieldCounts | None]:
    """The page data of one run line (a ``template`` record), and its score against ``gold``."""
    record, error = _record(line, template)
    score = None if gold is None else score_record(line["doc_id"], record, gold, found.text)
    alignments = [] if record is None or found.text is None else _alignments(line, record, found)
    spans = _spans(alignments, record, template)
    data: Data = {
        "id": line["doc_id"],
        "source": str(line.get("source") or ""),
        "status": "ok" if error is None else str(error.get("kind") or "error"),
        "f1": None if score is None else round(score.micro.f1, 4),
        "error": error,
        "note": found.note,
        "text": found.text,
        "segments": _segments(alignments, spans, len(found.text or "")),
        "spans": spans,
        "groups": _groups(template, record, gold, [] if score is None else score.comparisons),
    }
    return data, None if score is None else score.micro


def _record(
    line: dict[str, Any], template: Template
) -> tuple[BaseModel | None, dict[str, str | None] | None]:
    """The line's record, or its error (``kind``, ``message``, ``last_output``)."""
    raw, error = line.get("record"), line.get("error")
    if raw is None:
        error = error if isinstance(error, dict) else {}
        output = error.get("last_output")
        kind, message = error.get("kind") or "error", error.get("message") or "no record"
        return None, {"kind": str(kind), "message": str(message),
                      "last_output": None if output is None else str(output)}  # fmt: skip
    try:
        return template.model.model_validate(raw), None
    except ValidationError as e:
        message = f"the record does not fit the schema: {e}"
        return None, {"kind": "schema", "message": message, "last_output": None}


def _alignments(line: dict[str, Any], record: BaseModel, found: _Found) -> list[Alignment]:
    """The run's evidence spans if they are of the text shown, else the quotes aligned again."""
    recorded = line.get("evidence_spans")
    if found.current and isinstance(recorded, list):
        try:
            return [Alignment(**span) for span in recorded]
        except TypeError:
            pass
    return align_record(record, found.text or "")


def _spans(alignments: list[Alignment], record: BaseModel | None, template: Template) -> list[Data]:
    """Each evidence quote: its field, a label, status, quote and the row it supports."""
    quotes = dict(evidence_quotes(record)) if record is not None else {}
    several = record is not None and len(template.entity_list(record)) > 1
    noun = _noun(template).lower()
    spans = []
    for alignment in alignments:
        row, field, entity = _anchor(alignment.where, template)
        spans.append(
            {"where": alignment.where, "field": field, "row": row, "status": alignment.status,
             "label": f"{noun} {entity + 1}: {field}" if several else field,
             "quote": quotes.get(alignment.where, ""), "mark": None}
        )  # fmt: skip
    return spans


def _anchor(where: str, template: Template) -> tuple[str, str, int]:
    """The id of the table row a quote supports, its field and its entity's index.

    ``patients[0].evidence.age_years`` supports row ``f-p0-age_years`` (field
    ``age_years``); ``patients[0].imaging[1].evidence`` row ``f-p0-imaging-1``
    (``imaging[1]``); ``patients[0].evidence.imaging`` (a quote for a whole
    list or nested model) the table ``t-p0-imaging``.
    """
    level = template.entity
    match = re.fullmatch(rf"{re.escape(template.entities or '')}\[(\d+)\]\.(.+)", where)
    if match is None or level is None:
        return "", where, 0
    entity, rest = int(match[1]), match[2]
    quotes = f"{level.quotes}." if level.quotes else None
    field = (rest.replace(quotes, "", 1) if quotes else rest).removesuffix(".evidence")
    for item in level.lists:
        if item.quote:
            field = field.removesuffix(f".{item.quote}")
    tables = {item.name for item in level.lists if item.item is not None} | _nested(level).keys()
    if quotes and rest.startswith(quotes) and field in tables:
        return f"t-p{entity}-{field}", field, entity
    return f"f-p{entity}-" + field.replace("[", "-").replace("]", ""), field, entity


def _nested(level: Level) -> dict[str, tuple[str, ...]]:
    """Each nested model of ``level`` and its scored fields (``outcome``: status, …)."""
    nested: dict[str, list[str]] = {}
    for path in level.nested:
        outer, inner = path.split(".", 1)
        nested.setdefault(outer, []).append(inner)
    return {name: tuple(fields) for name, fields in nested.items()}


def _noun(template: Template) -> str:
    """What an entity is called on the page: its model's name (``Patient``)."""
    return "Entity" if template.entity is None else template.entity.model.__name__


def _segments(alignments: list[Alignment], spans: list[Data], size: int) -> list[list[Any]]:
    """The text cut where any located span starts or ends: ``[start, end, [span indexes]]``.

    Overlapping quotes (one sentence supporting age and sex) share segments;
    each span's ``mark`` is set to the id of its first segment.
    """
    located = [
        (index, max(0, a.start), min(size, a.end))
        for index, a in enumerate(alignments)
        if a.status != "ungrounded" and a.start is not None and a.end is not None
    ]
    cuts = sorted({point for _, start, end in located if start < end for point in (start, end)})
    segments: list[list[Any]] = []
    for start, end in pairwise(cuts):
        covering = [index for index, first, last in located if first <= start and end <= last]
        if covering:
            for index in covering:
                spans[index]["mark"] = spans[index]["mark"] or f"m-{len(segments)}"
            segments.append([start, end, covering])
    return segments


# --- the record as tables ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Sides:
    """The predicted and gold sides of a group of fields, and their comparisons.

    For a patient: a predicted patient and the gold patient paired with it
    (either may be missing); for document fields, no patients.
    """

    predicted: BaseModel | None
    gold: BaseModel | None
    has_gold: bool
    comparisons: list[ScoredSlot]

    def outcome(self, name: str) -> str | None:
        """The outcome of field ``name``: ``None`` without gold, ``abstain`` if not scored."""
        found = [c.outcome for c in self.comparisons if c.field == name]
        return found[0] if found else "abstain" if self.has_gold else None

    def per_key(self, field: str, key: Key) -> ScoredSlot | None:
        """The comparison of the per-key ``field`` of the item ``key``, if it was scored."""
        found = [c for c in self.comparisons if c.field == field and c.key == key]
        return found[0] if found else None


def _groups(
    template: Template, record: BaseModel | None, gold: BaseModel | None,
    comparisons: list[ScoredSlot],
) -> list[Data]:  # fmt: skip
    """The record's tables in groups: the document, then each entity (paired with gold)."""
    if record is None and gold is None:
        return []
    has_gold = gold is not None
    mine = [c for c in comparisons if c.patient is None and c.predicted_patient is None]
    document = _Sides(record, gold, has_gold, mine)
    tables = _level_tables("document", template.document, document, document_level=True)
    groups = [{"title": "Document", "tables": tables}]
    level = template.entity
    if level is None:
        return groups
    predicted = [] if record is None else template.entity_list(record)
    golds = [] if gold is None else template.entity_list(gold)
    alone: list[tuple[int | None, int | None]] = [(p, None) for p in range(len(predicted))]
    pairs = pair_entities(predicted, golds, level) if has_gold else alone
    noun = _noun(template)
    for p, g in pairs:
        mine = [c for c in comparisons if (c.patient is not None or c.predicted_patient is not None)
                and c.predicted_patient == p and c.patient == g]  # fmt: skip
        sides = _Sides(None if p is None else predicted[p], None if g is None else golds[g],
                       has_gold, mine)  # fmt: skip
        prefix = f"p{p}" if p is not None else f"g{g}"
        groups.append({"title": _title(noun, p, g, has_gold),
                       "tables": _level_tables(prefix, level, sides)})  # fmt: skip
    return groups


def _title(noun: str, p: int | None, g: int | None, has_gold: bool) -> str:
    """An entity group's heading, e.g. ``Patient 3 · not in gold``."""
    if p is None:
        return f"Gold {noun.lower()} {(g or 0) + 1} · not predicted"
    if not has_gold:
        return f"{noun} {p + 1}"
    return f"{noun} {p + 1} · " + ("not in gold" if g is None else f"gold {noun.lower()} {g + 1}")


def _level_tables(
    prefix: str, level: Level, sides: _Sides, *, document_level: bool = False
) -> list[Data]:
    """One level's tables: its scalars and value lists, each list of items, each nested model."""
    p, g = sides.predicted, sides.gold
    ids = "f-" if document_level else f"f-{prefix}-"
    values = tuple(item.name for item in level.lists if item.item is None)
    scalars = _value_rows(ids, (*level.scalars, *values), p, g, sides)
    table_id = f"t-{prefix}" if document_level else f"t-{prefix}-fields"
    tables = [_table(table_id, "Fields", scalars, sides)]
    tables += [_items_table(prefix, spec, sides) for spec in level.lists if spec.item is not None]
    for name, fields in _nested(level).items():
        rows = _value_rows(ids, fields, getattr(p, name, None), getattr(g, name, None), sides,
                           field=f"{name}.")  # fmt: skip
        tables.append(_table(f"t-{prefix}-{name}", name.replace("_", " ").capitalize(), rows,
                             sides))  # fmt: skip
    return tables


def _value_rows(
    ids: str, names: tuple[str, ...], predicted: Any, gold: Any, sides: _Sides, *, field: str = ""
) -> list[Data]:
    """A row per field in ``names`` of ``predicted`` (and ``gold``): values and outcome."""
    rows = []
    for name in names:
        cells = [name, _show(getattr(predicted, name, None))]
        cells += [_show(getattr(gold, name, None))] if sides.has_gold else []
        rows.append(
            {"id": ids + field + name, "cells": cells, "outcome": sides.outcome(field + name)}
        )
    return rows


def _items_table(prefix: str, spec: ListField, sides: _Sides) -> Data:
    """A list of items: predicted items (matched by scoring key), then gold items not predicted."""
    assert spec.item is not None
    name = spec.name
    columns = tuple(column for column in spec.item.model_fields if column != spec.quote)
    predicted = [] if sides.predicted is None else getattr(sides.predicted, name)
    gold = [] if sides.gold is None else getattr(sides.gold, name)
    gold_keys = {key_of(item, spec) for item in gold}
    predicted_keys = {key_of(item, spec) for item in predicted}
    per_key = spec.per_key if sides.has_gold else ()
    rows: list[Data] = []
    for position, item in enumerate(predicted):
        key = key_of(item, spec)
        cells = [_show(getattr(item, column)) for column in columns]
        outcome = None if not sides.has_gold else "tp" if key in gold_keys else "fp"
        for field in per_key:
            scored = sides.per_key(f"{name}.{field}", key)
            cells.append(_show(None if scored is None else scored.gold))
            if outcome == "tp" and scored is not None and scored.outcome in MISMATCH:
                outcome = scored.outcome
        rows.append({"id": f"f-{prefix}-{name}-{position}", "cells": cells, "outcome": outcome})
    for item in {
        key_of(i, spec): i for i in gold if key_of(i, spec) not in predicted_keys
    }.values():
        cells = [_show(getattr(item, column)) for column in columns]
        cells += [_show(getattr(item, field)) for field in per_key]
        rows.append({"id": None, "cells": cells, "outcome": "fn", "gold_only": True})
    head = [*columns, *(f"gold {field}" for field in per_key)]
    return _table(f"t-{prefix}-{name}", name.replace("_", " ").capitalize(), rows, sides, head)


def _table(
    table_id: str, title: str, rows: list[Data], sides: _Sides, head: list[str] | None = None
) -> Data:
    """A table's data; value tables have the head ``field, predicted[, gold]``."""
    if head is None:
        head = ["field", "predicted", "gold"] if sides.has_gold else ["field", "value"]
    return {"id": table_id, "title": title, "head": head, "rows": rows, "marks": sides.has_gold}


def _show(value: Any) -> str:
    """A value as text: ``—`` for nothing, ``yes``/``no``, ``96`` for 96.0, lists joined."""
    if value is None or value == []:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list | tuple):
        return ", ".join(_show(item) for item in value)
    return str(value)
