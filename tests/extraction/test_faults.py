"""Bulk runs against the fault-injecting stub server on 127.0.0.1: nothing lost, nothing twice."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from extractor.config import ModelConfig, RunSettings
from extractor.extraction.bulk import extract_files
from extractor.testing.stub_server import stub_server
from tests.conftest import minimal_record

FAULTS = {
    "429": 0.08, "500": 0.04, "502": 0.04, "503": 0.04, "slow": 0.03, "drop": 0.04,
    "malformed": 0.04, "invalid": 0.05, "truncated": 0.02,
}  # fmt: skip


def corpus(folder: Path, n: int) -> Path:
    folder.mkdir()
    for i in range(n):
        (folder / f"case{i:03d}.txt").write_text(f"Case {i}: a 60-year-old man with an ileal NET.")
    return folder


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_every_document_ends_with_exactly_one_line_under_faults(tmp_path: Path) -> None:
    n = 60
    folder, out = corpus(tmp_path / "docs", n), tmp_path / "out.jsonl"
    with stub_server(
        minimal_record(), faults=FAULTS, retry_after=0.05, slow_seconds=1.0, seed=7
    ) as (url, state):
        config = ModelConfig(
            model="stub", base_url=url, timeout=0.5, max_retries=6, retry_wait=0.01
        )
        summary = asyncio.run(
            extract_files([folder], out, config, RunSettings(strategy="whole", concurrency=8))
        )
    written = lines(out)
    assert sorted(line["doc_id"] for line in written) == [f"case{i:03d}" for i in range(n)]
    assert summary.ok + summary.failed == n
    assert summary.ok >= n * 0.8  # most faults are transient and retried away
    per_document = (config.max_retries + 1) * (config.max_reasks + 1)
    assert len(state.requests) <= n * per_document  # retries are bounded
    assert state.served["429"] > 0
    assert state.served["drop"] > 0
    for line in written:
        attempts = line["provenance"]["attempts"]  # type: ignore[index]
        assert 1 <= attempts <= per_document
        if line["error"] is not None:
            assert line["error"]["kind"] in {"provider", "validation"}  # type: ignore[index]


def test_a_run_killed_mid_way_resumes_to_the_full_set_without_duplicates(tmp_path: Path) -> None:
    n = 80
    folder, out = corpus(tmp_path / "docs", n), tmp_path / "out.jsonl"
    with stub_server(minimal_record(), latency=0.05) as (url, _):
        command = [sys.executable, "-m", "extractor.cli", "extract", str(folder), "-o", str(out),
                   "--base-url", url, "--model", "stub", "--strategy", "whole",
                   "--concurrency", "4", "--no-cache"]  # fmt: skip
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        proc = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if out.exists() and out.read_text().count("\n") >= 20:
                break
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        killed_at = out.read_text().count("\n")
        assert 20 <= killed_at < n
        resumed = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    assert resumed.returncode == 0, resumed.stderr
    written = lines(out)  # every line parses: nothing torn is left
    assert sorted(line["doc_id"] for line in written) == [f"case{i:03d}" for i in range(n)]
    assert "already in the output" in resumed.stderr


def test_max_cost_stops_the_run_cleanly(tmp_path: Path) -> None:
    folder, out = corpus(tmp_path / "docs", 30), tmp_path / "out.jsonl"
    with stub_server(minimal_record()) as (url, _):
        command = [sys.executable, "-m", "extractor.cli", "extract", str(folder), "-o", str(out),
                   "--base-url", url, "--model", "stub", "--strategy", "whole", "--no-cache",
                   "--concurrency", "2",
                   "--price-in", "1000", "--price-out", "1000", "--max-cost", "1"]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "cost limit $1 reached" in result.stderr
    written = lines(out)
    assert 7 <= len(written) < 30  # 0.14 USD a document: stops after 8, plus those in flight
