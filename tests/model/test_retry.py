"""Transport retries: what is retried, Retry-After, bounds; re-asks are bounded apart.

The end-to-end cases run the real OpenAI adapter against the stub server on
127.0.0.1.
"""

from __future__ import annotations

import asyncio
import email.utils
import time
from collections.abc import Callable
from typing import Any

import httpx2 as httpx
import openai
import pytest

from extractor.config import ModelConfig
from extractor.errors import ExtractionFailed, ProviderError
from extractor.model.base import Completion
from extractor.model.openai import OpenAIClient
from extractor.model.retry import RetryPolicy, call_with_retries, is_transient, retry_after_seconds
from extractor.templates.nen import CaseReport
from extractor.testing.stub_server import stub_server
from tests.conftest import minimal_record

FAST = RetryPolicy(max_attempts=4, initial=0.01, maximum=0.05, jitter=0.01)
MESSAGES = [{"role": "user", "content": "A 50-year-old woman with a pancreatic NET."}]


def status_error(status: int, headers: dict[str, str] | None = None) -> openai.APIStatusError:
    request = httpx.Request("POST", "http://x/v1/chat/completions")
    response = httpx.Response(status, headers=headers or {}, request=request, json={})
    cls = {
        400: openai.BadRequestError, 401: openai.AuthenticationError, 404: openai.NotFoundError,
        429: openai.RateLimitError, 500: openai.InternalServerError,
    }.get(status, openai.APIStatusError)  # fmt: skip
    return cls(f"HTTP {status}", response=response, body=None)


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (status_error(429), True),
        (status_error(500), True),
        (status_error(503), True),
        (status_error(400), False),
        (status_error(401), False),
        (status_error(404), False),
        (openai.APITimeoutError(httpx.Request("POST", "http://x")), True),
        (openai.APIConnectionError(request=httpx.Request("POST", "http://x")), True),
        (ValueError("bug"), False),
    ],
)
def test_which_errors_are_transient(error: BaseException, transient: bool) -> None:
    assert is_transient(error) is transient


def test_retry_after_in_seconds_milliseconds_and_http_date() -> None:
    assert retry_after_seconds(status_error(429, {"Retry-After": "7"})) == 7.0
    assert retry_after_seconds(status_error(429, {"retry-after-ms": "250"})) == 0.25
    date = email.utils.formatdate(time.time() + 30, usegmt=True)
    after = retry_after_seconds(status_error(429, {"Retry-After": date}))
    assert after is not None
    assert 25 < after <= 30
    assert retry_after_seconds(status_error(429)) is None


def test_policy_waits_what_the_server_asked_capped() -> None:
    waits: list[float] = []
    errors = iter(
        [status_error(429, {"Retry-After": "3"}), status_error(429, {"Retry-After": "999"})]
    )

    def flaky() -> str:
        error = next(errors, None)
        if error is not None:
            raise error
        return "done"

    policy = RetryPolicy(max_attempts=5, max_retry_after=60)
    assert retry(flaky, policy, waits) == ("done", 3)
    assert waits == [3.0, 60.0]


def test_backoff_grows_and_stops_at_max_attempts() -> None:
    waits: list[float] = []

    def always_500() -> None:
        raise status_error(500)

    policy = RetryPolicy(max_attempts=4, initial=1, maximum=30, jitter=0)
    with pytest.raises(ProviderError, match="HTTP 500") as info:
        retry(always_500, policy, waits)
    assert waits == [1.0, 2.0, 4.0]
    assert info.value.attempts == 4
    assert not info.value.fatal


@pytest.mark.parametrize(("status", "fatal"), [(401, True), (404, True), (400, False)])
def test_client_errors_fail_at_once(status: int, fatal: bool) -> None:
    calls: list[int] = []

    def fail() -> None:
        calls.append(1)
        raise status_error(status)

    with pytest.raises(ProviderError, match=f"HTTP {status}") as info:
        retry(fail, FAST)
    assert len(calls) == 1
    assert info.value.fatal is fatal


def complete_via(base_url: str, timeout: float = 10.0) -> Completion[CaseReport]:
    async def complete() -> Completion[CaseReport]:
        config = ModelConfig(model="stub", base_url=base_url, timeout=timeout)
        async with OpenAIClient(config, retry=FAST) as client:
            return await client.complete(MESSAGES, CaseReport)

    return asyncio.run(complete())


def retry(fn: Callable[[], Any], policy: RetryPolicy, waits: list[float] | None = None) -> Any:
    """Run ``call_with_retries`` on a plain function, recording the waits instead of sleeping."""

    async def call() -> Any:
        return fn()

    async def sleep(seconds: float) -> None:
        if waits is not None:
            waits.append(seconds)

    return asyncio.run(call_with_retries(call, policy, sleep=sleep))


@pytest.mark.parametrize("fault", ["500", "502", "503", "malformed", "drop"])
def test_adapter_recovers_from_a_transient_fault(fault: str) -> None:
    with stub_server(minimal_record(), [fault]) as (url, state):
        completion = complete_via(url)
    assert completion.record == CaseReport.model_validate(minimal_record())
    assert completion.attempts == 2
    assert len(state.requests) == 2


def test_adapter_honours_retry_after_from_a_429() -> None:
    with stub_server(minimal_record(), ["429"], retry_after=1) as (url, state):
        completion = complete_via(url)
    assert completion.attempts == 2
    (first, _), (second, _) = state.requests
    assert second - first >= 0.9


def test_adapter_retries_a_timed_out_request() -> None:
    with stub_server(minimal_record(), ["slow"], slow_seconds=1.5) as (url, state):
        completion = complete_via(url, timeout=0.5)
    assert completion.attempts == 2
    assert len(state.requests) == 2


def test_adapter_gives_up_after_the_retry_bound() -> None:
    with stub_server(minimal_record(), default="503") as (url, state):
        with pytest.raises(ProviderError, match="HTTP 503") as info:
            complete_via(url)
    assert len(state.requests) == FAST.max_attempts
    assert info.value.attempts == FAST.max_attempts


def test_adapter_fails_at_once_on_401_with_a_clear_message() -> None:
    with stub_server(minimal_record(), default="401") as (url, state):
        with pytest.raises(ProviderError, match="OPENAI_API_KEY") as info:
            complete_via(url)
    assert info.value.fatal
    assert len(state.requests) == 1


def test_invalid_output_is_reasked_and_usage_counts_every_attempt() -> None:
    with stub_server(minimal_record(), ["invalid"]) as (url, state):
        completion = complete_via(url)
    assert completion.attempts == 2
    assert completion.usage.prompt_tokens == 200
    assert completion.usage.completion_tokens == 80
    reask = state.requests[1][1]["messages"]
    assert len(reask) > len(MESSAGES)  # the validation error went back to the model


def test_reasks_are_bounded_separately() -> None:
    with stub_server(minimal_record(), default="invalid") as (url, state):
        with pytest.raises(ExtractionFailed, match="did not validate") as info:
            complete_via(url)
    max_reasks = ModelConfig().max_reasks
    assert info.value.attempts == len(state.requests) == max_reasks + 1
    assert info.value.last_output is not None
    assert "not-an-enum" in info.value.last_output


def test_an_answer_cut_at_the_token_limit_is_not_reasked() -> None:
    with stub_server(minimal_record(), default="truncated") as (url, state):
        with pytest.raises(ExtractionFailed, match="token limit") as info:
            complete_via(url)
    assert len(state.requests) == info.value.attempts == 1


def test_a_dropped_connection_is_fatal_only_while_the_endpoint_never_answered() -> None:
    """Nothing listening stops a run; once the endpoint has answered, a drop costs one call."""

    async def two_calls(url: str) -> list[ProviderError | None]:
        config = ModelConfig(model="stub", base_url=url)
        one_try = RetryPolicy(max_attempts=1)
        outcomes: list[ProviderError | None] = []
        async with OpenAIClient(config, retry=one_try) as client:
            for _ in range(2):
                try:
                    await client.complete(MESSAGES, CaseReport)
                    outcomes.append(None)
                except ProviderError as e:
                    outcomes.append(e)
        return outcomes

    with stub_server(minimal_record(), ["drop", "ok"]) as (url, _):
        never, _ok = asyncio.run(two_calls(url))
    with stub_server(minimal_record(), ["ok", "drop"]) as (url, _):
        _ok, later = asyncio.run(two_calls(url))
    assert never is not None
    assert never.fatal
    assert "cannot reach the model endpoint" in str(never)
    assert later is not None
    assert not later.fatal
