"""What is retried, how often and how long.

Transport failures that may pass (HTTP 408/409/429 and 5xx, timeouts,
connection errors, an unreadable response body) are retried with exponential
backoff and jitter, honouring ``Retry-After``. Client errors (400, 401, 403,
404, 422) fail at once. Re-asking the model after output that does not
validate is bounded separately (``ModelConfig.max_reasks``, done by
Instructor); this module only handles the transport. Messages are masked
(``extractor.model.secrets``): an endpoint echoing the key gets it hidden.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import openai
import tenacity

from extractor.errors import ProviderError
from extractor.model.secrets import mask

T = TypeVar("T")

RETRYABLE_STATUS = frozenset({408, 409, 429})
FATAL_STATUS = frozenset({401, 403, 404})


@dataclass(frozen=True)
class RetryPolicy:
    """Bounds of the transport retry loop.

    ``max_attempts`` counts the first try; waits grow as
    ``initial * 2**n`` up to ``maximum`` plus up to ``jitter`` seconds; a
    server's ``Retry-After`` is obeyed up to ``max_retry_after`` seconds.
    """

    max_attempts: int = 5
    initial: float = 1.0
    maximum: float = 30.0
    jitter: float = 1.0
    max_retry_after: float = 120.0

    def wait(self, state: tenacity.RetryCallState) -> float:
        """Seconds to wait before the next attempt."""
        outcome = state.outcome
        error = outcome.exception() if outcome is not None else None
        if error is not None and (after := retry_after_seconds(error)) is not None:
            return min(after, self.max_retry_after)
        backoff = tenacity.wait_exponential_jitter(
            multiplier=self.initial, max=self.maximum, jitter=self.jitter
        )
        return float(backoff(state))


def is_transient(error: BaseException) -> bool:
    """True for failures worth another attempt."""
    if isinstance(error, openai.APIStatusError):
        return error.status_code in RETRYABLE_STATUS or error.status_code >= 500
    return isinstance(
        error,
        openai.APITimeoutError
        | openai.APIConnectionError
        | openai.APIResponseValidationError
        | json.JSONDecodeError,
    )


def retry_after_seconds(error: BaseException) -> float | None:
    """The delay a server asked for in ``Retry-After`` (seconds or HTTP date), if any."""
    response = getattr(error, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    value = headers.get("retry-after-ms")
    if value is not None:
        try:
            return max(0.0, float(value) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value) if value.strip() else None
        return None if parsed is None else max(0.0, parsed.timestamp() - time.time())


def describe(error: BaseException) -> ProviderError:
    """A ``ProviderError`` with a masked message that says what failed and what to do.

    401, 403 and 404 are fatal (they recur for every document); a connection
    that failed is not (the client decides when an endpoint never answered).
    """
    if isinstance(error, openai.APIStatusError):
        status = error.status_code
        hint = {
            401: "check OPENAI_API_KEY (or the key your endpoint expects)",
            403: "the key has no access to this model or endpoint",
            404: "check --model and --base-url (the endpoint should end in /v1)",
        }.get(status, "")
        detail = mask(_error_detail(error))
        message = f"HTTP {status} from the model endpoint: {detail}" + (f"; {hint}" if hint else "")
        return ProviderError(message, original=error, status=status, fatal=status in FATAL_STATUS)
    if is_unreachable(error):
        message = mask(f"cannot reach the model endpoint: {error}; is the server running?")
        return ProviderError(message, original=error)
    if isinstance(error, openai.APITimeoutError):
        return ProviderError("the model endpoint timed out", original=error)
    return ProviderError(mask(f"bad response from the model endpoint: {error}"), original=error)


def is_unreachable(error: BaseException | None) -> bool:
    """True when ``error`` is a connection that failed (refused, dropped), not a timeout."""
    return isinstance(error, openai.APIConnectionError) and not isinstance(
        error, openai.APITimeoutError
    )


def _error_detail(error: openai.APIStatusError) -> str:
    body = error.body
    if isinstance(body, dict):
        message = body.get("message") or body.get("error") or body
        if isinstance(message, dict):
            message = message.get("message", message)
        return str(message)[:300]
    return str(error.message)[:300]


async def call_with_retries(
    fn: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> tuple[T, int]:
    """Await ``fn()`` under ``policy``; return its result and the number of attempts.

    A failure that is not transient, or the last transient one, is raised as
    a ``ProviderError`` (with ``attempts`` set).
    """
    retrying = tenacity.AsyncRetrying(
        retry=tenacity.retry_if_exception(is_transient),
        stop=tenacity.stop_after_attempt(policy.max_attempts),
        wait=policy.wait,
        sleep=sleep,
        reraise=True,
    )
    attempts = 0
    try:
        async for attempt in retrying:
            with attempt:
                attempts = attempt.retry_state.attempt_number
                result = await fn()
        return result, attempts
    except ProviderError:
        raise
    except (openai.OpenAIError, json.JSONDecodeError) as e:
        error = describe(e)
        error.attempts = attempts
        raise error from e
