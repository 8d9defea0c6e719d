"""Tests of extractor.evaluation.scoring: comparators, patient pairing and the record scorer."""

from __future__ import annotations

import json
from typing import Any

import pytest

from extractor.evaluation.counts import FieldCounts
from extractor.evaluation.scoring import (
    ScoredSlot,
    compare_keys,
    compare_scalar,
    score_record,
    score_run,
)
from extractor.record.template import default_template
from extractor.templates.nen import CaseReport
from tests.conftest import GOLD, PATIENT_A, PATIENT_B, patient, report, treatment

TEMPLATE = default_template()
FIELDS = TEMPLATE.fields
DOCUMENT_FIELDS = TEMPLATE.document.scored


def outcomes(comparisons: list[ScoredSlot], name: str) -> list[str]:
    """The outcomes of the comparisons of field ``name``."""
    return [item.outcome for item in comparisons if item.field == name]


# --- counts -------------------------------------------------------------------------------------


# --- comparators --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("gold", "predicted", "outcome", "counts"),
    [
        (None, None, "abstain", FieldCounts(abstain=1)),
        (None, "G2", "fp", FieldCounts(fp=1, invented=1)),
        ("G2", None, "fn", FieldCounts(fn=1)),
        ("G2", "G2", "tp", FieldCounts(tp=1)),
        ("G2", "G3", "wrong", FieldCounts(fp=1, fn=1)),
        (False, False, "tp", FieldCounts(tp=1)),
    ],
)
def test_compare_scalar(gold: Any, predicted: Any, outcome: str, counts: FieldCounts) -> None:
    assert compare_scalar(gold, predicted) == (outcome, counts)


@pytest.mark.parametrize(
    ("gold", "predicted", "outcome", "counts"),
    [
        (set(), set(), "abstain", FieldCounts(abstain=1)),
        ({("liver",)}, {("liver",)}, "tp", FieldCounts(tp=1)),
        (set(), {("liver",), ("bone",)}, "fp", FieldCounts(fp=2, invented=2)),
        ({("liver",), ("bone",)}, set(), "fn", FieldCounts(fn=2)),
        ({("liver",), ("bone",)}, {("liver",), ("lung",)}, "wrong", FieldCounts(tp=1, fp=1, fn=1)),
    ],
)
def test_compare_keys(
    gold: set[tuple[str]], predicted: set[tuple[str]], outcome: str, counts: FieldCounts
) -> None:
    assert compare_keys(frozenset(gold), frozenset(predicted)) == (outcome, counts)


# --- scoring records ----------------------------------------------------------------------------


def test_case_series_in_another_order_scores_all_tp() -> None:
    score = score_record("series", report([PATIENT_B, PATIENT_A]), report([PATIENT_A, PATIENT_B]))
    assert (score.micro.fp, score.micro.fn) == (0, 0)
    assert score.fields["age_years"] == FieldCounts(tp=2)
    assert score.fields["metastatic_sites"] == FieldCounts(tp=2, abstain=1)
    ages = [item for item in score.comparisons if item.field == "age_years"]
    assert [(item.patient, item.predicted_patient) for item in ages] == [(0, 1), (1, 0)]


def test_missing_patient_counts_its_gold_values_as_fn() -> None:
    gold = report([PATIENT_B, PATIENT_A])
    predicted = report([PATIENT_A], n_patients=2)
    score = score_record("missing", predicted, gold)
    assert score.micro.fn == 13
    assert score.micro.fp == 0
    assert score.fields["age_years"] == FieldCounts(tp=1, fn=1)
    assert score.fields["metastatic_sites"] == FieldCounts(fn=2, abstain=1)
    assert score.fields["treatments.response"] == FieldCounts(fn=1)
    # The unpaired gold patient's null values count nothing, not abstentions.
    assert score.fields["functional_syndrome"] == FieldCounts(abstain=1)


def test_extra_patient_counts_its_values_as_fp_and_invented() -> None:
    gold = report([PATIENT_A], n_patients=2)
    predicted = report([PATIENT_A, PATIENT_B])
    score = score_record("extra", predicted, gold)
    assert (score.micro.fp, score.micro.invented, score.micro.fn) == (13, 13, 0)
    assert score.fields["metastatic_sites"] == FieldCounts(fp=2, invented=2, abstain=1)
    assert score.fields["treatments"] == FieldCounts(fp=1, invented=1, abstain=1)
    extra = [item for item in score.comparisons if item.predicted_patient == 1]
    assert {item.patient for item in extra} == {None}
    assert {item.outcome for item in extra} == {"fp"}


def test_identical_minimal_records_tp_values_and_abstain_on_nulls_and_empty_lists() -> None:
    score = score_record("same", report(), report())
    for name in ("metastatic_sites", "imaging", "biomarkers", "treatments"):
        assert score.fields[name] == FieldCounts(abstain=1)
    for name in ("doi", "journal", "label", "functional_syndrome", "outcome.status"):
        assert score.fields[name] == FieldCounts(abstain=1)
    assert score.fields["treatments.response"] == FieldCounts()
    assert score.micro == FieldCounts(tp=13, abstain=10)


def test_no_patients_on_both_sides_scores_document_fields_only() -> None:
    record = report([], document_type="other", reports_nen=False, n_patients=None)
    score = score_record("none", record, record)
    assert {item.field for item in score.comparisons} == set(DOCUMENT_FIELDS)
    for name in FIELDS[len(DOCUMENT_FIELDS) :]:
        assert score.fields[name] == FieldCounts()
    assert score.micro == FieldCounts(tp=4, abstain=3)


def test_ki67_near_bound_is_tp_and_far_is_wrong() -> None:
    gold = report([patient(ki67_percent=2)])
    near = score_record("near", report([patient(ki67_percent=1.9)]), gold)
    far = score_record("far", report([patient(ki67_percent=1.4)]), gold)
    assert near.fields["ki67_percent"] == FieldCounts(tp=1)
    assert far.fields["ki67_percent"] == FieldCounts(fp=1, fn=1)
    assert outcomes(far.comparisons, "ki67_percent") == ["wrong"]


def test_wrong_enum_is_fp_and_fn_not_invented() -> None:
    score = score_record("sex", report([patient(sex="male")]), report([patient(sex="female")]))
    assert score.fields["sex"] == FieldCounts(fp=1, fn=1, invented=0)
    assert outcomes(score.comparisons, "sex") == ["wrong"]


def test_value_where_gold_is_null_is_invented() -> None:
    gold = report([patient(functional_syndrome=None)])
    predicted = report([patient(functional_syndrome="carcinoid syndrome")])
    score = score_record("invented", predicted, gold)
    assert score.fields["functional_syndrome"] == FieldCounts(fp=1, invented=1)


def test_doi_with_prefix_and_title_with_full_stop_are_tp() -> None:
    gold = report(doi="10.12659/ajcr.921439", title="Long-Term Follow-Up of a Presacral NET")
    predicted = report(
        doi="https://doi.org/10.12659/AJCR.921439", title="long-term follow-up of a presacral NET."
    )
    score = score_record("doc", predicted, gold)
    assert score.fields["doi"] == FieldCounts(tp=1)
    assert score.fields["title"] == FieldCounts(tp=1)


def test_follow_up_within_ten_percent_is_tp_and_beyond_is_wrong() -> None:
    gold = report([patient(outcome={"status": None, "follow_up_months": 96})])
    close = report([patient(outcome={"status": None, "follow_up_months": 90})])
    far = report([patient(outcome={"status": None, "follow_up_months": 80})])
    name = "outcome.follow_up_months"
    assert score_record("close", close, gold).fields[name] == FieldCounts(tp=1)
    assert score_record("far", far, gold).fields[name] == FieldCounts(fp=1, fn=1)


def test_treatment_response_is_scored_only_on_matching_treatments() -> None:
    gold = report(
        [
            patient(
                treatments=[
                    treatment("surgery"),
                    treatment("somatostatin_analogue", "octreotide", "stable_disease"),
                    treatment("prrt", "177Lu-DOTATATE", "partial_response"),
                ]
            )
        ]
    )
    predicted = report(
        [
            patient(
                treatments=[
                    treatment("surgery", response="complete_response"),
                    treatment("somatostatin_analogue", "Octreotide", "stable_disease"),
                    treatment("chemotherapy", "temozolomide", "progressive_disease"),
                ]
            )
        ]
    )
    score = score_record("responses", predicted, gold)
    assert score.fields["treatments"] == FieldCounts(tp=2, fp=1, fn=1)
    assert score.fields["treatments.response"] == FieldCounts(tp=1, fp=1, invented=1)
    responses = [item for item in score.comparisons if item.field == "treatments.response"]
    assert [(item.key, item.outcome) for item in responses] == [
        (("somatostatin_analogue", "octreotide"), "tp"),
        (("surgery", None), "fp"),
    ]


def test_missing_prediction_counts_every_gold_value_as_fn() -> None:
    score = score_record("absent", None, report())
    assert score.missing
    assert score.micro == FieldCounts(fn=13)
    assert score.fields["title"] == FieldCounts(fn=1)
    assert score.fields["age_years"] == FieldCounts(fn=1)
    assert all(item.outcome == "fn" for item in score.comparisons)


def test_grounding_counts_predicted_quotes_found_in_the_text() -> None:
    quoted = patient(
        evidence={"age_years": "A  50-YEAR-old\nwoman", "sex": "a woman from another paper"}
    )
    text = "Case presentation. A 50-year-old woman was admitted."
    score = score_record("quotes", report([quoted]), report(), text)
    assert (score.quotes, score.grounded_quotes) == (2, 1)
    assert score.ungrounded == [("patients[0].evidence.sex", "a woman from another paper")]
    assert score_record("no text", report([quoted]), report()).quotes == 0


def test_run_totals_rates_and_json() -> None:
    quoted = report([patient(functional_syndrome="carcinoid syndrome", evidence={"sex": "woman"})])
    run = score_run(
        [
            ("a", quoted, report(), "A woman."),
            ("b", None, report(), "Text."),
        ]
    )
    assert run.micro == FieldCounts(tp=13, fp=1, fn=13, abstain=9, invented=1)
    assert run.invented_rate == pytest.approx(1 / 14)
    assert run.grounding_rate == 1.0
    data = json.loads(json.dumps(run.to_dict()))
    assert list(data["fields"]) == list(FIELDS)
    assert data["fields"]["functional_syndrome"]["invented"] == 1
    assert data["overall"]["missing_documents"] == 1
    assert [doc["missing"] for doc in data["documents"]] == [False, True]
    assert data["documents"][1]["recall"] == 0.0


def test_rates_are_none_without_predictions_or_quotes() -> None:
    run = score_run([("b", None, report(), None)])
    assert run.invented_rate is None
    assert run.grounding_rate is None


def test_every_gold_label_scored_against_itself_is_perfect() -> None:
    labels = sorted((GOLD / "labels").glob("*.json"))
    assert len(labels) == 19
    golds = [CaseReport.model_validate_json(path.read_text()) for path in labels]
    run = score_run((path.stem, gold, gold, None) for path, gold in zip(labels, golds, strict=True))
    for name, counts in run.fields.items():
        assert counts.invented == 0, name
        assert (counts.fp, counts.fn) == (0, 0), name
        if counts.tp + counts.fn > 0:
            assert counts.f1 == 1.0, name
    assert run.micro.tp > 0
    assert run.invented_rate == 0.0
