"""The whole job behind ``extractor eval``: extract the gold documents, score, save.

Every path is under an explicit evaluation folder (``eval_dir``), never the
working directory: the run goes to ``runs/``, the result and its Markdown
report to ``results/``, and a row to ``leaderboard.jsonl`` (Markdown beside
it). ``compare --gold`` calls this once per side.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from extractor.config import ModelConfig, RunSettings
from extractor.errors import InputError
from extractor.evaluation.evaluate import (
    EvalResult,
    RunRecords,
    default_result_path,
    evaluate,
    read_run,
    write_result,
)
from extractor.evaluation.gold import GoldSet
from extractor.evaluation.leaderboard import append as append_row
from extractor.extraction.bulk import Progress, extract_files


@dataclass(frozen=True)
class SavedEval:
    """An evaluation and where it was written."""

    result: EvalResult
    run: Path
    json_path: Path
    report: Path
    leaderboard: Path


def run_name(gold: GoldSet, config: ModelConfig, settings: RunSettings) -> str:
    """The file name (no suffix) of the run that extracts ``gold`` under these settings."""
    model = config.model or "embedded"
    prompt = Path(settings.prompt_for(gold.template)).name
    return f"{gold.directory.name}_{prompt}_{settings.strategy}_{model}"


async def extract_gold(
    gold: GoldSet,
    config: ModelConfig,
    settings: RunSettings,
    run: Path,
    on_progress: Progress | None = None,
) -> RunRecords:
    """Extract every gold document into ``run`` (started afresh; answers come from the cache).

    The records are those of the gold set's template, whatever ``settings.record`` says.
    """
    inputs = [Path(item.document.source) for item in gold.items.values()]
    fresh = settings.model_copy(
        update={"overwrite": True, "retry_failed": False, "shard": None,
                "record": gold.template.name}
    )  # fmt: skip
    await extract_files(inputs, run, config, fresh, on_progress=on_progress)
    return read_run(run, gold.template)


def score_and_save(
    gold: GoldSet,
    records: RunRecords,
    eval_dir: Path,
    *,
    run: Path,
    json_path: Path | None = None,
) -> SavedEval:
    """Score ``records`` against ``gold``, write the result and report, add a leaderboard row.

    A run with no line for any gold document is refused (``InputError``), so
    that an empty or unrelated run never adds a leaderboard row.
    """
    if not (records.records.keys() | records.failed.keys()) & gold.items.keys():
        raise InputError(f"{run}: no line for any document of the gold set {gold.directory}")
    result = evaluate(gold, records, meta={"run": str(run)})
    json_path = json_path or default_result_path(eval_dir / "results", result.meta)
    report = write_result(result, json_path)
    board = append_row(result, eval_dir / "leaderboard.jsonl")
    return SavedEval(result, run, json_path, report, board)


async def evaluate_gold(
    gold: GoldSet,
    config: ModelConfig,
    settings: RunSettings,
    eval_dir: Path,
    *,
    json_path: Path | None = None,
    on_progress: Progress | None = None,
) -> SavedEval:
    """Extract the gold documents into ``eval_dir/runs/``, score them, save everything."""
    run = eval_dir / "runs" / f"{run_name(gold, config, settings)}.jsonl"
    records = await extract_gold(gold, config, settings, run, on_progress)
    return score_and_save(gold, records, eval_dir, run=run, json_path=json_path)
