"""``OpenAIClient``: Instructor over the ``openai`` client in TOOLS mode.

The record's JSON Schema is sent as a forced function call. OpenAI honours it,
and so does the llama.cpp server, which turns a forced tool's parameters
into a grammar, so the embedded model can only emit schema-shaped JSON. One
code path serves OpenAI, any OpenAI-compatible URL and the embedded server.
"""

from __future__ import annotations

import json
from typing import Any

import instructor
import openai
import tenacity
from instructor.core.exceptions import IncompleteOutputException, InstructorRetryException
from instructor.core.hooks import Hooks
from pydantic import ValidationError

from extractor.config import ModelConfig
from extractor.errors import ExtractionFailed, ProviderError
from extractor.model.base import Completion, M, Messages, Usage
from extractor.model.retry import RetryPolicy, call_with_retries


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

    def reasks(self, max_reasks: int) -> tenacity.AsyncRetrying:
        """Instructor's re-ask loop: output errors only, at most ``max_reasks`` more calls."""
        return tenacity.AsyncRetrying(
            stop=tenacity.stop_after_attempt(max_reasks + 1),
            retry=tenacity.retry_if_exception(lambda e: _is_output_error(e) and not self.truncated),
            reraise=True,
        )


def _raw_output(response: Any) -> str | None:
    try:
        message = response.choices[0].message
        if message.tool_calls:
            return str(message.tool_calls[0].function.arguments)
        return None if message.content is None else str(message.content)
    except (AttributeError, IndexError, TypeError):
        return None


class OpenAIClient:
    """Instructor over an OpenAI-compatible endpoint, with transport retries."""

    def __init__(self, config: ModelConfig, retry: RetryPolicy | None = None) -> None:
        if config.base_url is None or config.model is None:
            raise ValueError("OpenAIClient needs a base URL and a model name")
        self.config = config
        self.model = config.model
        self.endpoint = config.base_url
        self.retry = retry or RetryPolicy(
            max_attempts=config.max_retries + 1, initial=config.retry_wait
        )
        self._openai = openai.AsyncOpenAI(
            base_url=config.base_url,
            api_key=config.api_key or "no-key",
            timeout=config.timeout,
            max_retries=0,  # retries are ours (extractor.model.retry), not the SDK's
        )
        self._instructor = instructor.from_openai(self._openai, mode=instructor.Mode.TOOLS)

    async def complete(self, messages: Messages, response_model: type[M]) -> Completion[M]:
        """One validated record: transport failures retried, invalid output re-asked."""
        log = _CallLog(self.config.max_completion_tokens)

        async def attempt() -> M:
            try:
                record, _ = await self._instructor.chat.completions.create_with_completion(
                    model=self.model,
                    messages=messages,  # type: ignore[arg-type]
                    response_model=response_model,
                    max_retries=log.reasks(self.config.max_reasks),
                    temperature=self.config.temperature,
                    max_tokens=self.config.max_completion_tokens,
                    hooks=log.hooks,
                )
            except IncompleteOutputException as e:  # finish_reason "length"
                log.truncated = True
                raise log.failure(e) from e
            except InstructorRetryException as e:
                cause = e.__cause__
                if cause is not None and not _is_output_error(cause):
                    # A transport failure: let the retry policy judge it, keeping its own cause.
                    raise cause from cause.__cause__
                raise log.failure(cause or e) from e
            return record

        try:
            record, _ = await call_with_retries(attempt, self.retry)
        except ProviderError as e:
            e.attempts = log.requests
            raise
        # Instructor hands back its own subclass carrying the raw response; return the plain model.
        clean = response_model.model_validate(record.model_dump())
        return Completion(record=clean, usage=log.usage, attempts=log.requests)

    async def aclose(self) -> None:
        """Close the HTTP connection pool."""
        await self._openai.close()

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
