"""Gold sets: any folder with docs/ and labels/; problems listed file by file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from extractor.errors import GoldSetError
from extractor.evaluation.gold import check_gold, load_gold
from tests.conftest import GOLD, SEED_000


def copy_gold(tmp_path: Path, ids: list[str]) -> Path:
    root = tmp_path / "gold"
    (root / "docs").mkdir(parents=True)
    (root / "labels").mkdir()
    for doc_id in ids:
        shutil.copy(GOLD / "docs" / f"{doc_id}.txt", root / "docs")
        shutil.copy(GOLD / "labels" / f"{doc_id}.json", root / "labels")
    return root


def test_repository_gold_set_is_sound() -> None:
    assert check_gold(GOLD) == {}
    assert len(load_gold(GOLD).items) == 19


def test_problems_are_listed_file_by_file(tmp_path: Path) -> None:
    root = copy_gold(tmp_path, [SEED_000])
    label_path = root / "labels" / f"{SEED_000}.json"
    label = json.loads(label_path.read_text())
    label["patients"][0]["evidence"]["age_years"] = "a quote from nowhere"
    label["patients"][0]["sex"] = "man"
    label_path.write_text(json.dumps(label))
    (root / "docs" / "orphan.txt").write_text("a document without a label")
    (root / "labels" / "lonely.json").write_text(label_path.read_text())
    problems = check_gold(root)
    assert any("sex" in p for p in problems[str(label_path)])
    assert any("document has no label" in p for p in problems[str(root / "docs" / "orphan.txt")])
    assert any("has no document" in p for p in problems[str(root / "labels" / "lonely.json")])
    with pytest.raises(GoldSetError, match="problem"):
        load_gold(root)


def test_ungrounded_quote_is_a_problem(tmp_path: Path) -> None:
    root = copy_gold(tmp_path, [SEED_000])
    label_path = root / "labels" / f"{SEED_000}.json"
    label = json.loads(label_path.read_text())
    label["patients"][0]["evidence"]["age_years"] = "A 79-year-old man"
    label_path.write_text(json.dumps(label))
    (message,) = check_gold(root)[str(label_path)]
    assert "patients[0].evidence.age_years" in message
    assert "not found" in message


def test_quote_matching_ignores_case_and_whitespace(tmp_path: Path) -> None:
    root = copy_gold(tmp_path, [SEED_000])
    label_path = root / "labels" / f"{SEED_000}.json"
    label = json.loads(label_path.read_text())
    label["patients"][0]["evidence"]["age_years"] = "a  78-YEAR-old\nman"
    label_path.write_text(json.dumps(label))
    assert check_gold(root) == {}


def test_a_folder_without_the_layout_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(GoldSetError, match="docs/ and labels/"):
        check_gold(tmp_path)
