"""Tests of extractor.grounding: normalising text and checking evidence quotes."""

from __future__ import annotations

from typing import Any

import pytest

from extractor.grounding import evidence_quotes, is_grounded, normalise
from extractor.schema import CaseReport
from tests.conftest import minimal_record

TEXT = """A 78-year-old man presented with abdominal pain.
Baseline Ga-68 DOTATOC positron emission
tomography-computed tomography revealed adequate avidity."""


def test_normalise_lower_cases_collapses_whitespace_and_strips() -> None:
    assert normalise("  A 78-Year-Old\n\tMAN  ") == "a 78-year-old man"


@pytest.mark.parametrize(
    "quote",
    [
        "A 78-year-old man",
        "a   78-YEAR-OLD   man",
        "positron emission tomography-computed tomography",
        "  emission\n\n  TOMOGRAPHY-computed ",
    ],
)
def test_quote_with_other_spacing_and_case_is_grounded(quote: str) -> None:
    assert is_grounded(quote, TEXT)


@pytest.mark.parametrize(
    "quote",
    [
        "A 54-year-old woman presented with hypoglycaemia",  # from another text
        "78-year-old woman",
        "",
        "   \n ",
    ],
)
def test_quote_not_in_the_text_or_empty_is_not_grounded(quote: str) -> None:
    assert not is_grounded(quote, TEXT)


def _patient_with_quotes() -> dict[str, Any]:
    patient: dict[str, Any] = minimal_record()["patients"][0]
    treatment = {"type": "surgery", "agent": None, "detail": None, "cycles": None}
    patient.update(
        evidence={"age_years": "A 50-year-old woman", "who_grade": "grade 1"},
        imaging=[
            {"modality": "CT", "tracer": None, "result": None},
            {"modality": "MRI", "tracer": None, "result": "positive", "evidence": "MRI showed"},
        ],
        biomarkers=[{"name": "cd56", "specimen": None, "result": None, "evidence": "CD56+"}],
        treatments=[{**treatment, "response": None, "evidence": None}],
        outcome={"status": "died", "follow_up_months": 3, "evidence": {"status": "she died"}},
    )
    return patient


def test_evidence_quotes_lists_every_quote_with_its_path_and_skips_none() -> None:
    record = CaseReport.model_validate(
        minimal_record(patients=[minimal_record()["patients"][0], _patient_with_quotes()])
    )
    assert evidence_quotes(record) == [
        ("patients[1].evidence.age_years", "A 50-year-old woman"),
        ("patients[1].evidence.who_grade", "grade 1"),
        ("patients[1].imaging[1].evidence", "MRI showed"),
        ("patients[1].biomarkers[0].evidence", "CD56+"),
        ("patients[1].outcome.evidence.status", "she died"),
    ]


def test_evidence_quotes_of_a_record_without_patients_is_empty() -> None:
    record = CaseReport.model_validate(minimal_record(patients=[], n_patients=0))
    assert evidence_quotes(record) == []
