"""The adjudication app's JSON API, through Starlette's test client."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

from extractor.cli import commands as cli
from extractor.errors import ConfigError
from extractor.evaluation.gold import check_gold
from extractor.review import labels
from extractor.review.app import Adjudication, bind, create_app
from extractor.review.labels import diff, label_json
from tests.conftest import SEED_000
from tests.review.conftest import FAILED_ID, UNGROUNDED, XSS_ID, Workspace


@pytest.fixture
def client(workspace: Workspace) -> TestClient:
    app = create_app(Adjudication(workspace.run, workspace.gold, workspace.triage))
    return TestClient(app, base_url="http://127.0.0.1")


def put(client: TestClient, doc_id: str, body: Any, version: str | None) -> Any:
    headers = {"Content-Type": "application/json"}
    if version is not None:
        headers["If-Match"] = f'"{version}"'
    content = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.put(f"/api/labels/{doc_id}", content=content, headers=headers)


def expected_json(workspace: Workspace) -> dict[str, Any]:
    return workspace.expected.model_dump(mode="json")


def audit_lines(workspace: Workspace) -> list[dict[str, Any]]:
    text = (workspace.gold / "audit.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines()]


def files(folder: Path) -> list[str]:
    """Every file under ``folder``, relative, hidden ones included."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_the_document_list_has_every_line_of_the_run(client: TestClient) -> None:
    response = client.get("/api/documents")
    assert response.status_code == 200
    documents = {doc["id"]: doc for doc in response.json()["documents"]}
    assert list(documents) == [SEED_000, XSS_ID, FAILED_ID]
    assert documents[SEED_000] | {"source": ""} == {
        "id": SEED_000, "source": "", "status": "ok", "labelled": False, "disagreements": 1,
    }  # fmt: skip
    assert documents[FAILED_ID]["status"] == "validation"


def test_a_document_comes_with_its_text_record_version_spans_and_disagreements(
    client: TestClient, workspace: Workspace
) -> None:
    response = client.get(f"/api/documents/{SEED_000}")
    assert response.status_code == 200
    assert response.headers["etag"] == '"absent"'
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    data = response.json()
    assert data["text"] == workspace.seed_text
    assert (data["version"], data["label"], data["error"]) == ("absent", None, None)
    assert data["record"]["patients"][0]["age_years"] == 79
    assert data["disagreements"] == [json.loads(workspace.triage.read_text())]
    lost = next(a for a in data["alignments"] if a["where"] == "patients[0].evidence.label")
    assert (lost["status"], lost["start"], lost["quote"]) == ("ungrounded", None, UNGROUNDED)
    sex = next(a for a in data["alignments"] if a["where"] == "patients[0].evidence.sex")
    assert (sex["status"], sex["quote"]) == ("exact", "A 78-year-old man")
    assert workspace.seed_text[sex["start"] : sex["end"]] == "A 78-year-old man"


def test_a_failed_document_has_its_error_and_a_blank_to_start_from(client: TestClient) -> None:
    data = client.get(f"/api/documents/{FAILED_ID}").json()
    assert (data["record"], data["error"]["kind"], data["text"]) == (None, "validation", None)
    assert data["blank"]["patients"] == []


def test_a_save_writes_the_label_its_document_and_an_audit_line(
    client: TestClient, workspace: Workspace
) -> None:
    response = put(client, SEED_000, expected_json(workspace), "absent")
    assert response.status_code == 200, response.text
    path = workspace.gold / "labels" / f"{SEED_000}.json"
    content = path.read_text(encoding="utf-8")
    assert content == label_json(workspace.expected)
    assert response.json()["version"] == hashlib.sha256(content.encode()).hexdigest()
    assert response.headers["etag"] == f'"{response.json()["version"]}"'
    copy = workspace.gold / "docs" / f"{SEED_000}.txt"
    assert copy.read_text(encoding="utf-8") == workspace.seed_text
    assert files(workspace.gold) == [  # no temporary file left behind
        ".adjudicate.lock", "audit.jsonl", f"docs/{SEED_000}.txt", f"labels/{SEED_000}.json",
    ]  # fmt: skip
    (audit,) = audit_lines(workspace)
    assert (audit["doc_id"], audit["previous"]) == (SEED_000, "absent")
    assert audit["changes_against"] == "run"
    assert audit["version"] == response.json()["version"]
    assert audit["run"] == str(workspace.run.resolve())
    assert audit["at"].endswith("Z")
    assert audit["changes"] == [
        {"path": "patients[0].age_years", "old": 79, "new": 78},
        {"path": "patients[0].evidence.label", "old": UNGROUNDED, "new": None},
        {"path": "patients[0].evidence.age_years", "old": None, "new": "A 78-year-old man"},
    ]
    assert check_gold(workspace.gold) == {}  # the folder is a gold set

    again = client.get(f"/api/documents/{SEED_000}").json()
    assert (again["version"], again["label"]) == (audit["version"], expected_json(workspace))
    listed = client.get("/api/documents").json()["documents"]
    assert listed[0]["labelled"] is True


def test_a_second_save_diffs_against_the_saved_label(
    client: TestClient, workspace: Workspace
) -> None:
    first = put(client, SEED_000, expected_json(workspace), "absent").json()["version"]
    changed = expected_json(workspace)
    changed["patients"][0]["imaging"].pop()
    second = put(client, SEED_000, changed, first)
    assert second.status_code == 200, second.text
    audit = audit_lines(workspace)
    assert [line["previous"] for line in audit] == ["absent", first]
    assert audit[1]["changes_against"] == "label"
    assert [c["path"] for c in audit[1]["changes"]] == ["patients[0].imaging[1]"]
    assert audit[1]["changes"][0]["new"] is None


def test_an_invalid_label_is_422_with_the_errors_and_writes_nothing(
    client: TestClient, workspace: Workspace
) -> None:
    body = expected_json(workspace)
    body["patients"][0]["age_years"] = 300
    response = put(client, SEED_000, body, "absent")
    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert (error["loc"], error["path"]) == ("patients.0.age_years", "patients[0].age_years")
    assert "less than or equal to 120" in error["message"]
    assert files(workspace.gold) == [".adjudicate.lock"]


def test_a_quote_not_in_the_document_is_422(client: TestClient, workspace: Workspace) -> None:
    body = expected_json(workspace)
    body["patients"][0]["evidence"]["label"] = "words this report never uses"
    response = put(client, SEED_000, body, "absent")
    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert error["loc"] == "patients.0.evidence.label"
    assert "quote not found in the document" in error["message"]
    assert not (workspace.gold / "labels" / f"{SEED_000}.json").exists()


@pytest.mark.parametrize("body", ["{not json", "[]", '{"title": "x"}', ""])
def test_a_body_that_is_not_a_record_is_422(client: TestClient, body: str) -> None:
    response = put(client, SEED_000, body, "absent")
    assert response.status_code == 422
    assert response.json()["errors"]


def test_a_stale_version_is_409_and_the_saved_label_stays(
    client: TestClient, workspace: Workspace
) -> None:
    first = put(client, SEED_000, expected_json(workspace), "absent")
    version = first.json()["version"]
    path = workspace.gold / "labels" / f"{SEED_000}.json"
    before = path.read_bytes()
    other = expected_json(workspace)
    other["patients"][0]["age_years"] = 77
    stale = put(client, SEED_000, other, "absent")  # a second tab, opened before the save
    assert stale.status_code == 409
    assert stale.json()["version"] == version
    wrong = put(client, SEED_000, other, "0" * 64)
    assert wrong.status_code == 409
    assert path.read_bytes() == before
    assert len((workspace.gold / "audit.jsonl").read_text().splitlines()) == 1


def test_a_put_without_if_match_is_refused(client: TestClient, workspace: Workspace) -> None:
    response = put(client, SEED_000, expected_json(workspace), None)
    assert response.status_code == 428
    assert not (workspace.gold / "labels" / f"{SEED_000}.json").exists()


def test_unknown_ids_are_404(client: TestClient, workspace: Workspace) -> None:
    assert client.get("/api/documents/no_such_doc").status_code == 404
    assert put(client, "no_such_doc", expected_json(workspace), "absent").status_code == 404
    assert files(workspace.gold) == []


@pytest.mark.parametrize(
    "doc_id",
    [
        "..%2F..%2Fetc%2Fpasswd",
        "../../etc/passwd",
        "a%2Fb",
        "a%00b",
        "..",
        ".hidden",
        "%2Fetc%2Fpasswd",
    ],
)
def test_ids_that_could_leave_the_folder_are_refused(
    client: TestClient, workspace: Workspace, doc_id: str
) -> None:
    assert client.get(f"/api/documents/{doc_id}").status_code in (400, 404)
    response = put(client, doc_id, expected_json(workspace), "absent")
    assert response.status_code in (400, 404)
    assert files(workspace.gold) == []
    assert not (workspace.gold.parent / "etc").exists()


def test_an_unsafe_id_gets_400_not_a_route_miss(client: TestClient) -> None:
    assert client.get("/api/documents/..%2F..%2Fetc%2Fpasswd").status_code == 400
    assert client.get("/api/documents/a%00b").status_code == 400


def test_another_host_is_refused(client: TestClient) -> None:
    """A page on another origin reaching 127.0.0.1 by DNS rebinding gets nothing."""
    response = client.get("/api/documents", headers={"Host": "attacker.example"})
    assert response.status_code == 400


def test_the_page_and_its_assets_are_served_with_a_strict_policy(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert '<script src="/assets/adjudicate.js"></script>' in page.text
    assert "Adjudicate: run.jsonl" in page.text
    script = client.get("/assets/adjudicate.js")
    assert script.headers["content-type"].startswith("text/javascript")
    assert "innerHTML" not in script.text.replace("never through innerHTML", "")
    assert client.get("/assets/../app.py").status_code == 404
    assert client.get("/assets/app.py").status_code == 404
    form = client.get("/api/form").json()
    assert {f["name"]: f["kind"] for f in form["Patient"]}["metastatic_sites"] == "enums"


def test_a_failed_rename_leaves_the_old_label_and_no_temporary_file(
    client: TestClient, workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    version = put(client, SEED_000, expected_json(workspace), "absent").json()["version"]
    path = workspace.gold / "labels" / f"{SEED_000}.json"
    before = path.read_bytes()

    def broken(source: Any, target: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(labels.os, "replace", broken)
    other = expected_json(workspace)
    other["year"] = 2020
    with pytest.raises(OSError, match="No space left"):
        put(client, SEED_000, other, version)
    assert path.read_bytes() == before
    assert files(workspace.gold / "labels") == [f"{SEED_000}.json"]


def test_diff_compares_objects_by_key_and_lists_of_objects_by_item() -> None:
    old = {"a": 1, "sites": ["liver"], "items": [{"x": 1}, {"x": 2}]}
    new = {"a": 1, "sites": ["liver", "bone"], "items": [{"x": 1}]}
    assert diff(old, new) == [
        {"path": "sites", "old": ["liver"], "new": ["liver", "bone"]},
        {"path": "items[1]", "old": {"x": 2}, "new": None},
    ]
    assert diff(None, {"a": 1}) == [{"path": "label", "old": None, "new": {"a": 1}}]


def test_the_adjudicate_command_serves_the_run_and_prints_the_url(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    served: dict[str, Any] = {}

    def fake_serve(adjudication: Adjudication, port: int, **options: Any) -> None:
        served.update(adjudication=adjudication, port=port, **options)
        options["announce"]("http://127.0.0.1:8123/")

    monkeypatch.setattr(cli, "serve", fake_serve)
    args = ["adjudicate", str(workspace.run), "--gold", str(workspace.gold),
            "--triage", str(workspace.triage), "--port", "8123", "--no-open"]  # fmt: skip
    result = CliRunner().invoke(cli.app, args)
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:8123/" in result.output
    assert (served["port"], served["open_browser"]) == (8123, False)
    assert list(served["adjudication"].lines) == [SEED_000, XSS_ID, FAILED_ID]
    assert (workspace.gold / "labels").is_dir()


def test_a_port_in_use_is_a_config_error() -> None:
    taken = bind(0)
    try:
        with pytest.raises(ConfigError, match=r"cannot listen on 127\.0\.0\.1"):
            bind(taken.getsockname()[1])
    finally:
        taken.close()
