"""The OpenAI adapter over HTTP, replayed from cassettes recorded against the embedded server.

To re-record (needs the [local] extra): start the embedded server, e.g.
``python -m llama_cpp.server --model $(python -c 'from extractor.model.embedded import
default_gguf; print(default_gguf())') --port 8766 --n_ctx 8192``, then run
``RECORD_BASE_URL=http://127.0.0.1:8766/v1 pytest tests/test_llm.py --record-mode=rewrite``.
Requests are matched on method, path and body, so replay works on any port;
an unrecorded request fails the test. Recorded with
``max_tokens`` kept small so the recording stays short.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any, Literal, TypeVar

import pytest
import yaml
from pydantic import BaseModel, Field

from extractor.config import ModelConfig
from extractor.errors import ExtractionFailed, ProviderError
from extractor.model.base import Completion
from extractor.model.openai import OpenAIClient
from extractor.model.retry import RetryPolicy
from extractor.templates.nen import CaseReport, schema_json
from tests.conftest import GOLD

BASE_URL = os.environ.get("RECORD_BASE_URL", "http://127.0.0.1:8766/v1")
CASSETTES = Path(__file__).parent / "cassettes" / "test_openai"
SEED_000 = (GOLD / "docs" / "000_41db0c827232113d.txt").read_text(encoding="utf-8")
SEED_002 = (GOLD / "docs" / "002_576a4924710f90de.txt").read_text(encoding="utf-8")
M = TypeVar("M", bound=BaseModel)
SYSTEM = "Extract the case report record. Use null when the document does not say."


class Bibliography(BaseModel):
    """A small response model: the adapter's path is the same as for the whole record."""

    title: str | None = Field(max_length=300)
    year: int | None
    document_type: Literal["case_report", "case_series", "other"]


def messages(document: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": document}]


def cassette(name: str) -> dict[str, Any]:
    return dict(yaml.safe_load((CASSETTES / f"{name}.yaml").read_text()))


@pytest.fixture(scope="module")
def vcr_config() -> dict[str, Any]:
    return {
        "filter_headers": ["authorization"],
        "match_on": ["method", "path", "body"],
        "decode_compressed_response": True,
    }


def client(**changes: Any) -> OpenAIClient:
    config = ModelConfig(
        model="SmolLM2-135M-Instruct.Q4_1", base_url=BASE_URL, api_key="sk-secret", **changes
    )
    return OpenAIClient(config, retry=RetryPolicy(max_attempts=1))


def complete(response_model: type[M], document: str, **changes: Any) -> Completion[M]:
    async def call() -> Completion[M]:
        async with client(**changes) as c:
            return await c.complete(messages(document), response_model)

    return asyncio.run(call())


@pytest.mark.vcr
def test_embedded_model_answers_through_a_forced_tool_call() -> None:
    completion = complete(Bibliography, SEED_000)
    assert isinstance(completion.record, Bibliography)
    assert completion.attempts == 1
    assert completion.usage.prompt_tokens > 0
    assert completion.usage.completion_tokens > 0
    body = json.loads(cassette("test_embedded_model_answers_through_a_forced_tool_call")[
        "interactions"][0]["request"]["body"])  # fmt: skip
    assert body["tool_choice"] == {"type": "function", "function": {"name": "Bibliography"}}
    parameters = body["tools"][0]["function"]["parameters"]
    assert set(parameters["properties"]) == {"title", "year", "document_type"}
    assert body["temperature"] == 0.0


@pytest.mark.vcr
def test_whole_record_cut_at_the_token_limit_is_a_clear_failure_not_reasked() -> None:
    """Recorded: at 1024 tokens SmolLM2 had not closed the record; the adapter
    reports that, with usage and raw output, and does not ask again."""
    with pytest.raises(ExtractionFailed, match="token limit") as info:
        complete(CaseReport, SEED_002, max_completion_tokens=1024)
    assert info.value.attempts == 1
    assert info.value.usage.completion_tokens == 1024
    assert info.value.last_output
    assert info.value.last_output.startswith("{")
    recorded = cassette("test_whole_record_cut_at_the_token_limit_is_a_clear_failure_not_reasked")
    body = json.loads(recorded["interactions"][0]["request"]["body"])
    assert set(body["tools"][0]["function"]["parameters"]["properties"]) == set(
        schema_json()["properties"]
    )


def test_cassettes_hold_no_credentials() -> None:
    for path in CASSETTES.glob("*.yaml"):
        text = path.read_text()
        assert "sk-secret" not in text, path
        assert "authorization" not in text.lower(), path


@pytest.mark.vcr
def test_an_unrecorded_request_fails() -> None:
    with pytest.raises(ProviderError) as info:
        complete(Bibliography, "A request that was never recorded.")
    causes: list[str] = []
    error: BaseException | None = info.value
    while error is not None and type(error).__name__ not in causes:
        causes.append(type(error).__name__)
        error = error.__cause__ or error.__context__
    assert "CannotOverwriteExistingCassetteException" in causes


def test_a_raw_newline_inside_a_json_string_is_read_as_a_space() -> None:
    """The grammar lets a small model emit one; the parser would reject the whole answer."""
    from types import SimpleNamespace

    from extractor.model.openai import lenient_arguments

    raw = '{"title": "Two\nlines", "doi": null}'
    call = SimpleNamespace(function=SimpleNamespace(arguments=raw))
    response = SimpleNamespace(
        choices=[SimpleNamespace(message=SimpleNamespace(tool_calls=[call]))]
    )
    lenient_arguments(response)
    assert json.loads(call.function.arguments) == {"title": "Two lines", "doi": None}
