"""Shards: a stable, even split of documents, and merging shard outputs into one run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from extractor.errors import ConfigError, InputError
from extractor.io.merge import MergeSummary, in_shard, merge_runs, parse_shard
from extractor.io.runfile import ResultLine
from tests.conftest import minimal_record


def run_line(doc_id: str, record: dict[str, Any] | None = None, note: str = "") -> dict[str, Any]:
    """An output line: a record, or (without one) an error; ``note`` tells copies apart."""
    error = None if record is not None else {"kind": "provider", "message": "timeout"}
    return {
        "doc_id": doc_id,
        "source": f"docs/{doc_id}.txt",
        "record": record,
        "error": error,
        "provenance": {"model": "m", "prompt": note},
    }


def write_run(path: Path, lines: list[dict[str, Any]], tail: str = "") -> Path:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines) + tail, encoding="utf-8")
    return path


def read_run(path: Path) -> list[dict[str, Any]]:
    return [json.loads(text) for text in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize(
    ("text", "expected"), [("1/1", (1, 1)), ("2/4", (2, 4)), (" 3 / 3 ", (3, 3))]
)
def test_parse_shard_reads_i_of_n(text: str, expected: tuple[int, int]) -> None:
    assert parse_shard(text) == expected


@pytest.mark.parametrize("text", ["", "2", "2/", "/4", "a/b", "0/4", "5/4", "1/0", "-1/4", "1/2/3"])
def test_parse_shard_rejects_anything_else(text: str) -> None:
    with pytest.raises(ConfigError, match="bad shard"):
        parse_shard(text)


def test_every_key_lands_in_exactly_one_shard_and_the_split_is_even() -> None:
    keys = [f"docs/case_{i:04d}.txt" for i in range(1000)]
    for count in (1, 2, 3, 4, 7):
        sizes = [0] * count
        for key in keys:
            (shard,) = [i for i in range(1, count + 1) if in_shard(key, i, count)]
            sizes[shard - 1] += 1
        assert all(abs(size - 1000 / count) <= 0.2 * 1000 / count for size in sizes), sizes


def test_shard_assignment_is_a_fixed_function_of_the_key() -> None:
    """The same on every machine and Python run: pinned values, not hash()."""
    assert [i for i in range(1, 5) if in_shard("000_41db0c827232113d", i, 4)] == [3]
    assert [i for i in range(1, 5) if in_shard("docs/a.txt", i, 4)] == [4]


def test_in_shard_rejects_an_impossible_shard() -> None:
    with pytest.raises(ConfigError):
        in_shard("key", 0, 4)


def test_merge_keeps_one_line_per_document_preferring_records(tmp_path: Path) -> None:
    record = minimal_record()
    first = write_run(
        tmp_path / "1.jsonl",
        [run_line("a", record, "a1"), run_line("b", None, "b1"), run_line("c", None, "c1")],
    )
    second = write_run(
        tmp_path / "2.jsonl",
        [run_line("a", None, "a2"), run_line("b", record, "b2"), run_line("c", None, "c2")],
        tail='{"doc_id": "d", "rec',
    )
    out = tmp_path / "merged" / "all.jsonl"
    summary = merge_runs([first, second], out)
    assert summary == MergeSummary(inputs=2, lines_read=6, documents=3, duplicates_removed=3)
    kept = {line["doc_id"]: line["provenance"]["prompt"] for line in read_run(out)}
    assert kept == {"a": "a1", "b": "b2", "c": "c2"}


def test_among_equal_lines_the_later_one_wins(tmp_path: Path) -> None:
    record = minimal_record()
    first = write_run(
        tmp_path / "1.jsonl", [run_line("a", record, "1"), run_line("a", record, "2")]
    )
    second = write_run(tmp_path / "2.jsonl", [run_line("a", record, "3")])
    merge_runs([first, second], tmp_path / "out.jsonl")
    assert [line["provenance"]["prompt"] for line in read_run(tmp_path / "out.jsonl")] == ["3"]


def test_merge_writes_the_typed_lines_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    line = run_line("ü", minimal_record(title="Ünïcode"))
    run = write_run(tmp_path / "in.jsonl", [line])
    out = tmp_path / "out.jsonl"
    out.write_text("old contents\n")
    merge_runs([run], out)
    assert read_run(out) == [ResultLine.from_dict(line).to_dict()]
    assert "Ünïcode" in out.read_text(encoding="utf-8")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["in.jsonl", "out.jsonl"]


def test_merge_may_write_over_one_of_its_inputs(tmp_path: Path) -> None:
    first = write_run(tmp_path / "1.jsonl", [run_line("a", None)])
    second = write_run(tmp_path / "2.jsonl", [run_line("a", minimal_record()), run_line("b")])
    summary = merge_runs([first, second], first)
    assert summary.documents == 2
    assert [line["doc_id"] for line in read_run(first)] == ["a", "b"]


def test_a_bad_input_leaves_the_output_untouched(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('not json\n{"doc_id": "a"}\n')
    out = tmp_path / "out.jsonl"
    out.write_text("old\n")
    with pytest.raises(InputError, match=r"bad\.jsonl:1:"):
        merge_runs([bad], out)
    assert out.read_text() == "old\n"
