"""One document: cache lookup, model call, and its output line.

``extractor.extraction.bulk`` runs many of these concurrently into one output file.
"""

from __future__ import annotations

import time
from typing import Any

from extractor.errors import ExtractionFailed, ExtractorError, InputError, ProviderError
from extractor.extraction.cache import CachedResult, ResponseCache, cache_key
from extractor.extraction.chunking import Chunked, split
from extractor.extraction.limits import RateLimiter
from extractor.extraction.prompts import Prompt
from extractor.extraction.strategies import Strategy, Whole
from extractor.io.documents import Document
from extractor.io.runfile import Provenance, ResultLine
from extractor.model.base import ModelClient, Usage
from extractor.model.pricing import FREE, Prices
from extractor.record.grounding import align_record, require_grounding
from extractor.record.schema import CaseReport, schema_json, schema_sha256

MAX_OUTPUT_SHOWN = 2000


class CachedFailure(ExtractorError):
    """A failure replayed from the cache: the same inputs failed the same way before."""

    def __init__(self, described: dict[str, str]) -> None:
        super().__init__(described.get("message", "failed"))
        self.kind = described.get("kind", "validation")
        self.described = described


def error_dict(error: ExtractorError) -> dict[str, str]:
    """The ``error`` field of an output line: its kind, a one-line message and,
    for output that did not validate, the start of what the model said."""
    if isinstance(error, CachedFailure):
        return dict(error.described)
    described = {"kind": error.kind, "message": str(error)}
    if isinstance(error, ExtractionFailed) and error.last_output:
        described["last_output"] = error.last_output[:MAX_OUTPUT_SHOWN]
    return described


class DocumentExtractor:
    """Turns one ``Document`` into one ``ResultLine`` (cache first, then the model)."""

    def __init__(
        self,
        client: ModelClient,
        prompt: Prompt,
        cache: ResponseCache,
        params: dict[str, Any],
        *,
        reuse_failures: bool = True,
        prices: Prices | None = FREE,
        limiter: RateLimiter | None = None,
        strategy: Strategy | None = None,
        grounded_only: bool = False,
        chunk_chars: int | None = None,
    ) -> None:
        self.client = client
        self.prompt = prompt
        self.cache = cache
        self.params = params
        self.reuse_failures = reuse_failures
        self.prices = prices
        self.limiter = limiter
        self.strategy = strategy or Whole()
        self.grounded_only = grounded_only
        self.chunk_chars = chunk_chars
        self._schema = schema_json(CaseReport)
        self._schema_sha256 = schema_sha256(CaseReport)

    def provenance(self, **values: Any) -> Provenance:
        """Provenance of this extractor's model, prompt and schema, plus ``values``."""
        return Provenance(
            model=self.client.model,
            endpoint=self.client.endpoint,
            prompt=self.prompt.name,
            prompt_sha256=self.prompt.sha256,
            schema_sha256=self._schema_sha256,
            strategy=self.strategy.name,
            **values,
        )

    def parts(self, document: Document) -> list[str]:
        """The parts ``document`` is extracted in: one, unless it exceeds the context."""
        return split(document.text, self.chunk_chars) if self.chunk_chars else [document.text]

    def key(self, document: Document) -> str:
        """The cache key of ``document`` under this extractor."""
        return cache_key(
            model=self.client.model,
            endpoint=self.client.endpoint,
            prompt_text=self.prompt.text,
            schema=self._schema,
            document_sha256=document.sha256,
            params={
                **self.params,
                "strategy": f"{self.strategy.name}/{self.strategy.revision}",
                "chunk_chars": self.chunk_chars if len(self.parts(document)) > 1 else None,
            },
        )

    async def extract(self, document: Document) -> ResultLine:
        """Extract one document; a fatal ``ProviderError`` propagates, others go in the line."""
        started = time.perf_counter()
        key = self.key(document)
        cached = self.cache.get(key, CaseReport)
        if cached is not None and (cached.failure is None or self.reuse_failures):
            error = None if cached.failure is None else CachedFailure(cached.failure)
            return self._line(document, cached.record, error, started, cache_hit=True)
        if self.limiter is not None:
            await self.limiter.acquire()
        try:
            strategy = self.strategy
            if len(self.parts(document)) > 1 and self.chunk_chars:
                strategy = Chunked(self.strategy, self.chunk_chars)
            completion = await strategy.extract(self.client, self.prompt, document.text)
        except ProviderError as e:
            if e.fatal:
                raise
            return self._line(document, None, e, started, attempts=e.attempts)
        except ExtractionFailed as e:
            usage = e.usage if isinstance(e.usage, Usage) else Usage()
            failure = CachedResult(
                None, usage.prompt_tokens, usage.completion_tokens, e.attempts, error_dict(e)
            )
            self.cache.put(key, failure)
            return self._line(document, None, e, started, attempts=e.attempts, usage=usage)
        record = completion.record.model_dump(mode="json")
        self.cache.put(
            key,
            CachedResult(
                record=record,
                prompt_tokens=completion.usage.prompt_tokens,
                completion_tokens=completion.usage.completion_tokens,
                attempts=completion.attempts,
            ),
        )
        return self._line(
            document, record, None, started, attempts=completion.attempts, usage=completion.usage
        )

    def unreadable(self, doc_id: str, source: str, error: InputError) -> ResultLine:
        """The line of a document that could not be read."""
        return ResultLine(
            doc_id=doc_id,
            source=source,
            doc_sha256=None,
            record=None,
            error=error_dict(error),
            provenance=self.provenance(),
        )

    def _line(
        self,
        document: Document,
        record: dict[str, Any] | None,
        error: ExtractorError | None,
        started: float,
        **provenance: Any,
    ) -> ResultLine:
        usage = provenance.get("usage", Usage())
        if self.limiter is not None:
            self.limiter.spend(usage.prompt_tokens + usage.completion_tokens)
        cost = None if self.prices is None else round(self.prices.cost(usage), 6)
        spans: list[dict[str, Any]] = []
        if record is not None:
            report = CaseReport.model_validate(record)
            if self.grounded_only:
                report = require_grounding(report, document.text)
                record = report.model_dump(mode="json")
            spans = [a.to_dict() for a in align_record(report, document.text)]
        return ResultLine(
            doc_id=document.id,
            source=document.source,
            doc_sha256=document.sha256,
            record=record,
            error=None if error is None else error_dict(error),
            provenance=self.provenance(
                seconds=round(time.perf_counter() - started, 3),
                cost_usd=cost,
                chunks=len(self.parts(document)),
                **provenance,
            ),
            evidence_spans=spans,
        )
