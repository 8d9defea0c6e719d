"""Shared fixtures: isolated cache and environment, records, and the fake client."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from extractor.testing import FakeClient

REPO = Path(__file__).resolve().parent.parent
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


def minimal_record(**changes: Any) -> dict[str, Any]:
    """A small valid CaseReport dict with one patient."""
    record: dict[str, Any] = {
        "title": "A case",
        "doi": None,
        "journal": None,
        "year": 2020,
        "document_type": "case_report",
        "reports_nen": True,
        "n_patients": 1,
        "patients": [
            {
                "label": None,
                "age_years": 50,
                "sex": "female",
                "primary_site": "pancreas",
                "primary_site_text": "pancreatic tail",
                "differentiation": "well",
                "who_grade": "G1",
                "ki67_percent": 1.5,
                "functional_syndrome": None,
                "metastatic": False,
                "metastatic_sites": [],
                "imaging": [],
                "biomarkers": [],
                "treatments": [],
                "outcome": {"status": None, "follow_up_months": None},
            }
        ],
    }
    record.update(changes)
    return record


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
