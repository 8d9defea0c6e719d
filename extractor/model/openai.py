"""``OpenAIClient``: Instructor over the ``openai`` client in TOOLS mode.

The record's JSON Schema is sent as a forced function call. OpenAI honours it,
and so does the llama.cpp server, which turns a forced tool's parameters
into a grammar, so the embedded model can only emit schema-shaped JSON. One
code path serves OpenAI, any OpenAI-compatible URL and the embedded server.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

import openai
import openai._base_client
from instructor.core.exceptions import IncompleteOutputException
from instructor.core.hooks import Hooks
from openai._models import construct_type
from openai.types.chat import ChatCompletion
from pydantic import ValidationError

from extractor.config import ModelConfig
from extractor.errors import ExtractionFailed, ProviderError
from extractor.model.base import Completion, M, Messages, Usage
from extractor.model.retry import RetryPolicy, call_with_retries, is_unreachable
from extractor.model.secrets import redact_url, remember, url_secrets
from extractor.model.tools import encoded, parse, reask, request_body

LANE_REQUESTS = 16  # requests in flight per HTTP connection pool (see ``OpenAIClient``)
# The SDK's own HTTP library (httpx2 since openai 3, httpx before), whose raw responses it hands
# back as they are; and whether its ``post`` takes the body as bytes (``content``).
_SDK: Any = openai._base_client
_SDK_HTTP: Any = getattr(_SDK, "httpx2", None) or _SDK.httpx
_POSTS_BYTES = "content" in inspect.signature(openai.AsyncOpenAI.post).parameters


class _CallLog:
    """Per-call Instructor hooks: counts requests, sums usage, keeps the last output.

    ``truncated`` is set when an answer stopped at the token limit: asking
    again at the same limit would only repeat the cut, so re-asks stop.
    """

    def __init__(self, max_tokens: int) -> None:
        self.max_tokens = max_tokens
        self.requests = 0
        self.usage = Usage()
        self.last_output: str | None = None
        self.truncated = False
        self.hooks = Hooks()
        self.hooks.on("completion:kwargs", self._on_request)
        self.hooks.on("completion:response", self._on_response)

    def _on_request(self, *args: Any, **kwargs: Any) -> None:
        self.requests += 1

    def _on_response(self, response: Any) -> None:
        lenient_arguments(response)
        usage = getattr(response, "usage", None)
        if usage is not None:
            self.usage += Usage(usage.prompt_tokens or 0, usage.completion_tokens or 0)
        self.last_output = _raw_output(response)
        finish = getattr(getattr(response, "choices", [None])[0], "finish_reason", None)
        completion_tokens = getattr(usage, "completion_tokens", 0) or 0
        self.truncated = finish == "length" or completion_tokens >= self.max_tokens

    def failure(self, error: BaseException) -> ExtractionFailed:
        """The ``ExtractionFailed`` that ends this call."""
        reason = (
            f"the answer was cut at the {self.max_tokens}-token limit "
            "(raise --max-completion-tokens, or use a stronger model or a smaller prompt)"
            if self.truncated
            else _first_line(error)
        )
        return ExtractionFailed(
            f"the model's output did not validate after {self.requests} calls: {reason}",
            attempts=self.requests,
            last_output=self.last_output,
            usage=self.usage,
        )


_CONTROL = re.compile(r"[\x00-\x1f]")


def lenient_arguments(response: Any) -> None:
    """Turn raw control characters in a tool call's arguments into spaces, in place.

    Small models put a raw newline inside a JSON string, which the grammar
    allows and the JSON parser rejects; outside strings a space is the same
    whitespace, inside one it is what the newline meant.
    """
    try:
        calls = response.choices[0].message.tool_calls or []
    except (AttributeError, IndexError, TypeError):
        return
    for call in calls:
        arguments = getattr(call.function, "arguments", None)
        if isinstance(arguments, str) and _CONTROL.search(arguments):
            call.function.arguments = _CONTROL.sub(" ", arguments)


def _raw_output(response: Any) -> str | None:
    try:
        message = response.choices[0].message
        if message.tool_calls:
            return str(message.tool_calls[0].function.arguments)
        return None if message.content is None else str(message.content)
    except (AttributeError, IndexError, TypeError):
        return None


class OpenAIClient:
    """Instructor over an OpenAI-compatible endpoint, with transport retries.

    ``endpoint`` is the base URL without its credentials (they are masked in
    every message). A connection that fails before the endpoint has ever
    answered is fatal (nothing is listening); once it has answered, a
    dropped connection fails only the document whose retries ran out.
    """

    def __init__(self, config: ModelConfig, retry: RetryPolicy | None = None) -> None:
        if config.base_url is None or config.model is None:
            raise ValueError("OpenAIClient needs a base URL and a model name")
        remember(config.api_key, *url_secrets(config.base_url))
        self.config = config
        self.model = config.model
        self.endpoint = redact_url(config.base_url)
        self.answered = False
        self.retry = retry or RetryPolicy(
            max_attempts=config.max_retries + 1, initial=config.retry_wait
        )
        self._lanes: list[openai.AsyncOpenAI] = []
        self._in_flight: list[int] = []

    async def complete(self, messages: Messages, response_model: type[M]) -> Completion[M]:
        """One validated record: transport failures retried, invalid output re-asked."""
        log = _CallLog(self.config.max_completion_tokens)

        async def attempt() -> M:
            # Instructor's TOOLS handler, with the tool built once per model (model.tools):
            # its per-call preparation costs more CPU than the rest of a request.
            request = request_body(
                self.model, messages, response_model,
                temperature=self.config.temperature, max_tokens=self.config.max_completion_tokens,
            )  # fmt: skip
            for reasks_left in range(self.config.max_reasks, -1, -1):
                log.hooks.emit_completion_arguments(**request)
                # Posted as built: the SDK's typed-params walk over the tool schema is skipped.
                body = encoded(request, response_model) if _POSTS_BYTES else request
                response = await self._post(body)
                log.hooks.emit_completion_response(response)
                try:
                    return parse(response, response_model)  # the plain model, validated
                except IncompleteOutputException as e:  # finish_reason "length"
                    log.truncated = True
                    raise log.failure(e) from e
                except Exception as e:
                    if not _is_output_error(e):
                        raise  # let the retry policy judge it
                    if log.truncated or not reasks_left:
                        raise log.failure(e) from e
                    request = reask(request, response, e)
            raise AssertionError("unreachable: the last re-ask returns or raises")

        try:
            record, _ = await call_with_retries(lambda: self._noting(attempt), self.retry)
        except ProviderError as e:
            e.attempts = log.requests
            e.fatal = e.fatal or (not self.answered and is_unreachable(e.original))
            raise
        return Completion(record=record, usage=log.usage, attempts=log.requests)

    async def _noting(self, attempt: Callable[[], Awaitable[M]]) -> M:
        """``attempt()``, setting ``answered`` once any HTTP response has come back."""
        try:
            result = await attempt()
        except openai.APIConnectionError:  # refused, dropped or timed out: no answer
            raise
        except Exception:
            self.answered = True  # an HTTP error status, or an answer that did not validate
            raise
        self.answered = True
        return result

    async def _post(self, body: bytes | dict[str, Any]) -> ChatCompletion:
        """One chat completion through the least busy lane (a new one when all are full)."""
        lane = min(range(len(self._lanes)), key=self._in_flight.__getitem__, default=None)
        if lane is None or self._in_flight[lane] >= LANE_REQUESTS:
            lane = self._open_lane()
        self._in_flight[lane] += 1
        try:
            raw = await self._lanes[lane].post(
                "/chat/completions", cast_to=_SDK_HTTP.Response,
                **({"content": body} if isinstance(body, bytes) else {"body": body}),
            )  # fmt: skip
        finally:
            self._in_flight[lane] -= 1
        try:
            return ChatCompletion.model_validate_json(raw.content)
        except ValidationError:  # a lenient server's answer: the SDK's forgiving builder
            built = construct_type(type_=ChatCompletion, value=raw.json())
            assert isinstance(built, ChatCompletion)
            return built

    def _open_lane(self) -> int:
        self._lanes.append(
            openai.AsyncOpenAI(
                base_url=self.config.base_url,
                api_key=self.config.api_key or "no-key",
                timeout=self.config.timeout,
                max_retries=0,  # retries are ours (extractor.model.retry), not the SDK's
            )
        )
        self._in_flight.append(0)
        return len(self._lanes) - 1

    async def aclose(self) -> None:
        """Close the HTTP connection pools."""
        for lane in self._lanes:
            await lane.close()

    async def __aenter__(self) -> OpenAIClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


def _is_output_error(error: BaseException) -> bool:
    return isinstance(error, ValidationError | json.JSONDecodeError) or (
        type(error).__name__ in {"ResponseParsingError", "AsyncValidationError"}
    )


def _first_line(error: BaseException) -> str:
    if isinstance(error, ValidationError) and (errors := error.errors()):
        where = ".".join(str(part) for part in errors[0]["loc"]) or "record"
        return f"{len(errors)} validation error(s), first at {where}: {errors[0]['msg']}"[:300]
    text = str(error).strip().splitlines()
    return text[0][:300] if text else type(error).__name__
