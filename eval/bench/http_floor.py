"""The floor of the bulk benchmark: a bare HTTP client against the same stub, nothing else.

Posts N requests of the size the bulk benchmark sends (a 3-4 KB document and
the record's tool schema) to the stub on 127.0.0.1 at each concurrency, with
``httpx2`` (the SDK's HTTP library) and no parsing, validation, alignment
or writing, and prints wall / ideal: once through one connection pool, once
through pools of 16 connections each (the lanes ``OpenAIClient`` uses). What the bulk runner adds on
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


async def post_all(url: str, body: bytes, n: int, concurrency: int, per_pool: int) -> float:
    """Wall seconds to post ``body`` ``n`` times, ``concurrency`` at once, ``per_pool`` a pool."""
    pools = -(-concurrency // per_pool)
    clients = [
        httpx2.AsyncClient(limits=httpx2.Limits(max_connections=per_pool), timeout=60)
        for _ in range(pools)
    ]
    slots = asyncio.Semaphore(concurrency)

    async def one(number: int) -> None:
        async with slots:
            response = await clients[number % pools].post(
                f"{url}/chat/completions", content=body,
                headers={"content-type": "application/json"},
            )  # fmt: skip
            response.raise_for_status()

    try:
        started = time.perf_counter()
        await asyncio.gather(*(one(number) for number in range(n)))
        return time.perf_counter() - started
    finally:
        for client in clients:
            await client.aclose()


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
            for name, per_pool in (("one pool", concurrency), ("pools of 16", 16)):
                wall = asyncio.run(post_all(url, body, args.n, concurrency, per_pool))
                ideal = args.n * args.latency / concurrency
                print(f"concurrency {concurrency:>4}, {name:>11}: {wall:6.2f} s  "
                      f"ideal {ideal:6.2f} s  wall/ideal {wall / ideal:.3f}  "
                      f"({len(body):,} bytes a request)")  # fmt: skip
    finally:
        stub.terminate()


if __name__ == "__main__":
    main()
