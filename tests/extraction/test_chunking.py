"""Long documents are split to fit the context, extracted part by part, and merged."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from extractor.config import RunSettings
from extractor.errors import ExtractionFailed
from extractor.extraction.bulk import run_extraction
from extractor.extraction.cache import ResponseCache
from extractor.extraction.chunking import max_chunk_chars, merge, split
from extractor.extraction.document import DocumentExtractor
from extractor.extraction.prompts import load_prompt
from extractor.extraction.strategies import Whole
from extractor.templates.nen import CaseReport
from extractor.testing import FakeClient
from tests.conftest import GOLD, minimal_record


def long_document() -> str:
    """Every gold text one after another: about 39,000 characters."""
    return "\n\n".join(p.read_text() for p in sorted((GOLD / "docs").glob("*.txt")))


def test_split_respects_the_limit_and_keeps_all_text() -> None:
    text = long_document()
    parts = split(text, 8000)
    assert len(parts) > 4
    assert all(len(part) <= 8000 for part in parts)
    assert " ".join(" ".join(parts).split()) == " ".join(text.split())


def test_a_short_document_is_one_part() -> None:
    assert split("A short case.", 8000) == ["A short case."]


def test_the_limit_comes_from_the_context_size() -> None:
    prompt = load_prompt()
    assert max_chunk_chars(8192, 2048, prompt) > max_chunk_chars(4096, 2048, prompt)
    assert max_chunk_chars(8192, 2048, prompt) < (8192 - 2048) * 4


def record(**patient: Any) -> CaseReport:
    data = minimal_record()
    data["patients"][0].update(patient)
    return CaseReport.model_validate(data)


def test_merge_fills_gaps_pairs_patients_and_unions_lists() -> None:
    first = record(age_years=50, ki67_percent=None, metastatic_sites=["liver"])
    second = record(age_years=50, ki67_percent=3.0, metastatic_sites=["liver", "bone"])
    second = second.model_copy(update={"doi": "10.1/x", "title": None})
    merged = merge([first, second])
    assert len(merged.patients) == 1
    assert merged.patients[0].ki67_percent == 3.0  # a gap the first part left is filled
    assert merged.patients[0].metastatic_sites == ["liver", "bone"]
    assert (merged.title, merged.doi) == ("A case", "10.1/x")


def test_merge_keeps_a_patient_only_one_part_describes() -> None:
    other = record(age_years=80, sex="male", primary_site="lung", primary_site_text="bronchus",
                   differentiation="poor", who_grade=None, ki67_percent=60.0)  # fmt: skip
    series = record().model_copy(update={"document_type": "case_series", "n_patients": 1})
    merged = merge([series, other])
    assert [p.age_years for p in merged.patients] == [50, 80]
    assert merged.n_patients == 2


def test_a_case_report_stays_one_patient_across_parts() -> None:
    discussion = record(age_years=None, sex=None, primary_site=None, primary_site_text=None,
                        differentiation=None, who_grade=None, ki67_percent=None)  # fmt: skip
    merged = merge([record(), discussion])
    assert len(merged.patients) == 1


def test_a_document_longer_than_the_context_is_extracted_in_parts(tmp_path: Path) -> None:
    path = tmp_path / "long.txt"
    path.write_text(long_document())
    client = FakeClient(default=minimal_record())
    extractor = DocumentExtractor(
        client,
        load_prompt(),
        ResponseCache(None),
        {},
        chunk_chars=max_chunk_chars(4096, 1024, load_prompt()),
        strategy=Whole(),
    )
    out = tmp_path / "o.jsonl"
    asyncio.run(run_extraction([path], out, extractor, RunSettings()))
    (line,) = [json.loads(x) for x in out.read_text().splitlines()]
    assert line["error"] is None
    assert line["provenance"]["chunks"] == len(client.requests) > 1
    assert all(len(r.messages[1]["content"]) < 12_000 for r in client.requests)


def test_a_part_the_model_fails_on_does_not_lose_the_others(tmp_path: Path) -> None:
    path = tmp_path / "long.txt"
    path.write_text(long_document())
    limit = max_chunk_chars(4096, 1024, load_prompt())
    client = FakeClient([ExtractionFailed("cut", attempts=1)], default=minimal_record())
    extractor = DocumentExtractor(
        client, load_prompt(), ResponseCache(None), {}, chunk_chars=limit, strategy=Whole()
    )
    out = tmp_path / "o.jsonl"
    asyncio.run(run_extraction([path], out, extractor, RunSettings()))
    (line,) = [json.loads(x) for x in out.read_text().splitlines()]
    assert line["error"] is None
    assert line["record"]["patients"]
