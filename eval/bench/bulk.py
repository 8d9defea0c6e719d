"""Bulk-runner benchmark: wall time against the ideal, client CPU per request, a cached re-run.

Runs, in one process, N documents (3-4 KB case reports) through
``extract_files`` against the stub OpenAI server (a separate process on
127.0.0.1, fixed latency, no faults) at each concurrency, then a fully
cached re-run of the same N. The stub answers with the gold label of seed
000, whose evidence quotes are not verbatim in the other documents (the
common case), so every line aligns quotes that are not found. Prints wall
seconds, documents per second, wall / ideal (ideal = N x latency /
concurrency) and the client's CPU milliseconds per request
(``time.process_time`` over the run / N; the stub's CPU is its own
process's), and the start-up time of a fresh ``extractor`` process apart.
Writes the figures as JSON.

With ``--engine ray`` the same runs go through the Ray engine: one local
Ray (127.0.0.1) started once, two workers per run, started before the clock
does (the start-up is printed apart). The client's CPU is then the driver's,
Ray's and the workers' together: every process below this one but the stub.

    .venv/bin/python eval/bench/bulk.py [--n 2000] [--latency 0.2] [--concurrency 32 128]
    .venv/bin/python eval/bench/bulk.py --engine ray --n 500 --concurrency 32
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from extractor.config import ModelConfig, RunSettings
from extractor.extraction.bulk import extract_files, run_extraction
from extractor.extraction.cache import ResponseCache
from extractor.extraction.document import DocumentExtractor
from extractor.model.connect import connect

REPO = Path(__file__).resolve().parents[2]
SEEDS = sorted((REPO / "gold" / "docs").glob("00*.txt"))
LABEL = REPO / "gold" / "labels" / f"{SEEDS[0].stem}.json"


def start_stub(latency: float) -> tuple[subprocess.Popen[str], str]:
    stub = subprocess.Popen(
        [sys.executable, "-m", "extractor.testing.stub_server", "--latency", str(latency),
         "--record", str(LABEL)],
        cwd=REPO, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert stub.stdout is not None
    return stub, stub.stdout.readline().strip()


def start_up_seconds() -> float:
    """Wall seconds for a fresh interpreter to import the command line (best of 3)."""
    times = []
    for _ in range(3):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import extractor.cli"], check=True, cwd=REPO)
        times.append(time.perf_counter() - started)
    return min(times)


def start_ray(figures: dict[str, Any]) -> Any:
    """One local Ray (127.0.0.1) for every run, as ``extractor extract --engine ray`` starts it."""
    from extractor.extraction.distributed import import_ray, join_ray  # noqa: PLC0415 - only with Ray

    started = time.perf_counter()
    ray = import_ray(local=True)
    join_ray(ray, None)
    figures["ray_start_up_s"] = round(time.perf_counter() - started, 2)
    print(f"start-up (a local Ray, before the runs): {figures['ray_start_up_s']:.2f} s")
    return ray


def write_documents(folder: Path, n: int) -> None:
    texts = [path.read_text() for path in SEEDS[1:]]  # not seed 000: its quotes would be found
    folder.mkdir()
    for i in range(n):
        (folder / f"doc{i:05d}.txt").write_text(f"Case {i}.\n" + texts[i % len(texts)])


def run_once(
    folder: Path, out: Path, url: str, concurrency: int, cache: Path | None, *, engine: str,
    stub_pid: int,
) -> tuple[float, float, Any]:  # fmt: skip
    config = ModelConfig(model="stub", base_url=url, timeout=60.0)
    settings = RunSettings(
        concurrency=concurrency, overwrite=True, cache_dir=cache, strategy="whole",
        engine=engine, workers=2 if engine == "ray" else None,
    )  # fmt: skip
    if engine == "ray":
        return asyncio.run(ray_run(folder, out, config, settings, stub_pid))
    started, cpu = time.perf_counter(), time.process_time()
    summary = asyncio.run(extract_files([folder], out, config, settings))
    return time.perf_counter() - started, time.process_time() - cpu, summary


async def ray_run(
    folder: Path, out: Path, config: ModelConfig, settings: RunSettings, stub_pid: int
) -> tuple[float, float, Any]:
    """``extract_files`` with the Ray engine, the clock started once the workers are up."""
    from extractor.extraction.distributed import ray_workers  # noqa: PLC0415 - only with Ray

    cache = ResponseCache(settings.cache_dir)
    try:
        async with connect(config) as client:
            extractor = DocumentExtractor.for_run(client, config, settings, cache)
            async with ray_workers(extractor, config, settings) as workers:
                started, cpu = time.perf_counter(), tree_cpu_seconds(stub_pid)
                summary = await run_extraction([folder], out, extractor, settings, compute=workers)
                return time.perf_counter() - started, tree_cpu_seconds(stub_pid) - cpu, summary
    finally:
        cache.close()


def tree_cpu_seconds(stub_pid: int) -> float:
    """CPU seconds of this process and every process below it but the stub (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    parent: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()  # from the state on
        except OSError:  # ended while being read
            continue
        pid = int(stat.parent.name)
        parent[pid], cpu[pid] = int(fields[1]), (int(fields[11]) + int(fields[12])) / ticks

    def ours(pid: int) -> bool:
        while pid in parent and pid not in {os.getpid(), stub_pid}:
            pid = parent[pid]
        return pid == os.getpid()

    return sum(seconds for pid, seconds in cpu.items() if ours(pid))


def row(
    name: str, n: int, wall: float, cpu: float, *, ideal: float | None, summary: Any
) -> dict[str, Any]:
    figures = {"run": name, "wall_s": round(wall, 2), "docs_per_s": round(n / wall, 1),
               "cpu_ms_per_request": round(1000 * cpu / n, 2), "ok": summary.ok,
               "cache_hits": summary.cache_hits}  # fmt: skip
    text = f"{name:>16}: {wall:7.2f} s  {n / wall:7.1f} doc/s  cpu {1000 * cpu / n:6.2f} ms/doc"
    if ideal is not None:
        figures.update(ideal_s=round(ideal, 2), ratio_to_ideal=round(wall / ideal, 3))
        text += f"  ideal {ideal:6.2f} s  wall/ideal {wall / ideal:.3f}"
    print(text, flush=True)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[32, 128])
    parser.add_argument("--engine", choices=["local", "ray"], default="local")
    parser.add_argument("--json", type=Path, help="[default: eval/bench/bulk{,_ray}.json]")
    args = parser.parse_args()
    name = "bulk_ray.json" if args.engine == "ray" else "bulk.json"
    args.json = args.json or REPO / "eval" / "bench" / name
    figures: dict[str, Any] = {
        "n": args.n, "latency_s": args.latency, "engine": args.engine,
        "start_up_s": round(start_up_seconds(), 3),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform(), "load_before": os.getloadavg()},
        "runs": [],
    }  # fmt: skip
    print(f"start-up (import extractor.cli in a fresh process): {figures['start_up_s']:.3f} s")
    stub, url = start_stub(args.latency)
    ray = start_ray(figures) if args.engine == "ray" else None
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder, out, cache = Path(tmp) / "docs", Path(tmp) / "out.jsonl", Path(tmp) / "cache"
            write_documents(folder, args.n)
            for concurrency in args.concurrency:
                last = concurrency == args.concurrency[-1]
                wall, cpu, summary = run_once(
                    folder, out, url, concurrency, cache if last else None,
                    engine=args.engine, stub_pid=stub.pid,
                )  # fmt: skip
                ideal = args.n * args.latency / concurrency
                figures["runs"].append(
                    row(
                        f"concurrency {concurrency}",
                        args.n,
                        wall,
                        cpu,
                        ideal=ideal,
                        summary=summary,
                    )
                )
            wall, cpu, summary = run_once(
                folder, out, url, args.concurrency[-1], cache, engine=args.engine,
                stub_pid=stub.pid,
            )  # fmt: skip
            figures["runs"].append(
                row("cached re-run", args.n, wall, cpu, ideal=None, summary=summary)
            )
    finally:
        if ray is not None:
            ray.shutdown()
        stub.terminate()
        stub.wait()
    figures["machine"]["load_after"] = os.getloadavg()
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"figures: {args.json}")


if __name__ == "__main__":
    main()
