"""A record nobody in the package knows, written at test time, through the embedded model.

The template and its vocabulary are written to a temporary folder, outside
the package; its field names are its own (``subjects``, ``condition``,
``quotes``). Three real documents go through ``extract`` (the default,
grounded strategy, on the real embedded SmolLM2 server), ``eval`` against a
gold folder whose labels are built from ``gold-case/`` (the same patients),
``review`` and ``export``. The assertions are about shape and mechanics, never
about what the tiny model happens to answer.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from extractor.cli import app
from extractor.record.template import load_template
from tests.conftest import REPO

pytestmark = pytest.mark.embedded

DOCUMENTS = (  # a single patient, another, and an editorial with no patient
    "pnet_lu177_inoperable_2022", "ovary_carcinoid_nodal_metastases_2010",
    "neg_editorial_net_challenges_2022",
)  # fmt: skip
TEMPLATE = """
    from pathlib import Path
    from typing import Annotated, ClassVar, Literal

    from pydantic import BaseModel, Field

    from extractor.record.markers import Ask, Compare, Entities, Quotes


    class Subject(BaseModel):
        age: Annotated[int | None, Ask("age", "How old was the patient?")] = Field(ge=0, le=120)
        sex: Annotated[
            Literal["male", "female"] | None,
            Ask("mentions", "What is the patient's sex?", vocabulary="sex", pick="most"),
        ]
        condition: Annotated[
            str | None,
            Ask("phrase", "What did the patient have?", cue="condition", scope="document"),
            Compare("similar", similarity=0.6),
        ] = Field(max_length=200)
        quotes: Annotated[dict[str, str], Quotes()] = Field(default_factory=dict)


    class Report(BaseModel):
        vocabulary_file: ClassVar[Path] = Path(__file__).with_name("words.toml")
        subjects: Annotated[list[Subject], Entities()] = Field(max_length=5)
"""
WORDS = """
    [sex.male]
    forms = ["man", "male", "boy"]

    [sex.female]
    forms = ["woman", "female", "girl"]

    [cues.condition]
    forms = ["diagnosed with", "diagnosis of", "case of"]
"""


def label(case_label: dict[str, Any]) -> dict[str, Any]:
    """A ``gold-case`` label in the test template's own names."""
    names = {"age": "age", "sex": "sex", "diagnosis": "condition"}
    return {
        "subjects": [
            {
                **{mine: case[theirs] for theirs, mine in names.items()},
                "quotes": {names[k]: q for k, q in case["evidence"].items() if k in names},
            }
            for case in case_label["cases"]
        ]
    }


def test_a_record_written_at_test_time_goes_through_extract_eval_review_and_export(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    (folder / "report.py").write_text(textwrap.dedent(TEMPLATE), encoding="utf-8")
    (folder / "words.toml").write_text(textwrap.dedent(WORDS), encoding="utf-8")
    ref = f"{folder / 'report.py'}:Report"
    gold = tmp_path / "gold"
    (gold / "docs").mkdir(parents=True)
    (gold / "labels").mkdir()
    (gold / "record.toml").write_text(f'record = "{ref}"\n', encoding="utf-8")
    for doc_id in DOCUMENTS:
        (gold / "docs" / f"{doc_id}.txt").write_bytes(
            (REPO / "gold-case" / "docs" / f"{doc_id}.txt").read_bytes()
        )
        theirs = json.loads((REPO / "gold-case" / "labels" / f"{doc_id}.json").read_text())
        (gold / "labels" / f"{doc_id}.json").write_text(json.dumps(label(theirs)))
    runner, run, cache = CliRunner(), tmp_path / "run.jsonl", tmp_path / "cache"
    assert runner.invoke(app, ["gold", "check", "--gold", str(gold)]).exit_code == 0

    inputs = [str(gold / "docs" / f"{doc_id}.txt") for doc_id in DOCUMENTS]
    extracted = runner.invoke(
        app, ["extract", *inputs, "-o", str(run), "--record", ref, "--cache-dir", str(cache)]
    )
    assert extracted.exit_code == 0, extracted.output
    lines = [json.loads(line) for line in run.read_text().splitlines()]
    assert sorted(line["doc_id"] for line in lines) == sorted(DOCUMENTS)
    model = load_template(ref).model
    for line in lines:
        assert line["error"] is None
        assert model.model_validate(line["record"])
        assert line["provenance"]["record"] == f"{(folder / 'report.py').resolve()}:Report"
        assert line["provenance"]["strategy"] == "grounded"
        assert line["provenance"]["prompt"] == "generic"  # not the NEN prompt
        assert all(span["status"] in ("exact", "normalised") for span in line["evidence_spans"])
    by_id = {line["doc_id"]: line["record"] for line in lines}
    assert by_id["neg_editorial_net_challenges_2022"]["subjects"] == []  # nobody described

    evaluated = runner.invoke(app, ["eval", "--gold", str(gold), "--cache-dir", str(cache),
                                    "--eval-dir", str(tmp_path / "eval")])  # fmt: skip
    assert evaluated.exit_code == 0, evaluated.output
    result = json.loads(next((tmp_path / "eval" / "results").glob("*.json")).read_text())
    assert list(result["fields"]) == ["age", "sex", "condition"]
    assert result["overall"]["documents"] == len(DOCUMENTS)
    assert result["overall"]["grounding_rate"] in (None, 1.0)

    page = tmp_path / "review.html"
    reviewed = runner.invoke(app, ["review", str(run), "-o", str(page), "--gold", str(gold)])
    assert reviewed.exit_code == 0, reviewed.output
    html = page.read_text(encoding="utf-8")
    assert all(doc_id in html for doc_id in DOCUMENTS)
    assert "Subject 1" in html  # the entity is named by the template's own model

    sheet = tmp_path / "run.csv"
    exported = runner.invoke(app, ["export", str(run), "--csv", str(sheet)])
    assert exported.exit_code == 0, exported.output
    header, *rows = sheet.read_text(encoding="utf-8").splitlines()
    assert header.startswith("doc_id,source,subject_index,age,sex,condition,")
    subjects = sum(len(record["subjects"]) for record in by_id.values())
    assert len(rows) == subjects + (
        len(DOCUMENTS) - sum(bool(r["subjects"]) for r in by_id.values())
    )
