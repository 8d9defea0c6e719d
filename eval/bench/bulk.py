"""Bulk-runner benchmark: wall time against the ideal, and the cost of a cached re-run.

Runs, in one invocation, N documents through ``extract_files`` against the
stub OpenAI server (a separate process on 127.0.0.1, fixed latency, no
faults) at concurrency 1, 8 and 32, then a fully cached re-run of the same N.
Prints wall seconds, documents per second and wall / ideal, where ideal is
N x latency / concurrency; writes the figures as JSON.

    .venv/bin/python eval/bench/bulk.py [--n 400] [--latency 0.2] [--json eval/bench/bulk.json]
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
from extractor.extraction.bulk import extract_files

REPO = Path(__file__).resolve().parents[2]


def start_stub(latency: float) -> tuple[subprocess.Popen[str], str]:
    stub = subprocess.Popen(
        [sys.executable, "-m", "extractor.testing.stub_server", "--latency", str(latency)],
        cwd=REPO, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert stub.stdout is not None
    return stub, stub.stdout.readline().strip()


def run_once(
    folder: Path, out: Path, url: str, concurrency: int, cache: Path | None
) -> tuple[float, Any]:
    config = ModelConfig(model="stub", base_url=url, timeout=30.0)
    settings = RunSettings(
        concurrency=concurrency, overwrite=True, cache_dir=cache, strategy="whole"
    )
    started = time.perf_counter()
    summary = asyncio.run(extract_files([folder], out, config, settings))
    return time.perf_counter() - started, summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=400)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--json", type=Path, default=REPO / "eval" / "bench" / "bulk.json")
    args = parser.parse_args()
    stub, url = start_stub(args.latency)
    figures: dict[str, Any] = {
        "n": args.n, "latency_s": args.latency,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform()},
        "runs": [],
    }  # fmt: skip
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "docs"
            folder.mkdir()
            for i in range(args.n):
                (folder / f"doc{i:05d}.txt").write_text(f"Case {i}: a 55-year-old with a NET.")
            for concurrency in (1, 8, 32):
                cache = Path(tmp) / "cache" if concurrency == 32 else None
                wall, summary = run_once(folder, Path(tmp) / "out.jsonl", url, concurrency, cache)
                ideal = args.n * args.latency / concurrency
                row = {"run": f"concurrency {concurrency}", "wall_s": round(wall, 2),
                       "docs_per_s": round(args.n / wall, 1), "ideal_s": round(ideal, 2),
                       "ratio_to_ideal": round(wall / ideal, 3), "ok": summary.ok}  # fmt: skip
                figures["runs"].append(row)
                print(f"{row['run']:>16}: {wall:7.2f} s  {row['docs_per_s']:7.1f} doc/s  "
                      f"ideal {ideal:6.2f} s  ratio {row['ratio_to_ideal']:.3f}")  # fmt: skip
            wall, summary = run_once(folder, Path(tmp) / "out.jsonl", url, 32, Path(tmp) / "cache")
            row = {"run": "cached re-run", "wall_s": round(wall, 3),
                   "cache_hits": summary.cache_hits,
                   "ms_per_doc": round(1000 * wall / args.n, 2)}  # fmt: skip
            figures["runs"].append(row)
            print(f"   cached re-run: {wall:7.3f} s  {row['ms_per_doc']:.2f} ms/doc  "
                  f"({summary.cache_hits} cache hits)")  # fmt: skip
    finally:
        stub.terminate()
        stub.wait()
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"figures: {args.json}")


if __name__ == "__main__":
    main()
