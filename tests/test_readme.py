"""The README shows what the code does: its Python example is this file, and it runs."""

from __future__ import annotations

import json
import re
import runpy
from pathlib import Path

import pytest
from typer.testing import CliRunner

from extractor.cli import app
from extractor.config import DEFAULT_STRATEGY
from extractor.testing.stub_server import stub_server
from tests.conftest import GOLD, REPO, minimal_record

EXAMPLE = REPO / "docs" / "examples" / "library.py"


def python_blocks(markdown: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", markdown, flags=re.DOTALL)


def test_the_readme_python_example_is_the_example_file() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert EXAMPLE.read_text(encoding="utf-8") in python_blocks(readme)


def test_the_example_runs_and_writes_one_line_per_gold_document(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "gold").symlink_to(GOLD)
    monkeypatch.chdir(tmp_path)
    with stub_server(minimal_record()) as (url, state):
        monkeypatch.setenv("EXTRACTOR_BASE_URL", url)
        monkeypatch.setenv("EXTRACTOR_MODEL", "stub")
        runpy.run_path(str(EXAMPLE), run_name="__main__")
    documents = len(list((GOLD / "docs").iterdir()))
    lines = [json.loads(x) for x in (tmp_path / "runs" / "gold.jsonl").read_text().splitlines()]
    assert len(lines) == documents
    assert {line["provenance"]["strategy"] for line in lines} == {DEFAULT_STRATEGY}
    assert state.requests, "the example asked the endpoint"
    ok = sum(line["record"] is not None for line in lines)
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == f"{ok} records, {documents - ok} failed, 0 from the cache"
    assert len(printed) == 1 + documents


OWN_RECORD = REPO / "docs" / "examples" / "own_record.py"
ADVERSE = {
    "title": "Rash after a new drug",
    "patients": [
        {
            "age": 61,
            "sex": "female",
            "reactions": [{"drug": "drug x", "reaction": "a widespread rash", "evidence": None}],
            "evidence": {},
        }
    ],
}


def test_the_readme_shows_the_own_record_example() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert OWN_RECORD.read_text(encoding="utf-8") in python_blocks(readme)


def test_the_own_record_goes_through_extract_eval_review_export_and_schema(
    tmp_path: Path,
) -> None:
    """The README's template, unknown to the package, through every command that reads records."""
    runner = CliRunner()
    ref = f"{OWN_RECORD}:AdverseEvents"
    documents = sorted((GOLD / "docs").glob("00*.txt"))[:3]
    run, cache = tmp_path / "ade.jsonl", tmp_path / "cache"
    with stub_server(ADVERSE) as (url, _):
        extracted = runner.invoke(app, [
            "extract", *map(str, documents), "-o", str(run), "--record", ref, "--strategy", "whole",
            "--base-url", url, "--model", "stub", "--cache-dir", str(cache), "--ignore-metadata",
        ])  # fmt: skip
    assert extracted.exit_code == 0, extracted.output
    lines = [json.loads(line) for line in run.read_text().splitlines()]
    assert [line["record"] for line in lines] == [ADVERSE] * 3
    assert {line["provenance"]["record"] for line in lines} == {
        f"{OWN_RECORD.resolve()}:AdverseEvents"
    }

    gold = tmp_path / "gold"  # a gold folder for the template: it says which record it follows
    (gold / "docs").mkdir(parents=True)
    (gold / "labels").mkdir()
    (gold / "record.toml").write_text(f'record = "{ref}"\n', encoding="utf-8")
    for path in documents:
        (gold / "docs" / path.name).write_bytes(path.read_bytes())
        (gold / "labels" / f"{path.stem}.json").write_text(json.dumps(ADVERSE), encoding="utf-8")
    checked = runner.invoke(app, ["gold", "check", "--gold", str(gold)])
    assert checked.exit_code == 0, checked.output
    scored = runner.invoke(app, ["eval", "--gold", str(gold), "--run", str(run),
                                 "--eval-dir", str(tmp_path / "eval")])  # fmt: skip
    assert scored.exit_code == 0, scored.output
    result = json.loads(next((tmp_path / "eval" / "results").glob("*.json")).read_text())
    assert list(result["fields"]) == ["title", "age", "sex", "reactions"]
    assert result["overall"]["f1"] == 1.0

    page = tmp_path / "ade.html"
    reviewed = runner.invoke(app, ["review", str(run), "-o", str(page), "--gold", str(gold)])
    assert reviewed.exit_code == 0, reviewed.output
    assert all(path.stem in page.read_text(encoding="utf-8") for path in documents)

    sheet = tmp_path / "ade.csv"
    exported = runner.invoke(
        app, ["export", str(run), "--csv", str(sheet)]
    )  # the run says its record
    assert exported.exit_code == 0, exported.output
    header, *rows = sheet.read_text(encoding="utf-8").splitlines()
    assert header.startswith("doc_id,source,title,patient_index,age,sex,reactions,")
    assert len(rows) == 3

    schema = runner.invoke(app, ["schema", "--record", ref])
    assert json.loads(schema.output)["title"] == "AdverseEvents"
