"""Requests and tokens per minute, and the run budget."""

from __future__ import annotations

import asyncio

from extractor.extraction.limits import Budget, RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_requests_per_minute() -> None:
    clock = Clock()
    limiter = RateLimiter(rpm=2, clock=clock)
    asyncio.run(limiter.acquire())
    clock.now += 10
    asyncio.run(limiter.acquire())
    assert limiter.delay() == 50.0  # the first request leaves the window in 50 s
    clock.now += 50
    assert limiter.delay() == 0.0


def test_tokens_per_minute() -> None:
    clock = Clock()
    limiter = RateLimiter(tpm=1000, clock=clock)
    asyncio.run(limiter.acquire())
    limiter.spend(600)
    assert limiter.delay() == 0.0
    clock.now += 5
    limiter.spend(500)
    assert limiter.delay() == 55.0
    clock.now += 55
    assert limiter.delay() == 0.0


def test_no_limits_never_wait() -> None:
    limiter = RateLimiter()
    for _ in range(100):
        asyncio.run(limiter.acquire())
    assert limiter.delay() == 0.0


def test_budget() -> None:
    assert Budget().reached(1e9, 10**12) is None
    assert Budget(max_cost=1.0).reached(0.99, 0) is None
    assert "cost limit" in (Budget(max_cost=1.0).reached(1.0, 0) or "")
    assert "token limit" in (Budget(max_tokens=10).reached(0, 10) or "")
