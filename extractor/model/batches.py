"""Provider batch files: the OpenAI Batch API's request and result lines, and its endpoints.

A request line is ``{"custom_id", "method": "POST", "url": "/v1/chat/completions",
"body"}`` (``vllm run-batch`` reads the same format); a result line carries
the ``custom_id`` with either ``response: {status_code, body}`` or ``error``.
``answer_completion`` validates one answer the way the online client does
(``extractor.model.tools``). ``BatchService`` uploads a request file, asks for
its status and downloads its results, with the real ``openai`` client.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import openai
from instructor.core.exceptions import IncompleteOutputException
from openai.types.chat import ChatCompletion
from pydantic import ValidationError

from extractor.config import ModelConfig
from extractor.errors import ExtractionFailed, InputError, ProviderError
from extractor.model.base import Completion, M, Usage
from extractor.model.openai import lenient_arguments
from extractor.model.secrets import mask
from extractor.model.tools import parse

BATCH_URL: Final = "/v1/chat/completions"
_DONE = {"completed", "failed", "expired", "cancelled"}


def request_line(custom_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """One line of a batch request file."""
    return {"custom_id": custom_id, "method": "POST", "url": BATCH_URL, "body": body}


@dataclass(frozen=True)
class Answer:
    """What a batch returned for one request: an HTTP status and body, or an error."""

    status: int | None
    body: dict[str, Any] | None
    error: str | None = None

    @classmethod
    def of(cls, line: dict[str, Any]) -> Answer:
        """The answer of one result line (``{"custom_id", "response", "error"}``)."""
        response = line.get("response") or {}
        error = line.get("error")
        body = response.get("body") if isinstance(response.get("body"), dict) else None
        message = None
        if error:
            message = str(error.get("message") or error) if isinstance(error, dict) else str(error)
        elif response.get("status_code") != 200:
            detail = (body or {}).get("error") or {}
            message = str(detail.get("message") if isinstance(detail, dict) else detail)
        return cls(response.get("status_code"), body, message)

    def to_dict(self) -> dict[str, Any]:
        """The answer as JSON-ready data (kept between rounds)."""
        return {"status": self.status, "body": self.body, "error": self.error}


def read_results(path: Path) -> Iterator[tuple[str, Answer]]:
    """``(custom_id, answer)`` of each line of a batch result file, in file order."""
    try:
        with path.open(encoding="utf-8") as file:
            for number, raw in enumerate(file, start=1):
                if not raw.strip():
                    continue
                try:
                    line = json.loads(raw)
                    yield str(line["custom_id"]), Answer.of(line)
                except (ValueError, KeyError, TypeError, AttributeError) as e:
                    raise InputError(f"{path}:{number}: not a batch result line ({e})") from e
    except OSError as e:
        raise InputError(f"{path}: cannot read the batch results: {e.strerror or e}") from e


def answer_completion(answer: Answer, response_model: type[M], max_tokens: int) -> Completion[M]:
    """The validated record of one batch answer, as the online client would return it.

    A failed request is a ``ProviderError``; an answer that does not validate,
    or was cut at the token limit, an ``ExtractionFailed`` (one call each).
    """
    if answer.error is not None or answer.body is None or answer.status != 200:
        reason = answer.error or f"HTTP {answer.status}"
        raise ProviderError(f"the batch request failed: {mask(reason)[:300]}", status=answer.status)
    try:
        response = ChatCompletion.model_validate(answer.body)
    except ValidationError as e:
        raise ProviderError("the batch answer is not a chat completion", original=e) from e
    lenient_arguments(response)
    usage = Usage(
        getattr(response.usage, "prompt_tokens", 0) or 0,
        getattr(response.usage, "completion_tokens", 0) or 0,
    )
    try:
        record = parse(response, response_model)
    except Exception as e:  # any parsing failure is output that did not validate
        raise _failed(e, response, usage, max_tokens) from e
    return Completion(record=record, usage=usage, attempts=1)


def _failed(
    error: Exception, response: ChatCompletion, usage: Usage, max_tokens: int
) -> ExtractionFailed:
    if isinstance(error, IncompleteOutputException):
        reason = f"the answer was cut at the {max_tokens}-token limit"
    elif isinstance(error, ValidationError) and (errors := error.errors()):
        where = ".".join(str(part) for part in errors[0]["loc"]) or "record"
        reason = f"{len(errors)} validation error(s), first at {where}: {errors[0]['msg']}"
    else:
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
    message = response.choices[0].message if response.choices else None
    calls = (message.tool_calls if message else None) or []
    last = getattr(calls[0], "function", None) if calls else None
    return ExtractionFailed(
        f"the batch answer did not validate: {reason[:300]}",
        attempts=1,
        last_output=getattr(last, "arguments", None) or (message.content if message else None),
        usage=usage,
    )


@dataclass(frozen=True)
class BatchStatus:
    """A provider batch: its id, status, request counts and result files."""

    id: str
    status: str
    total: int
    completed: int
    failed: int
    output_file_id: str | None
    error_file_id: str | None

    @property
    def done(self) -> bool:
        """True once the batch will not change any more."""
        return self.status in _DONE


class BatchService:
    """The OpenAI Files and Batches endpoints, for a request file and its results."""

    def __init__(self, config: ModelConfig) -> None:
        self._client = openai.OpenAI(
            base_url=config.base_url,
            api_key=config.api_key or "no-key",
            timeout=config.timeout,
            max_retries=config.max_retries,
        )

    def submit(self, requests: Path, window: str = "24h") -> BatchStatus:
        """Upload ``requests`` and start a batch over it."""
        with _calling("submit the batch"), requests.open("rb") as file:
            uploaded = self._client.files.create(file=file, purpose="batch")
            batch = self._client.batches.create(
                input_file_id=uploaded.id,
                endpoint=BATCH_URL,
                completion_window=window,  # type: ignore[arg-type]
            )
        return _status(batch)

    def status(self, batch_id: str) -> BatchStatus:
        """The batch's current status."""
        with _calling("read the batch status"):
            return _status(self._client.batches.retrieve(batch_id))

    def fetch(self, batch_id: str, results: Path) -> BatchStatus:
        """Write the finished batch's answers and failed requests into ``results``."""
        status = self.status(batch_id)
        if not status.done:
            raise ProviderError(f"batch {batch_id} is {status.status}; fetch it once it is done")
        texts = []
        with _calling("download the batch results"):
            for file_id in (status.output_file_id, status.error_file_id):
                if file_id:
                    texts.append(self._client.files.content(file_id).text.rstrip("\n"))
        results.parent.mkdir(parents=True, exist_ok=True)
        results.write_text("".join(text + "\n" for text in texts if text), encoding="utf-8")
        return status

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._client.close()


@contextmanager
def _calling(what: str) -> Iterator[None]:
    """Turn the ``openai`` client's errors into a fatal ``ProviderError`` saying what failed."""
    try:
        yield
    except openai.OpenAIError as e:
        status = getattr(e, "status_code", None)
        raise ProviderError(
            f"could not {what}: {mask(str(e))[:300]}", original=e, status=status, fatal=True
        ) from e


def _status(batch: Any) -> BatchStatus:
    counts = getattr(batch, "request_counts", None)
    return BatchStatus(
        id=batch.id,
        status=batch.status,
        total=getattr(counts, "total", 0) or 0,
        completed=getattr(counts, "completed", 0) or 0,
        failed=getattr(counts, "failed", 0) or 0,
        output_file_id=batch.output_file_id,
        error_file_id=batch.error_file_id,
    )
