"""Spreadsheets from a run file: one row per entity (patient), as CSV, Parquet or a DataFrame.

A run (``extractor extract`` output) has one JSON line per document; a case
series holds several patients. Every export flattens it the same way, by the
record's template: one row per entity with the document's fields repeated,
and one row for a document with no entity (or no record at all), so every
document is visible. The columns are the document's scalars, the entity's
index and scalars, its lists of values and of items (each item its fields'
values joined by spaces; items joined by "; "), its nested models' fields
(``outcome_status``), then the run's facts.

Beside a field that declares ``Codes`` stand the codes of its values from the
template's vocabulary (``primary_site_ncit``; ``imaging_tracer_ncit`` for an
item field): for a list, one code per item in the item's order, joined by "; "
like the values, an item without a code left empty (``"C12392; "``); the
column is empty when no item has one.
"""

from __future__ import annotations

import csv
import importlib
import typing
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from itertools import islice
from pathlib import Path
from typing import Any, get_args

from extractor.errors import ConfigError, InputError
from extractor.io.runfile import ResultLine, latest_lines
from extractor.record.markers import Codes
from extractor.record.template import Level, Template, default_template, model_of

RUN_COLUMNS = (
    "error_kind", "error_message", "model", "prompt", "cache_hit", "attempts",
    "prompt_tokens", "completion_tokens", "seconds", "cost_usd",
)  # fmt: skip
_RUN_TYPES = {"cache_hit": bool, "attempts": int, "prompt_tokens": int,
              "completion_tokens": int, "seconds": float, "cost_usd": float}  # fmt: skip

PARQUET_BATCH_ROWS = 10_000


@dataclass(frozen=True)
class _Column:
    """One column: its name, how it reads a value from a record dict, and its type."""

    name: str
    path: tuple[str, ...]  # the keys to the value (a nested model's field: two)
    kind: type | None = None  # int, float or bool for typed Parquet columns; None: text
    items: tuple[str, ...] = ()  # an item list: the item fields shown
    code: tuple[str, str | None] | None = None  # the vocabulary kind, and the item field coded


@dataclass(frozen=True)
class Table:
    """The columns of a template's export."""

    template: Template
    document: tuple[_Column, ...]
    entity: tuple[_Column, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        """Every column name, in order."""
        names = ("doc_id", "source", *(c.name for c in self.document))
        if self.template.entity is not None:
            names += (self.index, *(c.name for c in self.entity))
        return names + RUN_COLUMNS

    @property
    def index(self) -> str:
        """The entity index column: ``patient_index`` for a ``Patient``."""
        entity = self.template.entity
        return "" if entity is None else f"{entity.model.__name__.lower()}_index"

    def kind(self, column: str) -> type | None:
        """The Python type of a column's values (None: text)."""
        if column == self.index:
            return int
        found = {c.name: c.kind for c in (*self.document, *self.entity)}
        return found.get(column, _RUN_TYPES.get(column))


@cache
def table(template: Template) -> Table:
    """The export columns of ``template``."""
    entity = () if template.entity is None else _columns(template.entity)
    return Table(template, _columns(template.document), entity)


def _columns(level: Level) -> tuple[_Column, ...]:
    model = level.model
    columns: list[_Column] = []
    for name in level.scalars:
        info = model.model_fields[name]
        columns.append(_Column(name, (name,), _kind(info.annotation)))
        columns += _code_columns(name, info.metadata, None)
    for spec in level.lists:
        info = model.model_fields[spec.name]
        if spec.item is None:
            columns.append(_Column(spec.name, (spec.name,)))
            columns += _code_columns(spec.name, info.metadata, None)
            continue
        shown = tuple(n for n in spec.item.model_fields if n != spec.quote)
        columns.append(_Column(spec.name, (spec.name,), items=shown))
        for field in shown:
            columns += _code_columns(f"{spec.name}_{field}", spec.item.model_fields[field].metadata,
                                     field, at=spec.name)  # fmt: skip
    for path in level.nested:
        outer, inner = path.split(".", 1)
        nested = model_of(model.model_fields[outer].annotation)
        kind = None if nested is None else _kind(nested.model_fields[inner].annotation)
        columns.append(_Column(f"{outer}_{inner}", (outer, inner), kind))
    return tuple(columns)


def _code_columns(
    name: str, metadata: list[Any], field: str | None, *, at: str | None = None
) -> list[_Column]:
    codes = next((m for m in metadata if isinstance(m, Codes)), None)
    if codes is None:
        return []
    return [_Column(f"{name}_{codes.system}", (at or name,), code=(codes.kind, field))]


def _kind(annotation: Any) -> type | None:
    for candidate in (annotation, *get_args(annotation)):
        if candidate in (bool, int, float):
            return typing.cast(type, candidate)
    return None


def rows(lines: Iterable[ResultLine], template: Template | None = None) -> Iterator[dict[str, Any]]:
    """One row per entity (keys in column order); one row for a document without any."""
    shape = table(template or default_template())
    entities = shape.template.entities
    for typed in lines:
        line = typed.to_dict()
        record = line.get("record") or {}
        shared = {"doc_id": line["doc_id"], "source": line.get("source"),
                  **_values(shape, shape.document, record), **_run_values(line)}  # fmt: skip
        found = (record.get(entities) or []) if entities else []
        if not found:
            yield _row(shape, shared)
        for index, entity in enumerate(found):
            yield _row(shape, shared, {shape.index: index, **_values(shape, shape.entity, entity)})


def _row(shape: Table, *parts: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(shape.columns)
    for part in parts:
        row.update(part)
    return row


def _values(shape: Table, columns: tuple[_Column, ...], data: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    vocab = shape.template.vocabulary
    for column in columns:
        value: Any = data
        for key in column.path:
            value = value.get(key) if isinstance(value, dict) else None
        if column.code is not None:
            kind, field = column.code
            listed = value if isinstance(value, list) else [value]
            if field is not None:
                listed = [item.get(field) if isinstance(item, dict) else None for item in listed]
            codes = [_code(vocab, kind, item) or "" for item in listed]
            if isinstance(value, list):
                values[column.name] = "; ".join(codes) if any(codes) else None
            else:
                values[column.name] = codes[0] or None
        elif column.items:
            values[column.name] = _joined(
                _words(*(item.get(n) for n in column.items)) for item in value or []
            )
        elif isinstance(value, list):
            values[column.name] = _joined(str(item) for item in value)
        else:
            values[column.name] = value
    return values


def _run_values(line: dict[str, Any]) -> dict[str, Any]:
    error = line.get("error") or {}
    provenance = line.get("provenance") or {}
    usage = provenance.get("usage") or {}
    return {
        "error_kind": error.get("kind"),
        "error_message": error.get("message"),
        "model": provenance.get("model"),
        "prompt": provenance.get("prompt"),
        "cache_hit": provenance.get("cache_hit"),
        "attempts": provenance.get("attempts"),
        "prompt_tokens": usage.get("prompt_tokens"),
        "completion_tokens": usage.get("completion_tokens"),
        "seconds": provenance.get("seconds"),
        "cost_usd": provenance.get("cost_usd", usage.get("cost_usd")),
    }


def _code(vocab: Any, kind: str, value: Any) -> str | None:
    """The code of a value from the vocabulary; a free-text value is normalised first."""
    if not isinstance(value, str) or kind not in vocab.kinds():
        return None
    code: str | None = vocab.code(kind, value)
    if code is None:
        normal = vocab.normalise(kind, value)
        code = None if normal is None else vocab.code(kind, normal)
    return code


def _words(*parts: Any) -> str:
    """The non-null parts joined by spaces."""
    return " ".join(str(part) for part in parts if part is not None)


def _joined(items: Iterable[str]) -> str | None:
    """Items joined with "; ", or None when there are none."""
    return "; ".join(items) or None


def write_csv(run: Path, out: Path, template: Template | None = None) -> int:
    """Write ``run`` as CSV (UTF-8, header row, the template's columns); return rows written."""
    template = template or default_template()
    out.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with out.open("w", encoding="utf-8", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=table(template).columns)
        writer.writeheader()
        for row in rows(latest_lines(run), template):
            writer.writerow(row)
            written += 1
    return written


def write_parquet(run: Path, out: Path, template: Template | None = None) -> int:
    """Write ``run`` as Parquet (typed columns) to ``out``; return rows written.

    Needs pyarrow (not a dependency of this package): ``ConfigError`` without it.
    """
    pa = _optional("pyarrow", "parquet export needs pyarrow: pip install pyarrow")
    pq = _optional("pyarrow.parquet", "parquet export needs pyarrow: pip install pyarrow")
    shape = table(template or default_template())
    schema = pa.schema([(name, _arrow_type(pa, shape.kind(name))) for name in shape.columns])
    out.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    all_rows = rows(latest_lines(run), shape.template)
    with pq.ParquetWriter(out, schema) as writer:
        while batch := list(islice(all_rows, PARQUET_BATCH_ROWS)):
            try:
                writer.write_table(pa.Table.from_pylist(batch, schema=schema))
            except (pa.ArrowInvalid, pa.ArrowTypeError) as e:
                raise InputError(f"{run}: a value does not fit its column: {e}") from e
            written += len(batch)
    return written


def _arrow_type(pa: Any, kind: type | None) -> Any:
    if kind is bool:
        return pa.bool_()
    if kind is int:
        return pa.int64()
    if kind is float:
        return pa.float64()
    return pa.string()


def load_run(path: Path, template: Template | None = None) -> Any:
    """The run at ``path`` as a ``pandas.DataFrame`` with the CSV's rows and columns.

    Returns ``Any`` because pandas is optional (not a dependency, no stubs
    needed); ``ConfigError`` when it is not installed.
    """
    pd = _optional("pandas", "load_run needs pandas: pip install pandas")
    shape = table(template or default_template())
    records = list(rows(latest_lines(path), shape.template))
    return pd.DataFrame.from_records(records, columns=list(shape.columns))


def _optional(module: str, message: str) -> Any:
    """Import an optional dependency, or raise ``ConfigError(message)``."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise ConfigError(message) from e
