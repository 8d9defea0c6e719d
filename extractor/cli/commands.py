"""The ``extractor`` app and its commands: argument parsing over the library, rendering in ``console``."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markdown import Markdown

from extractor.cli.batch import batch_app
from extractor.cli.common import (
    model_config,
    run_settings_from,
    user_errors,
    warn,
    with_progress,
)
from extractor.config import (
    ModelConfig,
    RunSettings,
    default_of,
)
from extractor.console import (
    print_agreement,
    print_scores,
    print_summary,
    stderr,
)
from extractor.evaluation.agree import agree_runs, write_triage
from extractor.evaluation.compare import compare_results, load_result
from extractor.evaluation.evaluate import read_run
from extractor.evaluation.gold import GoldSet, check_gold, load_gold
from extractor.evaluation.runner import SavedEval, evaluate_gold, score_and_save
from extractor.extraction.bulk import extract_files
from extractor.io.export import write_csv, write_parquet
from extractor.io.merge import merge_runs
from extractor.io.runfile import run_record
from extractor.options import (
    BaseUrlOption,
    CacheDirOption,
    CompletionTokensOption,
    ConcurrencyOption,
    ContextOption,
    EvalDirOption,
    GgufOption,
    GoldOption,
    GroundingOption,
    IgnoreMetadataOption,
    ModelOption,
    NoCacheOption,
    PromptOption,
    RecordOption,
    RetriesOption,
    StopAfterFailuresOption,
    StrategyOption,
    TemperatureOption,
)
from extractor.record.template import Template, load_template
from extractor.review.app import Adjudication, serve
from extractor.review.page import write_review

# Instructor logs every failed attempt at ERROR and pypdf every repaired file at WARNING;
# the run reports failures itself, per document.
logging.getLogger("instructor").setLevel(logging.CRITICAL)
logging.getLogger("pypdf").setLevel(logging.ERROR)

app = typer.Typer(
    help="Structured, checkable records from medical case reports.",
    no_args_is_help=True,
    add_completion=False,
)


@app.command()
def extract(
    paths: Annotated[list[Path], typer.Argument(exists=True, help="Files or folders of case reports.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Output JSONL file (appended; re-runs resume).")],
    record: RecordOption = None,
    prompt: PromptOption = None,
    model: ModelOption = None,
    base_url: BaseUrlOption = None,
    gguf: GgufOption = None,
    cache_dir: CacheDirOption = None,
    no_cache: NoCacheOption = False,
    strategy: StrategyOption = None,
    require_grounding: GroundingOption = False,
    ignore_metadata: IgnoreMetadataOption = False,
    concurrency: ConcurrencyOption = None,
    overwrite: Annotated[bool, typer.Option(help="Start the output afresh instead of resuming.")] = False,
    retry_failed: Annotated[bool, typer.Option(help="Re-attempt the documents whose line is an error.")] = False,
    shard: Annotated[str | None, typer.Option(help="Process only shard I of N, e.g. 2/4 (retired: use --engine ray).")] = None,
    engine: Annotated[str | None, typer.Option(help="local (this process) or ray (cache misses on Ray workers; needs the [ray] extra)" f" [default: {default_of(RunSettings, 'engine')}].")] = None,
    address: Annotated[str | None, typer.Option(help="Ray cluster to join, e.g. auto or HOST:PORT [default: a local Ray on 127.0.0.1].")] = None,
    workers: Annotated[int | None, typer.Option(help="Ray workers [default: one per CPU of the cluster].")] = None,
    rpm: Annotated[float | None, typer.Option(help="At most this many requests per minute.")] = None,
    tpm: Annotated[float | None, typer.Option(help="At most this many tokens per minute.")] = None,
    price_in: Annotated[float | None, typer.Option(help="USD per million prompt tokens.")] = None,
    price_out: Annotated[float | None, typer.Option(help="USD per million completion tokens.")] = None,
    max_cost: Annotated[float | None, typer.Option(help="Run budget: stop scheduling documents at this cost (USD).")] = None,
    max_tokens: Annotated[int | None, typer.Option(help="Run budget: stop scheduling documents at this many tokens.")] = None,
    stop_after_failures: StopAfterFailuresOption = None,
    max_completion_tokens: CompletionTokensOption = None,
    temperature: TemperatureOption = None,
    retries: RetriesOption = None,
    context_tokens: ContextOption = None,
) -> None:  # fmt: skip
    """Extract one record per document into a JSONL file."""
    with user_errors():
        config = model_config(
            model, base_url, gguf, temperature, max_completion_tokens, retries, context_tokens
        )
        settings = run_settings_from(
            cache_dir, no_cache, record=record, prompt=prompt, strategy=strategy,
            require_grounding=require_grounding, use_metadata=not ignore_metadata,
            concurrency=concurrency, overwrite=overwrite,
            retry_failed=retry_failed, shard=shard, rpm=rpm, tpm=tpm, price_in=price_in,
            price_out=price_out, max_cost=max_cost, max_tokens=max_tokens,
            stop_after_failures=stop_after_failures, engine=engine, address=address,
            workers=workers,
        )  # fmt: skip
        summary = with_progress(lambda update: extract_files(
            paths, output, config, settings, on_progress=update, on_warning=warn
        ))  # fmt: skip
    print_summary(summary, output)


@app.command()
def export(
    run: Annotated[Path, typer.Argument(exists=True, help="Output JSONL of a run.")],
    csv: Annotated[Path | None, typer.Option("--csv", help="Write one row per patient to this CSV.")] = None,
    parquet: Annotated[Path | None, typer.Option("--parquet", help="Write Parquet (needs pyarrow).")] = None,
    record: RecordOption = None,
) -> None:  # fmt: skip
    """Export a run to a spreadsheet: one row per patient, document fields repeated."""
    if csv is None and parquet is None:
        raise typer.BadParameter("name an output: --csv FILE and/or --parquet FILE")
    with user_errors():
        template = _template(record, run)
        if csv is not None:
            typer.echo(f"{csv}: {write_csv(run, csv, template)} rows")
        if parquet is not None:
            typer.echo(f"{parquet}: {write_parquet(run, parquet, template)} rows")


@app.command()
def merge(
    runs: Annotated[list[Path], typer.Argument(exists=True, help="Run files (e.g. shards).")],
    output: Annotated[Path, typer.Option("-o", "--output", help="The merged run file.")],
) -> None:
    """Merge run files into one line per document (records preferred over errors)."""
    with user_errors():
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
    record: RecordOption = None,
) -> None:  # fmt: skip
    """Write one self-contained, offline HTML page to review a run, document by document."""
    with user_errors():
        summary = write_review(run, output, gold, record or (None if gold else run_record(run)))
    typer.echo(f"{output}: {summary.documents} documents ({summary.ok} ok, {summary.failed} failed, "
               f"{summary.with_gold} with gold)")  # fmt: skip


# --- the reviewer's loop: agree, then adjudicate ------------------------------------------------


@app.command()
def agree(
    runs: Annotated[list[Path], typer.Argument(exists=True, help="Two or more run files of the same documents; the first numbers the patients.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Triage file: one JSON line per disagreement.")] = Path("triage.jsonl"),
    gold: Annotated[Path | None, typer.Option("--gold", help="Gold folder: accuracy of agreed against disagreed values.")] = None,
    record: RecordOption = None,
) -> None:  # fmt: skip
    """Compare runs field by field: agreement rates, and the values to review."""
    if len(runs) < 2:
        raise typer.BadParameter("give two or more run files")
    with user_errors():
        template = None if gold is not None and record is None else _template(record, runs[0])
        agreement = agree_runs(runs, gold, template)
        write_triage(agreement, output)
    print_agreement(agreement, output)


@app.command()
def adjudicate(
    run: Annotated[Path, typer.Argument(exists=True, help="The run to start from (the first run given to agree).")],
    gold: Annotated[Path, typer.Option("--gold", help="Gold folder to write labels into (created if missing).")],
    triage: Annotated[Path | None, typer.Option("--triage", exists=True, help="Triage file of agree: its values are marked first.")] = None,
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 [default: a free one].", min=0, max=65535)] = 0,
    no_open: Annotated[bool, typer.Option("--no-open", help="Only print the URL; do not open a browser.")] = False,
    record: RecordOption = None,
) -> None:  # fmt: skip
    """Serve a local page to accept, correct or clear each value and save gold labels."""
    with user_errors():
        has_own = (gold / "record.toml").is_file()
        adjudication = Adjudication(
            run, gold, triage, record or (None if has_own else run_record(run))
        )
        serve(adjudication, port, open_browser=not no_open,
              announce=lambda url: typer.echo(f"adjudicating {run} into {gold} at {url} (Ctrl-C stops)"))  # fmt: skip


gold_app = typer.Typer(help="Gold sets: hand-labelled documents.", no_args_is_help=True)
app.add_typer(gold_app, name="gold")


@gold_app.command("check")
def gold_check(gold: GoldOption = Path("gold"), record: RecordOption = None) -> None:
    """Check a gold set: labels load, documents and labels pair up, quotes occur in the text."""
    with user_errors():
        problems = check_gold(gold, record)
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
    json_path: Annotated[Path | None, typer.Option("--json", help="Result file [default: EVAL_DIR/results/<time>_<prompt>_<strategy>_<model>.json].")] = None,
    eval_dir: EvalDirOption = Path("eval"),
    record: RecordOption = None,
    prompt: PromptOption = None,
    model: ModelOption = None,
    base_url: BaseUrlOption = None,
    gguf: GgufOption = None,
    cache_dir: CacheDirOption = None,
    no_cache: NoCacheOption = False,
    strategy: StrategyOption = None,
    require_grounding: GroundingOption = False,
    ignore_metadata: IgnoreMetadataOption = False,
    concurrency: ConcurrencyOption = None,
    max_completion_tokens: CompletionTokensOption = None,
    temperature: TemperatureOption = None,
    retries: RetriesOption = None,
    context_tokens: ContextOption = None,
) -> None:  # fmt: skip
    """Score extraction against a gold set, field by field, and add a leaderboard row.

    Without --run, the gold documents are extracted first (cached, as by extract).
    """
    with user_errors():
        gold_set = load_gold(gold, record)
        if run is None:
            config = model_config(
                model, base_url, gguf, temperature, max_completion_tokens, retries, context_tokens
            )
            settings = run_settings_from(
                cache_dir, no_cache, prompt=prompt, strategy=strategy,
                require_grounding=require_grounding, use_metadata=not ignore_metadata,
                concurrency=concurrency,
            )  # fmt: skip
            saved = _evaluate_with_progress(gold_set, config, settings, eval_dir, json_path)
        else:
            records = read_run(run, gold_set.template)
            saved = score_and_save(gold_set, records, eval_dir, run=run, json_path=json_path)
    _say_saved(saved)
    print_scores(saved.result)


def _evaluate_with_progress(
    gold: GoldSet, config: ModelConfig, settings: RunSettings, eval_dir: Path,
    json_path: Path | None = None,
) -> SavedEval:  # fmt: skip
    return with_progress(lambda update: evaluate_gold(
        gold, config, settings, eval_dir, json_path=json_path, on_progress=update
    ))  # fmt: skip


def _say_saved(saved: SavedEval) -> None:
    stderr.print(
        f"result: {saved.json_path}  report: {saved.report}  leaderboard: {saved.leaderboard}"
    )


def _pair(values: list[str] | None, default: str) -> tuple[str, str]:
    """Side A's and side B's value of a repeated option (one value: the same on both)."""
    values = values or [default]
    if len(values) > 2:
        raise typer.BadParameter(f"at most two values, not {len(values)}")
    return values[0], values[-1]


@app.command()
def compare(
    results: Annotated[list[Path] | None, typer.Argument(help="Two eval result files (A then B).")] = None,
    gold: Annotated[Path | None, typer.Option("--gold", help="Run both sides on this gold set instead.")] = None,
    prompt: Annotated[list[str] | None, typer.Option("--prompt", help="Prompt of A, then of B.")] = None,
    strategy: Annotated[list[str] | None, typer.Option("--strategy", help="Strategy of A, then of B.")] = None,
    eval_dir: EvalDirOption = Path("eval"),
    record: RecordOption = None,
    model: ModelOption = None,
    base_url: BaseUrlOption = None,
    gguf: GgufOption = None,
    cache_dir: CacheDirOption = None,
    max_completion_tokens: CompletionTokensOption = None,
    temperature: TemperatureOption = None,
    retries: RetriesOption = None,
    context_tokens: ContextOption = None,
    markdown: Annotated[Path | None, typer.Option("--markdown", help="Also write the report to this file.")] = None,
    resamples: Annotated[int, typer.Option(help="Bootstrap resamples.")] = 2000,
) -> None:  # fmt: skip
    """Compare two evaluations: F1 per field, bootstrap 95% CI of each delta, and flips."""
    with user_errors():
        if gold is not None:
            gold_set = load_gold(gold, record)
            prompts = _pair(prompt, RunSettings().prompt_for(gold_set.template))
            strategies = _pair(strategy, default_of(RunSettings, "strategy"))
            if prompts[0] == prompts[1] and strategies[0] == strategies[1]:
                raise typer.BadParameter("give two --prompt or two --strategy values to compare")
            config = model_config(
                model, base_url, gguf, temperature, max_completion_tokens, retries, context_tokens
            )
            sides = []
            for side_prompt, side_strategy in zip(prompts, strategies, strict=True):
                settings = run_settings_from(
                    cache_dir, False, prompt=side_prompt, strategy=side_strategy
                )
                saved = _evaluate_with_progress(gold_set, config, settings, eval_dir)
                _say_saved(saved)
                sides.append((f"{Path(side_prompt).name}/{side_strategy}", saved.result.to_dict()))
            (label_a, a), (label_b, b) = sides
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


app.add_typer(batch_app, name="batch")


@app.command()
def schema(record: RecordOption = None) -> None:
    """Print the JSON Schema of the record (by default the NEN case-report record)."""
    with user_errors():
        template = _template(record)
    sys.stdout.write(json.dumps(template.schema, indent=2) + "\n")


def _template(record: str | None, run: Path | None = None) -> Template:
    """The template named by ``--record``, else the one ``run`` was made with, else the default."""
    return load_template(record or (None if run is None else run_record(run)) or
                         default_of(RunSettings, "record"))  # fmt: skip


def main() -> None:
    """Entry point of the console script."""
    app()


if __name__ == "__main__":
    main()
