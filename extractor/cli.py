"""The ``extractor`` command: argument parsing over the library, rendering in ``console``."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import sys
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markdown import Markdown

from extractor.config import ModelConfig, load_config
from extractor.console import print_scores, print_summary, progress_bar, stderr
from extractor.errors import ExtractorError
from extractor.evaluation.compare import compare_results, load_result
from extractor.evaluation.evaluate import (
    EvalResult,
    default_result_path,
    evaluate,
    read_run,
    write_result,
)
from extractor.evaluation.gold import GoldSet, check_gold, load_gold
from extractor.evaluation.leaderboard import append as append_row
from extractor.extraction.bulk import Progress, RunOptions, RunSummary, count_planned, extract_files
from extractor.extraction.cache import default_cache_dir
from extractor.extraction.limits import Budget
from extractor.extraction.prompts import DEFAULT_PROMPT
from extractor.extraction.strategies import DEFAULT_STRATEGY
from extractor.io.export import write_csv, write_parquet
from extractor.io.merge import merge_runs, parse_shard
from extractor.record.schema import schema_json
from extractor.review.page import write_review

# Instructor logs every failed attempt at ERROR and pypdf every repaired file at WARNING;
# the run reports failures itself, per document.
logging.getLogger("instructor").setLevel(logging.CRITICAL)
logging.getLogger("pypdf").setLevel(logging.ERROR)

LEADERBOARD = Path("eval/leaderboard.jsonl")

app = typer.Typer(
    help="Structured, checkable records from medical case reports.",
    no_args_is_help=True,
    add_completion=False,
)


@contextmanager
def _user_errors() -> Iterator[None]:
    """Turn library errors into one line on stderr and exit code 1; SIGTERM into a clean exit."""

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        yield
    except ExtractorError as e:
        stderr.print(f"[red]error:[/red] {e}", highlight=False)
        raise typer.Exit(1) from e
    except KeyboardInterrupt:
        stderr.print(
            "[yellow]interrupted[/yellow]: lines written so far are kept; re-run to resume"
        )
        raise typer.Exit(130) from None
    finally:
        signal.signal(signal.SIGTERM, previous)


PromptOption = Annotated[
    str, typer.Option("--prompt", help="Prompt version (folder under prompts/) or path.")
]
ModelOption = Annotated[
    str | None, typer.Option("--model", help="Model name [env: EXTRACTOR_MODEL].")
]
BaseUrlOption = Annotated[
    str | None,
    typer.Option("--base-url", help="OpenAI-compatible endpoint [env: EXTRACTOR_BASE_URL]; "
                 "unset: the embedded llama.cpp server."),
]  # fmt: skip
GgufOption = Annotated[
    Path | None, typer.Option("--gguf", help="GGUF file for the embedded server (default: SmolLM2-135M).")
]  # fmt: skip
CacheDirOption = Annotated[Path | None, typer.Option("--cache-dir", help="Cache folder.")]
NoCacheOption = Annotated[
    bool, typer.Option("--no-cache", help="Neither read nor write the cache.")
]
StrategyOption = Annotated[
    str,
    typer.Option("--strategy", help="whole: one call per record; sections: several smaller calls."),
]
GroundingOption = Annotated[
    bool,
    typer.Option(
        "--require-grounding", help="Keep only values whose evidence quote is in the document."
    ),
]
ConcurrencyOption = Annotated[
    int | None,
    typer.Option("--concurrency", min=1, help="Documents in flight (default 1 embedded, 8 remote)."),
]  # fmt: skip


def _cache(cache_dir: Path | None, no_cache: bool) -> Path | None:
    return None if no_cache else cache_dir or default_cache_dir()


def _warn(message: str) -> None:
    stderr.print(f"[yellow]warning:[/yellow] {message}")


def _run(output: Path, start: Callable[[Progress], Coroutine[Any, Any, RunSummary]]) -> None:
    """Run an extraction coroutine with a progress bar, then print its summary."""
    with progress_bar() as update:
        summary = asyncio.run(start(update))
    print_summary(summary, output)


@app.command()
def extract(
    paths: Annotated[list[Path], typer.Argument(exists=True, help="Files or folders of case reports.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Output JSONL file (appended; re-runs resume).")],
    prompt: PromptOption = DEFAULT_PROMPT,
    model: ModelOption = None,
    base_url: BaseUrlOption = None,
    gguf: GgufOption = None,
    cache_dir: CacheDirOption = None,
    no_cache: NoCacheOption = False,
    strategy: StrategyOption = DEFAULT_STRATEGY,
    require_grounding: GroundingOption = False,
    concurrency: ConcurrencyOption = None,
    overwrite: Annotated[bool, typer.Option(help="Start the output afresh instead of resuming.")] = False,
    retry_failed: Annotated[bool, typer.Option(help="Re-attempt the documents whose line is an error.")] = False,
    shard: Annotated[str | None, typer.Option(help="Process only shard I of N, e.g. 2/4.")] = None,
    rpm: Annotated[float | None, typer.Option(help="At most this many requests per minute.")] = None,
    tpm: Annotated[float | None, typer.Option(help="At most this many tokens per minute.")] = None,
    price_in: Annotated[float | None, typer.Option(help="USD per million prompt tokens.")] = None,
    price_out: Annotated[float | None, typer.Option(help="USD per million completion tokens.")] = None,
    max_cost: Annotated[float | None, typer.Option(help="Stop scheduling documents at this cost (USD).")] = None,
    max_tokens: Annotated[int | None, typer.Option(help="Stop scheduling documents at this many tokens.")] = None,
    max_completion_tokens: Annotated[int | None, typer.Option(help="Token limit of one answer (default 2048).")] = None,
    temperature: Annotated[float | None, typer.Option(help="Sampling temperature (default 0).")] = None,
    retries: Annotated[int | None, typer.Option(help="Retries of a failed request (default 4).")] = None,
    context_tokens: Annotated[int | None, typer.Option(help="The model's context size; longer documents are split (embedded: 8192).")] = None,
) -> None:  # fmt: skip
    """Extract one record per document into a JSONL file."""
    with _user_errors():
        config = load_config(
            model=model, base_url=base_url, gguf=gguf, temperature=temperature,
            max_tokens=max_completion_tokens, max_retries=retries, context_size=context_tokens,
        )  # fmt: skip
        options = RunOptions(
            concurrency=concurrency or (1 if config.embedded else 8),
            overwrite=overwrite,
            retry_failed=retry_failed,
            shard=None if shard is None else parse_shard(shard),
            budget=Budget(max_cost=max_cost, max_tokens=max_tokens),
        )
        if count_planned(paths, options.shard) == 0:
            raise typer.BadParameter("no supported documents found", param_hint="PATHS")
        _run(output, lambda update: extract_files(
            paths, output, config, prompt=prompt, cache_dir=_cache(cache_dir, no_cache),
            options=options, rpm=rpm, tpm=tpm, price_in=price_in, price_out=price_out,
            strategy=strategy, require_grounding=require_grounding,
            on_progress=update, on_warning=_warn,
        ))  # fmt: skip


@app.command()
def export(
    run: Annotated[Path, typer.Argument(exists=True, help="Output JSONL of a run.")],
    csv: Annotated[Path | None, typer.Option("--csv", help="Write one row per patient to this CSV.")] = None,
    parquet: Annotated[Path | None, typer.Option("--parquet", help="Write Parquet (needs pyarrow).")] = None,
) -> None:  # fmt: skip
    """Export a run to a spreadsheet: one row per patient, document fields repeated."""
    if csv is None and parquet is None:
        raise typer.BadParameter("name an output: --csv FILE and/or --parquet FILE")
    with _user_errors():
        if csv is not None:
            typer.echo(f"{csv}: {write_csv(run, csv)} rows")
        if parquet is not None:
            typer.echo(f"{parquet}: {write_parquet(run, parquet)} rows")


@app.command()
def merge(
    runs: Annotated[list[Path], typer.Argument(exists=True, help="Run files (e.g. shards).")],
    output: Annotated[Path, typer.Option("-o", "--output", help="The merged run file.")],
) -> None:
    """Merge run files into one line per document (records preferred over errors)."""
    with _user_errors():
        summary = merge_runs(runs, output)
    typer.echo(
        f"{output}: {summary.documents} documents from {summary.lines_read} lines in "
        f"{summary.inputs} files ({summary.duplicates_removed} duplicates removed)"
    )


@app.command()
def review(
    run: Annotated[Path, typer.Argument(exists=True, help="Output JSONL of a run.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="The HTML page to write.")] = Path("review.html"),
    gold: Annotated[Path | None, typer.Option("--gold", help="Gold folder: gold and predicted values side by side.")] = None,
) -> None:  # fmt: skip
    """Write one self-contained, offline HTML page to review a run, document by document."""
    with _user_errors():
        summary = write_review(run, output, gold)
    typer.echo(f"{output}: {summary.documents} documents ({summary.ok} ok, {summary.failed} failed, "
               f"{summary.with_gold} with gold)")  # fmt: skip


gold_app = typer.Typer(help="Gold sets: hand-labelled documents.", no_args_is_help=True)
app.add_typer(gold_app, name="gold")
GoldOption = Annotated[Path, typer.Option("--gold", help="Gold folder (docs/ and labels/).")]


@gold_app.command("check")
def gold_check(gold: GoldOption = Path("gold")) -> None:
    """Check a gold set: labels load, documents and labels pair up, quotes occur in the text."""
    with _user_errors():
        problems = check_gold(gold)
    if not problems:
        typer.echo(f"{gold}: ok")
        return
    for path, messages in problems.items():
        typer.echo(path)
        for message in messages:
            typer.echo(f"  - {message}")
    count = sum(len(m) for m in problems.values())
    typer.echo(f"{count} problem(s) in {len(problems)} file(s)")
    raise typer.Exit(1)


@app.command("eval")
def eval_command(
    gold: GoldOption = Path("gold"),
    run: Annotated[Path | None, typer.Option("--run", help="Score this run instead of extracting.")] = None,
    json_path: Annotated[Path | None, typer.Option("--json", help="Result file (default eval/results/<time>_<prompt>_<model>.json).")] = None,
    prompt: PromptOption = DEFAULT_PROMPT,
    model: ModelOption = None,
    base_url: BaseUrlOption = None,
    gguf: GgufOption = None,
    cache_dir: CacheDirOption = None,
    no_cache: NoCacheOption = False,
    strategy: StrategyOption = DEFAULT_STRATEGY,
    require_grounding: GroundingOption = False,
    concurrency: ConcurrencyOption = None,
    leaderboard: Annotated[Path, typer.Option(help="Leaderboard rows (JSONL; Markdown beside it).")] = LEADERBOARD,
) -> None:  # fmt: skip
    """Score extraction against a gold set, field by field, and add a leaderboard row.

    Without --run, the gold documents are extracted first (cached, as by extract).
    """
    with _user_errors():
        gold_set = load_gold(gold)
        if run is None:
            config = load_config(model=model, base_url=base_url, gguf=gguf)
            result = _evaluate_run(
                gold_set, config, prompt, strategy, _cache(cache_dir, no_cache),
                concurrency, require_grounding,
            )  # fmt: skip
        else:
            result = evaluate(gold_set, read_run(run), meta={"run": str(run)})
        _record(result, json_path, leaderboard)
    print_scores(result)


def _pair(values: list[str] | None, default: str) -> tuple[str, str]:
    """Side A's and side B's value of a repeated option (one value: the same on both)."""
    values = values or [default]
    if len(values) > 2:
        raise typer.BadParameter(f"at most two values, not {len(values)}")
    return values[0], values[-1]


def _record(
    result: EvalResult, json_path: Path | None = None, leaderboard: Path = LEADERBOARD
) -> EvalResult:
    """Write the result and its report, add the leaderboard row, and say where they are."""
    json_path = json_path or default_result_path(Path("eval/results"), result.meta)
    report = write_result(result, json_path)
    board = append_row(result, leaderboard)
    stderr.print(f"result: {json_path}  report: {report}  leaderboard: {board}")
    return result


def _evaluate_run(
    gold_set: GoldSet, config: ModelConfig, prompt: str, strategy: str, cache_dir: Path | None,
    concurrency: int | None = None, require_grounding: bool = False,
) -> EvalResult:  # fmt: skip
    """Extract the gold documents (cached) and score them."""
    name = f"{gold_set.directory.name}_{Path(prompt).name}_{strategy}_{config.model or 'embedded'}"
    run = Path("eval/runs") / f"{name}.jsonl"
    inputs = [Path(item.document.source) for item in gold_set.items.values()]
    options = RunOptions(concurrency=concurrency or (1 if config.embedded else 8), overwrite=True)
    _run(run, lambda update: extract_files(
        inputs, run, config, prompt=prompt, cache_dir=cache_dir, options=options,
        strategy=strategy, require_grounding=require_grounding,
        on_progress=update, on_warning=_warn,
    ))  # fmt: skip
    return evaluate(gold_set, read_run(run), meta={"run": str(run)})


@app.command()
def compare(
    results: Annotated[list[Path] | None, typer.Argument(help="Two eval result files (A then B).")] = None,
    gold: Annotated[Path | None, typer.Option("--gold", help="Run both sides on this gold set instead.")] = None,
    prompt: Annotated[list[str] | None, typer.Option("--prompt", help="Prompt of A, then of B.")] = None,
    strategy: Annotated[list[str] | None, typer.Option("--strategy", help="Strategy of A, then of B.")] = None,
    model: ModelOption = None,
    base_url: BaseUrlOption = None,
    gguf: GgufOption = None,
    cache_dir: CacheDirOption = None,
    markdown: Annotated[Path | None, typer.Option("--markdown", help="Also write the report to this file.")] = None,
    resamples: Annotated[int, typer.Option(help="Bootstrap resamples.")] = 2000,
) -> None:  # fmt: skip
    """Compare two evaluations: F1 per field, bootstrap 95% CI of each delta, and flips."""
    with _user_errors():
        if gold is not None:
            (pa, pb), (sa, sb) = _pair(prompt, DEFAULT_PROMPT), _pair(strategy, DEFAULT_STRATEGY)
            if (pa, sa) == (pb, sb):
                raise typer.BadParameter("give two --prompt or two --strategy values to compare")
            gold_set = load_gold(gold)
            config = load_config(model=model, base_url=base_url, gguf=gguf)
            cache = _cache(cache_dir, False)
            label_a, label_b = f"{Path(pa).name}/{sa}", f"{Path(pb).name}/{sb}"
            a = _record(_evaluate_run(gold_set, config, pa, sa, cache)).to_dict()
            b = _record(_evaluate_run(gold_set, config, pb, sb, cache)).to_dict()
        elif results is not None and len(results) == 2:
            label_a, label_b = results[0].stem, results[1].stem
            a, b = load_result(results[0]), load_result(results[1])
        else:
            raise typer.BadParameter(
                "give two result files, or --gold with two --prompt/--strategy values"
            )
        comparison = compare_results(a, b, label_a=label_a, label_b=label_b, resamples=resamples)
        report = comparison.to_markdown()
        if markdown is not None:
            markdown.parent.mkdir(parents=True, exist_ok=True)
            markdown.write_text(report, encoding="utf-8")
    Console().print(Markdown(report))


@app.command()
def schema() -> None:
    """Print the JSON Schema of the case-report record."""
    sys.stdout.write(json.dumps(schema_json(), indent=2) + "\n")


def main() -> None:
    """Entry point of the console script."""
    app()


if __name__ == "__main__":
    main()
