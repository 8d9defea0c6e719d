"""One document: cache lookup, model call, and its output line.

``extractor.extraction.bulk`` runs many of these concurrently into one output file.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from extractor.config import DEFAULT_PROMPT, DEFAULT_STRATEGY, ModelConfig, RunSettings
from extractor.errors import (
    ConfigError,
    ExtractionFailed,
    ExtractorError,
    InputError,
    ProviderError,
)
from extractor.extraction.cache import CachedResult, ResponseCache, cache_key
from extractor.extraction.chunking import Chunked, max_chunk_chars, split
from extractor.extraction.limits import RateLimiter
from extractor.extraction.prompts import Prompt, load_prompt
from extractor.extraction.strategies import Strategy
from extractor.extraction.strategies import strategy as make_strategy
from extractor.hashing import canonical_json
from extractor.io.documents import Document
from extractor.io.metadata import metadata_fields
from extractor.io.runfile import Provenance, ResultLine
from extractor.model.base import ModelClient, Usage
from extractor.model.pricing import FREE, Prices, prices_for
from extractor.model.secrets import mask
from extractor.record.grounding import Aligner, align_record, require_grounding
from extractor.record.template import Template, load_template

MAX_OUTPUT_SHOWN = 2000
OFF_LOOP_CHARS = 50_000  # documents longer than this are aligned on a worker thread


class CachedFailure(ExtractorError):
    """A failure replayed from the cache: the same inputs failed the same way before."""

    def __init__(self, described: dict[str, str]) -> None:
        super().__init__(described.get("message", "failed"))
        self.kind = described.get("kind", "validation")
        self.described = described


@dataclass(frozen=True)
class CacheMiss:
    """A document the cache did not answer: the parts it is extracted in and its cache key."""

    document: Document
    parts: list[str]
    key: str


@dataclass(frozen=True)
class Extracted:
    """What the model made of a cache miss: its line, and the cache entry to store (if any)."""

    line: ResultLine
    cached: CachedResult | None = None


Compute = Callable[[CacheMiss], Awaitable[Extracted]]
"""How a cache miss is executed: ``DocumentExtractor.compute`` here, or on a Ray actor."""


def error_dict(error: ExtractorError) -> dict[str, str]:
    """The ``error`` field of an output line: its kind, a one-line message and,
    for output that did not validate, the start of what the model said (secrets masked)."""
    if isinstance(error, CachedFailure):
        return {name: mask(value) for name, value in error.described.items()}
    described = {"kind": error.kind, "message": mask(str(error))}
    if isinstance(error, ExtractionFailed) and error.last_output:
        described["last_output"] = mask(error.last_output[:MAX_OUTPUT_SHOWN])
    return described


class DocumentExtractor:
    """Turns one ``Document`` into one ``ResultLine`` (cache first, then the model).

    The defaults are the CLI's: the default prompt and strategy, the default
    model's generation parameters, and no cache. ``DocumentExtractor.for_run``
    builds one from a ``ModelConfig`` and ``RunSettings``, as ``extract`` does.
    """

    def __init__(
        self,
        client: ModelClient,
        prompt: Prompt | None = None,
        cache: ResponseCache | None = None,
        params: dict[str, Any] | None = None,
        *,
        reuse_failures: bool = True,
        prices: Prices | None = FREE,
        limiter: RateLimiter | None = None,
        strategy: Strategy | None = None,
        grounded_only: bool = False,
        chunk_chars: int | None = None,
        use_metadata: bool = True,
        template: Template | None = None,
    ) -> None:
        self.client = client
        self.prompt = prompt or load_prompt(DEFAULT_PROMPT)
        self.cache = cache or ResponseCache(None)
        self.params = ModelConfig().generation_params() if params is None else params
        self.reuse_failures = reuse_failures
        self.prices = prices
        self.limiter = limiter
        self.strategy = strategy or make_strategy(DEFAULT_STRATEGY, template)
        self.template = self.strategy.template
        if template is not None and template is not self.template:
            raise ConfigError(f"the strategy fills {self.template.name}, not {template.name}")
        self.grounded_only = grounded_only
        self.use_metadata = use_metadata
        self.chunk_chars = chunk_chars
        self._schema = canonical_json(self.template.schema)  # encoded once for every cache key
        self._schema_sha256 = self.template.sha256

    @classmethod
    def for_run(
        cls,
        client: ModelClient,
        config: ModelConfig,
        settings: RunSettings,
        cache: ResponseCache,
        limiter: RateLimiter | None = None,
        *,
        prompt: Prompt | None = None,
    ) -> DocumentExtractor:
        """The extractor of a run: ``settings`` applied to ``client`` and ``config``.

        ``prompt`` None loads ``settings.prompt``; a Ray worker is given the driver's.
        """
        template = load_template(settings.record)
        prompt = prompt or load_prompt(settings.prompt_for(template))
        context = config.context_limit
        return cls(
            client,
            prompt,
            cache,
            config.generation_params(),
            reuse_failures=not settings.retry_failed,
            prices=prices_for(
                client.model,
                embedded=config.embedded,
                price_in=settings.price_in,
                price_out=settings.price_out,
            ),
            limiter=limiter,
            strategy=make_strategy(settings.strategy, template),
            grounded_only=settings.require_grounding,
            use_metadata=settings.use_metadata,
            chunk_chars=(
                None
                if context is None
                else max_chunk_chars(context, config.max_completion_tokens, prompt)
            ),
        )

    def provenance(self, **values: Any) -> Provenance:
        """Provenance of this extractor's model, prompt and schema, plus ``values``."""
        return Provenance(
            model=self.client.model,
            endpoint=self.client.endpoint,
            prompt=self.prompt.name,
            prompt_sha256=self.prompt.sha256,
            schema_sha256=self._schema_sha256,
            record=self.template.name,
            strategy=self.strategy.name,
            **values,
        )

    def parts(self, document: Document) -> list[str]:
        """The parts ``document`` is extracted in: one, unless it exceeds the context."""
        if not self.chunk_chars or not self.strategy.splits:
            return [document.text]
        return split(document.text, self.chunk_chars)

    def key(self, document: Document, parts: int | None = None) -> str:
        """The cache key of ``document`` under this extractor (``parts``: its part count)."""
        parts = len(self.parts(document)) if parts is None else parts
        return cache_key(
            model=self.client.model,
            endpoint=self.client.endpoint,
            prompt_text=self.prompt.text,
            schema=self._schema,
            document_sha256=document.sha256,
            params={
                **self.params,
                "record": self.template.name,
                "strategy": f"{self.strategy.name}/{self.strategy.revision}",
                "chunk_chars": self.chunk_chars if parts > 1 else None,
            },
        )

    async def extract(self, document: Document, compute: Compute | None = None) -> ResultLine:
        """Extract one document; a fatal ``ProviderError`` propagates, others go in the line.

        The cache answers first; a miss is executed by ``compute`` (None: ``self.compute``)
        and what it made is stored here, so the cache has one owner.
        """
        started = time.perf_counter()
        parts = self.parts(document)  # split once: the key, the calls and the line share it
        miss = CacheMiss(document, parts, self.key(document, len(parts)))
        cached = self.cache.get(miss.key, self.template.model)
        if cached is not None and (cached.failure is None or self.reuse_failures):
            error = None if cached.failure is None else CachedFailure(cached.failure)
            return await self._line(
                document, cached.record, error, started=started, chunks=len(parts),
                cache_hit=True, sources=cached.sources,
            )  # fmt: skip
        extracted = await (compute or self.compute)(miss)
        if extracted.cached is not None:
            self.cache.put(miss.key, extracted.cached)
        return extracted.line

    async def compute(self, miss: CacheMiss) -> Extracted:
        """Ask the model for a cache miss: its line and the entry to cache (the cache untouched)."""
        started = time.perf_counter()
        document, parts = miss.document, miss.parts
        line = partial(self._line, document, started=started, chunks=len(parts))
        if self.limiter is not None:
            await self.limiter.acquire()
        try:
            if len(parts) > 1 and self.chunk_chars:
                chunked = Chunked(self.strategy, self.chunk_chars)
                completion = await chunked.extract_parts(self.client, self.prompt, parts)
            else:
                completion = await self.strategy.extract(
                    self.client, self.prompt, document.text, document.sections
                )
        except ProviderError as e:
            if e.fatal:
                raise
            return Extracted(await line(None, e, attempts=e.attempts))
        except ExtractionFailed as e:
            usage = e.usage if isinstance(e.usage, Usage) else Usage()
            failure = CachedResult(
                None, usage.prompt_tokens, usage.completion_tokens, e.attempts, error_dict(e)
            )
            return Extracted(await line(None, e, attempts=e.attempts, usage=usage), failure)
        record = completion.record.model_dump(mode="json")
        cached = CachedResult(
            record=record,
            prompt_tokens=completion.usage.prompt_tokens,
            completion_tokens=completion.usage.completion_tokens,
            attempts=completion.attempts,
            sources=dict(completion.sources),
        )
        done = await line(
            record, None, attempts=completion.attempts, usage=completion.usage,
            sources=dict(completion.sources),
        )  # fmt: skip
        return Extracted(done, cached)

    def failed(self, document: Document, error: ExtractorError) -> ResultLine:
        """The error line of a document whose extraction failed outside the usual ways."""
        return self._error_line(document.id, document.source, document.sha256, error)

    def unreadable(self, doc_id: str, source: str, error: InputError) -> ResultLine:
        """The line of a document that could not be read."""
        return self._error_line(doc_id, source, None, error)

    def _error_line(
        self, doc_id: str, source: str, sha256: str | None, error: ExtractorError
    ) -> ResultLine:
        return ResultLine(
            doc_id=doc_id,
            source=source,
            doc_sha256=sha256,
            error=error_dict(error),
            provenance=self.provenance(),
        )

    def _evidence(
        self, record: dict[str, Any], text: str
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The record (kept to grounded values if asked) and its evidence spans."""
        aligner = Aligner(text)  # the document is normalised once for every quote
        report = self.template.model.model_validate(record)
        if self.grounded_only:
            report = require_grounding(report, aligner)
            record = report.model_dump(mode="json")
        return record, [a.to_dict() for a in align_record(report, aligner)]

    async def _line(
        self,
        document: Document,
        record: dict[str, Any] | None,
        error: ExtractorError | None,
        *,
        started: float,
        sources: dict[str, str] | None = None,
        **provenance: Any,
    ) -> ResultLine:
        usage = provenance.get("usage", Usage())
        if self.limiter is not None:
            self.limiter.spend(usage.prompt_tokens + usage.completion_tokens)
        cost = None if self.prices is None else round(self.prices.cost(usage), 6)
        spans: list[dict[str, Any]] = []
        sources = dict(sources or {})
        if record is not None and self.use_metadata:
            fields = self.template.model.model_fields  # what the input states beats any answer
            stated = {k: v for k, v in metadata_fields(document).items() if k in fields}
            record = {**record, **stated}
            sources.update(dict.fromkeys(stated, "metadata"))
        if record is not None:
            if len(document.text) > OFF_LOOP_CHARS:  # keep the other documents in flight moving
                record, spans = await asyncio.to_thread(self._evidence, record, document.text)
            else:
                record, spans = self._evidence(record, document.text)
        return ResultLine(
            doc_id=document.id,
            source=document.source,
            doc_sha256=document.sha256,
            record=record,
            error=None if error is None else error_dict(error),
            provenance=self.provenance(
                seconds=round(time.perf_counter() - started, 3),
                cost_usd=cost,
                **provenance,
            ),
            evidence_spans=spans,
            field_sources=sources,
        )
