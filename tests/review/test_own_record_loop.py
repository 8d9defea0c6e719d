"""The reviewer's loop for a record other than the NEN one: agree, adjudicate, a gold folder.

Two runs of ``extractor.templates.case:CaseRecord`` over two documents, made
from ``gold-case/`` labels with a few values changed; ``agree`` finds where
they differ, the adjudication app serves and saves labels of that record,
and the folder it writes is a gold set of that record.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from extractor.evaluation.agree import agree_runs
from extractor.evaluation.gold import check_gold, load_gold
from extractor.review.app import Adjudication, create_app
from extractor.review.form import form_spec
from tests.conftest import REPO

CASE = "extractor.templates.case:CaseRecord"
GOLD_CASE = REPO / "gold-case"
DOCS = ("pnet_lu177_inoperable_2022", "ovary_carcinoid_nodal_metastases_2010")


def label(doc_id: str) -> dict[str, Any]:
    return json.loads((GOLD_CASE / "labels" / f"{doc_id}.json").read_text(encoding="utf-8"))


def write_run(path: Path, records: dict[str, dict[str, Any]]) -> Path:
    lines = [
        {
            "doc_id": doc_id,
            "source": str(GOLD_CASE / "docs" / f"{doc_id}.txt"),
            "record": record,
            "error": None,
            "provenance": {"model": "test", "record": CASE},
        }
        for doc_id, record in records.items()
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


def test_agree_adjudicate_and_gold_check_work_for_the_case_record(tmp_path: Path) -> None:
    first = {doc_id: label(doc_id) for doc_id in DOCS}
    second = json.loads(json.dumps(first))
    second[DOCS[0]]["cases"][0]["age"] = 73  # one run reads another age
    second[DOCS[1]]["cases"][0]["treatments"] = []  # and misses a treatment
    run_a = write_run(tmp_path / "a.jsonl", first)
    run_b = write_run(tmp_path / "b.jsonl", second)

    agreement = agree_runs([run_a, run_b], GOLD_CASE)
    assert agreement.scored == ("label", "age", "sex", "country", "diagnosis", "treatments")
    disagreed = {(slot.doc_id, slot.field) for slot in agreement.disagreements}
    assert disagreed == {(DOCS[0], "age"), (DOCS[1], "treatments")}
    assert agreement.accuracy is not None
    assert agreement.accuracy["age"].disagreed.right == 1  # of the two values, run a's is right

    gold = tmp_path / "reviewed"
    adjudication = Adjudication(run_b, gold, record=CASE)
    client = TestClient(create_app(adjudication), base_url="http://127.0.0.1")
    spec = client.get("/api/form").json()
    assert spec == json.loads(json.dumps(form_spec(adjudication.template)))
    assert spec["$record"] == {"root": "CaseRecord", "entities": "cases", "entity": "Case"}
    shown = client.get(f"/api/documents/{DOCS[0]}").json()
    assert shown["record"]["cases"][0]["age"] == 73
    assert {a["where"] for a in shown["alignments"]} >= {"cases[0].evidence.age"}

    corrected = label(DOCS[0])  # the reviewer puts the right age back
    headers = {"If-Match": '"absent"', "Content-Type": "application/json"}
    saved = client.put(f"/api/labels/{DOCS[0]}", content=json.dumps(corrected), headers=headers)
    assert saved.status_code == 200, saved.text
    assert [c["path"] for c in saved.json()["changes"]] == ["cases[0].age"]
    assert (gold / "record.toml").read_text(encoding="utf-8") == f'record = "{CASE}"\n'
    assert check_gold(gold) == {}
    assert load_gold(gold).template.name == CASE
