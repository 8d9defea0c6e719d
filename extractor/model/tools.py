"""Instructor's TOOLS-mode requests and answers, with the tool prepared once per model.

Instructor rebuilds a response model's tool definition (its JSON Schema as a
forced function call) on every request, which costs several milliseconds of
CPU for the record. Here Instructor's own OpenAI TOOLS handler builds it once
per response-model class. ``request_body`` is what one chat-completions
request carries: the batch files hold it, and a test checks that it is what
the online client (``extractor.model.openai``) sends. ``parse`` validates an
answer the way Instructor does.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from typing import Any

from instructor import Mode
from instructor.utils.providers import Provider
from instructor.v2.core.registry import mode_registry
from instructor.v2.core.response_model import prepare_response_model
from pydantic import BaseModel

from extractor.model.base import M, Messages

_TOOLS = mode_registry.get_handlers(Provider.OPENAI, Mode.TOOLS)


@cache
def _prepared(response_model: type[BaseModel]) -> tuple[type[BaseModel], Mapping[str, Any]]:
    prepared = prepare_response_model(response_model)
    model, kwargs = _TOOLS.request_handler(response_model=prepared, kwargs={})
    assert model is not None
    return model, {"tools": kwargs["tools"], "tool_choice": kwargs["tool_choice"]}


def tool_kwargs(response_model: type[BaseModel]) -> Mapping[str, Any]:
    """``tools`` and the forced ``tool_choice`` of ``response_model`` (built once; read-only)."""
    return _prepared(response_model)[1]


def request_body(
    model: str,
    messages: Messages,
    response_model: type[BaseModel],
    *,
    temperature: float,
    max_tokens: int,
) -> dict[str, Any]:
    """The JSON body of one chat-completions request for ``response_model``."""
    return {
        "model": model,
        "messages": _TOOLS.message_converter(list(messages)),  # type: ignore[misc]
        "temperature": temperature,
        "max_tokens": max_tokens,
        **tool_kwargs(response_model),
    }


def encoded(request: Mapping[str, Any], response_model: type[BaseModel]) -> bytes:
    """``request`` as the JSON bytes posted, its tool part encoded once per response model.

    The bytes are those the SDK would write (compact separators, UTF-8), so
    the request is the same; only the tool schema, most of its size, is not
    encoded again for every document.
    """
    tools = tool_kwargs(response_model)
    if request.get("tools") is not tools["tools"] or list(request)[-2:] != ["tools", "tool_choice"]:
        return _dumps(request)  # a re-ask, or a body built elsewhere: encoded whole
    rest = {key: value for key, value in request.items() if key not in tools}
    return _dumps(rest)[:-1] + b"," + _encoded_tools(response_model) + b"}"


@cache
def _encoded_tools(response_model: type[BaseModel]) -> bytes:
    return _dumps(dict(tool_kwargs(response_model)))[1:-1]


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def reask(request: dict[str, Any], response: Any, error: Exception) -> dict[str, Any]:
    """The next request after ``response`` failed with ``error``: Instructor's re-ask."""
    kwargs: dict[str, Any] = _TOOLS.reask_handler(
        kwargs={**request, "messages": list(request["messages"])}, response=response,
        exception=error,
    )  # fmt: skip
    return kwargs


def parse(response: Any, response_model: type[M]) -> M:
    """The validated ``response_model`` in a chat completion, as Instructor parses it.

    Raises ``IncompleteOutputException`` for an answer cut at the token limit,
    and pydantic's ``ValidationError`` (or Instructor's parsing errors) for
    one that does not validate.
    """
    model = _prepared(response_model)[0]
    parsed = _TOOLS.response_parser(
        response=response, response_model=model, validation_context=None, strict=True
    )
    return response_model.model_validate(parsed.model_dump())
