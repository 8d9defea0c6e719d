"""The README shows what the code does: its Python example is this file, and it runs."""

from __future__ import annotations

import json
import re
import runpy
from pathlib import Path

import pytest

from extractor.config import DEFAULT_STRATEGY
from extractor.testing.stub_server import stub_server
from tests.conftest import GOLD, REPO, minimal_record

EXAMPLE = REPO / "docs" / "examples" / "library.py"


def python_blocks(markdown: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", markdown, flags=re.DOTALL)


def test_the_readme_python_example_is_the_example_file() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert EXAMPLE.read_text(encoding="utf-8") in python_blocks(readme)


def test_the_example_runs_and_writes_one_line_per_gold_document(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "gold").symlink_to(GOLD)
    monkeypatch.chdir(tmp_path)
    with stub_server(minimal_record()) as (url, state):
        monkeypatch.setenv("EXTRACTOR_BASE_URL", url)
        monkeypatch.setenv("EXTRACTOR_MODEL", "stub")
        runpy.run_path(str(EXAMPLE), run_name="__main__")
    documents = len(list((GOLD / "docs").iterdir()))
    lines = [json.loads(x) for x in (tmp_path / "runs" / "gold.jsonl").read_text().splitlines()]
    assert len(lines) == documents
    assert {line["provenance"]["strategy"] for line in lines} == {DEFAULT_STRATEGY}
    assert state.requests, "the example asked the endpoint"
    ok = sum(line["record"] is not None for line in lines)
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == f"{ok} records, {documents - ok} failed, 0 from the cache"
    assert len(printed) == 1 + documents
