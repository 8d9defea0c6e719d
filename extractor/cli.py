"""The ``extractor`` command: argument parsing and rendering over the library."""

from __future__ import annotations

import json
import logging
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from extractor.cache import ResponseCache, default_cache_dir
from extractor.config import ModelConfig, load_config
from extractor.documents import iter_paths
from extractor.errors import ExtractorError
from extractor.evaluate import (
    EvalResult,
    default_result_path,
    evaluate,
    format_rate,
    read_run,
    write_result,
)
from extractor.gold import check_gold, load_gold
from extractor.llm import connect
from extractor.prompts import DEFAULT_PROMPT, load_prompt
from extractor.run import DocumentExtractor, ResultLine, RunSummary, run_extraction
from extractor.schema import schema_json
from extractor.scoring import FIELDS

# Instructor logs every failed attempt at ERROR; the run reports failures itself.
logging.getLogger("instructor").setLevel(logging.CRITICAL)

app = typer.Typer(
    help="Structured, checkable records from medical case reports.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console(stderr=True)


@contextmanager
def _user_errors() -> Iterator[None]:
    """Turn library errors into one line on stderr and exit code 1; SIGTERM into a clean exit."""

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        yield
    except ExtractorError as e:
        console.print(f"[red]error:[/red] {e}", highlight=False, markup=True)
        raise typer.Exit(1) from e
    except KeyboardInterrupt:
        console.print("[yellow]interrupted[/yellow]")
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
    Path | None,
    typer.Option("--gguf", help="GGUF file for the embedded server (default: SmolLM2-135M)."),
]
CacheDirOption = Annotated[Path | None, typer.Option("--cache-dir", help="Cache folder.")]
NoCacheOption = Annotated[
    bool, typer.Option("--no-cache", help="Neither read nor write the cache.")
]


@app.command()
def extract(
    paths: Annotated[
        list[Path], typer.Argument(exists=True, help="Files or folders of case reports.")
    ],
    output: Annotated[Path, typer.Option("-o", "--output", help="Output JSONL file.")],
    prompt: PromptOption = DEFAULT_PROMPT,
    model: ModelOption = None,
    base_url: BaseUrlOption = None,
    gguf: GgufOption = None,
    cache_dir: CacheDirOption = None,
    no_cache: NoCacheOption = False,
    temperature: Annotated[
        float | None, typer.Option(help="Sampling temperature (default 0).")
    ] = None,
    max_tokens: Annotated[
        int | None, typer.Option(help="Completion token limit (default 2048).")
    ] = None,
    retries: Annotated[
        int | None,
        typer.Option(help="Retries of a failed request (429, 5xx, timeouts; default 4)."),
    ] = None,
) -> None:
    """Extract one record per document into a JSONL file."""
    with _user_errors():
        config = load_config(
            model=model,
            base_url=base_url,
            gguf=gguf,
            temperature=temperature,
            max_tokens=max_tokens,
            max_retries=retries,
        )
        inputs = list(iter_paths(paths))
        if not inputs:
            raise typer.BadParameter("no supported documents found", param_hint="PATHS")
        summary = _extract_to(
            inputs, output, config, prompt, None if no_cache else cache_dir or default_cache_dir()
        )
    _print_summary(summary, output)


def _extract_to(
    inputs: list[Path], output: Path, config: ModelConfig, prompt: str, cache_dir: Path | None
) -> RunSummary:
    """Run the extraction with a progress bar (shared by ``extract`` and ``eval``)."""
    loaded_prompt = load_prompt(prompt)
    cache = ResponseCache(cache_dir)
    if cache.problem:
        console.print(f"[yellow]warning:[/yellow] {cache.problem}")
    try:
        with connect(config) as client, _progress(len(inputs)) as advance:
            extractor = DocumentExtractor(client, loaded_prompt, cache, config.generation_params())
            return run_extraction(inputs, output, extractor, on_line=advance)
    finally:
        cache.close()


@contextmanager
def _progress(total: int) -> Iterator[Callable[[ResultLine], None]]:
    columns = (
        TextColumn("[bold]extracting"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("extract", total=total, status="")
        counts = RunSummary()

        def advance(line: ResultLine) -> None:
            counts.add(line)
            status = f"ok {counts.ok} failed {counts.failed} cached {counts.cache_hits}"
            progress.update(task, advance=1, status=status)

        yield advance


def _print_summary(summary: RunSummary, output: Path) -> None:
    table = Table(title="extraction summary", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    failures = ", ".join(f"{kind} {n}" for kind, n in summary.failures.most_common())
    per_doc = summary.seconds / summary.documents if summary.documents else 0.0
    rows = [
        ("documents", str(summary.documents)),
        ("ok", str(summary.ok)),
        ("failed", f"{summary.failed}" + (f" ({failures})" if failures else "")),
        ("cache hits", str(summary.cache_hits)),
        ("tokens", f"{summary.prompt_tokens:,} prompt + {summary.completion_tokens:,} completion"),
        ("time", f"{summary.seconds:.1f} s ({per_doc:.2f} s per document)"),
        ("output", str(output)),
    ]
    for name, value in rows:
        table.add_row(name, value)
    console.print(table)


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
    run: Annotated[
        Path | None,
        typer.Option("--run", help="Score this extraction output instead of extracting."),
    ] = None,
    json_path: Annotated[
        Path | None,
        typer.Option(
            "--json", help="Result file (default eval/results/<time>_<prompt>_<model>.json)."
        ),
    ] = None,
    prompt: PromptOption = DEFAULT_PROMPT,
    model: ModelOption = None,
    base_url: BaseUrlOption = None,
    gguf: GgufOption = None,
    cache_dir: CacheDirOption = None,
    no_cache: NoCacheOption = False,
) -> None:
    """Score extraction against a gold set, field by field.

    Without --run, the gold documents are extracted first (cached, as by extract).
    """
    with _user_errors():
        gold_set = load_gold(gold)
        if run is None:
            config = load_config(model=model, base_url=base_url, gguf=gguf)
            run = (json_path or Path("eval/results/latest.json")).with_suffix(".run.jsonl")
            inputs = [Path(item.document.source) for item in gold_set.items.values()]
            cache = None if no_cache else cache_dir or default_cache_dir()
            _print_summary(_extract_to(inputs, run, config, prompt, cache), run)
        result = evaluate(gold_set, read_run(run), meta={"run": str(run)})
        json_path = json_path or default_result_path(Path("eval/results"), result.meta)
        report = write_result(result, json_path)
    _print_eval(result)
    typer.echo(f"result: {json_path}\nreport: {report}")


def _print_eval(result: EvalResult) -> None:
    score = result.score
    table = Table(title=f"field scores ({len(score.documents)} documents)", title_justify="left")
    for column in ("field", "TP", "FP", "FN", "abstain", "P", "R", "F1"):
        table.add_column(column, justify="left" if column == "field" else "right")
    for name in FIELDS:
        c = score.fields[name]
        table.add_row(name, str(c.tp), str(c.fp), str(c.fn), str(c.abstain),
                      f"{c.precision:.2f}", f"{c.recall:.2f}", f"{c.f1:.2f}")  # fmt: skip
    out = Console()
    out.print(table)
    out.print(
        f"micro-F1 [bold]{score.micro.f1:.3f}[/bold]"
        f"  invented-value rate {format_rate(score.invented_rate)}"
        f"  grounding rate {format_rate(score.grounding_rate)}"
    )
    if result.missing or result.failed:
        out.print(f"no record for: {', '.join(result.missing + list(result.failed))}")


@app.command()
def schema() -> None:
    """Print the JSON Schema of the case-report record."""
    sys.stdout.write(json.dumps(schema_json(), indent=2) + "\n")


def main() -> None:
    """Entry point of the console script."""
    app()


if __name__ == "__main__":
    main()
