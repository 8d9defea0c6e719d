"""The run file: whole lines appended, torn tails cut, failed lines dropped on request."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from extractor.errors import ConfigError, InputError
from extractor.io.runfile import (
    ResultLine,
    RunFile,
    cut_torn_tail,
    drop_failed_lines,
    latest_lines,
    lock_path,
)


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


def test_latest_lines_keep_the_last_line_of_each_document_in_file_order(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    path.write_text("\n".join([line("a", ok=False), line("b"), line("a"), line("c")]) + "\n")
    latest = list(latest_lines(path))
    assert [(item.doc_id, item.ok) for item in latest] == [("b", True), ("a", True), ("c", True)]


def test_from_dict_rejects_a_line_that_is_not_a_run_line() -> None:
    with pytest.raises(InputError, match=r"here: not a run line \(record"):
        ResultLine.from_dict({"doc_id": "a", "record": "not an object"}, "here")


def test_a_deeply_nested_line_is_an_input_error_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    path.write_text('{"doc_id": "a", "record": ' + '{"a":' * 10_000 + "1" + "}" * 10_001 + "\n")
    with pytest.raises(InputError, match="nested too deeply"):
        list(latest_lines(path))


def test_retry_failed_rewrite_keeps_the_file_mode_and_the_latest_lines(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    path.write_text("\n".join([line("a"), line("b", ok=False), line("a")]) + "\n")
    path.chmod(0o664)
    with RunFile(path, retry_failed=True) as run:
        assert set(run.done) == {"a"}
    assert path.stat().st_mode & 0o777 == 0o664
    assert [json.loads(text)["doc_id"] for text in path.read_text().splitlines()] == ["a"]


@pytest.mark.parametrize("overwrite", [False, True])
def test_a_file_that_is_not_a_run_is_refused_and_left_unchanged(
    tmp_path: Path, overwrite: bool
) -> None:
    for content in ("my notes\nline two without newline", '{"id": "corpus", "text": "t"}\n'):
        path = tmp_path / "notes.txt"
        path.write_text(content)
        with pytest.raises(ConfigError, match="not a run file"):
            RunFile(path, overwrite=overwrite).open()
        assert path.read_text() == content
        assert not lock_path(path).exists()


def test_a_second_run_on_the_same_output_fails_at_once_naming_the_holder(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    with RunFile(path):
        with pytest.raises(ConfigError, match=rf"another run \(PID {os.getpid()}\)"):
            RunFile(path, overwrite=True).open()
    with RunFile(path, overwrite=True):  # released on close
        pass


def test_the_lock_holds_across_processes(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from pathlib import Path; from extractor.io.runfile import RunFile; "
         "r = RunFile(Path(sys.argv[1])).open(); print('locked', flush=True); time.sleep(30)",
         str(path)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(ConfigError, match=rf"PID {holder.pid}"):
            RunFile(path).open()
    finally:
        holder.kill()
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()


@pytest.mark.parametrize("where", ["folder", "under_a_file"])
def test_an_output_that_cannot_be_a_file_is_a_config_error(tmp_path: Path, where: str) -> None:
    path = tmp_path
    if where == "under_a_file":
        (tmp_path / "file").write_text("x")
        path = tmp_path / "file" / "run.jsonl"
    with pytest.raises(ConfigError):
        RunFile(path).open()
