"""The OpenAI adapter over HTTP, replayed from cassettes recorded against the embedded server.

To re-record (needs the [local] extra): start the embedded server, e.g.
``python -m llama_cpp.server --model $(python -c 'from extractor.local_server import
default_gguf; print(default_gguf())') --port 8766 --n_ctx 8192``, then run
``RECORD_BASE_URL=http://127.0.0.1:8766/v1 pytest tests/test_llm.py --record-mode=rewrite``.
Requests are matched on method, path and body, so replay works on any port;
an unrecorded request fails the test.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import vcr.errors  # type: ignore[import-untyped]

from extractor.config import ModelConfig
from extractor.llm import OpenAIClient
from extractor.retry import RetryPolicy
from extractor.schema import CaseReport, schema_json
from tests.conftest import GOLD

BASE_URL = os.environ.get("RECORD_BASE_URL", "http://127.0.0.1:8766/v1")
CASSETTES = Path(__file__).parent / "cassettes" / "test_llm"
DOCUMENT = (GOLD / "docs" / "004_2c6c005e0ecc10ff.txt").read_text(encoding="utf-8")
MESSAGES = [
    {"role": "system", "content": "Extract the case report record. Use null when not stated."},
    {"role": "user", "content": DOCUMENT},
]


@pytest.fixture(scope="module")
def vcr_config() -> dict[str, Any]:
    return {
        "filter_headers": ["authorization"],
        "match_on": ["method", "path", "body"],
        "decode_compressed_response": True,
    }


def client() -> OpenAIClient:
    config = ModelConfig(model="SmolLM2-135M-Instruct.Q4_1", base_url=BASE_URL, api_key="sk-secret")
    return OpenAIClient(config, retry=RetryPolicy(max_attempts=1))


@pytest.mark.vcr
def test_embedded_model_fills_a_valid_record_through_a_forced_tool_call() -> None:
    completion = client().complete(MESSAGES, CaseReport)
    assert isinstance(completion.record, CaseReport)
    assert completion.attempts >= 1
    assert completion.usage.prompt_tokens > 0
    assert completion.usage.completion_tokens > 0
    cassette = (
        CASSETTES
        / f"{test_embedded_model_fills_a_valid_record_through_a_forced_tool_call.__name__}.yaml"
    ).read_text()
    assert "sk-secret" not in cassette
    assert "authorization" not in cassette.lower()


@pytest.mark.vcr
def test_request_sends_the_schema_as_a_forced_tool() -> None:
    client().complete(MESSAGES, CaseReport)
    import yaml  # type: ignore[import-untyped]

    cassette = yaml.safe_load(
        (CASSETTES / "test_request_sends_the_schema_as_a_forced_tool.yaml").read_text()
    )
    body = json.loads(cassette["interactions"][0]["request"]["body"])
    assert body["tool_choice"] == {"type": "function", "function": {"name": "CaseReport"}}
    parameters = body["tools"][0]["function"]["parameters"]
    assert set(parameters["properties"]) == set(schema_json()["properties"])
    assert body["temperature"] == 0.0


@pytest.mark.vcr
def test_an_unrecorded_request_fails() -> None:
    other = [{"role": "user", "content": "A request that was never recorded."}]
    with pytest.raises(vcr.errors.CannotOverwriteExistingCassetteException):
        client().complete(other, CaseReport)
