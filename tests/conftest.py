"""Shared fixtures: isolated cache and environment, records, and the fake client."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from extractor.templates.nen import CaseReport
from extractor.testing import FakeClient, minimal_record

__all__ = [
    "FIXTURES", "GOLD", "PATIENT_A", "PATIENT_B", "REPO", "SEED_000", "minimal_record", "patient",
    "report", "treatment",
]  # fmt: skip

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


# --- records for scoring and matching tests -------------------------------------------------


def treatment(type_: str, agent: str | None = None, response: str | None = None) -> dict[str, Any]:
    """A treatment entry with only the scored keys set."""
    return {"type": type_, "agent": agent, "detail": None, "cycles": None, "response": response}


def patient(**changes: Any) -> dict[str, Any]:
    """The minimal record's patient with ``changes``."""
    result: dict[str, Any] = minimal_record()["patients"][0]
    result.update(changes)
    return result


def report(patients: list[dict[str, Any]] | None = None, **changes: Any) -> CaseReport:
    """A CaseReport from the minimal record, its patients replaced when given."""
    if patients is not None:
        changes.setdefault("n_patients", len(patients))
        changes["patients"] = patients
    return CaseReport.model_validate(minimal_record(**changes))


# Patient A is the minimal patient: 8 non-null scalars, 4 null ones, empty lists.
PATIENT_A = patient(label="Case 1")
# Patient B: 9 non-null scalars, 2 sites, 1 treatment with a response = 13 values.
PATIENT_B = patient(
    label="Case 2",
    age_years=70,
    sex="male",
    primary_site="small_intestine",
    primary_site_text="terminal ileum",
    metastatic=True,
    metastatic_sites=["liver", "bone"],
    treatments=[treatment("surgery", response="complete_response")],
)
