"""What the command line shows: the progress bar, run summaries and score tables."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from extractor.evaluation.agree import Accuracy, Agreement
from extractor.evaluation.evaluate import EvalResult, format_rate
from extractor.extraction.bulk import RunSummary

stderr = Console(stderr=True)


def _cost(summary: RunSummary) -> str:
    return f"${summary.cost_usd:.4f}" + ("" if summary.cost_known else " + unpriced")


@contextmanager
def progress_bar(label: str = "extracting") -> Iterator[Callable[[RunSummary], None]]:
    """A progress bar on stderr; yields the callback a run reports to."""
    columns = (
        TextColumn(f"[bold]{label}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeRemainingColumn(),
        TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
    )
    started = time.monotonic()
    with Progress(*columns, console=stderr, transient=False) as progress:
        task = progress.add_task(label, total=None, rate="", status="")

        def update(summary: RunSummary) -> None:
            elapsed = max(time.monotonic() - started, 1e-6)
            status = (
                f"failed {summary.failed} cached {summary.cache_hits} "
                f"skipped {summary.skipped} | {summary.tokens:,} tok {_cost(summary)}"
            )
            progress.update(
                task,
                total=summary.planned,
                completed=summary.documents + summary.skipped,
                rate=f"{summary.documents / elapsed:.2f} doc/s",
                status=status,
            )

        yield update


def print_summary(summary: RunSummary, output: Path) -> None:
    """The one-screen summary at the end of a run."""
    table = Table(title="extraction summary", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    failures = ", ".join(f"{kind} {n}" for kind, n in summary.failures.most_common())
    per_doc = summary.seconds / summary.documents if summary.documents else 0.0
    rows = [
        ("documents", f"{summary.documents} of {summary.planned} planned"),
        ("ok", str(summary.ok)),
        ("failed", f"{summary.failed}" + (f" ({failures})" if failures else "")),
        ("skipped", f"{summary.skipped} (already in the output)"),
        ("cache hits", str(summary.cache_hits)),
        ("tokens", f"{summary.prompt_tokens:,} prompt + {summary.completion_tokens:,} completion"),
        ("cost", _cost(summary)),
        ("time", f"{summary.seconds:.1f} s ({per_doc:.2f} s per document)"),
        ("output", str(output)),
    ]
    if summary.stopped:
        rows.insert(0, ("stopped", summary.stopped))
    for name, value in rows:
        table.add_row(name, value)
    stderr.print(table)


def print_scores(result: EvalResult) -> None:
    """The per-field table and the overall figures of an evaluation."""
    score = result.score
    table = Table(title=f"field scores ({len(score.documents)} documents)", title_justify="left")
    for column in ("field", "TP", "FP", "FN", "abstain", "P", "R", "F1"):
        table.add_column(column, justify="left" if column == "field" else "right")
    for name in score.fields:
        c = score.fields[name]
        table.add_row(name, str(c.tp), str(c.fp), str(c.fn), str(c.abstain),
                      f"{c.precision:.2f}", f"{c.recall:.2f}", f"{c.f1:.2f}")  # fmt: skip
    out = Console()
    out.print(table)
    out.print(
        f"micro-F1 [bold]{score.micro.f1:.3f}[/bold]"
        f"  invented-value rate {format_rate(score.invented_rate)}"
        f"  grounding rate {format_rate(score.grounding_rate)}"
        f"  (micro-F1 with --require-grounding {result.grounded.micro.f1:.3f})"
    )
    if result.missing or result.failed:
        out.print(f"no record for: {', '.join(result.missing + list(result.failed))}")


def _accuracy(accuracy: Accuracy) -> str:
    return f"{format_rate(accuracy.rate)} ({accuracy.right} of {accuracy.judged})"


def print_agreement(agreement: Agreement, triage: Path) -> None:
    """The per-field agreement table, the values to review and, with gold, the accuracy split."""
    gold = agreement.accuracy
    title = f"agreement of {len(agreement.runs)} runs ({len(agreement.documents)} documents)"
    table = Table(
        title=title,
        title_justify="left",
        box=box.SIMPLE_HEAD,
        padding=(0, 1),
        pad_edge=False,
        collapse_padding=True,
    )
    table.add_column("field", no_wrap=True)
    head = ["slots", "agree", "empty", "differ", "rate"]
    for column in head + (["acc.\nagreed", "acc.\ndiffer"] if gold is not None else []):
        table.add_column(column, justify="right", no_wrap=True)
    for name, c in agreement.fields.items():
        cells = [name, str(c.slots), str(c.agreed), str(c.empty), str(c.disagreed)]
        cells.append(format_rate(c.rate))
        if gold is not None:
            cells += [format_rate(gold[name].agreed.rate), format_rate(gold[name].disagreed.rate)]
        table.add_row(*cells)
    out = Console()
    out.print(table)
    overall = agreement.overall
    lines = [
        f"agreement [bold]{format_rate(overall.rate)}[/bold] ({overall.agreed} of "
        f"{overall.slots} slots agree, {overall.empty} of them empty in every run)",
        f"values to review: [bold]{overall.disagreed}[/bold] -> {escape(str(triage))}",
    ]
    split = agreement.overall_accuracy
    if split is not None:
        lines.append(
            f"accuracy against gold ({agreement.gold_documents} documents): agreed values "
            f"[bold]{_accuracy(split.agreed)}[/bold], disagreed values "
            f"[bold]{_accuracy(split.disagreed)}[/bold]"
        )
    lines += [
        f"not compared: {escape(doc)} ({escape(why)})" for doc, why in agreement.skipped.items()
    ]
    for line in lines:
        out.print(line, soft_wrap=True, highlight=False)
