"""The command line: extract over a stub endpoint, summary, exit codes, schema."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from extractor.cli import app
from extractor.evaluation.evaluate import RunRecords, evaluate, write_result
from extractor.evaluation.gold import load_gold
from extractor.templates.nen import schema_json
from extractor.testing.stub_server import stub_server
from tests.conftest import FIXTURES, GOLD, minimal_record

SEEDS = sorted((GOLD / "docs").glob("00*.txt"))


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def extract_args(out: Path, url: str, cache: Path) -> list[str]:
    return ["extract", *map(str, SEEDS), "-o", str(out), "--base-url", url, "--model", "stub",
            "--cache-dir", str(cache), "--overwrite",
            "--strategy", "whole"]  # the stub answers whole records  # fmt: skip


def test_extract_writes_one_line_per_seed_then_rerun_is_all_cached(
    runner: CliRunner, tmp_path: Path
) -> None:
    out = tmp_path / "out.jsonl"
    with stub_server(minimal_record()) as (url, state):
        first = runner.invoke(app, extract_args(out, url, tmp_path / "cache"))
        assert first.exit_code == 0, first.output
        assert len(state.requests) == len(SEEDS) == 5
        second = runner.invoke(app, extract_args(out, url, tmp_path / "cache"))
        assert second.exit_code == 0, second.output
        assert len(state.requests) == 5  # no model call on the re-run
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(line["doc_id"] for line in lines) == [p.stem for p in SEEDS]
    assert all(line["provenance"]["cache_hit"] for line in lines)
    assert "cache hits" in second.output
    assert "5" in second.output


def test_rerun_without_overwrite_resumes_and_skips_what_is_done(
    runner: CliRunner, tmp_path: Path
) -> None:
    out = tmp_path / "out.jsonl"
    with stub_server(minimal_record()) as (url, state):
        args = extract_args(out, url, tmp_path / "cache")
        args.remove("--overwrite")
        assert runner.invoke(app, args).exit_code == 0
        second = runner.invoke(app, args)
        assert len(state.requests) == 5
    assert second.exit_code == 0, second.output
    assert "5 (already in the output)" in second.output
    assert len(out.read_text().splitlines()) == 5


def test_per_document_errors_still_exit_zero(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    with stub_server(minimal_record(), default="400") as (url, _):
        result = runner.invoke(app, [*extract_args(out, url, tmp_path / "c"), "--no-cache"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(lines) == 5
    assert all(line["error"]["kind"] == "provider" for line in lines)
    assert "provider 5" in result.output


def test_unreachable_endpoint_stops_the_run_with_exit_one(
    runner: CliRunner, tmp_path: Path
) -> None:
    with stub_server(minimal_record()) as (url, _):
        dead = url  # the port is closed once the stub stops
    args = [*extract_args(tmp_path / "o.jsonl", dead, tmp_path / "c"), "--retries", "0"]
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert "cannot reach the model endpoint" in result.output


def test_bad_flags_exit_non_zero(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["extract", str(SEEDS[0]), "-o", str(tmp_path / "o"), "--prompt", "nope"]
    )
    assert result.exit_code == 1
    assert "prompt 'nope' not found" in result.output
    missing = runner.invoke(app, ["extract", str(tmp_path / "none"), "-o", str(tmp_path / "o")])
    assert missing.exit_code != 0


def test_schema_prints_the_json_schema(runner: CliRunner) -> None:
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == schema_json()


def test_compare_two_result_files(runner: CliRunner, tmp_path: Path) -> None:
    gold = load_gold(GOLD)
    perfect = RunRecords(records={k: v.label for k, v in gold.items.items()}, failed={})
    kept = {k: v for k, v in perfect.records.items() if not k.startswith("0")}
    worse = RunRecords(records=kept, failed={})
    paths = []
    for name, run in (("a", worse), ("b", perfect)):
        path = tmp_path / f"{name}.json"
        write_result(evaluate(gold, run), path)
        paths.append(str(path))
    out = tmp_path / "report.md"
    result = runner.invoke(app, ["compare", *paths, "--markdown", str(out), "--resamples", "200"])
    assert result.exit_code == 0, result.output
    report = out.read_text()
    assert "| field |" in report
    assert "Fixed" in report
    assert "000_41db0c827232113d" in report


@pytest.mark.parametrize(
    "flags",
    [["--temperature", "5"], ["--shard", "0/4"], ["--strategy", "bogus"], ["--retries", "-1"],
     ["--rpm", "-5"], ["--tpm", "0"], ["--concurrency", "0"], ["--max-cost", "-1"],
     ["--max-tokens", "0"], ["--context-tokens", "100"]],
)  # fmt: skip
def test_a_bad_flag_value_exits_two_with_a_message(
    runner: CliRunner, tmp_path: Path, flags: list[str]
) -> None:
    out = tmp_path / "o.jsonl"
    result = runner.invoke(app, ["extract", str(SEEDS[0]), "-o", str(out), *flags])
    assert result.exit_code == 2, result.output
    assert "error" in result.output.lower()
    assert not out.exists()


def test_eval_extracts_scores_and_writes_under_the_eval_folder(
    runner: CliRunner, tmp_path: Path
) -> None:
    eval_dir = tmp_path / "ev"
    with stub_server(minimal_record()) as (url, _):
        result = runner.invoke(app, [
            "eval", "--gold", str(GOLD), "--base-url", url, "--model", "stub",
            "--strategy", "whole", "--cache-dir", str(tmp_path / "c"), "--eval-dir", str(eval_dir),
        ])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "micro-F1" in result.output
    (run,) = (eval_dir / "runs").glob("*.jsonl")
    assert len(run.read_text().splitlines()) == len(load_gold(GOLD).items)
    assert len(list((eval_dir / "results").glob("*.json"))) == 1
    assert len((eval_dir / "leaderboard.jsonl").read_text().splitlines()) == 1
    assert (eval_dir / "leaderboard.md").is_file()


@pytest.mark.parametrize("content", ["", '{"doc_id": "not-in-gold", "record": null}\n'])
def test_eval_of_a_run_with_nothing_for_the_gold_set_is_refused_and_not_recorded(
    runner: CliRunner, tmp_path: Path, content: str
) -> None:
    run = tmp_path / "run.jsonl"
    run.write_text(content)
    eval_dir = tmp_path / "ev"
    result = runner.invoke(
        app, ["eval", "--gold", str(GOLD), "--run", str(run), "--eval-dir", str(eval_dir)]
    )
    assert result.exit_code == 1
    assert "no line for any document" in result.output
    assert not (eval_dir / "leaderboard.jsonl").exists()


def test_gold_check_export_merge_and_review_through_the_app(
    runner: CliRunner, tmp_path: Path
) -> None:
    assert runner.invoke(app, ["gold", "check", "--gold", str(GOLD)]).exit_code == 0
    out = tmp_path / "out.jsonl"
    with stub_server(minimal_record()) as (url, _):
        assert runner.invoke(app, extract_args(out, url, tmp_path / "cache")).exit_code == 0
    csv_path = tmp_path / "out.csv"
    exported = runner.invoke(app, ["export", str(out), "--csv", str(csv_path)])
    assert exported.exit_code == 0, exported.output
    assert len(csv_path.read_text().splitlines()) == 1 + len(SEEDS)
    merged = tmp_path / "merged.jsonl"
    result = runner.invoke(app, ["merge", str(out), str(out), "-o", str(merged)])
    assert result.exit_code == 0, result.output
    assert f"{len(SEEDS)} documents" in result.output
    page = tmp_path / "review.html"
    reviewed = runner.invoke(app, ["review", str(out), "-o", str(page), "--gold", str(GOLD)])
    assert reviewed.exit_code == 0, reviewed.output
    assert f"{len(SEEDS)} documents" in reviewed.output
    assert page.stat().st_size > 0


CORPORA = FIXTURES / "corpora"


def test_real_pmc_articles_and_a_package_go_through_extract_with_their_metadata(
    runner: CliRunner, tmp_path: Path
) -> None:
    """A folder and a .tar.gz of real JATS articles: title, DOI, journal and year as stated."""
    import tarfile

    expected = json.loads((CORPORA / "expected.json").read_text(encoding="utf-8"))
    package = tmp_path / "oa_package.tar.gz"
    with tarfile.open(package, "w:gz") as archive:
        for path in sorted((CORPORA / "jats").iterdir()):
            archive.add(path, arcname=f"oa/{path.name}")
    answer = minimal_record(title="made up", doi=None, journal="made up", year=1999)
    for source in (CORPORA / "jats", package):
        out = tmp_path / f"{source.name}.jsonl"
        with stub_server(answer) as (url, _):
            result = runner.invoke(app, [
                "extract", str(source), "-o", str(out), "--base-url", url, "--model", "stub",
                "--strategy", "whole", "--cache-dir", str(tmp_path / "cache"),
            ])  # fmt: skip
        assert result.exit_code == 0, result.output
        lines = [json.loads(line) for line in out.read_text().splitlines()]
        assert len(lines) == len(list((CORPORA / "jats").iterdir()))
        for line in lines:
            member = re.sub(r":\d+$", "", line["source"]).split(":")[-1]  # file, set:N, pkg:member
            name = Path(member).name
            stated = expected[f"jats/{name}"]
            record = line["record"]
            assert record is not None, line["error"]
            got = {key: record[key] for key in ("title", "doi", "journal", "year")}
            assert got == {key: stated[key] for key in got}, name
            assert {line["field_sources"][key] for key in got} == {"metadata"}


def test_a_pubmed_export_of_n_articles_gives_n_lines(runner: CliRunner, tmp_path: Path) -> None:
    expected = json.loads((CORPORA / "expected.json").read_text(encoding="utf-8"))[
        "pubmed/pubmed2.xml"
    ]
    out = tmp_path / "pubmed.jsonl"
    with stub_server(minimal_record()) as (url, _):
        result = runner.invoke(app, [
            "extract", str(CORPORA / "pubmed" / "pubmed2.xml"), "-o", str(out), "--base-url", url,
            "--model", "stub", "--strategy", "whole", "--no-cache",
        ])  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(line["doc_id"] for line in lines) == sorted(expected["pmids"])  # any order


def test_a_template_with_a_mistake_stops_extract_at_start_naming_the_field(
    runner: CliRunner, tmp_path: Path
) -> None:
    template = tmp_path / "bad.py"
    template.write_text(
        "from typing import Annotated\n"
        "from pydantic import BaseModel\n"
        "from extractor.record.markers import Items\n\n"
        "class Drug(BaseModel):\n"
        "    name: str\n\n"
        "class Record(BaseModel):\n"
        '    drugs: Annotated[list[Drug], Items(keys=("agent",))]\n',
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    with stub_server(minimal_record()) as (url, state):
        args = [*extract_args(out, url, tmp_path / "cache"), "--record", f"{template}:Record"]
        result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert "Record.drugs: Items names 'agent', which Drug does not have" in " ".join(
        result.output.split()
    )
    assert state.requests == []  # nothing was asked
