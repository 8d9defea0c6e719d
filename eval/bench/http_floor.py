"""The floor of the bulk benchmark: a bare HTTP client against the same stub, nothing else.

Posts N requests of the size the bulk benchmark sends (a 3-4 KB document and
the record's tool schema) to the stub on 127.0.0.1 at each concurrency, with
one ``httpx2`` client (the SDK's HTTP library) and no parsing, validation,
alignment or writing, and prints wall / ideal. What the bulk runner adds on
top is the framework's; what is here is the stub's, the HTTP stack's and the
machine's.

    .venv/bin/python eval/bench/http_floor.py [--n 2000] [--latency 0.2] [--concurrency 32 128]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

import httpx2

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bulk import SEEDS, start_stub

from extractor.model.tools import encoded, request_body
from extractor.templates.nen import CaseReport


async def post_all(url: str, body: bytes, n: int, concurrency: int) -> float:
    limits = httpx2.Limits(max_connections=concurrency)
    async with httpx2.AsyncClient(limits=limits, timeout=60) as client:
        slots = asyncio.Semaphore(concurrency)

        async def one() -> None:
            async with slots:
                response = await client.post(
                    f"{url}/chat/completions", content=body,
                    headers={"content-type": "application/json"},
                )  # fmt: skip
                response.raise_for_status()

        started = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(n)))
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[32, 128])
    args = parser.parse_args()
    messages = [{"role": "user", "content": SEEDS[1].read_text()}]
    request = request_body("stub", messages, CaseReport, temperature=0.0, max_tokens=2048)
    body = encoded(request, CaseReport)
    stub, url = start_stub(args.latency)
    try:
        for concurrency in args.concurrency:
            wall = asyncio.run(post_all(url, body, args.n, concurrency))
            ideal = args.n * args.latency / concurrency
            print(f"concurrency {concurrency:>4}: {wall:6.2f} s  ideal {ideal:6.2f} s  "
                  f"wall/ideal {wall / ideal:.3f}  ({len(body):,} bytes a request)")  # fmt: skip
    finally:
        stub.terminate()


if __name__ == "__main__":
    main()
