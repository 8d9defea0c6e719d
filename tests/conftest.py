"""Shared fixtures: isolated cache and environment, records, and the fake client."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from extractor.testing import FakeClient, minimal_record

__all__ = ["FIXTURES", "GOLD", "REPO", "SEED_000", "minimal_record"]

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures"
GOLD = REPO / "gold"
SEED_000 = "000_41db0c827232113d"


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Point the cache at tmp_path and drop the user's model settings."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    for name in (
        "EXTRACTOR_MODEL",
        "EXTRACTOR_BASE_URL",
        "OPENAI_API_KEY",
        "EXTRACTOR_PROMPTS_DIR",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def record() -> dict[str, Any]:
    """A valid record dict."""
    return minimal_record()


@pytest.fixture
def fake() -> FakeClient:
    """A fake model client that answers every call with the minimal record."""
    return FakeClient(default=minimal_record())


@pytest.fixture
def seed_label() -> dict[str, Any]:
    """The hand-made gold label of seed 000."""
    return dict(json.loads((GOLD / "labels" / f"{SEED_000}.json").read_text()))
