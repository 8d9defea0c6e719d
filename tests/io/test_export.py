"""Run files flattened to one row per patient, as CSV, Parquet and a DataFrame."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from extractor.errors import ConfigError, InputError
from extractor.io.export import load_run, rows, table, write_csv, write_parquet
from extractor.io.runfile import ResultLine, iter_lines
from extractor.record.template import default_template
from tests.conftest import minimal_record

COLUMNS = table(default_template()).columns


def run_line(
    doc_id: str,
    record: dict[str, Any] | None = None,
    error: dict[str, str] | None = None,
    **provenance: Any,
) -> dict[str, Any]:
    """An output line as ``extractor extract`` writes it."""
    return {
        "doc_id": doc_id,
        "source": f"docs/{doc_id}.txt",
        "record": record,
        "error": error,
        "provenance": {
            "model": "m",
            "endpoint": "e",
            "prompt": "v1",
            "prompt_sha256": "p",
            "schema_sha256": "s",
            "cache_hit": False,
            "attempts": 1,
            "usage": {"prompt_tokens": 100, "completion_tokens": 20},
            "seconds": 1.5,
            **provenance,
        },
    }


def write_run(path: Path, lines: list[dict[str, Any]], tail: str = "") -> Path:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines) + tail, encoding="utf-8")
    return path


def case_series() -> dict[str, Any]:
    """Two patients: the first with lists filled in, the second with none."""
    record = minimal_record(document_type="case_series", n_patients=2, doi="10.1/x")
    first = record["patients"][0]
    first.update(
        label="Case 1",
        metastatic=True,
        metastatic_sites=["liver", "bone"],
        imaging=[
            {"modality": "PET/CT", "tracer": "68Ga-DOTATATE", "result": "positive"},
            {"modality": "CT", "tracer": None, "result": None},
        ],
        biomarkers=[{"name": "chromogranin_a", "specimen": "blood", "result": "elevated"}],
        treatments=[
            {"type": "surgery", "agent": None, "detail": None, "cycles": None, "response": None},
            {
                "type": "prrt",
                "agent": "177lu-dotatate",
                "detail": None,
                "cycles": 4,
                "response": "partial_response",
            },
        ],
        outcome={"status": "stable_disease", "follow_up_months": 24},
    )
    second = {**first, "label": "Case 2", "age_years": 61, "sex": "male"}
    second.update(metastatic_sites=[], imaging=[], biomarkers=[], treatments=[])
    record["patients"].append(second)
    return record


def test_columns_start_with_the_document_and_end_with_provenance() -> None:
    assert COLUMNS[:2] == ("doc_id", "source")
    assert COLUMNS.index("n_patients") < COLUMNS.index("patient_index") < COLUMNS.index("label")
    assert COLUMNS[-1] == "cost_usd"
    assert len(set(COLUMNS)) == len(COLUMNS)


def test_a_case_series_gives_one_row_per_patient_with_document_fields_repeated() -> None:
    first, second = rows([ResultLine.from_dict(run_line("d1", case_series()))])
    for row in (first, second):
        assert tuple(row) == COLUMNS
        assert (row["doc_id"], row["doi"], row["document_type"]) == ("d1", "10.1/x", "case_series")
        assert (row["n_patients"], row["error_kind"], row["model"]) == (2, None, "m")
    assert (first["patient_index"], first["label"]) == (0, "Case 1")
    assert (second["patient_index"], second["label"], second["age_years"]) == (1, "Case 2", 61)


def test_list_fields_are_joined_with_semicolons_and_nulls_left_out() -> None:
    first, second = rows([ResultLine.from_dict(run_line("d1", case_series()))])
    assert first["metastatic_sites"] == "liver; bone"
    assert first["imaging"] == "PET/CT 68Ga-DOTATATE positive; CT"
    assert first["biomarkers"] == "chromogranin_a blood elevated"
    assert first["treatments"] == "surgery; prrt 177lu-dotatate 4 partial_response"
    assert (first["outcome_status"], first["outcome_follow_up_months"]) == ("stable_disease", 24)
    assert [second[name] for name in ("metastatic_sites", "imaging", "treatments")] == [None] * 3


def test_provenance_columns_come_from_provenance_and_usage() -> None:
    (row,) = rows(
        [ResultLine.from_dict(run_line("d1", minimal_record(), cache_hit=True, cost_usd=0.002))]
    )
    assert (row["prompt"], row["cache_hit"], row["attempts"], row["seconds"]) == (
        "v1",
        True,
        1,
        1.5,
    )
    assert (row["prompt_tokens"], row["completion_tokens"], row["cost_usd"]) == (100, 20, 0.002)
    (no_cost,) = rows([ResultLine.from_dict(run_line("d1", minimal_record(), cost_usd=None))])
    assert no_cost["cost_usd"] is None


def test_an_error_line_gives_one_row_with_the_error_and_no_patient() -> None:
    error = {"kind": "validation", "message": "did not validate", "last_output": "{"}
    (row,) = rows([ResultLine.from_dict(run_line("bad", None, error))])
    assert (row["doc_id"], row["error_kind"], row["error_message"]) == (
        "bad",
        "validation",
        "did not validate",
    )
    assert all(row[name] is None for name in ("title", "patient_index", "label", "imaging"))


def test_a_record_without_patients_still_gives_one_row() -> None:
    record = minimal_record(reports_nen=False, n_patients=0, patients=[])
    (row,) = rows([ResultLine.from_dict(run_line("d0", record))])
    assert (row["title"], row["reports_nen"], row["patient_index"]) == ("A case", False, None)


def test_iter_lines_skips_blank_lines_and_a_torn_last_line(tmp_path: Path) -> None:
    run = write_run(
        tmp_path / "run.jsonl",
        [run_line("a"), run_line("b")],
        tail='\n{"doc_id": "c", "record": {"tit',
    )
    assert [line["doc_id"] for _, line in iter_lines(run)] == ["a", "b"]


def test_a_last_line_cut_inside_a_utf8_character_is_torn_too(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run.jsonl", [run_line("a")])
    with run.open("ab") as file:
        file.write('{"doc_id": "b", "source": "é'.encode()[:-1])
    assert [line["doc_id"] for _, line in iter_lines(run)] == ["a"]


def test_a_bad_line_before_the_end_is_an_input_error_naming_the_line(tmp_path: Path) -> None:
    run = tmp_path / "run.jsonl"
    run.write_text(json.dumps(run_line("a")) + "\nnot json\n" + json.dumps(run_line("b")) + "\n")
    with pytest.raises(InputError, match=r"run\.jsonl:2:"):
        list(iter_lines(run))


def test_a_line_without_a_doc_id_is_an_input_error(tmp_path: Path) -> None:
    run = tmp_path / "run.jsonl"
    run.write_text('{"record": null}\n')
    with pytest.raises(InputError, match=r"run\.jsonl:1: not a run line"):
        list(iter_lines(run))


def test_a_missing_run_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read the run"):
        list(iter_lines(tmp_path / "absent.jsonl"))


def test_write_csv_writes_a_header_and_one_row_per_patient(tmp_path: Path) -> None:
    run = write_run(
        tmp_path / "run.jsonl",
        [run_line("d1", case_series()), run_line("bad", None, {"kind": "input", "message": "é"})],
        tail='{"doc_id": "torn"',
    )
    out = tmp_path / "sheets" / "run.csv"
    assert write_csv(run, out) == 3
    with out.open(encoding="utf-8", newline="") as file:
        table = list(csv.DictReader(file))
    assert tuple(table[0]) == COLUMNS
    assert [row["doc_id"] for row in table] == ["d1", "d1", "bad"]
    assert table[0]["imaging"] == "PET/CT 68Ga-DOTATATE positive; CT"
    assert (table[2]["error_message"], table[2]["patient_index"]) == ("é", "")


def test_parquet_without_pyarrow_is_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    run = write_run(tmp_path / "run.jsonl", [run_line("d1", minimal_record())])
    with pytest.raises(ConfigError, match="parquet export needs pyarrow: pip install pyarrow"):
        write_parquet(run, tmp_path / "run.parquet")


def test_load_run_without_pandas_is_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)
    run = write_run(tmp_path / "run.jsonl", [run_line("d1", minimal_record())])
    with pytest.raises(ConfigError, match="load_run needs pandas: pip install pandas"):
        load_run(run)


def test_load_run_has_the_csv_shape(tmp_path: Path) -> None:
    import pandas  # noqa: F401 - a dev dependency: the DataFrame path is tested for real

    run = write_run(
        tmp_path / "run.jsonl",
        [run_line("d1", case_series()), run_line("bad", None, {"kind": "input", "message": "x"})],
    )
    frame = load_run(run)
    assert tuple(frame.columns) == COLUMNS
    assert list(frame["doc_id"]) == ["d1", "d1", "bad"]
    assert frame.shape == (3, len(COLUMNS))


def test_a_document_with_two_lines_exports_only_the_later_one(tmp_path: Path) -> None:
    run = write_run(
        tmp_path / "run.jsonl",
        [run_line("d1", None, {"kind": "provider", "message": "timeout"}),
         run_line("d1", minimal_record(title="Second"))],
    )  # fmt: skip
    out = tmp_path / "run.csv"
    assert write_csv(run, out) == 1
    with out.open(newline="", encoding="utf-8") as file:
        (row,) = list(csv.DictReader(file))
    assert (row["title"], row["error_kind"]) == ("Second", "")


def test_sites_and_agents_carry_their_ncit_codes_item_by_item() -> None:
    record = case_series()
    record["patients"][0]["treatments"].append(
        {"type": "targeted_therapy", "agent": "Afinitor", "detail": None, "cycles": None,
         "response": None}
    )  # fmt: skip
    first, second = rows([ResultLine.from_dict(run_line("d1", record))])
    assert COLUMNS.index("primary_site_ncit") == COLUMNS.index("primary_site") + 1
    assert COLUMNS.index("metastatic_sites_ncit") == COLUMNS.index("metastatic_sites") + 1
    assert first["primary_site_ncit"] == "C12393"  # pancreas
    assert first["metastatic_sites_ncit"] == "C12392; C12366"  # liver; bone
    # surgery and 177Lu-DOTATATE have no code in the vocabulary; Afinitor is everolimus
    assert first["treatments_agent_ncit"] == "; ; C48387"
    assert first["imaging_tracer_ncit"] is None  # no tracer code recorded in the vocabulary
    assert first["biomarkers_name_ncit"] is None
    assert second["metastatic_sites_ncit"] is second["treatments_agent_ncit"] is None


def test_codes_reach_the_csv_parquet_and_dataframe(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    run = write_run(tmp_path / "run.jsonl", [run_line("d1", case_series())])
    write_csv(run, tmp_path / "run.csv")
    with (tmp_path / "run.csv").open(encoding="utf-8", newline="") as file:
        table = list(csv.DictReader(file))
    assert table[0]["metastatic_sites_ncit"] == "C12392; C12366"
    write_parquet(run, tmp_path / "run.parquet")
    parquet = pq.read_table(tmp_path / "run.parquet")
    assert parquet.column("primary_site_ncit").to_pylist() == ["C12393", "C12393"]
    assert load_run(run)["metastatic_sites_ncit"].tolist()[0] == "C12392; C12366"
