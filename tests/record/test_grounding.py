"""Tests of extractor.record.grounding: normalising text and checking evidence quotes."""

from __future__ import annotations

from typing import Any

import pytest

from extractor.record.grounding import (
    align,
    evidence_quotes,
    is_grounded,
    normalise,
    require_grounding,
)
from extractor.templates.nen import CaseReport
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


DOC = (
    "A 78-year-old man was referred.\n"
    "Histology showed a well-differentiated neuro-\nendocrine tumour of the pancreas.\n"
    "Ki-67 was 3%."
)


def test_align_exact_gives_offsets() -> None:
    found = align("A 78-year-old man", DOC, "patients[0].evidence.age_years")
    assert (found.status, found.grounded) == ("exact", True)
    assert DOC[found.start : found.end] == "A 78-year-old man"  # type: ignore[misc]


def test_align_tolerates_extra_spaces_and_case() -> None:
    found = align("a  78-YEAR-old\nMAN   was", DOC)
    assert found.status == "normalised"
    assert DOC[found.start : found.end] == "A 78-year-old man was"  # type: ignore[misc]


def test_align_joins_a_hyphenation_artefact() -> None:
    found = align("well-differentiated neuroendocrine tumour", DOC)
    assert found.status == "normalised"
    assert DOC[found.start : found.end] == "well-differentiated neuro-\nendocrine tumour"  # type: ignore[misc]


def test_align_fuzzy_for_a_near_quote() -> None:
    found = align("tumour of the pancreas body", DOC + " The tumour of the pancreas grew.")
    assert found.status == "fuzzy"
    assert not found.grounded
    assert found.start is not None


def test_a_quote_from_another_document_is_ungrounded() -> None:
    found = align("the patient received five cycles of PRRT", DOC)
    assert (found.status, found.start, found.end) == ("ungrounded", None, None)


def test_require_grounding_keeps_only_traceable_values() -> None:
    data = minimal_record()
    patient = data["patients"][0]
    patient["evidence"] = {"age_years": "A 78-year-old man", "sex": "a woman of 50"}
    patient["imaging"] = [
        {"modality": "CT", "tracer": None, "result": "positive", "evidence": "Histology showed"},
        {"modality": "MRI", "tracer": None, "result": "positive", "evidence": None},
    ]
    patient["outcome"] = {"status": "stable_disease", "follow_up_months": 12,
                          "evidence": {"status": "Ki-67 was 3%"}}  # fmt: skip
    kept = require_grounding(CaseReport.model_validate(data), DOC).patients[0]
    assert kept.age_years == 50  # grounded quote: value kept
    assert kept.sex is None  # quote not in the text
    assert kept.primary_site is None  # no quote at all
    assert [item.modality for item in kept.imaging] == ["CT"]
    assert (kept.outcome.status, kept.outcome.follow_up_months) == ("stable_disease", None)
