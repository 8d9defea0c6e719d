"""Agreement between runs: slots, patient pairing, triage lines, the gold split, the command."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from extractor.cli import app
from extractor.errors import ConfigError, InputError
from extractor.evaluation.agree import (
    Accuracy,
    Split,
    agree_records,
    agree_runs,
    read_triage,
    write_triage,
)
from extractor.record.template import default_template
from extractor.templates.nen import CaseReport
from tests.conftest import minimal_record

FIELDS = default_template().fields
TEXT = "A case. A 50-year-old woman had a pancreatic tail NET with liver metastases."


def patient(**changes: Any) -> dict[str, Any]:
    """The minimal record's patient with ``changes``."""
    return {**minimal_record()["patients"][0], **changes}


def report(*patients: dict[str, Any], **changes: Any) -> CaseReport:
    """A record with these patients (default: the minimal one)."""
    chosen = list(patients) or [patient()]
    record = minimal_record(patients=chosen, n_patients=len(chosen), **changes)
    return CaseReport.model_validate(record)


def outcome(months: float) -> dict[str, Any]:
    return {"status": None, "follow_up_months": months}


def slots_of(agreement: Any, agreed: bool | None = None) -> list[tuple[Any, ...]]:
    """``(doc_id, patient, field, values)`` of each slot (only agreed or disagreed ones)."""
    return [
        (s.doc_id, s.patient, s.field, list(s.values))
        for s in agreement.slots
        if agreed is None or s.agreed is agreed
    ]


def test_identical_runs_agree_on_every_slot() -> None:
    agreement = agree_records(["a", "b"], [{"d": report()}, {"d": report()}])
    assert agreement.disagreements == []
    assert agreement.overall.rate == 1.0
    fields = agreement.fields
    assert list(fields) == list(FIELDS)
    assert (fields["age_years"].slots, fields["age_years"].agreed) == (1, 1)
    assert (fields["functional_syndrome"].empty, fields["imaging"].empty) == (1, 1)
    assert fields["treatments.response"].slots == 0  # no treatment in either run
    assert agreement.accuracy is None


def test_disagreements_keep_each_runs_value_and_comparators_forgive_what_scoring_forgives() -> None:
    title = "Long-term follow-up of a presacral NET"
    a = report(
        patient(age_years=50, metastatic_sites=["liver"], outcome=outcome(24)),
        title=title, doi="10.1/x",
    )  # fmt: skip
    b = report(
        patient(age_years=51, metastatic_sites=["liver", "bone"], outcome=outcome(25)),
        title=title + ".", doi="https://doi.org/10.1/X",
    )  # fmt: skip
    agreement = agree_records(["a", "b"], [{"d": a}, {"d": b}])
    assert slots_of(agreement, agreed=False) == [
        ("d", 0, "age_years", [50, 51]),
        ("d", 0, "metastatic_sites", [[["liver"]], [["bone"], ["liver"]]]),
    ]
    fields = agreement.fields
    assert fields["title"].agreed == fields["doi"].agreed == 1
    assert fields["outcome.follow_up_months"].agreed == 1  # within 10 %
    assert fields["age_years"].rate == 0.0
    assert agreement.overall.disagreed == 2


def test_patients_are_paired_to_the_first_run_not_by_position() -> None:
    first = patient(label="Case 1", age_years=40)
    second = patient(label="Case 2", age_years=70, sex="male")
    a = report(first, second, document_type="case_series")
    b = report(second, {**first, "age_years": 41}, document_type="case_series")
    agreement = agree_records(["a", "b"], [{"d": a}, {"d": b}])
    (slot,) = agreement.disagreements
    assert (slot.patient, slot.field, slot.values) == (0, "age_years", (40, 41))
    assert slot.patients == (0, 1)  # the second run has this patient second
    assert slot.to_dict() == {"doc_id": "d", "patient": 0, "field": "age_years", "values": [40, 41],
                              "patients": [0, 1]}  # fmt: skip
    sex = [s for s in agreement.slots if s.field == "sex"]
    assert [(s.patient, s.values, s.agreed) for s in sex] == [
        (0, ("female", "female"), True),
        (1, ("male", "male"), True),
    ]


def test_a_patient_only_one_run_has_is_a_group_of_its_own() -> None:
    extra = patient(label="Case 2", age_years=70, sex="male", primary_site="lung")
    a = report(patient())
    b = report(patient(), extra)
    agreement = agree_records(["a", "b"], [{"d": a}, {"d": b}])
    lines = [s.to_dict() for s in agreement.disagreements]
    assert {"doc_id": "d", "patient": 1, "field": "age_years", "values": [None, 70],
            "patients": [None, 1]} in lines  # fmt: skip
    assert {line["patient"] for line in lines if line["field"] != "n_patients"} == {1}
    assert any(line["field"] == "n_patients" and line["patient"] is None for line in lines)


def test_three_runs_agree_only_when_all_do() -> None:
    runs = [{"d": report(patient(sex=sex))} for sex in ("female", "female", "male")]
    agreement = agree_records(["a", "b", "c"], runs)
    assert slots_of(agreement, agreed=False) == [("d", 0, "sex", ["female", "female", "male"])]
    age = next(s for s in agreement.slots if s.field == "age_years")
    assert (age.agreed, age.values) == (True, (50, 50, 50))


def test_treatment_responses_are_compared_on_the_treatments_every_run_has() -> None:
    def treated(response: str | None) -> dict[str, Any]:
        prrt = {"type": "prrt", "agent": "177Lu-DOTATATE", "detail": None, "cycles": 4,
                "response": response}  # fmt: skip
        return patient(treatments=[prrt])

    agreement = agree_records(["a", "b"], [{"d": report(treated("partial_response"))},
                                           {"d": report(treated("stable_disease"))}])  # fmt: skip
    (slot,) = agreement.disagreements
    assert (slot.field, slot.key, slot.values) == (
        "treatments.response",
        ("prrt", "177lu-dotatate"),
        ("partial_response", "stable_disease"),
    )
    assert slot.to_dict()["key"] == ["prrt", "177lu-dotatate"]
    assert agreement.fields["treatments"].agreed == 1  # same key set, different response


def test_documents_without_a_record_in_every_run_are_skipped_with_the_reason() -> None:
    a = {"d1": report(), "d2": report()}
    b = {"d1": report()}
    agreement = agree_records(["A", "B"], [a, b], [{"d3": "timeout"}, {"d2": "did not validate"}])
    assert agreement.documents == ("d1",)
    assert agreement.skipped == {"d2": "B: did not validate", "d3": "A: timeout; B: no line"}


def test_one_run_is_not_an_agreement() -> None:
    with pytest.raises(ConfigError, match="two or more runs"):
        agree_records(["a"], [{"d": report()}])


def test_gold_splits_accuracy_into_agreed_and_disagreed_values() -> None:
    syndrome = "carcinoid syndrome"
    gold = report(
        patient(age_years=50, metastatic_sites=["liver", "lung"], functional_syndrome=syndrome)
    )
    a = report(patient(age_years=50, metastatic_sites=["liver"]))
    b = report(patient(age_years=51, metastatic_sites=["liver", "bone"]))
    agreement = agree_records(["a", "b"], [{"d": a}, {"d": b}], gold={"d": gold})
    accuracy = agreement.accuracy
    assert accuracy is not None
    assert agreement.gold_documents == 1
    # disagreed: run a right (50), run b wrong (51)
    assert accuracy["age_years"] == Split(Accuracy(0, 0), Accuracy(1, 2))
    # agreed: both say "female" as gold does
    assert accuracy["sex"] == Split(Accuracy(2, 2), Accuracy(0, 0))
    # agreed null against a gold value: both wrong; an agreed null against gold null: both right
    assert accuracy["functional_syndrome"] == Split(Accuracy(0, 2), Accuracy(0, 0))
    assert accuracy["label"] == Split(Accuracy(2, 2), Accuracy(0, 0))
    # per key: liver (both present, gold has it) agreed 2/2; lung (both absent, gold has it)
    # agreed 0/2; bone (only b has it, gold does not) disagreed 1/2
    assert accuracy["metastatic_sites"] == Split(Accuracy(2, 4), Accuracy(1, 2))
    overall = agreement.overall_accuracy
    assert overall is not None
    assert overall.disagreed == Accuracy(2, 4)
    assert overall.agreed.judged == 2 * (len(FIELDS) - 5) + 2  # every other slot, and lung


def test_a_gold_patient_no_run_has_is_judged_as_agreed_and_missed() -> None:
    gold = report(patient(), patient(label="Case 2", age_years=70, sex="male"))
    agreement = agree_records(["a", "b"], [{"d": report()}, {"d": report()}], gold={"d": gold})
    assert agreement.disagreements == []  # gold never makes a slot
    assert agreement.accuracy is not None
    assert agreement.accuracy["age_years"] == Split(Accuracy(2, 4), Accuracy(0, 0))


def run_line(doc_id: str, record: CaseReport | None, error: str | None = None) -> dict[str, Any]:
    return {"doc_id": doc_id, "source": f"docs/{doc_id}.txt",
            "record": None if record is None else record.model_dump(mode="json"),
            "error": None if error is None else {"kind": "validation", "message": error},
            "provenance": {"model": "m"}}  # fmt: skip


def write_run(path: Path, lines: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


def gold_folder(path: Path, labels: dict[str, CaseReport]) -> Path:
    (path / "docs").mkdir(parents=True)
    (path / "labels").mkdir()
    for doc_id, label in labels.items():
        (path / "docs" / f"{doc_id}.txt").write_text(TEXT, encoding="utf-8")
        (path / "labels" / f"{doc_id}.json").write_text(label.model_dump_json(), encoding="utf-8")
    return path


@pytest.fixture
def two_runs(tmp_path: Path) -> tuple[Path, Path]:
    a = [run_line("d1", report(patient(age_years=50))), run_line("d2", report()),
         run_line("d3", None, "bad")]  # fmt: skip
    b = [run_line("d1", report(patient(age_years=51))), run_line("d2", report(patient(sex="male")))]
    return write_run(tmp_path / "a.jsonl", a), write_run(tmp_path / "b.jsonl", b)


def test_agree_runs_reads_run_files_and_the_triage_file_round_trips(
    tmp_path: Path, two_runs: tuple[Path, Path]
) -> None:
    agreement = agree_runs(list(two_runs))
    assert agreement.runs == tuple(str(path) for path in two_runs)
    assert agreement.documents == ("d1", "d2")
    assert set(agreement.skipped) == {"d3"}
    triage = tmp_path / "out" / "triage.jsonl"
    assert write_triage(agreement, triage) == 2
    both = {"patient": 0, "patients": [0, 0]}
    assert read_triage(triage) == [
        {"doc_id": "d1", "field": "age_years", "values": [50, 51], **both},
        {"doc_id": "d2", "field": "sex", "values": ["female", "male"], **both},
    ]


def test_a_triage_file_with_a_line_that_is_not_triage_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "triage.jsonl"
    path.write_text('{"doc_id": "d", "field": "sex", "values": []}\n{"doc_id": "d"}\n')
    with pytest.raises(InputError, match=r"triage\.jsonl:2: not a triage line"):
        read_triage(path)


def test_the_agree_command_prints_rates_and_writes_the_triage(
    tmp_path: Path, two_runs: tuple[Path, Path]
) -> None:
    triage = tmp_path / "triage.jsonl"
    result = CliRunner().invoke(app, ["agree", *map(str, two_runs), "-o", str(triage)])
    assert result.exit_code == 0, result.output
    assert "agreement of 2 runs (2 documents)" in result.output
    assert "age_years" in result.output
    assert "values to review: 2" in result.output
    assert "not compared: d3" in result.output
    assert "accuracy" not in result.output
    assert len(triage.read_text().splitlines()) == 2


def test_the_agree_command_with_gold_prints_the_accuracy_split(
    tmp_path: Path, two_runs: tuple[Path, Path]
) -> None:
    gold = gold_folder(tmp_path / "gold", {"d1": report(patient(age_years=50)), "d2": report()})
    result = CliRunner().invoke(
        app, ["agree", *map(str, two_runs), "-o", str(tmp_path / "t.jsonl"), "--gold", str(gold)]
    )
    assert result.exit_code == 0, result.output
    assert "agreed  differ" in result.output  # the accuracy columns
    # disagreed: age 50 (right) and 51 (wrong), sex female (right) and male (wrong)
    assert "disagreed values 0.500 (2 of 4)" in result.output
    assert "accuracy against gold (2 documents): agreed values 1.000" in result.output


def test_the_agree_command_needs_two_runs(tmp_path: Path, two_runs: tuple[Path, Path]) -> None:
    result = CliRunner().invoke(app, ["agree", str(two_runs[0])])
    assert result.exit_code == 2
    assert "two or more run files" in result.output
