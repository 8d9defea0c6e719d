"""Limits a bulk run respects: requests and tokens per minute, and a total budget."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass


class RateLimiter:
    """At most ``rpm`` requests and ``tpm`` tokens in any 60-second window.

    ``acquire`` waits until one more request fits; ``spend`` records the tokens
    a finished request used (tokens are known only afterwards, so a burst can
    overshoot ``tpm`` by the requests in flight, never more).
    """

    window = 60.0

    def __init__(
        self,
        rpm: float | None = None,
        tpm: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rpm = rpm
        self.tpm = tpm
        self.clock = clock
        self._requests: deque[float] = deque()
        self._tokens: deque[tuple[float, int]] = deque()

    def _forget_old(self, now: float) -> None:
        while self._requests and now - self._requests[0] >= self.window:
            self._requests.popleft()
        while self._tokens and now - self._tokens[0][0] >= self.window:
            self._tokens.popleft()

    def delay(self) -> float:
        """Seconds to wait before one more request fits (0 when it fits now)."""
        now = self.clock()
        self._forget_old(now)
        waits = [0.0]
        if self.rpm is not None and len(self._requests) >= self.rpm:
            waits.append(self._requests[0] + self.window - now)
        if self.tpm is not None and sum(t for _, t in self._tokens) >= self.tpm:
            waits.append(self._tokens[0][0] + self.window - now)
        return max(waits)

    async def acquire(self) -> None:
        """Wait until a request fits, then count it."""
        while (wait := self.delay()) > 0:
            await asyncio.sleep(wait)
        self._requests.append(self.clock())

    def spend(self, tokens: int) -> None:
        """Record tokens used by a finished request."""
        if tokens:
            self._tokens.append((self.clock(), tokens))


@dataclass(frozen=True)
class Budget:
    """Stop scheduling documents once the run has spent this much (``None``: no limit)."""

    max_cost: float | None = None
    max_tokens: int | None = None

    def reached(self, cost: float, tokens: int) -> str | None:
        """Why the run must stop, or ``None`` while it may go on."""
        if self.max_cost is not None and cost >= self.max_cost:
            return f"cost limit ${self.max_cost:g} reached (${cost:.4f} spent)"
        if self.max_tokens is not None and tokens >= self.max_tokens:
            return f"token limit {self.max_tokens:,} reached ({tokens:,} used)"
        return None
