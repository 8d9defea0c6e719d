"""Spreadsheets from a run file: one row per patient, as CSV, Parquet or a DataFrame.

A run (``extractor extract`` output) has one JSON line per document; a case
series holds several patients. Every export flattens it the same way: one row
per patient with the document's fields repeated, and one row for a document
with no patient (or no record at all), so every document is visible.

Beside the primary site, the metastatic sites, the imaging tracers, the
biomarkers and the treatment agents stand their NCIt codes from the
vocabulary (``*_ncit`` columns): for a list, one code per item in the item's
order, joined by "; " like the values, an item without a code left empty
(``"C12392; "``); the column is empty when no item has one.
"""

from __future__ import annotations

import csv
import importlib
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any

from extractor.errors import ConfigError, InputError
from extractor.io.runfile import ResultLine, latest_lines
from extractor.record.schema import DOCUMENT_FIELDS, PATIENT_SCALARS
from extractor.record.vocabulary import vocabulary

DOCUMENT_COLUMNS = ("doc_id", "source", *DOCUMENT_FIELDS)
PATIENT_COLUMNS = (
    "patient_index", "label", "age_years", "sex", "primary_site", "primary_site_ncit",
    "primary_site_text", "differentiation", "who_grade", "ki67_percent", "functional_syndrome",
    "metastatic", "metastatic_sites", "metastatic_sites_ncit", "imaging", "imaging_tracer_ncit",
    "biomarkers", "biomarkers_ncit", "treatments", "treatments_agent_ncit", "outcome_status",
    "outcome_follow_up_months",
)  # fmt: skip
RUN_COLUMNS = (
    "error_kind", "error_message", "model", "prompt", "cache_hit", "attempts",
    "prompt_tokens", "completion_tokens", "seconds", "cost_usd",
)  # fmt: skip
COLUMNS = DOCUMENT_COLUMNS + PATIENT_COLUMNS + RUN_COLUMNS


# Column types for Parquet; every column not named here holds text.
_INTEGER_COLUMNS = frozenset(
    {"year", "n_patients", "patient_index", "age_years", "attempts", "prompt_tokens",
     "completion_tokens"}
)  # fmt: skip
_FLOAT_COLUMNS = frozenset({"ki67_percent", "outcome_follow_up_months", "seconds", "cost_usd"})
_BOOLEAN_COLUMNS = frozenset({"reports_nen", "metastatic", "cache_hit"})

PARQUET_BATCH_ROWS = 10_000


def rows(lines: Iterable[ResultLine]) -> Iterator[dict[str, Any]]:
    """One row per patient (keys in ``COLUMNS`` order); one row for a document without any."""
    for typed in lines:
        line = typed.to_dict()
        record = line.get("record") or {}
        shared = {**_document_values(line, record), **_run_values(line)}
        patients = record.get("patients") or []
        if not patients:
            yield _row(shared)
        for index, patient in enumerate(patients):
            yield _row(shared, patient_index=index, **_patient_values(patient))


def _row(*parts: dict[str, Any], **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(COLUMNS)
    for part in parts:
        row.update(part)
    row.update(values)
    return row


def _document_values(line: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
    values = {"doc_id": line["doc_id"], "source": line.get("source")}
    values.update({name: record.get(name) for name in DOCUMENT_FIELDS})
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


def _patient_values(patient: dict[str, Any]) -> dict[str, Any]:
    values = {name: patient.get(name) for name in PATIENT_SCALARS}
    outcome = patient.get("outcome") or {}
    sites = patient.get("metastatic_sites") or []
    imaging, biomarkers = patient.get("imaging") or [], patient.get("biomarkers") or []
    treatments = patient.get("treatments") or []
    values.update(
        primary_site_ncit=_code("primary_site", patient.get("primary_site")),
        metastatic_sites=_joined(sites),
        metastatic_sites_ncit=_codes("metastatic_site", sites),
        imaging=_joined(
            _words(item.get("modality"), item.get("tracer"), item.get("result")) for item in imaging
        ),
        imaging_tracer_ncit=_codes("tracer", [item.get("tracer") for item in imaging]),
        biomarkers=_joined(
            _words(item.get("name"), item.get("specimen"), item.get("result"))
            for item in biomarkers
        ),
        biomarkers_ncit=_codes("biomarker", [item.get("name") for item in biomarkers]),
        treatments=_joined(_treatment(item) for item in treatments),
        treatments_agent_ncit=_codes("agent", [item.get("agent") for item in treatments]),
        outcome_status=outcome.get("status"),
        outcome_follow_up_months=outcome.get("follow_up_months"),
    )
    return values


def _code(kind: str, value: Any) -> str | None:
    """The NCIt code of a value from the vocabulary; a free-text agent is normalised first."""
    if not isinstance(value, str):
        return None
    words = vocabulary()
    code = words.code(kind, value)
    if code is None and kind == "agent":
        normal = words.normalise(kind, value)
        code = None if normal is None else words.code(kind, normal)
    return code


def _codes(kind: str, values: list[Any]) -> str | None:
    """The codes of ``values``, one per value ("" when it has none) joined by "; ".

    Parallel to the value column, item by item; ``None`` when no value has a code.
    """
    codes = [_code(kind, value) or "" for value in values]
    return "; ".join(codes) if any(codes) else None


def _treatment(item: dict[str, Any]) -> str:
    cycles = item.get("cycles")
    counted = None if cycles is None else f"({cycles} cycle{'' if cycles == 1 else 's'})"
    return _words(item.get("type"), item.get("agent"), counted, item.get("response"))


def _words(*parts: Any) -> str:
    """The non-null parts joined by spaces."""
    return " ".join(str(part) for part in parts if part is not None)


def _joined(items: Iterable[str]) -> str | None:
    """Items joined with "; ", or None when there are none."""
    return "; ".join(items) or None


def write_csv(run: Path, out: Path) -> int:
    """Write ``run`` as CSV (UTF-8, header row, ``COLUMNS``) to ``out``; return rows written."""
    out.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with out.open("w", encoding="utf-8", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=COLUMNS)
        writer.writeheader()
        for row in rows(latest_lines(run)):
            writer.writerow(row)
            written += 1
    return written


def write_parquet(run: Path, out: Path) -> int:
    """Write ``run`` as Parquet (typed ``COLUMNS``) to ``out``; return rows written.

    Needs pyarrow (not a dependency of this package): ``ConfigError`` without it.
    """
    pa = _optional("pyarrow", "parquet export needs pyarrow: pip install pyarrow")
    pq = _optional("pyarrow.parquet", "parquet export needs pyarrow: pip install pyarrow")
    schema = pa.schema([(name, _arrow_type(pa, name)) for name in COLUMNS])
    out.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    all_rows = rows(latest_lines(run))
    with pq.ParquetWriter(out, schema) as writer:
        while batch := list(islice(all_rows, PARQUET_BATCH_ROWS)):
            try:
                writer.write_table(pa.Table.from_pylist(batch, schema=schema))
            except (pa.ArrowInvalid, pa.ArrowTypeError) as e:
                raise InputError(f"{run}: a value does not fit its column: {e}") from e
            written += len(batch)
    return written


def _arrow_type(pa: Any, column: str) -> Any:
    if column in _INTEGER_COLUMNS:
        return pa.int64()
    if column in _FLOAT_COLUMNS:
        return pa.float64()
    if column in _BOOLEAN_COLUMNS:
        return pa.bool_()
    return pa.string()


def load_run(path: Path) -> Any:
    """The run at ``path`` as a ``pandas.DataFrame`` with the CSV's rows and ``COLUMNS``.

    Returns ``Any`` because pandas is optional (not a dependency, no stubs
    needed); ``ConfigError`` when it is not installed.
    """
    pd = _optional("pandas", "load_run needs pandas: pip install pandas")
    return pd.DataFrame.from_records(list(rows(latest_lines(path))), columns=list(COLUMNS))


def _optional(module: str, message: str) -> Any:
    """Import an optional dependency, or raise ``ConfigError(message)``."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise ConfigError(message) from e
