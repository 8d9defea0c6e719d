"""Many documents: a concurrent, resumable, budgeted run into one append-only file.

Inputs are read lazily and results written as they finish, so memory does
not grow with the corpus (only the document ids already seen are kept). A
document that fails gets an error line and the run goes on; a fatal provider
error, Ctrl-C or a budget stops it after the lines in flight are written.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from extractor.config import ModelConfig, RunSettings
from extractor.errors import ConfigError, EngineError, InternalError, ProviderError
from extractor.extraction.cache import ResponseCache
from extractor.extraction.document import Compute, DocumentExtractor
from extractor.extraction.limits import Budget, RateLimiter
from extractor.io.documents import Document, Unreadable, iter_documents, iter_ids, iter_paths
from extractor.io.merge import in_shard
from extractor.io.runfile import ResultLine, RunFile
from extractor.model.connect import connect


@dataclass
class RunSummary:
    """Totals of a run, updated as lines are written."""

    planned: int = 0
    ok: int = 0
    failed: int = 0
    skipped: int = 0
    cache_hits: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    cost_known: bool = True
    seconds: float = 0.0
    stopped: str | None = None
    failures: Counter[str] = field(default_factory=Counter)

    @property
    def documents(self) -> int:
        """Documents processed in this run (ok or failed), not counting skipped ones."""
        return self.ok + self.failed

    @property
    def tokens(self) -> int:
        """Prompt and completion tokens spent by this run."""
        return self.prompt_tokens + self.completion_tokens

    def add(self, line: ResultLine) -> None:
        """Count one written line."""
        if line.ok:
            self.ok += 1
        else:
            self.failed += 1
            self.failures[line.error["kind"] if line.error else "unknown"] += 1
        provenance = line.provenance
        self.cache_hits += provenance.cache_hit
        self.prompt_tokens += provenance.usage.prompt_tokens
        self.completion_tokens += provenance.usage.completion_tokens
        if provenance.cost_usd is None:
            self.cost_known = False
        else:
            self.cost_usd += provenance.cost_usd


Progress = Callable[[RunSummary], None]


def _inputs(inputs: Iterable[Path], output: Path | None) -> Iterator[Path]:
    """The input files, leaving out the run's own output (it may sit in an input folder).

    ``os.path.realpath``, unlike ``Path.resolve``, does not raise on a symlink loop
    (which is an input like any other, and gets its error line).
    """
    own = os.path.realpath(output) if output is not None else None
    return (path for path in iter_paths(inputs) if os.path.realpath(path) != own)


def planned_documents(
    inputs: Iterable[Path], shard: tuple[int, int] | None, output: Path | None = None
) -> Iterator[Document | Unreadable]:
    """The documents of this run, read lazily, in this shard if sharded (by document id)."""
    for item in iter_documents(_inputs(inputs, output)):
        if shard is None or in_shard(item.id, *shard):
            yield item


def count_planned(
    inputs: Iterable[Path], shard: tuple[int, int] | None, output: Path | None = None
) -> int:
    """How many documents the run plans, without reading their text (JSONL ids are read).

    Two documents with one id (``a/case.txt`` and ``b/case.txt``, ``x.txt``
    beside ``x.md``, an id repeated in a corpus) are a ``ConfigError`` naming
    both, found in the same pass, which keeps only the set of ids.
    """
    inputs = list(inputs)
    seen: set[str] = set()
    planned = 0
    for doc_id, source in iter_ids(_inputs(inputs, output)):
        if doc_id in seen:
            first = next(s for i, s in iter_ids(_inputs(inputs, output)) if i == doc_id)
            raise ConfigError(
                f"two documents have the id {doc_id!r}: {first} and {source}; "
                "each document id must be unique in a run (rename one, or run them apart)"
            )
        seen.add(doc_id)
        planned += shard is None or in_shard(doc_id, *shard)
    return planned


async def run_extraction(
    inputs: list[Path],
    output: Path,
    extractor: DocumentExtractor,
    settings: RunSettings | None = None,
    on_progress: Progress | None = None,
    *,
    compute: Compute | None = None,
) -> RunSummary:
    """Extract every planned document not already in ``output`` into it, one line each.

    ``settings`` gives the concurrency (None: 1), the budget, the shard and
    whether to start afresh or retry failures. No supported document at all,
    or two documents with one id, is a ``ConfigError``, raised before the
    output is touched or a model called. ``compute`` executes the cache
    misses (None: ``extractor`` itself, in this process; the Ray engine
    passes its actors); this process writes every line and owns the cache.
    """
    settings = settings or RunSettings()
    summary = RunSummary(planned=count_planned(inputs, settings.shard, output))
    if summary.planned == 0:
        raise ConfigError("no supported documents found in the inputs")
    started = time.perf_counter()
    with RunFile(output, overwrite=settings.overwrite, retry_failed=settings.retry_failed) as out:
        progress = on_progress or (lambda _: None)
        runner = _Runner(extractor, out, settings, summary, progress, compute=compute)
        try:
            await runner.run(planned_documents(inputs, settings.shard, output))
        finally:
            summary.seconds = time.perf_counter() - started
    return summary


class _Runner:
    """Schedules documents onto ``concurrency`` slots and writes each line as it finishes.

    A provider failure costs its document an error line; the run stops only
    when ``stop_after_failures`` documents in a row failed at the endpoint
    (cache hits and unreadable inputs neither count nor break the row).
    """

    def __init__(
        self,
        extractor: DocumentExtractor,
        out: RunFile,
        settings: RunSettings,
        summary: RunSummary,
        on_progress: Progress,
        *,
        compute: Compute | None = None,
    ) -> None:
        self.extractor = extractor
        self.compute = compute
        self.out = out
        self.budget = Budget(max_cost=settings.max_cost, max_tokens=settings.max_tokens)
        self.summary = summary
        self.on_progress = on_progress
        self.slots = asyncio.Semaphore(settings.concurrency or 1)
        self.stop_after_failures = settings.stop_after_failures
        self.failures_in_a_row = 0
        self.fatal: BaseException | None = None

    async def run(self, items: Iterable[Document | Unreadable]) -> None:
        tasks: set[asyncio.Task[None]] = set()
        try:
            for item in items:
                if self._should_stop():
                    break
                document = self._admit(item)
                if document is None:
                    continue
                await self.slots.acquire()
                if self._should_stop():
                    self.slots.release()
                    break
                task = asyncio.create_task(self._extract(document))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
        except BaseException:
            # Interrupted (Ctrl-C, SIGTERM, cancelled): abandon the documents in flight at
            # once; their lines are not written, so a re-run does them again.
            for task in tasks:
                task.cancel()
            raise
        finally:
            if tasks:  # a budget stop or a fatal error: let the lines in flight finish
                await asyncio.gather(*tasks, return_exceptions=True)
        if self.fatal is not None:
            raise self.fatal

    def _should_stop(self) -> bool:
        if self.fatal is not None:
            return True
        reason = self.budget.reached(self.summary.cost_usd, self.summary.tokens)
        if reason is not None:
            self.summary.stopped = reason
        return reason is not None

    def _admit(self, item: Document | Unreadable) -> Document | None:
        """The document to extract, or None when it is done (skipped or written as an error)."""
        done = self.out.done.get(item.id)
        if isinstance(item, Unreadable):
            if done is None:
                self._write(self.extractor.unreadable(item.id, item.source, item.error))
            else:
                self._skip()
            return None
        document = item
        if done is not None and done.sha256 == document.sha256:
            self._skip()
            return None
        return document  # ids are unique in a run: count_planned checked them

    async def _extract(self, document: Document) -> None:
        try:
            self._write(await self.extractor.extract(document, self.compute))
        except (ProviderError, EngineError) as e:  # only fatal ones reach here
            self.fatal = self.fatal or e
        except Exception as e:  # noqa: BLE001 - a bug must cost one document, never vanish
            self._write(self.extractor.failed(document, InternalError.of(e)))
        finally:
            self.slots.release()

    def _write(self, line: ResultLine) -> None:
        self.out.write(line.to_json())
        self.summary.add(line)
        self._count_failures(line)
        self.on_progress(self.summary)

    def _count_failures(self, line: ResultLine) -> None:
        """Track provider failures in a row; stop the run once there are too many."""
        kind = None if line.error is None else line.error.get("kind")
        if line.provenance.cache_hit or kind not in {None, "provider", "validation"}:
            return  # the endpoint was not asked: the row is neither longer nor broken
        if kind != "provider":
            self.failures_in_a_row = 0  # the endpoint answered
            return
        self.failures_in_a_row += 1
        if self.failures_in_a_row >= self.stop_after_failures and self.fatal is None:
            message = line.error.get("message", "") if line.error else ""
            self.fatal = ProviderError(
                f"the model endpoint failed {self.failures_in_a_row} documents in a row "
                f"(the last: {message}); stopping. Check the endpoint, then re-run the same "
                "command with --retry-failed",
                fatal=True,
            )

    def _skip(self) -> None:
        self.summary.skipped += 1
        self.on_progress(self.summary)


async def extract_files(
    inputs: list[Path],
    output: Path,
    config: ModelConfig,
    settings: RunSettings | None = None,
    *,
    on_progress: Progress | None = None,
    on_warning: Callable[[str], None] | None = None,
) -> RunSummary:
    """The whole job behind ``extractor extract``: connect, extract every input, close.

    ``settings`` defaults to the CLI's defaults (``RunSettings()``), whose
    ``cache_dir`` None means no cache. ``settings.engine`` "ray" sends the
    cache misses to Ray workers (``extractor.extraction.distributed``).
    """
    settings = settings or RunSettings()
    if settings.engine == "local" and (settings.address or settings.workers):
        raise ConfigError("--address and --workers are for --engine ray")
    settings = settings.model_copy(update={"concurrency": settings.concurrency_for(config)})
    cache = ResponseCache(settings.cache_dir)
    if cache.problem and on_warning is not None:
        on_warning(cache.problem)
    limiter = RateLimiter(settings.rpm, settings.tpm) if settings.rpm or settings.tpm else None
    try:
        async with connect(config) as client:
            extractor = DocumentExtractor.for_run(client, config, settings, cache, limiter)
            if settings.engine == "local":
                return await run_extraction(inputs, output, extractor, settings, on_progress)
            from extractor.extraction.distributed import ray_workers  # noqa: PLC0415 - Ray only when asked

            async with ray_workers(extractor, config, settings) as workers:
                return await run_extraction(
                    inputs, output, extractor, settings, on_progress, compute=workers
                )
    finally:
        cache.close()
