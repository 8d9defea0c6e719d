"""Many documents: a concurrent, resumable, budgeted run into one append-only file.

Inputs are read lazily and results written as they finish, so memory does
not grow with the corpus (only the document ids already seen are kept). A
document that fails gets an error line and the run goes on; a fatal provider
error, Ctrl-C or a budget stops it after the lines in flight are written.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from extractor.config import ModelConfig
from extractor.errors import InputError, ProviderError
from extractor.extraction.cache import ResponseCache
from extractor.extraction.chunking import max_chunk_chars
from extractor.extraction.document import DocumentExtractor
from extractor.extraction.limits import Budget, RateLimiter
from extractor.extraction.prompts import DEFAULT_PROMPT, load_prompt
from extractor.extraction.strategies import DEFAULT_STRATEGY
from extractor.extraction.strategies import strategy as make_strategy
from extractor.io.documents import Document, Unreadable, iter_documents, iter_paths
from extractor.io.merge import in_shard
from extractor.io.runfile import ResultLine, RunFile
from extractor.model.connect import connect
from extractor.model.pricing import prices_for


@dataclass(frozen=True)
class RunOptions:
    """How a bulk run proceeds (the model's settings live in ``ModelConfig``)."""

    concurrency: int = 1
    overwrite: bool = False
    retry_failed: bool = False
    shard: tuple[int, int] | None = None
    budget: Budget = field(default_factory=Budget)


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
    """The input files, leaving out the run's own output (it may sit in an input folder)."""
    own = output.resolve() if output is not None else None
    return (path for path in iter_paths(inputs) if path.resolve() != own)


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
    """How many documents the run plans, without reading them (JSONL lines are counted)."""
    total = 0
    for path in _inputs(inputs, output):
        if path.suffix.lower() != ".jsonl":
            total += shard is None or in_shard(path.stem, *shard)
            continue
        with path.open("rb") as lines:
            for line in lines:
                if line.strip() and (shard is None or in_shard(_jsonl_id(line, path), *shard)):
                    total += 1
    return total


def _jsonl_id(line: bytes, path: Path) -> str:
    try:
        return str(json.loads(line).get("id"))
    except (ValueError, AttributeError):
        return path.stem


async def run_extraction(
    inputs: list[Path],
    output: Path,
    extractor: DocumentExtractor,
    options: RunOptions | None = None,
    on_progress: Progress | None = None,
) -> RunSummary:
    """Extract every planned document not already in ``output`` into it, one line each."""
    options = options or RunOptions()
    summary = RunSummary(planned=count_planned(inputs, options.shard, output))
    started = time.perf_counter()
    with RunFile(output, overwrite=options.overwrite, retry_failed=options.retry_failed) as out:
        runner = _Runner(extractor, out, options, summary, on_progress or (lambda _: None))
        try:
            await runner.run(planned_documents(inputs, options.shard, output))
        finally:
            summary.seconds = time.perf_counter() - started
    return summary


class _Runner:
    """Schedules documents onto ``concurrency`` slots and writes each line as it finishes."""

    def __init__(
        self,
        extractor: DocumentExtractor,
        out: RunFile,
        options: RunOptions,
        summary: RunSummary,
        on_progress: Progress,
    ) -> None:
        self.extractor = extractor
        self.out = out
        self.options = options
        self.summary = summary
        self.on_progress = on_progress
        self.slots = asyncio.Semaphore(max(1, options.concurrency))
        self.seen: dict[str, str] = {}
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
        reason = self.options.budget.reached(self.summary.cost_usd, self.summary.tokens)
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
        if (first := self.seen.get(document.id)) is not None:
            error = InputError(
                f"{document.source}: duplicate document id {document.id!r} (also {first})"
            )
            self._write(self.extractor.unreadable(document.id, document.source, error))
            return None
        self.seen[document.id] = document.source
        return document

    async def _extract(self, document: Document) -> None:
        try:
            self._write(await self.extractor.extract(document))
        except ProviderError as e:  # only fatal ones reach here
            self.fatal = self.fatal or e
        finally:
            self.slots.release()

    def _write(self, line: ResultLine) -> None:
        self.out.write(line.to_json())
        self.summary.add(line)
        self.on_progress(self.summary)

    def _skip(self) -> None:
        self.summary.skipped += 1
        self.on_progress(self.summary)


async def extract_files(
    inputs: list[Path],
    output: Path,
    config: ModelConfig,
    *,
    prompt: str = DEFAULT_PROMPT,
    cache_dir: Path | None = None,
    options: RunOptions | None = None,
    rpm: float | None = None,
    tpm: float | None = None,
    price_in: float | None = None,
    price_out: float | None = None,
    strategy: str = DEFAULT_STRATEGY,
    require_grounding: bool = False,
    on_progress: Progress | None = None,
    on_warning: Callable[[str], None] | None = None,
) -> RunSummary:
    """The whole job behind ``extractor extract``: connect, extract every input, close.

    ``cache_dir`` None disables the cache. ``options.retry_failed`` also
    retries failures remembered by the cache. ``require_grounding`` keeps
    only values whose evidence quote is found in the document.
    """
    options = options or RunOptions()
    chosen = make_strategy(strategy)
    loaded_prompt = load_prompt(prompt)
    cache = ResponseCache(cache_dir)
    if cache.problem and on_warning is not None:
        on_warning(cache.problem)
    limiter = RateLimiter(rpm, tpm) if rpm or tpm else None
    try:
        async with connect(config) as client:
            prices = prices_for(
                client.model, embedded=config.embedded, price_in=price_in, price_out=price_out
            )
            extractor = DocumentExtractor(
                client,
                loaded_prompt,
                cache,
                config.generation_params(),
                reuse_failures=not options.retry_failed,
                prices=prices,
                limiter=limiter,
                strategy=chosen,
                grounded_only=require_grounding,
                chunk_chars=(
                    None
                    if config.context_tokens is None
                    else max_chunk_chars(config.context_tokens, config.max_tokens, loaded_prompt)
                ),
            )
            return await run_extraction(inputs, output, extractor, options, on_progress)
    finally:
        cache.close()
