"""The one seam to the model: ``ModelClient.complete(messages, response_model)``.

Everything above the model layer talks to a ``ModelClient``: the Instructor
adapter (``extractor.model.openai``), the embedded server's client
(``extractor.model.embedded``) and the test double (``extractor.testing``)
all implement it. ``Usage`` and ``Completion`` are the values it returns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)
Messages = list[dict[str, str]]


@dataclass(frozen=True)
class Usage:
    """Tokens spent on one extraction, every attempt included."""

    prompt_tokens: int = 0
    completion_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
        )


@dataclass(frozen=True)
class Completion(Generic[M]):
    """A validated answer, what it cost and how many model calls it took."""

    record: M
    usage: Usage
    attempts: int
    sources: Mapping[str, str] = field(default_factory=dict)
    """Which mechanism gave each field (``rule``, ``model``, ``metadata``), when known."""


class ModelClient(Protocol):
    """Anything that turns chat messages into a validated ``response_model``.

    ``model`` and ``endpoint`` name what answers; they are part of cache keys
    and provenance, so they must be known before the first call.
    """

    model: str
    endpoint: str

    async def complete(self, messages: Messages, response_model: type[M]) -> Completion[M]:
        """Return a validated record or raise ``ProviderError``/``ExtractionFailed``."""
        ...
