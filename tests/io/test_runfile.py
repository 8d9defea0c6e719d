"""The run file: whole lines appended, torn tails cut, failed lines dropped on request."""

from __future__ import annotations

import json
from pathlib import Path

from extractor.io.runfile import RunFile, cut_torn_tail, drop_failed_lines


def line(doc_id: str, ok: bool = True) -> str:
    record = {"title": "x"} if ok else None
    error = None if ok else {"kind": "validation", "message": "bad"}
    return json.dumps(
        {"doc_id": doc_id, "doc_sha256": f"h{doc_id}", "record": record, "error": error}
    )


def test_cut_torn_tail(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    path.write_text(line("a") + "\n" + line("b")[:10])
    assert cut_torn_tail(path)
    assert path.read_text() == line("a") + "\n"
    assert not cut_torn_tail(path)
    path.write_text('{"doc_id": "only", "rec')
    assert cut_torn_tail(path)
    assert path.read_text() == ""


def test_drop_failed_lines(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    path.write_text("\n".join([line("a"), line("b", ok=False), line("c")]) + "\n")
    assert drop_failed_lines(path) == 1
    assert [json.loads(x)["doc_id"] for x in path.read_text().splitlines()] == ["a", "c"]
    assert list(tmp_path.iterdir()) == [path]  # no temp file left behind


def test_run_file_knows_what_is_done_and_appends(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    path.write_text(line("a") + "\n" + line("b", ok=False) + "\n")
    with RunFile(path) as run:
        assert run.done["a"].sha256 == "ha"
        assert run.done["a"].ok
        assert not run.done["b"].ok
        run.write(line("c"))
    assert path.read_text().endswith(line("c") + "\n")
    with RunFile(path, overwrite=True) as run:
        assert run.done == {}
    assert path.read_text() == ""
