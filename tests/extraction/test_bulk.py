"""Bulk runs with the fake client: concurrency, resumption, retries, budgets, shards."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any, TypeVar

import pytest
from pydantic import BaseModel

from extractor.config import RunSettings
from extractor.errors import ExtractionFailed, ProviderError
from extractor.extraction.bulk import RunSummary, count_planned, planned_documents, run_extraction
from extractor.extraction.cache import ResponseCache
from extractor.extraction.document import DocumentExtractor
from extractor.extraction.prompts import load_prompt
from extractor.extraction.strategies import Whole
from extractor.model.base import Completion, Messages
from extractor.model.pricing import Prices
from extractor.testing import FakeClient
from tests.conftest import minimal_record

M = TypeVar("M", bound=BaseModel)


class CountingClient(FakeClient):
    """A fake that records how many calls were in flight at once."""

    in_flight: int = 0
    most: int = 0

    async def complete(self, messages: Messages, response_model: type[M]) -> Completion[M]:
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        try:
            return await super().complete(messages, response_model)
        finally:
            self.in_flight -= 1


def docs(folder: Path, n: int, prefix: str = "doc") -> list[Path]:
    folder.mkdir(exist_ok=True)
    for i in range(n):
        (folder / f"{prefix}{i:03d}.txt").write_text(f"Case {i}: a woman with a pancreatic NET.")
    return [folder]


def extractor(client: FakeClient, **changes: Any) -> DocumentExtractor:
    changes.setdefault("strategy", Whole())  # the fake answers whole records
    return DocumentExtractor(client, load_prompt(), ResponseCache(None), {}, **changes)


def run(inputs: list[Path], out: Path, ext: DocumentExtractor, **options: Any) -> RunSummary:
    return asyncio.run(run_extraction(inputs, out, ext, RunSettings(**options)))


def ids(out: Path) -> list[str]:
    return [json.loads(line)["doc_id"] for line in out.read_text().splitlines()]


def test_concurrency_keeps_n_documents_in_flight(tmp_path: Path) -> None:
    client = CountingClient(default=minimal_record(), delay=0.02)
    summary = run(docs(tmp_path / "d", 30), tmp_path / "o.jsonl", extractor(client), concurrency=8)
    assert client.most == 8
    assert summary.ok == summary.planned == 30
    assert sorted(ids(tmp_path / "o.jsonl")) == [f"doc{i:03d}" for i in range(30)]


def test_rerun_skips_what_is_done_and_repairs_a_torn_last_line(tmp_path: Path) -> None:
    inputs, out = docs(tmp_path / "d", 5), tmp_path / "o.jsonl"
    client = FakeClient(default=minimal_record())
    run(inputs, out, extractor(client))
    lines = out.read_text().splitlines()
    out.write_text("\n".join(lines[:2]) + "\n" + lines[2][:25])  # killed while writing line 3
    summary = run(inputs, out, extractor(client))
    assert summary.skipped == 2
    assert summary.ok == 3
    assert sorted(ids(out)) == [f"doc{i:03d}" for i in range(5)]
    assert len(client.requests) == 8


def test_a_changed_document_is_extracted_again(tmp_path: Path) -> None:
    inputs, out = docs(tmp_path / "d", 2), tmp_path / "o.jsonl"
    client = FakeClient(default=minimal_record())
    run(inputs, out, extractor(client))
    (tmp_path / "d" / "doc001.txt").write_text("Revised text.")
    summary = run(inputs, out, extractor(client))
    assert (summary.skipped, summary.ok) == (1, 1)


def test_retry_failed_replaces_error_lines_only(tmp_path: Path) -> None:
    inputs, out = docs(tmp_path / "d", 3), tmp_path / "o.jsonl"
    client = FakeClient([ExtractionFailed("bad", attempts=1)], default=minimal_record())
    run(inputs, out, extractor(client))
    assert sum(json.loads(line)["error"] is not None for line in out.read_text().splitlines()) == 1
    summary = run(inputs, out, extractor(client), retry_failed=True)
    assert (summary.skipped, summary.ok, summary.failed) == (2, 1, 0)
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(line["doc_id"] for line in lines) == ["doc000", "doc001", "doc002"]
    assert all(line["error"] is None for line in lines)


def test_overwrite_starts_afresh(tmp_path: Path) -> None:
    inputs, out = docs(tmp_path / "d", 2), tmp_path / "o.jsonl"
    client = FakeClient(default=minimal_record())
    run(inputs, out, extractor(client))
    summary = run(inputs, out, extractor(client), overwrite=True)
    assert (summary.skipped, summary.ok) == (0, 2)
    assert len(ids(out)) == 2


def test_token_budget_stops_scheduling_and_says_why(tmp_path: Path) -> None:
    client = FakeClient(default=minimal_record())  # 150 tokens a document
    out = tmp_path / "o.jsonl"
    summary = run(docs(tmp_path / "d", 10), out, extractor(client), max_tokens=400)
    assert summary.ok == 3
    assert summary.stopped is not None
    assert "token limit" in summary.stopped
    assert len(ids(out)) == 3


def test_cost_is_counted_per_document_and_cache_hits_are_free(tmp_path: Path) -> None:
    inputs = docs(tmp_path / "d", 4)
    client = FakeClient(default=minimal_record())
    prices = Prices(input_per_million=1000.0, output_per_million=2000.0)  # 0.1 + 0.1 per doc
    cached = DocumentExtractor(
        client, load_prompt(), ResponseCache(tmp_path / "c"), {}, prices=prices, strategy=Whole()
    )
    first = run(inputs, tmp_path / "a.jsonl", cached)
    assert first.cost_usd == 0.8
    line = json.loads((tmp_path / "a.jsonl").read_text().splitlines()[0])
    assert line["provenance"]["cost_usd"] == 0.2
    second = run(inputs, tmp_path / "b.jsonl", cached)
    assert (second.cache_hits, second.cost_usd) == (4, 0.0)


def test_cost_budget_stops_the_run(tmp_path: Path) -> None:
    client = FakeClient(default=minimal_record())
    ext = extractor(client, prices=Prices(1000.0, 2000.0))
    summary = run(docs(tmp_path / "d", 10), tmp_path / "o.jsonl", ext, max_cost=0.5)
    assert summary.ok == 3
    assert summary.stopped is not None
    assert "cost limit" in summary.stopped


def test_unknown_prices_make_the_cost_unknown_not_zero(tmp_path: Path) -> None:
    ext = extractor(FakeClient(default=minimal_record()), prices=None)
    summary = run(docs(tmp_path / "d", 2), tmp_path / "o.jsonl", ext)
    assert not summary.cost_known
    line = json.loads((tmp_path / "o.jsonl").read_text().splitlines()[0])
    assert line["provenance"]["cost_usd"] is None


def test_shards_split_a_corpus_exactly(tmp_path: Path) -> None:
    inputs = docs(tmp_path / "d", 40)
    seen: list[str] = []
    for index in (1, 2, 3):
        out = tmp_path / f"shard{index}.jsonl"
        client = FakeClient(default=minimal_record())
        run(inputs, out, extractor(client), shard=(index, 3))
        seen += ids(out)
    assert sorted(seen) == [f"doc{i:03d}" for i in range(40)]


def test_a_jsonl_corpus_is_many_documents_and_bad_lines_are_error_lines(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text(
        '{"id": "a", "text": "Case a."}\n{"id": 2, "text": "Case 2."}\nnot json\n{"id": "c"}\n'
    )
    out = tmp_path / "o.jsonl"
    summary = run([corpus], out, extractor(FakeClient(default=minimal_record())))
    assert summary.planned == 4
    lines = {json.loads(line)["doc_id"]: json.loads(line) for line in out.read_text().splitlines()}
    assert lines["a"]["error"] is None
    assert lines["2"]["source"] == f"{corpus}:2"
    assert len(lines) == 4
    assert sum(line["error"] is not None for line in lines.values()) == 2


def test_the_output_file_inside_an_input_folder_is_not_an_input(tmp_path: Path) -> None:
    inputs = docs(tmp_path / "d", 2)
    out = tmp_path / "d" / "out.jsonl"
    client = FakeClient(default=minimal_record())
    first = run(inputs, out, extractor(client))
    second = run(inputs, out, extractor(client))
    assert (first.planned, first.ok) == (2, 2)
    assert (second.planned, second.skipped, second.failed) == (2, 2, 0)


def test_an_unexpected_exception_becomes_an_internal_error_line(tmp_path: Path) -> None:
    """A bug in a document task costs that document, with a line, and never vanishes."""
    inputs = docs(tmp_path / "d", 3)
    out = tmp_path / "o.jsonl"
    client = FakeClient([IndexError("list index out of range"), minimal_record(), minimal_record()])
    summary = run(inputs, out, extractor(client))
    assert (summary.ok, summary.failed, summary.failures["internal"]) == (2, 1, 1)
    errors = [json.loads(x)["error"] for x in out.read_text().splitlines()]
    (error,) = [e for e in errors if e]
    assert error == {"kind": "internal", "message": "IndexError: list index out of range"}


def test_provider_failures_in_a_row_stop_the_run_and_an_answer_breaks_the_row(
    tmp_path: Path,
) -> None:
    """Two failures, an answer, then three failures in a row: stopped after the third."""
    inputs = docs(tmp_path / "d", 10)
    out = tmp_path / "o.jsonl"
    down = ProviderError("cannot reach the model endpoint: Connection error.")
    invalid = ExtractionFailed("did not validate", attempts=1)
    client = FakeClient([down, down, invalid, down, down, down], default=minimal_record())
    with pytest.raises(ProviderError, match="failed 3 documents in a row") as info:
        run(inputs, out, extractor(client), stop_after_failures=3)
    assert info.value.fatal
    kinds = [(json.loads(line)["error"] or {}).get("kind") for line in out.read_text().splitlines()]
    assert kinds == ["provider", "provider", "validation", "provider", "provider", "provider"]


def test_the_planned_count_and_the_run_use_one_id_rule_for_a_corpus(tmp_path: Path) -> None:
    """A missing, padded or numeric id is counted (and sharded) as the run names it."""
    corpus = tmp_path / "c.jsonl"
    corpus.write_text(
        '{"text": "no id"}\n{"id": "  padded  ", "text": "t"}\n{"id": 7, "text": "t"}\n'
    )
    from extractor.io.documents import iter_ids  # the counting pass

    assert [doc_id for doc_id, _ in iter_ids([corpus])] == [
        item.id for item in planned_documents([corpus], None)
    ]
    for shard in ((1, 2), (2, 2)):
        assert count_planned([corpus], shard) == len(list(planned_documents([corpus], shard)))


def test_a_long_document_is_split_once_per_extraction(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from extractor.extraction import document as document_module

    calls = []
    real_split = document_module.split

    def counting_split(text: str, limit: int) -> list[str]:
        calls.append(limit)
        return real_split(text, limit)

    monkeypatch.setattr(document_module, "split", counting_split)
    long = tmp_path / "long.txt"
    long.write_text(("A paragraph about a carcinoid tumour. " * 40 + "\n\n") * 10)
    ext = extractor(FakeClient(default=minimal_record()), chunk_chars=1000)
    asyncio.run(run_extraction([long], tmp_path / "o.jsonl", ext, RunSettings()))
    assert len(calls) == 1


def test_the_inputs_are_walked_twice_at_most_before_and_during_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once to count and check the ids, once to read: never a third time."""
    from extractor.extraction import bulk as bulk_module

    walks = []
    real_iter_paths = bulk_module.iter_paths

    def counting(inputs: Any) -> Any:
        walks.append(1)
        return real_iter_paths(inputs)

    monkeypatch.setattr(bulk_module, "iter_paths", counting)
    summary = run(
        docs(tmp_path / "d", 3),
        tmp_path / "o.jsonl",
        extractor(FakeClient(default=minimal_record())),
    )
    assert summary.ok == 3
    assert len(walks) <= 2
