"""Prompts live in version folders; their name and hash identify them."""

from __future__ import annotations

from pathlib import Path

import pytest

from extractor.config import DEFAULT_PROMPT
from extractor.errors import ConfigError
from extractor.extraction.prompts import load_prompt


def test_default_prompt_loads_and_fills_the_document_slot() -> None:
    prompt = load_prompt(DEFAULT_PROMPT)
    messages = prompt.messages("DOCUMENT TEXT {{ not a slot }}")
    assert [m["role"] for m in messages] == ["system", "user"]
    assert "DOCUMENT TEXT {{ not a slot }}" in messages[1]["content"]
    assert "{{ document }}" not in messages[1]["content"]


def test_prompt_by_path_and_hash_changes_with_text(tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "system.md").write_text("Be exact.")
    (folder / "user.md").write_text("Read: {{document}}")
    first = load_prompt(str(folder))
    assert first.name == "mine"
    (folder / "system.md").write_text("Be very exact.")
    assert load_prompt(str(folder)).sha256 != first.sha256


def test_unknown_prompt_and_missing_slot_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_prompt("no-such-version")
    folder = tmp_path / "noslot"
    folder.mkdir()
    (folder / "user.md").write_text("no slot here")
    with pytest.raises(ConfigError, match="slot"):
        load_prompt(str(folder))
