"""A run to adjudicate: a seed with a wrong age and a lost quote, an XSS document, a failure."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from extractor.hashing import sha256_text
from extractor.record.grounding import align_record
from extractor.templates.nen import CaseReport
from tests.conftest import GOLD, SEED_000, minimal_record

XSS = "<script>window.pwned=1;document.title='PWNED'</script><img src=x onerror=\"window.pwned=2\">"
XSS_ID = "xss_doc"
FAILED_ID = "failed_doc"
UNGROUNDED = "a sentence this report never contains"


@dataclass(frozen=True)
class Workspace:
    """The run, its triage, the gold folder (not created yet), and what the reviewer should save."""

    run: Path
    triage: Path
    gold: Path
    expected: CaseReport  # the seed's gold label: the run's record, corrected
    seed_text: str
    xss_text: str


def run_line(doc_id: str, text: str, record: CaseReport, source: Path) -> dict[str, Any]:
    """A successful run line with its evidence spans, as ``extract`` writes it."""
    return {
        "doc_id": doc_id, "source": str(source), "doc_sha256": sha256_text(text),
        "record": record.model_dump(mode="json"), "error": None,
        "provenance": {"model": "test"},
        "evidence_spans": [a.to_dict() for a in align_record(record, text)],
    }  # fmt: skip


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    return make_workspace(tmp_path)


def make_workspace(tmp_path: Path) -> Workspace:
    """Write the run and its triage under ``tmp_path``."""
    expected = CaseReport.model_validate_json(
        (GOLD / "labels" / f"{SEED_000}.json").read_text(encoding="utf-8")
    )
    wrong = expected.model_copy(deep=True)
    wrong.patients[0].age_years = 79
    wrong.patients[0].evidence.age_years = None
    wrong.patients[0].evidence.label = UNGROUNDED
    seed_source = GOLD / "docs" / f"{SEED_000}.txt"
    seed_text = seed_source.read_text(encoding="utf-8")

    xss_text = f"Case report {XSS}. A 50-year-old woman was seen.\n"
    xss_source = tmp_path / "sources" / f"{XSS_ID}.txt"
    xss_source.parent.mkdir()
    xss_source.write_text(xss_text, encoding="utf-8")
    xss_record = CaseReport.model_validate(minimal_record(title=XSS))
    xss_record.patients[0].evidence.age_years = "A 50-year-old woman"

    failed = {"doc_id": FAILED_ID, "source": str(tmp_path / "sources" / "gone.txt"),
              "record": None, "error": {"kind": "validation", "message": "no valid output"},
              "provenance": {}}  # fmt: skip
    lines = [
        run_line(SEED_000, seed_text, wrong, seed_source),
        run_line(XSS_ID, xss_text, xss_record, xss_source),
        failed,
    ]
    run = tmp_path / "run.jsonl"
    run.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    triage = tmp_path / "triage.jsonl"
    disagreement = {"doc_id": SEED_000, "patient": 0, "field": "age_years", "values": [79, 78],
                    "patients": [0, 0]}  # fmt: skip
    triage.write_text(json.dumps(disagreement) + "\n", encoding="utf-8")
    return Workspace(run, triage, tmp_path / "newgold", expected, seed_text, xss_text)
