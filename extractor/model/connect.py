"""``connect``: the client for a configuration, above both clients.

A remote endpoint gets the Instructor adapter; no base URL gets the embedded
llama.cpp server, started on the first uncached request. Living above both
clients, this module is what keeps ``openai`` and ``embedded`` free of each other.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from extractor.config import ModelConfig
from extractor.model.base import ModelClient
from extractor.model.embedded import EmbeddedClient
from extractor.model.openai import OpenAIClient


@asynccontextmanager
async def connect(config: ModelConfig) -> AsyncIterator[ModelClient]:
    """The client for ``config``: a remote endpoint, or the embedded server started on demand."""
    if config.embedded:
        async with EmbeddedClient(config) as embedded:
            yield embedded
        return
    async with OpenAIClient(config) as client:
        yield client
