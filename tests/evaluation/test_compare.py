"""Comparing two evaluation results: F1 deltas, bootstrap intervals, flips and the report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from extractor.errors import InputError
from extractor.evaluation.bootstrap import paired_bootstrap
from extractor.evaluation.compare import (
    compare_results,
    direction,
    load_result,
)
from extractor.evaluation.counts import FieldCounts
from extractor.evaluation.evaluate import RunRecords, evaluate, write_result
from extractor.evaluation.gold import load_gold
from extractor.evaluation.scoring import EvalScore, score_record
from extractor.record.template import default_template
from extractor.templates.nen import CaseReport
from tests.conftest import GOLD, minimal_record

FIELDS = default_template().fields
GOLD_RECORD = minimal_record()


def patient(**changes: Any) -> dict[str, Any]:
    """The gold record with the first patient's fields changed."""
    record = minimal_record()
    record["patients"][0].update(changes)
    return record


def result(
    predictions: dict[str, dict[str, Any] | None], gold_record: dict[str, Any] = GOLD_RECORD
) -> dict[str, Any]:
    """The JSON form of an evaluation of ``predictions`` (by doc id) against one gold label."""
    gold = CaseReport.model_validate(gold_record)
    documents = [
        score_record(doc_id, None if record is None else CaseReport.model_validate(record), gold)
        for doc_id, record in predictions.items()
    ]
    missing = [doc_id for doc_id, record in predictions.items() if record is None]
    score = EvalScore.from_documents(documents, FIELDS).to_dict()
    return {"meta": {}, "missing": missing, "failed": {}, "extra": [], **score}


def test_identical_runs_have_zero_deltas_and_intervals_around_zero() -> None:
    run = result({f"d{i}": patient(age_years=40 + i % 3 * 5) for i in range(8)})
    comparison = compare_results(run, run)
    assert comparison.documents == 8
    for item in [comparison.overall, *comparison.fields]:
        assert item.delta == 0.0, item.field
        assert item.ci_low <= 0.0 <= item.ci_high, item.field
    assert comparison.flips == []


def test_fixing_every_error_is_a_significant_gain() -> None:
    a = result(
        {
            f"d{i}": patient(age_years=51, sex="male" if i % 2 else "female", ki67_percent=None)
            for i in range(10)
        }
    )
    b = result({f"d{i}": minimal_record() for i in range(10)})
    comparison = compare_results(a, b, label_a="v1", label_b="v2")
    assert comparison.overall.f1_b == 1.0
    assert comparison.overall.delta > 0
    assert comparison.overall.ci_low > 0
    by_field = {item.field: item for item in comparison.fields}
    assert [item.field for item in comparison.fields] == list(FIELDS)
    assert by_field["age_years"].delta == 1.0
    assert by_field["age_years"].ci_low == by_field["age_years"].ci_high == 1.0
    assert by_field["title"].delta == 0.0
    assert {flip.direction for flip in comparison.flips} == {"fixed"}
    assert len(comparison.flips) == 10 + 5 + 10  # age everywhere, sex in odd docs, Ki-67


def test_flips_show_gold_and_both_predictions() -> None:
    a = result({"doc": patient(age_years=51)})
    b = result({"doc": patient(sex="male", functional_syndrome="insulinoma")})
    fixed, *broken = compare_results(a, b).flips
    assert (fixed.field, fixed.direction, fixed.patient) == ("age_years", "fixed", 0)
    assert (fixed.gold, fixed.predicted_a, fixed.predicted_b) == (50, 51, 50)
    assert [(flip.field, flip.direction) for flip in broken] == [
        ("sex", "broken"),
        ("functional_syndrome", "broken"),  # abstained in A, invented in B
    ]
    assert (broken[0].gold, broken[0].predicted_a, broken[0].predicted_b) == (
        "female",
        "female",
        "male",
    )
    assert (broken[1].gold, broken[1].predicted_a, broken[1].predicted_b) == (
        None,
        None,
        "insulinoma",
    )


def test_flips_of_list_fields_and_treatment_responses_carry_their_key() -> None:
    treatment = {"type": "surgery", "agent": None, "detail": None, "cycles": None,
                 "response": "complete_response"}  # fmt: skip
    gold = patient(treatments=[treatment], metastatic_sites=["liver"])
    a = result({"doc": gold}, gold)
    b = result({"doc": patient(treatments=[{**treatment, "response": None}])}, gold)
    flips = {flip.field: flip for flip in compare_results(a, b).flips}
    assert flips["metastatic_sites"].direction == "broken"
    assert flips["metastatic_sites"].predicted_b == []
    assert flips["treatments.response"].key == ("surgery", None)
    assert flips["treatments.response"].predicted_a == "complete_response"


@pytest.mark.parametrize(
    ("outcome_a", "outcome_b", "expected"),
    [
        ("wrong", "tp", "fixed"),
        ("fn", "tp", "fixed"),
        ("fp", "abstain", "fixed"),
        ("tp", "wrong", "broken"),
        ("abstain", "fp", "broken"),
        (None, "fp", "broken"),
        ("fn", "wrong", None),
        ("abstain", "abstain", None),
        ("tp", "tp", None),
    ],
)
def test_direction_of_a_changed_outcome(
    outcome_a: str | None, outcome_b: str | None, expected: str | None
) -> None:
    assert direction(outcome_a, outcome_b) == expected


def test_documents_in_only_one_result_are_left_out_and_counted() -> None:
    a = result({"d1": patient(age_years=1), "d2": minimal_record(), "d3": minimal_record()})
    b = result({"d2": minimal_record(), "d3": minimal_record(), "d4": minimal_record()})
    comparison = compare_results(a, b)
    assert comparison.documents == 2
    assert comparison.only_a == ("d1",)
    assert comparison.only_b == ("d4",)
    assert comparison.overall.f1_a == comparison.overall.f1_b == 1.0
    assert comparison.flips == []


def test_results_without_shared_documents_are_an_error() -> None:
    with pytest.raises(InputError, match="no document in common"):
        compare_results(result({"d1": GOLD_RECORD}), result({"d2": GOLD_RECORD}))


def test_a_missing_document_counts_as_all_missed() -> None:
    comparison = compare_results(result({"d": None}), result({"d": GOLD_RECORD}))
    assert comparison.overall.f1_a == 0.0
    assert comparison.overall.f1_b == 1.0
    assert all(flip.direction == "fixed" for flip in comparison.flips)


def test_load_result_reads_a_written_result(tmp_path: Path) -> None:
    data = result({"d1": GOLD_RECORD})
    path = tmp_path / "result.json"
    path.write_text(json.dumps(data))
    assert load_result(path) == data


def test_a_written_gold_set_result_compares_with_itself(tmp_path: Path) -> None:
    gold = load_gold(GOLD)
    run = RunRecords(records={k: v.label for k, v in gold.items.items()}, failed={})
    path = tmp_path / "result.json"
    write_result(evaluate(gold, run), path)
    data = load_result(path)
    comparison = compare_results(data, data)
    assert comparison.documents == len(gold.items)
    assert (comparison.overall.f1_a, comparison.overall.delta) == (1.0, 0.0)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"doc_id": "x", "record": null}', "not an evaluation result"),
        ('{"fields": {}, "documents": [{"doc_id": "x"}]}', "not an evaluation result"),
        ('{"fields": {}, "documents": [{"doc_id": "x", "comparisons": [{}]}]}', "not an eval"),
        ("[1, 2]", "not an evaluation result"),
        ("not json", "not JSON"),
    ],
)
def test_load_result_rejects_what_is_not_a_result(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "other.json"
    path.write_text(content)
    with pytest.raises(InputError, match=message):
        load_result(path)


def test_load_result_of_a_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        load_result(tmp_path / "absent.json")


def test_paired_bootstrap_is_reproducible_and_brackets_the_delta() -> None:
    a = [FieldCounts(tp=i % 3, fp=1, fn=1) for i in range(12)]
    b = [FieldCounts(tp=i % 3 + 1, fp=i % 2, fn=0) for i in range(12)]
    low, high = paired_bootstrap(a, b, resamples=500, seed=7)
    assert (low, high) == paired_bootstrap(a, b, resamples=500, seed=7)
    delta = sum(b, FieldCounts()).f1 - sum(a, FieldCounts()).f1
    assert low < delta < high


def test_paired_bootstrap_of_no_documents_is_zero() -> None:
    assert paired_bootstrap([], [], resamples=10, seed=0) == (0.0, 0.0)


def test_paired_bootstrap_needs_paired_documents() -> None:
    with pytest.raises(ValueError, match="same documents"):
        paired_bootstrap([FieldCounts()], [], resamples=10, seed=0)


def test_markdown_has_the_table_and_the_flip_sections() -> None:
    a = result({"doc": patient(age_years=51)})
    b = result({"doc": patient(sex="male")})
    text = compare_results(a, b, label_a="v1", label_b="v2").to_markdown()
    assert "v1 (A) vs v2 (B)" in text
    assert "| field | F1 A | F1 B | delta | 95% CI |" in text
    assert "| **overall** |" in text
    assert text.index("| **overall** |") < text.index("| title |") < text.index("| doi |")
    assert "## Fixed (wrong -> right)" in text
    assert "## Broken (right -> wrong)" in text
    assert "- doc · age_years (patient 0): gold `50`; A `51`; B `50`" in text
    assert "- doc · sex (patient 0): gold `female`; A `female`; B `male`" in text


def test_to_dict_is_json_ready() -> None:
    a = result({"doc": patient(age_years=51)})
    data = json.loads(json.dumps(compare_results(a, result({"doc": GOLD_RECORD})).to_dict()))
    assert data["documents"] == 1
    assert data["overall"]["field"] == "overall"
    assert len(data["fields"]) == len(FIELDS)
    assert data["flips"][0]["direction"] == "fixed"
