"""The record schema follows shared/spec/case-record.md."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from extractor.templates.nen import CaseReport, schema_json, schema_sha256
from tests.conftest import FIXTURES, GOLD, REPO, minimal_record

SPEC = REPO.parent / "shared" / "spec" / "case-record.md"


def spec_example() -> dict[str, Any]:
    """The JSON example for seed 000 in the spec (a copy is kept in tests/fixtures)."""
    source = SPEC if SPEC.is_file() else FIXTURES / "case-record.md"
    block = re.search(r"```json\n(.*?)```", source.read_text(), re.S)
    assert block is not None
    return dict(json.loads(block.group(1)))


def test_spec_example_validates_unchanged() -> None:
    example = spec_example()
    record = CaseReport.model_validate(example)
    assert record.model_dump(mode="json", exclude_unset=True) == example


@pytest.mark.parametrize("path", sorted((GOLD / "labels").glob("*.json")), ids=lambda p: p.stem)
def test_every_gold_label_validates(path: Path) -> None:
    CaseReport.model_validate_json(path.read_text())


@pytest.mark.parametrize(
    ("where", "value"),
    [
        (("patients", 0, "age_years"), 121),
        (("patients", 0, "age_years"), -1),
        (("patients", 0, "ki67_percent"), 100.5),
        (("patients", 0, "ki67_percent"), -2),
        (("patients", 0, "outcome", "follow_up_months"), -3),
        (("patients", 0, "sex"), "man"),
        (("patients", 0, "who_grade"), "grade 2"),
        (("document_type",), "case report"),
    ],
)
def test_impossible_values_are_rejected(where: tuple[Any, ...], value: Any) -> None:
    data = minimal_record()
    target: Any = data
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    with pytest.raises(ValidationError):
        CaseReport.model_validate(data)


def test_negative_cycles_are_rejected() -> None:
    data = minimal_record()
    data["patients"][0]["treatments"] = [
        {"type": "prrt", "agent": None, "detail": None, "cycles": -1, "response": None}
    ]
    with pytest.raises(ValidationError, match="cycles"):
        CaseReport.model_validate(data)


def test_missing_key_and_unknown_key_are_rejected() -> None:
    missing = minimal_record()
    del missing["patients"][0]["sex"]
    with pytest.raises(ValidationError, match="sex"):
        CaseReport.model_validate(missing)
    extra = copy.deepcopy(minimal_record(authors="X"))
    with pytest.raises(ValidationError, match="authors"):
        CaseReport.model_validate(extra)


def test_evidence_keys_must_name_patient_fields() -> None:
    data = minimal_record()
    data["patients"][0]["evidence"] = {"age": "a 50-year-old"}
    with pytest.raises(ValidationError):
        CaseReport.model_validate(data)


def test_schema_hash_is_stable_and_schema_names_every_key() -> None:
    assert schema_sha256() == schema_sha256()
    schema = schema_json()
    assert set(schema["properties"]) == {
        "title", "doi", "journal", "year", "document_type", "reports_nen", "n_patients", "patients",
    }  # fmt: skip
    assert set(schema["required"]) == set(schema["properties"])
