"""``extractor batch``: provider batch files (prepare, submit, status, fetch, collect)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

import typer

from extractor.cli.common import model_config, run_settings_from, user_errors
from extractor.config import (
    DEFAULT_OPENAI_MODEL,
    OPENAI_URL,
    ModelConfig,
)
from extractor.extraction.batch import collect_batch, prepare_batch
from extractor.extraction.cache import default_cache_dir
from extractor.model.batches import BatchService, BatchStatus
from extractor.options import (
    BaseUrlOption,
    CacheDirOption,
    CompletionTokensOption,
    ContextOption,
    GroundingOption,
    IgnoreMetadataOption,
    ModelOption,
    NextRequestsOption,
    NoCacheOption,
    PromptOption,
    RecordOption,
    StrategyOption,
    TemperatureOption,
)

# --- provider batch files: prepare, submit, status, fetch, collect ------------------------------

batch_app = typer.Typer(
    help="Provider batch files (OpenAI Batch API, vllm run-batch).", no_args_is_help=True
)


def _batch_config(model: str | None, base_url: str | None, **values: Any) -> ModelConfig:
    """The model configuration of a batch: OpenAI's endpoint unless another is given."""
    config = model_config(model, base_url, None, values.get("temperature"),
                           values.get("max_completion_tokens"), None, values.get("context_tokens"))  # fmt: skip
    if config.base_url is None:
        config = config.with_endpoint(OPENAI_URL, config.model or DEFAULT_OPENAI_MODEL)
    return config


@batch_app.command("prepare")
def batch_prepare(
    paths: Annotated[list[Path], typer.Argument(exists=True, help="Files or folders of case reports.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="The request file (JSONL) to write.")],
    record: RecordOption = None,
    prompt: PromptOption = None,
    model: ModelOption = None,
    base_url: BaseUrlOption = None,
    cache_dir: CacheDirOption = None,
    no_cache: NoCacheOption = False,
    strategy: StrategyOption = None,
    require_grounding: GroundingOption = False,
    ignore_metadata: IgnoreMetadataOption = False,
    max_completion_tokens: CompletionTokensOption = None,
    temperature: TemperatureOption = None,
    context_tokens: ContextOption = None,
) -> None:  # fmt: skip
    """Write the first round of requests (the online path's bodies) and a manifest beside it."""
    with user_errors():
        config = _batch_config(model, base_url, temperature=temperature,
                               max_completion_tokens=max_completion_tokens, context_tokens=context_tokens)  # fmt: skip
        settings = run_settings_from(cache_dir, no_cache, record=record, prompt=prompt, strategy=strategy,
                             require_grounding=require_grounding, use_metadata=not ignore_metadata)  # fmt: skip
        summary = asyncio.run(prepare_batch(paths, output, config, settings))
    typer.echo(f"{output}: {summary.requests} requests for {summary.documents} documents")


@batch_app.command("collect")
def batch_collect(
    requests: Annotated[Path, typer.Argument(exists=True, help="The round's request file.")],
    results: Annotated[Path, typer.Argument(exists=True, help="Its results (batch fetch, vllm run-batch).")],
    output: Annotated[Path, typer.Option("-o", "--output", help="The run file (appended; collecting again adds nothing).")],
    next_requests: NextRequestsOption = None,
    cache_dir: CacheDirOption = None,
    no_cache: NoCacheOption = False,
) -> None:  # fmt: skip
    """Validate the answers into a run; write the next round for documents with questions left."""
    with user_errors():
        cache = None if no_cache else cache_dir or default_cache_dir()
        summary = asyncio.run(
            collect_batch(requests, results, output, cache_dir=cache, next_requests=next_requests)
        )
    typer.echo(f"{output}: {summary.ok} ok, {summary.failed} failed, {summary.skipped} already there"
               + (f"; {summary.unknown_answers} answers to no request" if summary.unknown_answers else ""))  # fmt: skip
    if summary.next_requests is not None:
        typer.echo(f"next round: {summary.next_requests} ({summary.requests} requests)")


def _say_batch(status: BatchStatus) -> None:
    typer.echo(f"{status.id}: {status.status} ({status.completed} completed, {status.failed} failed "
               f"of {status.total})")  # fmt: skip


def _batch_service(base_url: str | None) -> BatchService:
    return BatchService(_batch_config(None, base_url))


@batch_app.command("submit")
def batch_submit(
    requests: Annotated[Path, typer.Argument(exists=True, help="A request file of batch prepare.")],
    base_url: BaseUrlOption = None,
) -> None:  # fmt: skip
    """Upload a request file and start a batch (OPENAI_API_KEY); prints the batch id."""
    with user_errors():
        _say_batch(_batch_service(base_url).submit(requests))


@batch_app.command("status")
def batch_status(batch_id: Annotated[str, typer.Argument(help="The batch id.")], base_url: BaseUrlOption = None) -> None:  # fmt: skip
    """Show a batch's status and request counts."""
    with user_errors():
        _say_batch(_batch_service(base_url).status(batch_id))


@batch_app.command("fetch")
def batch_fetch(
    batch_id: Annotated[str, typer.Argument(help="The batch id.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="The results file to write.")],
    base_url: BaseUrlOption = None,
) -> None:  # fmt: skip
    """Download a finished batch's answers and failed requests into one results file."""
    with user_errors():
        _say_batch(_batch_service(base_url).fetch(batch_id, output))
