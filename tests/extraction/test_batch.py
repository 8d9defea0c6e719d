"""Provider batch runs: prepare, answer (fake Files/Batches server), collect, eval."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from extractor.cli import app
from extractor.config import ModelConfig, RunSettings
from extractor.errors import ExtractionFailed
from extractor.extraction.batch import collect_batch, manifest_path, prepare_batch
from extractor.extraction.strategies import document_model, parts
from extractor.io.runfile import latest_lines
from extractor.model.openai import OpenAIClient
from extractor.model.tools import request_body
from extractor.record.template import default_template
from extractor.templates.nen import DOCUMENT_FIELDS
from extractor.testing.batch_server import batch_server, record_answerer
from extractor.testing.stub_server import completion, stub_server
from tests.conftest import GOLD, SEED_000, minimal_record

SEEDS = sorted(GOLD.glob("docs/00*.txt"))


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _answer_all(requests: Path, results: Path, answer: Any) -> None:
    """Write a result file answering each request with ``answer(custom_id, body)``."""
    out = []
    for request in _lines(requests):
        given = answer(request["custom_id"], request["body"])
        status = given if isinstance(given, int) else 200
        body = given if isinstance(given, dict) else {"error": {"message": "boom"}}
        out.append({"custom_id": request["custom_id"],
                    "response": {"status_code": status, "body": body}, "error": None})  # fmt: skip
    out.reverse()  # answers may come back in any order
    results.write_text("".join(json.dumps(line) + "\n" for line in out))


def _config(url: str = "http://127.0.0.1:9/v1") -> ModelConfig:
    return ModelConfig(model="stub", base_url=url, timeout=30.0)


def test_prepared_body_is_what_the_online_client_sends(tmp_path: Path) -> None:
    """The request file's body equals the one the online client sent the stub for the document."""
    with stub_server(minimal_record()) as (url, state):
        settings = RunSettings(strategy="whole")
        requests = tmp_path / "requests.jsonl"
        asyncio.run(prepare_batch([SEEDS[0]], requests, _config(url), settings))
        from extractor.extraction.bulk import extract_files

        asyncio.run(extract_files([SEEDS[0]], tmp_path / "run.jsonl", _config(url), settings))
        sent = state.requests[0][1]
    (line,) = _lines(requests)
    assert line["method"] == "POST"
    assert line["url"] == "/v1/chat/completions"
    assert line["custom_id"] == f"{SEED_000}#0:CaseReport"
    assert line["body"] == sent
    assert line["body"]["tool_choice"] == {"type": "function", "function": {"name": "CaseReport"}}


def test_request_body_matches_the_client_for_other_models() -> None:
    """Same check straight on the client, for a small answer model."""
    bibliographic = document_model(default_template())
    messages = [{"role": "user", "content": "text"}]
    with stub_server(minimal_record()) as (url, state):

        async def call() -> None:
            async with OpenAIClient(_config(url)) as client:
                with pytest.raises(ExtractionFailed):  # the stub answers a whole record
                    await client.complete(messages, bibliographic)

        asyncio.run(call())
        sent = state.requests[0][1]
    assert sent == request_body("stub", messages, bibliographic, temperature=0.0, max_tokens=2048)


def test_collect_validates_matches_by_id_and_is_idempotent(tmp_path: Path) -> None:
    requests, results, run = tmp_path / "r.jsonl", tmp_path / "res.jsonl", tmp_path / "run.jsonl"
    asyncio.run(prepare_batch(SEEDS[:3], requests, _config(), RunSettings(strategy="whole")))
    bad = {**minimal_record(), "document_type": "not-an-enum"}

    def answer(custom_id: str, body: dict[str, Any]) -> dict[str, Any] | int:
        if custom_id.startswith("001"):
            return completion("CaseReport", json.dumps(bad))
        if custom_id.startswith("002"):
            return 500
        return completion("CaseReport", json.dumps(minimal_record()))

    _answer_all(requests, results, answer)
    summary = asyncio.run(collect_batch(requests, results, run))
    assert (summary.ok, summary.failed, summary.next_requests) == (1, 2, None)
    lines = {line.doc_id: line for line in latest_lines(run)}
    assert lines[SEED_000].record is not None
    assert lines[SEED_000].provenance.usage.prompt_tokens == 100
    assert next(v for k, v in lines.items() if k.startswith("001")).error["kind"] == "validation"
    assert next(v for k, v in lines.items() if k.startswith("002")).error["kind"] == "provider"
    size = run.stat().st_size
    again = asyncio.run(collect_batch(requests, results, run))
    assert (again.ok, again.failed, again.skipped) == (0, 0, 3)
    assert run.stat().st_size == size


def test_failed_lines_are_retried_online(tmp_path: Path) -> None:
    """``extract --retry-failed`` on the collected run re-attempts only the error lines."""
    requests, results, run = tmp_path / "r.jsonl", tmp_path / "res.jsonl", tmp_path / "run.jsonl"
    asyncio.run(prepare_batch(SEEDS[:2], requests, _config(), RunSettings(strategy="whole")))
    _answer_all(requests, results, lambda cid, body: 500 if cid.startswith("001") else
                completion("CaseReport", json.dumps(minimal_record())))  # fmt: skip
    asyncio.run(collect_batch(requests, results, run))
    with stub_server(minimal_record()) as (url, state):
        result = CliRunner().invoke(app, ["extract", *map(str, SEEDS[:2]), "-o", str(run),
                                          "--base-url", url, "--model", "stub", "--strategy",
                                          "whole", "--retry-failed", "--no-cache"])  # fmt: skip
        assert result.exit_code == 0, result.output
        assert len(state.requests) == 1
    assert all(line.ok for line in latest_lines(run))


def test_sections_takes_one_round_per_question(tmp_path: Path) -> None:
    """collect writes the next round until every question is answered; earlier answers carry."""
    requests, run = tmp_path / "r.jsonl", tmp_path / "run.jsonl"
    asyncio.run(prepare_batch([SEEDS[0]], requests, _config(), RunSettings(strategy="sections")))
    record = minimal_record()
    questions = {"Patients": "patients", "PatientTestsList": "tests", "PatientCourseList": "course"}

    def answer(custom_id: str, body: dict[str, Any]) -> dict[str, Any] | int:
        name = body["tool_choice"]["function"]["name"]
        if name == "Bibliographic":
            given: dict[str, Any] = {key: record[key] for key in DOCUMENT_FIELDS}
        else:
            keep = parts(default_template())[questions[name]]
            given = {"patients": [{k: v for k, v in p.items() if k in keep}
                                  for p in record["patients"]]}  # fmt: skip
        return completion(name, json.dumps(given))

    rounds = [requests]
    while True:
        results = rounds[-1].with_suffix(".results")
        _answer_all(rounds[-1], results, answer)
        summary = asyncio.run(collect_batch(rounds[-1], results, run))
        if summary.next_requests is None:
            break
        assert manifest_path(summary.next_requests).is_file()
        rounds.append(summary.next_requests)
    assert [path.name for path in rounds] == ["r.jsonl", "r.r2.jsonl", "r.r3.jsonl", "r.r4.jsonl"]
    ids = [_lines(path)[0]["custom_id"] for path in rounds]
    assert ids[0] == f"{SEED_000}#0:Bibliographic"
    assert ids[3].startswith(f"{SEED_000}#3:")
    (line,) = latest_lines(run)
    assert line.ok
    assert line.provenance.attempts == 4
    assert line.provenance.strategy == "sections"


def test_a_changed_document_is_an_input_error(tmp_path: Path) -> None:
    doc = tmp_path / "case.txt"
    doc.write_text("A 50-year-old man with an ileal NET.")
    requests, results, run = tmp_path / "r.jsonl", tmp_path / "res.jsonl", tmp_path / "run.jsonl"
    asyncio.run(prepare_batch([doc], requests, _config(), RunSettings(strategy="whole")))
    _answer_all(requests, results, record_answerer(minimal_record()))
    doc.write_text("Another text.")
    asyncio.run(collect_batch(requests, results, run))
    (line,) = latest_lines(run)
    assert line.error is not None
    assert line.error["kind"] == "input"


def _cli(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("window_held", [False, True])
def test_seeds_round_trip_through_the_fake_batch_server(tmp_path: Path, window_held: bool) -> None:
    """prepare, submit, status, fetch, collect: eval scores it as the online run of the answers."""
    seeds = list(map(str, SEEDS))
    record = minimal_record()
    requests, results = tmp_path / "requests.jsonl", tmp_path / "results.jsonl"
    with batch_server(record_answerer(record), hold=window_held) as (url, state):
        _cli("batch", "prepare", *seeds, "-o", str(requests), "--base-url", url,
             "--model", "stub", "--strategy", "whole", "--no-cache")  # fmt: skip
        assert len(_lines(requests)) == 5
        submitted = _cli("batch", "submit", str(requests), "--base-url", url)
        batch_id = submitted.split(":")[0]
        if window_held:
            assert "in_progress" in _cli("batch", "status", batch_id, "--base-url", url)
            failed = CliRunner().invoke(app, ["batch", "fetch", batch_id, "-o", str(results),
                                              "--base-url", url])  # fmt: skip
            assert failed.exit_code == 1
            assert "in_progress" in failed.output
            state.run(state.batches[batch_id])
        assert "completed (5 completed" in _cli("batch", "status", batch_id, "--base-url", url)
        _cli("batch", "fetch", batch_id, "-o", str(results), "--base-url", url)
    batch_run, online_run = tmp_path / "batch.jsonl", tmp_path / "online.jsonl"
    assert "5 ok" in _cli("batch", "collect", str(requests), str(results), "-o", str(batch_run),
                          "--no-cache")  # fmt: skip
    assert "0 ok, 0 failed, 5 already there" in _cli(
        "batch", "collect", str(requests), str(results), "-o", str(batch_run), "--no-cache"
    )
    with stub_server(record) as (stub_url, _):
        _cli("extract", *seeds, "-o", str(online_run), "--base-url", stub_url, "--model", "stub",
             "--strategy", "whole", "--no-cache")  # fmt: skip
    scores = []
    for run in (batch_run, online_run):
        out = tmp_path / f"{run.stem}.json"
        _cli("eval", "--run", str(run), "--gold", str(GOLD), "--eval-dir", str(tmp_path / "eval"),
             "--json", str(out))  # fmt: skip
        result = json.loads(out.read_text())
        result.pop("meta")
        scores.append(result)
    assert scores[0] == scores[1]


def test_grounded_default_strategy_finishes_in_rounds(tmp_path: Path) -> None:
    """The default strategy: rule-made records need no request; closed questions take rounds."""
    requests, run = tmp_path / "r.jsonl", tmp_path / "run.jsonl"
    asyncio.run(prepare_batch(SEEDS, requests, _config(), RunSettings(strategy="grounded")))
    rounds, current = 0, requests
    while True:
        rounds += 1
        results = current.with_suffix(".results")
        _answer_all(current, results, lambda cid, body: completion("Choice", '{"answer": "none"}'))
        summary = asyncio.run(collect_batch(current, results, run))
        if summary.next_requests is None:
            break
        current = summary.next_requests
        assert rounds < 40
    lines = list(latest_lines(run))
    assert len(lines) == len(SEEDS)
    assert all(line.ok and line.provenance.strategy == "grounded" for line in lines)
