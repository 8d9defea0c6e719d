"""Strategies: one call for the whole record, or sections merged into one (fake client)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from pydantic import ValidationError

from extractor.errors import ConfigError
from extractor.extraction.prompts import load_prompt
from extractor.extraction.strategies import Sections, Whole, document_model, part_model, strategy
from extractor.record.template import default_template, load_template
from extractor.templates.nen import CaseReport
from extractor.testing import FakeClient
from tests.conftest import minimal_record

PROMPT = load_prompt("v2")
TEMPLATE = default_template()


def bibliographic(**changes: Any) -> dict[str, Any]:
    base = {key: minimal_record()[key] for key in document_model(TEMPLATE).model_fields}
    return {**base, **changes}


def parts(n: int) -> list[dict[str, Any]]:
    patient = minimal_record()["patients"][0]
    tumour = {
        k: v
        for k, v in patient.items()
        if k not in {"imaging", "biomarkers", "treatments", "outcome"}
    }
    tumour["evidence"] = {"age_years": "a 50-year-old woman"}
    scan = {"modality": "CT", "tracer": None, "result": "positive", "evidence": "CT"}
    tests = {"imaging": [scan], "biomarkers": []}
    course = {"treatments": [], "outcome": {"status": "stable_disease", "follow_up_months": 6}}
    return [
        {"patients": [{**tumour, "age_years": 50 + i} for i in range(n)]},
        {"patients": [tests] * n},
        {"patients": [course] * n},
    ]


def run(strategy: Whole | Sections, client: FakeClient) -> Any:
    return asyncio.run(strategy.extract(client, PROMPT, "A 50-year-old woman with a NET."))


def test_sections_merge_into_one_valid_record() -> None:
    client = FakeClient([bibliographic(), *parts(1)])
    completion = run(Sections(), client)
    record = completion.record
    assert isinstance(record, CaseReport)
    assert record.patients[0].age_years == 50
    assert record.patients[0].imaging[0].modality == "CT"
    assert record.patients[0].outcome.status == "stable_disease"
    assert record.patients[0].evidence.age_years == "a 50-year-old woman"
    assert completion.usage.prompt_tokens == 400  # four calls of 100
    assert completion.attempts == 4
    tasks = [r.messages[1]["content"] for r in client.requests]
    assert all(
        PROMPT.tasks[t] in m
        for t, m in zip(["bibliographic", "patients", "tests", "course"], tasks, strict=True)
    )


def test_a_case_series_asks_for_exactly_its_patients() -> None:
    client = FakeClient([bibliographic(document_type="case_series", n_patients=3), *parts(3)])
    record = run(Sections(), client).record
    assert [p.age_years for p in record.patients] == [50, 51, 52]
    assert client.requests[1].response_model is part_model(TEMPLATE, "patients", 3)
    with pytest.raises(ValidationError):  # the grammar's bound is also the validator's
        part_model(TEMPLATE, "patients", 3).model_validate(parts(4)[0])


def test_a_document_that_is_not_a_case_asks_nothing_more() -> None:
    client = FakeClient([bibliographic(document_type="other", reports_nen=False, n_patients=None)])
    record = run(Sections(), client).record
    assert record.patients == []
    assert len(client.requests) == 1


def test_whole_asks_once_and_strategies_are_named() -> None:
    client = FakeClient([minimal_record()])
    assert run(Whole(), client).record == CaseReport.model_validate(minimal_record())
    assert len(client.requests) == 1
    assert strategy("sections").name == "sections"
    with pytest.raises(ConfigError, match="unknown strategy"):
        strategy("chunks")


def test_sections_need_a_prompt_with_tasks() -> None:
    client = FakeClient([bibliographic()])
    with pytest.raises(ConfigError, match=r"tasks/bibliographic\.md"):
        asyncio.run(Sections().extract(client, load_prompt("v1"), "text"))


def test_sections_fix_what_the_spec_fixes_for_a_case_report() -> None:
    answers = parts(1)
    answers[0]["patients"][0]["label"] = "Patient Name"
    client = FakeClient([bibliographic(n_patients=78), *answers])
    record = run(Sections(), client).record
    assert record.n_patients == 1
    assert record.patients[0].label is None


def test_sections_asks_a_record_of_entities_alone_one_question_per_part() -> None:
    """No document fields: no first question; a prompt without the part's task file works."""

    template = load_template("extractor.templates.case:CaseRecord")
    answer = {"cases": [{"label": None, "age": 40, "sex": "female", "country": None,
                         "diagnosis": "a tumour", "treatments": [], "evidence": {}}]}  # fmt: skip
    client = FakeClient(default=answer)
    record = asyncio.run(
        Sections(template).extract(client, load_prompt("generic"), "A 40-year-old woman.")
    ).record
    assert len(client.requests) == 1  # no document-level question: the record has none
    assert (
        "Fill these fields from the document: label, age, sex"
        in (client.requests[0].messages[-1]["content"])
    )
    assert record.model_dump()["cases"][0]["age"] == 40
