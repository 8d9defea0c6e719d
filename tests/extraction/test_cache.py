"""Cache keys change with every input that changes the answer; bad entries are misses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import diskcache
import pytest

from extractor.extraction.cache import CachedResult, ResponseCache, cache_key
from extractor.templates.nen import CaseReport, schema_json
from tests.conftest import minimal_record

BASE: dict[str, Any] = {
    "model": "m",
    "endpoint": "http://e/v1",
    "prompt_text": "p",
    "schema": {"type": "object"},
    "document_sha256": "d" * 64,
    "params": {"temperature": 0.0, "max_tokens": 10},
}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("model", "other"),
        ("endpoint", "http://f/v1"),
        ("prompt_text", "q"),
        ("schema", {"type": "array"}),
        ("document_sha256", "e" * 64),
        ("params", {"temperature": 0.5, "max_tokens": 10}),
    ],
)
def test_key_changes_with_each_input(name: str, value: Any) -> None:
    assert cache_key(**BASE) != cache_key(**{**BASE, name: value})


def test_key_ignores_dict_order() -> None:
    reordered = {**BASE, "params": {"max_tokens": 10, "temperature": 0.0}}
    assert cache_key(**BASE) == cache_key(**reordered)
    assert len(cache_key(**BASE)) == 64


def test_round_trip(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)
    result = CachedResult(record=minimal_record(), prompt_tokens=3, completion_tokens=4, attempts=2)
    cache.put("k", result)
    assert cache.get("k", CaseReport) == result
    assert cache.get("other", CaseReport) is None


@pytest.mark.parametrize("stored", ["not json", '{"record": {"title": 1}}', 42, b"\x00\x01"])
def test_corrupt_or_invalid_entry_is_a_miss(tmp_path: Path, stored: Any) -> None:
    with diskcache.Cache(str(tmp_path)) as raw:
        raw.set("k", stored)
    assert ResponseCache(tmp_path).get("k", CaseReport) is None


def test_unreadable_database_is_a_miss(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)
    cache.put("k", CachedResult(minimal_record(), 1, 1, 1))
    cache.close()
    (tmp_path / "cache.db").write_bytes(b"this is not sqlite" * 100)
    broken = ResponseCache(tmp_path)
    assert broken.get("k", CaseReport) is None
    assert broken.problem is not None
    assert "unusable" in broken.problem


def test_no_directory_means_no_cache() -> None:
    cache = ResponseCache(None)
    cache.put("k", CachedResult(minimal_record(), 1, 1, 1))
    assert cache.get("k", CaseReport) is None
    assert schema_json()  # the schema used in keys is available
