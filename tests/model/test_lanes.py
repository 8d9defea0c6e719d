"""The client at high concurrency: lanes of connection pools, bodies encoded once, raw answers.

These check the mechanics against the stub on 127.0.0.1; the CPU they save
is measured by ``eval/bench/bulk.py``, not asserted here.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from extractor.config import ModelConfig
from extractor.model import openai as client_module
from extractor.model.openai import LANE_REQUESTS, OpenAIClient
from extractor.model.tools import encoded, request_body
from extractor.templates.nen import CaseReport
from extractor.testing import minimal_record
from extractor.testing import stub_server as stub
from extractor.testing.stub_server import stub_server

MESSAGES = [{"role": "user", "content": "A 50-year-old woman with a pancreatic NET — “quoted”."}]


def test_an_encoded_body_is_the_json_of_the_request() -> None:
    request = request_body("stub", MESSAGES, CaseReport, temperature=0.0, max_tokens=64)
    body = encoded(request, CaseReport)
    assert json.loads(body) == request
    assert body == json.dumps(request, ensure_ascii=False, separators=(",", ":")).encode()
    reasked = {**request, "messages": [*request["messages"], {"role": "user", "content": "x"}]}
    assert json.loads(encoded(reasked, CaseReport)) == reasked


def test_requests_in_flight_open_a_lane_per_sixteen() -> None:
    async def run(url: str, documents: int) -> OpenAIClient:
        async with OpenAIClient(ModelConfig(model="stub", base_url=url)) as client:
            answers = await asyncio.gather(
                *(client.complete(MESSAGES, CaseReport) for _ in range(documents))
            )
            assert all(answer.record.title == "A case" for answer in answers)
            return client

    with stub_server(minimal_record(), latency=0.2) as (url, state):
        client = asyncio.run(run(url, 2 * LANE_REQUESTS + 1))
    assert len(client._lanes) == 3  # 33 at once: two full lanes and a third
    assert len(state.requests) == 2 * LANE_REQUESTS + 1


def test_an_answer_a_strict_reader_refuses_is_read_leniently(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made = stub.completion

    def lenient(name: str, arguments: str) -> dict[str, Any]:
        answer = made(name, arguments)
        del answer["created"]  # some OpenAI-compatible servers leave fields out
        return answer

    monkeypatch.setattr(stub, "completion", lenient)
    built: list[Any] = []
    construct = client_module.construct_type
    monkeypatch.setattr(
        client_module, "construct_type", lambda **kw: built.append(kw) or construct(**kw)
    )

    async def run(url: str) -> Any:
        async with OpenAIClient(ModelConfig(model="stub", base_url=url)) as client:
            return await client.complete(MESSAGES, CaseReport)

    with stub_server(minimal_record()) as (url, _):
        assert asyncio.run(run(url)).record.title == "A case"
    assert len(built) == 1  # pydantic-core refused it; the SDK's forgiving builder read it


def test_an_sdk_without_byte_bodies_is_given_the_request_itself(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(client_module, "_POSTS_BYTES", False)  # as openai before 3 had it

    async def run(url: str) -> Any:
        async with OpenAIClient(ModelConfig(model="stub", base_url=url)) as client:
            return await client.complete(MESSAGES, CaseReport)

    with stub_server(minimal_record()) as (url, state):
        assert asyncio.run(run(url)).record.title == "A case"
    sent = state.requests[0][1]
    assert sent == request_body("stub", MESSAGES, CaseReport, temperature=0.0, max_tokens=2048)
