"""Every evaluation adds a leaderboard row; the Markdown is rendered from all rows."""

from __future__ import annotations

import json
from pathlib import Path

from extractor.evaluation.evaluate import RunRecords, evaluate
from extractor.evaluation.gold import load_gold
from extractor.evaluation.leaderboard import append, row
from tests.conftest import GOLD


def test_rows_accumulate_and_render(tmp_path: Path) -> None:
    gold = load_gold(GOLD)
    perfect = RunRecords(records={k: v.label for k, v in gold.items.items()}, failed={})
    result = evaluate(
        gold, perfect, meta={"model": "m", "prompt": "v9", "prompt_sha256": "abcdef123"}
    )
    board = tmp_path / "leaderboard.jsonl"
    append(result, board)
    markdown = append(result, board)
    rows = [json.loads(line) for line in board.read_text().splitlines()]
    assert len(rows) == 2
    assert rows[0]["micro_f1"] == 1.0
    assert rows[0]["prompt"] == "v9 (abcdef12)"
    assert rows[0]["strategy"] == "whole"
    text = markdown.read_text()
    assert text.count("| v9 (abcdef12) |") == 2
    assert "| micro-F1 |" in text
    assert set(row(result)) >= {"date", "gold", "model", "invented_rate", "grounding_rate"}
