"""The Ray engine against the stub server: the same lines as in process, once each, whatever dies.

One local Ray (2 CPUs, no dashboard, 127.0.0.1 only) serves the whole module;
each run starts its own two workers on it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from extractor.config import ModelConfig, RunSettings, run_settings
from extractor.errors import ConfigError, EngineError, ProviderError
from extractor.extraction.bulk import RunSummary, extract_files, run_extraction
from extractor.extraction.cache import ResponseCache
from extractor.extraction.distributed import Fault, Worker, import_ray, is_loopback, ray_workers
from extractor.extraction.document import CacheMiss, DocumentExtractor
from extractor.extraction.limits import RateLimiter
from extractor.extraction.prompts import load_prompt
from extractor.io.documents import Document
from extractor.model.connect import connect
from extractor.testing.stub_server import stub_server
from tests.conftest import REPO, minimal_record

pytestmark = [pytest.mark.ray, pytest.mark.timeout(120)]


@pytest.fixture(scope="module")
def ray() -> Iterator[Any]:
    """A local Ray for the module: 2 CPUs, no dashboard, listening on 127.0.0.1 only."""
    try:
        ray = import_ray(local=True)
    except ConfigError:
        pytest.skip("Ray is not installed (the [ray] extra)")
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        object_store_memory=256 * 1024 * 1024,
        logging_level=logging.ERROR,
    )
    yield ray
    ray.shutdown()


def corpus(folder: Path, n: int) -> Path:
    folder.mkdir()
    for i in range(n):
        (folder / f"case{i:03d}.txt").write_text(f"Case {i}: a 60-year-old man with an ileal NET.")
    return folder


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def settings(**changes: Any) -> RunSettings:
    values: dict[str, Any] = {"strategy": "whole", "concurrency": 4, "engine": "ray", "workers": 2}
    return RunSettings(**{**values, **changes})


IN_PROCESS = {"engine": "local", "workers": None}


def extract(folder: Path, out: Path, url: str, run: RunSettings) -> RunSummary:
    config = ModelConfig(model="stub", base_url=url, max_retries=0)
    return asyncio.run(extract_files([folder], out, config, run))


def test_the_local_ray_listens_on_loopback_only(ray: Any) -> None:
    assert is_loopback(ray.util.get_node_ip_address())
    assert all(is_loopback(node["NodeManagerAddress"]) for node in ray.nodes())
    assert ray.get_runtime_context().gcs_address.startswith("127.0.0.1:")


def test_a_ray_run_writes_the_records_an_in_process_run_writes(ray: Any, tmp_path: Path) -> None:
    """Same lines (but their timings); the driver stored every entry: a re-run is all cache hits."""
    folder = corpus(tmp_path / "docs", 10)
    (folder / "empty.txt").write_text("")  # unreadable: an error line from the driver
    cache = tmp_path / "cache"
    with stub_server(minimal_record()) as (url, _):
        local = extract(folder, tmp_path / "local.jsonl", url, settings(**IN_PROCESS))
        remote = extract(folder, tmp_path / "ray.jsonl", url, settings(cache_dir=cache))
        again = extract(
            folder, tmp_path / "again.jsonl", url, settings(**IN_PROCESS, cache_dir=cache)
        )

    def comparable(path: Path) -> dict[str, Any]:
        return {
            line["doc_id"]: {**line, "provenance": {**line["provenance"], "seconds": 0}}
            for line in lines(path)
        }

    assert (local.ok, local.failed) == (remote.ok, remote.failed) == (10, 1)
    assert comparable(tmp_path / "ray.jsonl") == comparable(tmp_path / "local.jsonl")
    assert (again.cache_hits, again.ok) == (10, 10)


def test_a_worker_killed_mid_run_is_restarted_and_its_documents_sent_again(
    ray: Any, tmp_path: Path
) -> None:
    n = 24
    folder, out = corpus(tmp_path / "docs", n), tmp_path / "out.jsonl"
    run = settings()
    pids: list[int] = []
    resent: list[int] = []

    async def go(url: str) -> RunSummary:
        config = ModelConfig(model="stub", base_url=url)
        async with connect(config) as client:
            extractor = DocumentExtractor.for_run(client, config, run, ResponseCache(None))
            async with ray_workers(extractor, config, run) as workers:
                pids.append(await workers.actors[0].ready.remote())

                def kill_once(summary: RunSummary) -> None:
                    if summary.ok == 4 and len(pids) == 1:
                        os.kill(pids[0], signal.SIGKILL)  # a crash, with documents in flight
                        pids.append(0)

                summary = await run_extraction(
                    [folder], out, extractor, run, kill_once, compute=workers
                )
                pids.append(await workers.actors[0].ready.remote())
                resent.append(workers.resent)
                return summary

    with stub_server(minimal_record(), latency=0.1) as (url, _):
        summary = asyncio.run(go(url))
    assert pids[2] != pids[0]  # the same worker, restarted in a new process
    assert resent[0] >= 1  # what was in flight on it was sent again
    assert sorted(line["doc_id"] for line in lines(out)) == [f"case{i:03d}" for i in range(n)]
    assert (summary.ok, summary.failed) == (n, 0)


def test_a_run_whose_workers_all_died_for_good_stops_and_keeps_its_lines(
    ray: Any, tmp_path: Path
) -> None:
    folder, out = corpus(tmp_path / "docs", 24), tmp_path / "out.jsonl"
    run = settings()

    async def go(url: str) -> None:
        config = ModelConfig(model="stub", base_url=url)
        async with connect(config) as client:
            extractor = DocumentExtractor.for_run(client, config, run, ResponseCache(None))
            async with ray_workers(extractor, config, run) as workers:

                def kill_all(summary: RunSummary) -> None:
                    if summary.ok == 2:
                        for actor in workers.actors:
                            ray.kill(actor, no_restart=True)

                await run_extraction([folder], out, extractor, run, kill_all, compute=workers)

    with stub_server(minimal_record(), latency=0.1) as (url, _):
        with pytest.raises(EngineError, match="every Ray worker died"):
            asyncio.run(go(url))
    written = [line["doc_id"] for line in lines(out)]
    assert 2 <= len(written) == len(set(written)) < 24


def test_a_driver_killed_mid_run_resumes_to_one_line_per_document(ray: Any, tmp_path: Path) -> None:
    n = 60
    folder, out = corpus(tmp_path / "docs", n), tmp_path / "out.jsonl"
    address = ray.get_runtime_context().gcs_address
    with stub_server(minimal_record(), latency=0.05) as (url, _):
        command = [sys.executable, "-m", "extractor.cli", "extract", str(folder), "-o", str(out),
                   "--base-url", url, "--model", "stub", "--strategy", "whole", "--no-cache",
                   "--concurrency", "4", "--engine", "ray", "--address", address,
                   "--workers", "2"]  # fmt: skip
        with (tmp_path / "stderr.txt").open("w") as stderr:
            driver = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=stderr)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and driver.poll() is None:
                if out.exists() and out.read_text().count("\n") >= 15:
                    break
                time.sleep(0.02)
            driver.send_signal(signal.SIGKILL)
            driver.wait()
        killed_at = out.read_text().count("\n")
        assert 15 <= killed_at < n, (tmp_path / "stderr.txt").read_text()
        summary = extract(folder, out, url, settings())
    assert sorted(line["doc_id"] for line in lines(out)) == [f"case{i:03d}" for i in range(n)]
    assert summary.skipped >= killed_at


def test_a_401_stops_a_ray_run_with_the_in_process_message(ray: Any, tmp_path: Path) -> None:
    folder = corpus(tmp_path / "docs", 6)
    with stub_server(minimal_record(), default="401") as (url, _):
        with pytest.raises(ProviderError) as local:
            extract(folder, tmp_path / "local.jsonl", url, settings(**IN_PROCESS))
        with pytest.raises(ProviderError) as remote:
            extract(folder, tmp_path / "ray.jsonl", url, settings())
    assert remote.value.fatal
    assert remote.value.status == 401
    assert str(remote.value) == str(local.value)
    assert "401" in str(remote.value)


def test_a_token_budget_holds_across_the_workers(ray: Any, tmp_path: Path) -> None:
    folder, out = corpus(tmp_path / "docs", 30), tmp_path / "out.jsonl"
    with stub_server(minimal_record(), latency=0.05) as (url, _):  # 140 tokens a document
        summary = extract(folder, out, url, settings(concurrency=2, max_tokens=700))
    assert summary.stopped is not None
    assert "token limit 700 reached" in summary.stopped
    assert 5 <= summary.ok <= 6  # 5 reach the limit; at most one more was in flight
    assert len(lines(out)) == summary.ok


def test_a_rate_limit_holds_across_the_workers(
    ray: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """4 requests a (shortened, 1-second) window in all, though 2 workers and 8 slots could do 8."""
    monkeypatch.setattr(RateLimiter, "window", 1.0)
    folder, out = corpus(tmp_path / "docs", 12), tmp_path / "out.jsonl"
    with stub_server(minimal_record()) as (url, state):
        started = time.monotonic()
        summary = extract(folder, out, url, settings(concurrency=8, rpm=4))
        seconds = time.monotonic() - started
    assert summary.ok == 12
    arrivals = sorted(at for at, _ in state.requests)
    # Admitted a window apart at the driver, requests reach the stub with the jitter of the
    # way there (a cold worker's first request is slower): 4 at most in any half window.
    assert all(sum(a <= b < a + 0.5 for b in arrivals) <= 4 for a in arrivals)
    assert seconds >= 2.0  # three windows' worth of requests


def test_a_fault_keeps_the_message_and_the_stop_of_an_error_that_does_not_pickle() -> None:
    unpicklable = ProviderError("the key was refused (401)", original=None, status=401, fatal=True)
    unpicklable.original = threading.Lock()  # type: ignore[assignment]
    error = Fault.of(unpicklable).error()
    assert isinstance(error, ProviderError)
    assert (str(error), error.status, error.fatal) == ("the key was refused (401)", 401, True)
    other = Fault.of(RuntimeError("no route")).error()
    assert isinstance(other, EngineError)
    assert str(other) == "a Ray worker cannot extract: RuntimeError: no route"


def test_a_bug_in_a_worker_costs_its_document_an_internal_error_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Run in process: the worker's method turns the exception into the line it would have been."""

    async def broken(self: DocumentExtractor, miss: CacheMiss) -> Any:
        raise IndexError("list index out of range")

    monkeypatch.setattr(DocumentExtractor, "compute", broken)
    worker = Worker(ModelConfig(model="m", base_url="http://127.0.0.1:9/v1"), settings(),
                    load_prompt())  # fmt: skip
    document = Document.from_text("d", "Case d.")
    result = asyncio.run(worker.compute(CacheMiss(document, [document.text], "key")))
    assert not isinstance(result, Fault)
    assert result.cached is None
    message = "IndexError: list index out of range"
    assert result.line.error == {"kind": "internal", "message": message}


def test_an_unknown_engine_is_a_config_error_naming_it() -> None:
    with pytest.raises(ConfigError, match=r"bad engine: .*'spark'"):
        run_settings(engine="spark")


def test_address_and_workers_without_the_ray_engine_are_refused(tmp_path: Path) -> None:
    folder = corpus(tmp_path / "docs", 1)
    with pytest.raises(ConfigError, match="--engine ray"):
        extract(folder, tmp_path / "o.jsonl", "http://127.0.0.1:9/v1", RunSettings(workers=2))


def test_an_in_process_extract_never_imports_ray(tmp_path: Path) -> None:
    folder, out = corpus(tmp_path / "docs", 3), tmp_path / "out.jsonl"
    code = (
        "import sys\n"
        "from extractor.cli.commands import app\n"
        "from extractor.testing import minimal_record\n"
        "from extractor.testing.stub_server import stub_server\n"
        "with stub_server(minimal_record()) as (url, _):\n"
        f"    app(['extract', {str(folder)!r}, '-o', {str(out)!r}, '--base-url', url,\n"
        "         '--model', 'stub', '--strategy', 'whole', '--no-cache'], standalone_mode=False)\n"
        "print('ray' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False"
    assert len(lines(out)) == 3
