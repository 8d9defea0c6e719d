"""One line per document: records, errors, provenance, cache hits, and a summary."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from extractor.config import DEFAULT_PROMPT, RunSettings
from extractor.errors import ConfigError, ExtractionFailed, ProviderError
from extractor.extraction.bulk import RunSummary, run_extraction
from extractor.extraction.cache import ResponseCache
from extractor.extraction.document import DocumentExtractor
from extractor.extraction.prompts import load_prompt
from extractor.extraction.strategies import Whole
from extractor.io.documents import read_document
from extractor.model.base import Usage
from extractor.templates.nen import CaseReport, schema_sha256
from extractor.testing import FakeClient
from tests.conftest import minimal_record


def write_docs(folder: Path, n: int) -> list[Path]:
    paths = []
    for i in range(n):
        path = folder / f"doc{i}.txt"
        path.write_text(f"Case {i}: a 50-year-old woman with a pancreatic NET.")
        paths.append(path)
    return paths


def make_extractor(client: FakeClient, cache_dir: Path | None) -> DocumentExtractor:
    return DocumentExtractor(
        client, load_prompt(), ResponseCache(cache_dir), {"temperature": 0.0}, strategy=Whole()
    )


def run(paths: list[Path], out: Path, extractor: DocumentExtractor, **options: Any) -> RunSummary:
    return asyncio.run(run_extraction(paths, out, extractor, RunSettings(**options)))


def read_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_each_document_gets_one_line_with_provenance(tmp_path: Path, fake: FakeClient) -> None:
    paths = write_docs(tmp_path, 3)
    out = tmp_path / "out.jsonl"
    summary = run(paths, out, make_extractor(fake, tmp_path / "c"))
    lines = read_lines(out)
    assert [line["doc_id"] for line in lines] == ["doc0", "doc1", "doc2"]
    first = lines[0]
    assert CaseReport.model_validate(first["record"]) == CaseReport.model_validate(minimal_record())
    assert first["error"] is None
    assert first["source"] == str(paths[0])
    prov = first["provenance"]
    assert prov["model"] == "fake-model"
    assert prov["prompt"] == DEFAULT_PROMPT
    assert prov["prompt_sha256"] == load_prompt().sha256
    assert prov["schema_sha256"] == schema_sha256()
    assert prov["cache_hit"] is False
    assert prov["attempts"] == 1
    assert prov["usage"] == {"prompt_tokens": 100, "completion_tokens": 50}
    assert summary.ok == 3
    assert summary.prompt_tokens == 300


def test_repeat_run_is_all_cache_hits_and_calls_no_model(tmp_path: Path, fake: FakeClient) -> None:
    paths = write_docs(tmp_path, 3)
    run(paths, tmp_path / "a.jsonl", make_extractor(fake, tmp_path / "c"))
    calls = len(fake.requests)
    summary = run(paths, tmp_path / "b.jsonl", make_extractor(fake, tmp_path / "c"))
    assert len(fake.requests) == calls == 3
    assert summary.cache_hits == 3
    lines = read_lines(tmp_path / "b.jsonl")
    assert all(line["provenance"]["cache_hit"] for line in lines)
    assert all(line["provenance"]["usage"]["prompt_tokens"] == 0 for line in lines)
    assert [line["record"] for line in lines] == [
        r["record"] for r in read_lines(tmp_path / "a.jsonl")
    ]


def test_no_cache_calls_the_model_every_time(tmp_path: Path, fake: FakeClient) -> None:
    paths = write_docs(tmp_path, 2)
    for name in ("a", "b"):
        run(paths, tmp_path / f"{name}.jsonl", make_extractor(fake, None))
    assert len(fake.requests) == 4


def test_prompt_carries_the_document_text(tmp_path: Path, fake: FakeClient) -> None:
    paths = write_docs(tmp_path, 1)
    run(paths, tmp_path / "o.jsonl", make_extractor(fake, None))
    assert "a 50-year-old woman" in fake.requests[0].messages[1]["content"]


def test_failures_get_error_lines_and_the_run_goes_on(tmp_path: Path) -> None:
    paths = write_docs(tmp_path, 3)
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    client = FakeClient(
        [
            ProviderError("HTTP 500", status=500, attempts=5),
            ExtractionFailed("did not validate", attempts=3, usage=Usage(10, 20)),
            minimal_record(),
        ]
    )
    out = tmp_path / "out.jsonl"
    summary = run([*paths, empty], out, make_extractor(client, None))
    lines = sorted(read_lines(out), key=lambda line: line["doc_id"])
    assert [line["doc_id"] for line in lines] == ["doc0", "doc1", "doc2", "empty"]
    assert [line["error"]["kind"] if line["error"] else None for line in lines] == [
        "provider", "validation", None, "input",
    ]  # fmt: skip
    assert lines[0]["provenance"]["attempts"] == 5
    assert lines[1]["provenance"]["usage"] == {"prompt_tokens": 10, "completion_tokens": 20}
    assert all(line["record"] is None for line in lines if line["error"])
    assert summary.ok == 1
    assert summary.failures == {"provider": 1, "validation": 1, "input": 1}


def test_fatal_provider_error_stops_the_run_but_keeps_written_lines(tmp_path: Path) -> None:
    paths = write_docs(tmp_path, 3)
    client = FakeClient([minimal_record(), ProviderError("HTTP 401", status=401, fatal=True)])
    out = tmp_path / "out.jsonl"
    with pytest.raises(ProviderError, match="401"):
        run(paths, out, make_extractor(client, None))
    assert [line["doc_id"] for line in read_lines(out)] == ["doc0"]


def test_duplicate_document_ids_are_refused_before_anything_is_written(
    tmp_path: Path, fake: FakeClient
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "x.txt").write_text("one")
    (tmp_path / "b" / "x.txt").write_text("two")
    out = tmp_path / "out.jsonl"
    with pytest.raises(ConfigError, match="two documents have the id 'x'") as info:
        run([tmp_path / "a", tmp_path / "b"], out, make_extractor(fake, None))
    assert f"{tmp_path / 'a' / 'x.txt'} and {tmp_path / 'b' / 'x.txt'}" in str(info.value)
    assert not out.exists()
    assert fake.requests == []


def test_output_that_did_not_validate_is_cached_but_transport_failures_are_not(
    tmp_path: Path,
) -> None:
    paths = write_docs(tmp_path, 2)
    client = FakeClient(
        [
            ExtractionFailed("did not validate", attempts=3, last_output='{"title": 1'),
            ProviderError("HTTP 503", status=503, attempts=5),
        ],
        default=minimal_record(),
    )
    run(paths, tmp_path / "a.jsonl", make_extractor(client, tmp_path / "c"))
    summary = run(paths, tmp_path / "b.jsonl", make_extractor(client, tmp_path / "c"))
    assert len(client.requests) == 3  # only the transport failure was asked again
    replayed, retried = read_lines(tmp_path / "b.jsonl")
    assert replayed["provenance"]["cache_hit"] is True
    assert replayed["error"]["kind"] == "validation"
    assert replayed["error"]["last_output"] == '{"title": 1'
    assert retried["error"] is None
    assert summary.cache_hits == 1


def test_cached_failures_can_be_retried(tmp_path: Path) -> None:
    paths = write_docs(tmp_path, 1)
    client = FakeClient(
        [ExtractionFailed("did not validate", attempts=1)], default=minimal_record()
    )
    run(paths, tmp_path / "a.jsonl", make_extractor(client, tmp_path / "c"))
    extractor = DocumentExtractor(
        client, load_prompt(), ResponseCache(tmp_path / "c"), {"temperature": 0.0},
        reuse_failures=False, strategy=Whole(),
    )  # fmt: skip
    run(paths, tmp_path / "b.jsonl", extractor)
    assert len(client.requests) == 2
    assert read_lines(tmp_path / "b.jsonl")[0]["error"] is None


def test_metadata_an_input_states_beats_the_answer_and_is_marked(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text(
        '<html><head><meta name="citation_title" content="A stated title">'
        '<meta name="citation_doi" content="10.1000/Stated.1"></head>'
        "<body><article><p>A 50-year-old woman had a pancreatic NET.</p></article></body></html>"
    )
    client = FakeClient(default=minimal_record(title="An invented title", doi=None))
    line = asyncio.run(make_extractor(client, None).extract(read_document(page)))
    assert line.record is not None
    assert (line.record["title"], line.record["doi"]) == ("A stated title", "10.1000/stated.1")
    assert line.field_sources["title"] == line.field_sources["doi"] == "metadata"
    ignored = DocumentExtractor(client, strategy=Whole(), use_metadata=False)
    kept = asyncio.run(ignored.extract(read_document(page)))
    assert kept.record is not None
    assert kept.record["title"] == "An invented title"
