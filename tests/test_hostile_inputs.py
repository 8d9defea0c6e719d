"""Hostile inputs and injected faults against the real command, run in a subprocess.

Every case is built at test time and ``python -m extractor.cli`` runs against the
stub server on 127.0.0.1: each readable document gets exactly one line, each bad
one a clear error line, no traceback reaches stderr, exit codes are as the
README documents, nothing but the output (and its lock) is modified, and the
configured key appears in no output, cache file or message.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from extractor.cli import app
from extractor.io.runfile import Provenance, ResultLine, latest_lines
from extractor.testing.stub_server import stub_server
from tests.conftest import minimal_record

KEY = "k3y-Zq81vK3m0wLrXc"  # shaped like no credential: only remembering the key masks it
TEXT = "Case report: a 54-year-old woman with a pancreatic neuroendocrine tumour."
DEAD_URL = "http://127.0.0.1:9/v1"  # the discard port: nothing listens


def cli(cwd: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The real command in a subprocess, with the key in its environment and wide stderr."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("EXTRACTOR_")}
    env.update(OPENAI_API_KEY=KEY, XDG_CACHE_HOME=str(cwd / "xdg"), COLUMNS="500")
    command = [sys.executable, "-m", "extractor.cli", *args]
    return subprocess.run(
        command, check=False, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


def extract(
    cwd: Path, url: str, *inputs: str, out: str = "out.jsonl", extra: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    """``extractor extract`` over the stub: whole records, a cache under ``cwd``, no retries."""
    return cli(cwd, "extract", *inputs, "-o", out, *stub_flags(url), "--cache-dir", "cache",
               "--retries", "0", "--concurrency", "1", *extra)  # fmt: skip


def stub_flags(url: str) -> list[str]:
    """The model flags for the stub, which answers whole records."""
    return ["--base-url", url, "--model", "stub", "--strategy", "whole"]


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def snapshot(root: Path, skip: frozenset[str] = frozenset({"cache", "xdg"})) -> dict[str, str]:
    """What each entry under ``root`` is: a file's hash, a link's target, a FIFO, a folder."""
    found = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if relative.parts[0] in skip:
            continue
        mode = path.lstat().st_mode
        if stat.S_ISLNK(mode):
            found[str(relative)] = "-> " + os.readlink(path)
        elif stat.S_ISREG(mode):
            found[str(relative)] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            found[str(relative)] = "fifo" if stat.S_ISFIFO(mode) else "folder"
    return found


def assert_clean(result: subprocess.CompletedProcess[str], code: int) -> None:
    """The documented exit code, and no traceback on stderr."""
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr, result.stderr


def assert_no_key(root: Path, *texts: str) -> None:
    """The key is in no file under ``root`` (the diskcache SQLite files too) nor in ``texts``."""
    for text in texts:
        assert KEY not in text
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            assert KEY.encode() not in path.read_bytes(), path


def hostile_folder(folder: Path) -> dict[str, str | None]:
    """A folder of good and hostile inputs; returns each document id and its expected error."""
    (folder / "sub").mkdir(parents=True)
    (folder / "plain.txt").write_text(TEXT)
    (folder / "sub" / "notes.md").write_text(TEXT + " (notes)")
    (folder / "utf16le.txt").write_bytes((TEXT + " (LE)").encode("utf-16"))
    (folder / "utf16be.txt").write_bytes(b"\xfe\xff" + (TEXT + " (BE)").encode("utf-16-be"))
    (folder / "template.txt").write_text(TEXT + " Slots {{ task }} and {{ document }} stay.")
    (folder / "deep.json").write_text('{"a":' * 10_000 + "1" + "}" * 10_000)
    (folder / "late_nul.txt").write_bytes(TEXT.encode() * 200 + b"\x00 and more")
    (folder / "empty.txt").write_text("")
    (folder / "latin1.txt").write_bytes("Caf\xe9 au lait, a case.".encode("latin-1"))
    (folder / "loop.txt").symlink_to("loop.txt")
    (folder / "dangling.md").symlink_to("nowhere.md")
    os.mkfifo(folder / "fifo.txt")
    deep_line = '{"id": "c2", "x": ' + "[" * 10_000 + "]" * 10_000 + "}"
    corpus = [json.dumps({"id": "c1", "text": TEXT + " (c1)"}), deep_line, "not json"]
    (folder / "corpus.jsonl").write_text("\n".join(corpus) + "\n")
    (folder / "loopcorpus.jsonl").symlink_to("loopcorpus.jsonl")
    return {
        "plain": None, "notes": None, "utf16le": None, "utf16be": None, "template": None,
        "c1": None, "deep": "nested too deeply", "late_nul": "binary", "empty": "no text",
        "latin1": "not UTF-8", "loop": "symbolic links", "dangling": "No such file",
        "fifo": "not a regular file (a FIFO)", "corpus:2": "nested too deeply",
        "corpus:3": "invalid JSON", "loopcorpus": "symbolic links",
    }  # fmt: skip


def test_every_input_gets_one_line_nothing_else_changes_and_a_rerun_adds_nothing(
    tmp_path: Path,
) -> None:
    expected = hostile_folder(tmp_path / "in")
    before = snapshot(tmp_path)
    with stub_server(minimal_record()) as (url, state):
        first = extract(tmp_path, url, "in")
        asked = len(state.requests)
        output = (tmp_path / "out.jsonl").read_bytes()
        second = extract(tmp_path, url, "in")
    assert_clean(first, 0)
    assert_clean(second, 0)
    written = lines(tmp_path / "out.jsonl")
    assert sorted(str(line["doc_id"]) for line in written) == sorted(expected)
    for line in written:
        error = line["error"]
        wanted = expected[str(line["doc_id"])]
        if wanted is None:
            assert error is None, line
        else:
            assert isinstance(error, dict), line
            assert error["kind"] == "input", line
            assert wanted in error["message"], line
    assert asked == sum(wanted is None for wanted in expected.values())
    users = [body["messages"][-1]["content"] for _, body in state.requests]
    assert any("Slots {{ task }} and {{ document }} stay." in user for user in users)
    assert (tmp_path / "out.jsonl").read_bytes() == output  # the re-run added nothing
    assert len(state.requests) == asked
    after = snapshot(tmp_path)
    assert {k: v for k, v in after.items() if k not in {"out.jsonl", ".out.jsonl.lock"}} == before


@pytest.mark.parametrize("layout", ["folders", "suffixes", "corpus"])
def test_colliding_document_ids_are_refused_before_anything_is_written(
    tmp_path: Path, layout: str
) -> None:
    if layout == "folders":
        for folder in ("a", "b"):
            (tmp_path / folder).mkdir()
            (tmp_path / folder / "case.txt").write_text(f"{TEXT} ({folder})")
        inputs, sources = ("a", "b"), "a/case.txt and b/case.txt"
    elif layout == "suffixes":
        (tmp_path / "docs").mkdir()
        (tmp_path / "docs" / "x.txt").write_text(TEXT)
        (tmp_path / "docs" / "x.md").write_text(TEXT + " (md)")
        inputs, sources = ("docs",), "docs/x.md and docs/x.txt"
    else:
        texts = [{"id": "p1", "text": TEXT}, {"id": "p2", "text": TEXT}, {"id": "p1", "text": "B"}]
        (tmp_path / "corpus.jsonl").write_text("".join(json.dumps(t) + "\n" for t in texts))
        inputs, sources = ("corpus.jsonl",), "corpus.jsonl:1 and corpus.jsonl:3"
    before = snapshot(tmp_path)
    with stub_server(minimal_record()) as (url, state):
        result = extract(tmp_path, url, *inputs)
    assert_clean(result, 1)
    assert "two documents have the id" in result.stderr
    assert sources in result.stderr
    assert state.requests == []
    assert snapshot(tmp_path) == before  # no output, no lock


def test_gold_check_reports_two_documents_with_one_id(tmp_path: Path) -> None:
    gold = gold_set(tmp_path / "gold")
    (gold / "docs" / "x.md").write_text(TEXT + " (md)")
    result = cli(tmp_path, "gold", "check", "--gold", "gold")
    assert_clean(result, 1)
    assert "two documents have the id 'x'" in result.stdout


def gold_set(folder: Path) -> Path:
    """A one-document gold set: ``docs/x.txt`` and its label."""
    (folder / "docs").mkdir(parents=True)
    (folder / "labels").mkdir()
    (folder / "docs" / "x.txt").write_text(TEXT)
    (folder / "labels" / "x.json").write_text(json.dumps(minimal_record()))
    return folder


def test_the_key_is_masked_in_lines_cache_messages_and_eval_results(tmp_path: Path) -> None:
    for name in ("a", "b", "c"):
        (tmp_path / f"{name}.txt").write_text(f"{TEXT} ({name})")
    with stub_server(minimal_record(), ["ok", "500", "400", "401"], echo_auth=True) as (url, _):
        in_url = url.replace("http://", f"http://user:{KEY}@") + f"?api-key={KEY}"
        with_userinfo = extract(tmp_path, in_url, "a.txt", out="one.jsonl")
        bearer = extract(tmp_path, f"{url}?key={KEY}&access_token={KEY}", "b.txt", "c.txt")
        fatal = extract(tmp_path, url, "a.txt", out="fatal.jsonl", extra=("--no-cache",))
    assert_clean(with_userinfo, 0)
    assert_clean(bearer, 0)
    assert_clean(fatal, 1)
    assert "HTTP 401" in fatal.stderr
    assert "***" in fatal.stderr
    errors = [line["error"] for line in lines(tmp_path / "out.jsonl")]
    assert all(isinstance(e, dict) and "***" in e["message"] for e in errors), errors
    endpoints = {str(line["provenance"]["endpoint"]) for line in lines(tmp_path / "one.jsonl")}  # type: ignore[index]
    assert endpoints == {url.replace("http://", "http://***@") + "?api-key=***"}
    gold_set(tmp_path / "gold")
    leaked = Provenance(endpoint=f"https://user:{KEY}@gateway.example/v1?api-key={KEY}")
    (tmp_path / "old.jsonl").write_text(
        ResultLine(doc_id="x", record=minimal_record(), provenance=leaked).to_json() + "\n"
    )
    scored = cli(tmp_path, "eval", "--gold", "gold", "--run", "old.jsonl", "--eval-dir", "ev")
    assert_clean(scored, 0)
    assert list((tmp_path / "ev" / "results").glob("*.json"))
    assert_no_key(tmp_path / "ev")
    (tmp_path / "old.jsonl").unlink()  # the one file holding the key on purpose
    assert_no_key(tmp_path, *(r.stdout + r.stderr for r in (with_userinfo, bearer, fatal, scored)))


def test_a_dropped_connection_costs_one_document_and_retry_failed_picks_it_up(
    tmp_path: Path,
) -> None:
    for i in range(4):
        (tmp_path / f"d{i}.txt").write_text(f"{TEXT} ({i})")
    inputs = [f"d{i}.txt" for i in range(4)]
    with stub_server(minimal_record(), ["ok", "drop"]) as (url, state):
        first = extract(tmp_path, url, *inputs)
        written = lines(tmp_path / "out.jsonl")
        again = extract(tmp_path, url, *inputs, extra=("--retry-failed",))
    assert_clean(first, 0)
    assert_clean(again, 0)
    assert state.served["drop"] == 1
    assert len(written) == 4
    (failed,) = [line for line in written if line["error"]]
    assert failed["doc_id"] == "d1"
    assert failed["error"]["kind"] == "provider"  # type: ignore[index]
    assert all(line.ok for line in latest_lines(tmp_path / "out.jsonl"))
    assert len(list(latest_lines(tmp_path / "out.jsonl"))) == 4


def test_a_run_stops_after_failures_in_a_row_or_when_nothing_ever_answered(
    tmp_path: Path,
) -> None:
    for i in range(8):
        (tmp_path / f"d{i}.txt").write_text(f"{TEXT} ({i})")
    inputs = [f"d{i}.txt" for i in range(8)]
    with stub_server(minimal_record(), ["ok"], default="drop") as (url, _):
        sustained = extract(tmp_path, url, *inputs, extra=("--stop-after-failures", "3"))
    assert_clean(sustained, 1)
    assert "failed 3 documents in a row" in sustained.stderr
    kinds = [line["error"] and line["error"]["kind"] for line in lines(tmp_path / "out.jsonl")]  # type: ignore[index]
    assert kinds == [None, "provider", "provider", "provider"]
    never = extract(tmp_path, DEAD_URL, *inputs, out="never.jsonl")
    assert_clean(never, 1)
    assert "cannot reach the model endpoint" in never.stderr
    assert (tmp_path / "never.jsonl").read_text() == ""


IS_DIR = "folder: Is a directory"


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["extract", "doc.txt", "-o", "folder", "--base-url", DEAD_URL], 1, "is a folder"),
        (["extract", "doc.txt", "-o", "doc.txt/o", "--base-url", DEAD_URL], 1, "not a folder"),
        (["extract", "doc.txt", "-o", "o.jsonl", "--rpm", "-5"], 2, "bad rpm"),
        (["extract", "doc.txt", "-o", "o", "--stop-after-failures", "0"], 2, "bad stop-after"),
        (["review", "run.jsonl", "-o", "folder"], 1, IS_DIR),
        (["export", "run.jsonl", "--csv", "folder"], 1, IS_DIR),
        (["merge", "run.jsonl", "-o", "doc.txt/m.jsonl"], 1, "doc.txt"),
        (["eval", "--gold", "gold", "--run", "run.jsonl", "--json", "folder"], 1, IS_DIR),
    ],
)
def test_bad_paths_and_flags_give_one_line_and_the_documented_exit_code(
    tmp_path: Path, args: list[str], code: int, says: str
) -> None:
    (tmp_path / "doc.txt").write_text(TEXT)
    (tmp_path / "folder").mkdir()
    (tmp_path / "run.jsonl").write_text(ResultLine("x", record=minimal_record()).to_json() + "\n")
    gold_set(tmp_path / "gold")
    result = cli(tmp_path, *args)
    assert_clean(result, code)
    assert result.stderr.count("error:") == 1, result.stderr
    assert says in result.stderr


def test_entries_that_cannot_be_opened_get_error_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Real for any user: a folder listed but not entered denies ``stat`` of its entries."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "ok.txt").write_text(TEXT)
    (folder / "locked_doc.txt").write_text(TEXT)
    (folder / "locked_corpus.jsonl").write_text(json.dumps({"id": "j", "text": TEXT}) + "\n")
    real_stat = Path.stat

    def stat_denied(self: Path, *, follow_symlinks: bool = True) -> os.stat_result:
        if self.name.startswith("locked"):
            raise PermissionError(13, "Permission denied", str(self))
        return real_stat(self, follow_symlinks=follow_symlinks)

    monkeypatch.setattr(Path, "stat", stat_denied)
    out = tmp_path / "out.jsonl"
    with stub_server(minimal_record()) as (url, _):
        args = ["extract", str(folder), "-o", str(out), *stub_flags(url), "--no-cache"]
        result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    errors = {line["doc_id"]: line["error"] for line in lines(out)}
    assert errors["ok"] is None
    for doc_id in ("locked_doc", "locked_corpus"):
        assert "Permission denied" in errors[doc_id]["message"]  # type: ignore[index]
    assert len(errors) == 3


def test_a_second_run_on_one_output_fails_at_once_naming_the_pid(tmp_path: Path) -> None:
    """The first run waits on a slow stub, holding the lock; it is stopped once checked."""
    (tmp_path / "doc.txt").write_text(TEXT)
    with stub_server(minimal_record(), latency=60.0) as (url, _):
        env = {**os.environ, "OPENAI_API_KEY": KEY, "COLUMNS": "500"}
        command = [sys.executable, "-m", "extractor.cli", "extract", "doc.txt", "-o", "out.jsonl",
                   *stub_flags(url), "--no-cache"]  # fmt: skip
        first = subprocess.Popen(command, cwd=tmp_path, env=env, stderr=subprocess.DEVNULL)
        try:
            lock = tmp_path / ".out.jsonl.lock"
            deadline = time.monotonic() + 60
            while not (lock.exists() and lock.read_text().strip()) and time.monotonic() < deadline:
                time.sleep(0.1)
            second = extract(tmp_path, url, "doc.txt", extra=("--no-cache",))
        finally:
            first.terminate()
            first.wait(timeout=30)
    assert_clean(second, 1)
    assert f"PID {first.pid}" in second.stderr
    assert (tmp_path / "out.jsonl").read_text() == ""  # the second run wrote nothing
