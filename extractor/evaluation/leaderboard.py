"""The leaderboard: one row per ``extractor eval``, kept as JSONL and rendered as Markdown."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from extractor.evaluation.evaluate import EvalResult, format_rate

BOARD_COLUMNS = (
    ("date", "date"), ("gold", "gold set"), ("prompt", "prompt"), ("model", "model"),
    ("strategy", "strategy"), ("micro_f1", "micro-F1"), ("invented_rate", "invented"),
    ("grounding_rate", "grounded"), ("f1_require_grounding", "F1 grounded-only"),
    ("tokens_per_document", "tokens/doc"), ("seconds_per_document", "s/doc"),
)  # fmt: skip


def row(result: EvalResult, now: datetime | None = None) -> dict[str, Any]:
    """The leaderboard row of one evaluation."""
    meta, score = result.meta, result.score
    sha = str(meta.get("prompt_sha256") or "")[:8]
    return {
        "date": (now or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M"),
        "gold": f"{meta.get('gold')} ({len(score.documents)} docs)",
        "prompt": f"{meta.get('prompt')} ({sha})",
        "model": meta.get("model"),
        "strategy": meta.get("strategy", "whole"),
        "micro_f1": round(score.micro.f1, 4),
        "invented_rate": score.invented_rate,
        "grounding_rate": score.grounding_rate,
        "f1_require_grounding": round(result.grounded.micro.f1, 4),
        "tokens_per_document": meta.get("tokens_per_document"),
        "seconds_per_document": meta.get("seconds_per_document"),
    }


def append(result: EvalResult, rows_path: Path) -> Path:
    """Add ``result``'s row to ``rows_path`` (JSONL) and re-render the Markdown beside it."""
    rows_path.parent.mkdir(parents=True, exist_ok=True)
    with rows_path.open("a", encoding="utf-8") as out:
        out.write(json.dumps(row(result)) + "\n")
    rows = [json.loads(line) for line in rows_path.read_text().splitlines() if line.strip()]
    markdown = rows_path.with_suffix(".md")
    markdown.write_text(render(rows), encoding="utf-8")
    return markdown


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return format_rate(value) if value < 10 else f"{value:,.0f}"
    return "n/a" if value is None else str(value)


def render(rows: list[dict[str, Any]]) -> str:
    """The leaderboard as a Markdown table, newest row last."""
    lines = [
        "# Leaderboard",
        "",
        "One row per `extractor eval` (appended automatically; source: `leaderboard.jsonl`).",
        "",
        "| " + " | ".join(title for _, title in BOARD_COLUMNS) + " |",
        "| " + " | ".join("---" for _ in BOARD_COLUMNS) + " |",
    ]
    lines += ["| " + " | ".join(_cell(r.get(key)) for key, _ in BOARD_COLUMNS) + " |" for r in rows]
    return "\n".join(lines) + "\n"
