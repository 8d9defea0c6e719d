"""Scoring a run file against a gold set, and the written reports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from extractor.errors import InputError
from extractor.evaluation.evaluate import default_result_path, evaluate, read_run, write_result
from extractor.evaluation.gold import load_gold
from tests.conftest import GOLD, REPO


def write_run(path: Path, lines: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def gold_as_run(path: Path, skip: set[str] = frozenset(), fail: set[str] = frozenset()) -> Path:  # type: ignore[assignment]
    lines: list[dict[str, object]] = []
    for label in sorted((GOLD / "labels").glob("*.json")):
        if label.stem in skip:
            continue
        record = None if label.stem in fail else json.loads(label.read_text())
        error = {"kind": "validation", "message": "did not validate"} if record is None else None
        provenance = {"model": "m", "prompt": "v1", "seconds": 2.0, "cache_hit": False,
                      "usage": {"prompt_tokens": 10, "completion_tokens": 5}}  # fmt: skip
        lines.append(
            {"doc_id": label.stem, "record": record, "error": error, "provenance": provenance}
        )
    return write_run(path, lines)


def test_gold_scored_against_itself_is_perfect(tmp_path: Path) -> None:
    result = evaluate(load_gold(GOLD), read_run(gold_as_run(tmp_path / "run.jsonl")))
    assert result.missing == []
    for name, counts in result.score.fields.items():
        if counts.tp + counts.fn:
            assert counts.f1 == 1.0, name
    assert result.score.micro.f1 == 1.0
    assert result.score.invented_rate == 0.0
    assert result.score.grounding_rate == 1.0
    assert result.meta["seconds_per_document"] == 2.0


def test_missing_and_failed_documents_count_as_all_missed(tmp_path: Path) -> None:
    skipped, failed = "000_41db0c827232113d", "002_576a4924710f90de"
    run = gold_as_run(tmp_path / "run.jsonl", skip={skipped}, fail={failed})
    result = evaluate(load_gold(GOLD), read_run(run))
    assert result.missing == [skipped]
    assert list(result.failed) == [failed]
    by_id = {doc.doc_id: doc for doc in result.score.documents}
    for doc_id in (skipped, failed):
        assert by_id[doc_id].micro.tp == 0
        assert by_id[doc_id].micro.fn > 0
    assert result.score.micro.recall < 1.0
    assert result.score.micro.precision == 1.0


def test_report_files_are_written(tmp_path: Path) -> None:
    result = evaluate(load_gold(GOLD), read_run(gold_as_run(tmp_path / "run.jsonl")))
    path = default_result_path(tmp_path / "results", result.meta)
    assert path.name.endswith("_v1_whole_m.json")
    report = write_result(result, path)
    data = json.loads(path.read_text())
    assert data["overall"]["f1"] == 1.0
    assert "| ki67_percent |" in report.read_text()


def test_a_broken_run_line_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    path.write_text('{"doc_id": "x", "record": null}\nnot json\n{"doc_id": "y", "record": null}\n')
    with pytest.raises(InputError, match=":2: not a JSON line"):
        read_run(path)
    path.write_text('{"doc_id": "x", "record": null}\n{"doc_id": "y", "rec')  # killed mid-write
    assert list(read_run(path).failed) == ["x"]


def test_a_run_of_another_record_is_refused_by_name(tmp_path: Path) -> None:
    run = tmp_path / "case.jsonl"
    line = {"doc_id": "a", "record": {"cases": []},
            "provenance": {"record": "extractor.templates.case:CaseRecord"}}  # fmt: skip
    run.write_text(json.dumps(line) + "\n")
    with pytest.raises(InputError, match=r"its records are extractor\.templates\.case:CaseRecord, "
                                         r"not extractor\.templates\.nen:CaseReport"):  # fmt: skip
        read_run(run)
    assert list(read_run(run, load_gold(REPO / "gold-case").template).records) == ["a"]
