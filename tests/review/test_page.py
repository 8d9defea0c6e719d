"""The review page, checked in a real headless Chromium (its DOM after the script ran).

Chromium is driven from the command line (``--dump-dom``, ``--screenshot``),
no Python browser library. A missing browser fails the tests, never skips
them: install it with ``apt-get install -y chromium``.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from extractor.evaluation.gold import GoldSet, load_gold
from extractor.hashing import sha256_text
from extractor.record.grounding import align_record
from extractor.review.page import ReviewSummary, write_review
from extractor.templates.nen import CaseReport
from tests.conftest import FIXTURES, GOLD, SEED_000, minimal_record

SEED_001 = "001_0c99cf61126d16d0"
SEED_002 = "002_576a4924710f90de"
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--virtual-time-budget=5000",
]  # fmt: skip
EVIL = "<script>document.title='PWNED'</script> and <img src=x onerror=\"document.title='PWNED'\">"


@pytest.fixture(scope="module")
def chromium() -> str:
    """The Chromium executable; fails (does not skip) when there is none."""
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if found := shutil.which(name):
            return found
    pytest.fail(
        "no Chromium found (chromium, chromium-browser or google-chrome on PATH): the review "
        "tests need a real headless browser; install it with `apt-get install -y chromium`",
        pytrace=False,
    )


@pytest.fixture(scope="module")
def gold_set() -> GoldSet:
    return load_gold(GOLD)


def browse(chromium: str, page: Path, doc_id: str | None, *action: str) -> str:
    """Open ``page`` (at ``#doc=doc_id``) in headless Chromium with a fresh profile."""
    fragment = "" if doc_id is None else f"#doc={quote(doc_id, safe='')}"
    with tempfile.TemporaryDirectory(dir=page.parent) as profile:
        result = subprocess.run(
            [chromium, *FLAGS, f"--user-data-dir={profile}", *action, page.as_uri() + fragment],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def dump_dom(chromium: str, page: Path, doc_id: str | None) -> str:
    """The page's DOM, serialised, after its script ran."""
    return browse(chromium, page, doc_id, "--dump-dom")


def element(dom: str, tag: str, element_id: str) -> str:
    """The serialised element ``<tag id=element_id>`` (without nested elements of its tag)."""
    found = re.search(rf'<{tag}\b[^>]*\bid="{re.escape(element_id)}"[^>]*>.*?</{tag}>', dom, re.S)
    assert found, f"no <{tag} id={element_id!r}> in the DOM"
    return found.group()


def run_line(doc_id: str, text: str, record: CaseReport, source: str) -> dict[str, Any]:
    """An output line of a successful run, its evidence spans aligned as ``run.py`` does."""
    return {
        "doc_id": doc_id,
        "source": source,
        "doc_sha256": sha256_text(text),
        "record": record.model_dump(mode="json"),
        "error": None,
        "provenance": {"model": "test"},
        "evidence_spans": [a.to_dict() for a in align_record(record, text)],
    }


def gold_line(gold_set: GoldSet, doc_id: str, record: CaseReport | None = None) -> dict[str, Any]:
    """A run line predicting ``record`` (by default the gold label itself) for a gold document."""
    document = gold_set.items[doc_id].document
    return run_line(doc_id, document.text, record or gold_set.items[doc_id].label, document.source)


def write_run(path: Path, lines: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


def failed_line(doc_id: str, source: str, last_output: str) -> dict[str, Any]:
    error = {"kind": "validation", "message": "output did not validate", "last_output": last_output}
    return {"doc_id": doc_id, "source": source, "doc_sha256": None, "record": None,
            "error": error, "provenance": {}}  # fmt: skip


def mark_fields(dom: str) -> list[str]:
    """The ``data-field`` of every ``<mark>`` in the DOM."""
    return re.findall(r'<mark\b[^>]*\bdata-field="([^"]*)"', dom)


@pytest.fixture
def gold_review(tmp_path: Path, gold_set: GoldSet) -> tuple[Path, ReviewSummary]:
    """A review of three gold documents: one wrong age, one fuzzy and one lost quote, one error."""
    wrong_age = gold_set.items[SEED_000].label.model_copy(deep=True)
    wrong_age.patients[0].age_years = 79
    quotes = gold_set.items[SEED_001].label.model_copy(deep=True)
    evidence = quotes.patients[0].evidence
    evidence.primary_site_text = "the NET originated in the retroperitoneal fatty tissue"
    evidence.label = "a sentence that occurs nowhere in this report"
    lines = [
        gold_line(gold_set, SEED_000, wrong_age),
        gold_line(gold_set, SEED_001, quotes),
        failed_line(SEED_002, gold_set.items[SEED_002].document.source, '{"title": "Early po'),
    ]
    page = tmp_path / "review.html"
    return page, write_review(write_run(tmp_path / "run.jsonl", lines), page, GOLD)


def test_review_highlights_evidence_and_marks_gold_mismatches(
    chromium: str, gold_review: tuple[Path, ReviewSummary], gold_set: GoldSet
) -> None:
    """Evidence spans are <mark>s linked to their rows (and back); a wrong age is marked."""
    page, summary = gold_review
    assert summary == ReviewSummary(documents=3, ok=2, failed=1, with_gold=3)
    dom = dump_dom(chromium, page, SEED_000)

    fields = " ".join(mark_fields(dom)).split()
    expected = {"age_years", "sex", "imaging[0]", "imaging[1]", "treatments[4]", "outcome.status"}
    assert expected <= set(fields)
    assert len(re.findall(r"<mark\b", dom)) >= 10
    assert re.search(rf'href="#doc={SEED_000}&amp;at=f-p0-age_years"[^>]*><mark ', dom)
    age = element(dom, "tr", "f-p0-age_years")
    assert f'href="#doc={SEED_000}&amp;at=m-' in age  # row -> highlight
    assert 'class="outcome-wrong mismatch"' in age
    assert "<td>79</td><td>78</td>" in age
    assert "✗ wrong" in age
    assert 'class="outcome-tp"' in element(dom, "tr", "f-p0-sex")
    assert '<table id="t-document" class="record">' in dom
    assert '<table id="t-p0-treatments" class="record">' in dom
    assert gold_set.items[SEED_000].document.text[:40].replace("&", "&amp;") in dom
    assert "<title>Review: 000_41db0c827232113d</title>" in dom


def test_review_shows_fuzzy_and_lost_quotes_and_errors(
    chromium: str, gold_review: tuple[Path, ReviewSummary]
) -> None:
    """Fuzzy spans look different, lost quotes are listed, a failed document shows its error."""
    page, _ = gold_review
    dom = dump_dom(chromium, page, SEED_001)
    fuzzy = re.findall(r'<mark id="m-\d+" class="fuzzy" data-field="([^"]*)"', dom)
    assert fuzzy
    assert all("primary_site_text" in fields.split() for fields in fuzzy)
    assert "patient 1: primary_site_text (fuzzy match)" in dom
    assert "Quotes not found in the document" in dom
    assert "a sentence that occurs nowhere in this report" in dom
    assert "not found" in element(dom, "tr", "f-p0-label")
    assert "Patient 2 · gold patient 2" in dom

    dom = dump_dom(chromium, page, SEED_002)
    assert "Error: validation" in dom
    assert "output did not validate" in dom
    assert '<pre>{"title": "Early po</pre>' in dom
    assert "Gold patient 1 · not predicted" in dom  # the gold values, all missed
    assert 'class="outcome-fn mismatch"' in dom


def test_review_never_runs_document_text(chromium: str, tmp_path: Path) -> None:
    """Markup in a document, an id or a model's output is shown as text and never runs."""
    text = f"Case report. {EVIL} A 50-year-old woman was seen.\n"
    source = tmp_path / "xss.txt"
    source.write_text(text, encoding="utf-8")
    record = CaseReport.model_validate(minimal_record())
    record.patients[0].evidence.age_years = "A 50-year-old woman"
    evil_output = "</script><script>document.title='PWNED'</script>"
    lines = [
        run_line("xss_doc", text, record, str(source)),
        failed_line("<img src=x onerror=alert(1)>", "nowhere.txt", evil_output),
    ]
    page = tmp_path / "review.html"
    write_review(write_run(tmp_path / "run.jsonl", lines), page)

    raw = page.read_text(encoding="utf-8")
    assert raw.count("<script") == 2  # the data block and the page's own script
    assert "<img" not in raw
    dom = dump_dom(chromium, page, "xss_doc")
    assert "<title>Review: xss_doc</title>" in dom
    title = re.search(r"<title>(.*?)</title>", dom, re.S)
    assert title
    assert "PWNED" not in title.group(1)
    assert "&lt;script&gt;document.title='PWNED'&lt;/script&gt;" in dom
    assert "&lt;img src=x onerror=\"document.title='PWNED'\"&gt;" in dom
    assert dom.count("<script") == 1  # only the page's own script; the data block is consumed
    assert "<img" not in dom
    assert 'data-field="age_years"' in dom

    dom = dump_dom(chromium, page, "<img src=x onerror=alert(1)>")
    assert "&lt;/script&gt;&lt;script&gt;document.title='PWNED'&lt;/script&gt;" in dom
    assert "<img" not in dom
    assert dom.count("<script") == 1


def test_review_is_offline_and_renders(
    chromium: str, gold_review: tuple[Path, ReviewSummary]
) -> None:
    """The page references nothing outside itself, and a screenshot of it is non-trivial."""
    page, _ = gold_review
    raw = page.read_text(encoding="utf-8")
    assert not re.search(r"""\b(?:src|href|action)\s*=\s*["']?\s*(?:https?:)?//""", raw, re.I)
    assert not re.search(r"url\(|@import", raw)
    assert "default-src &#x27;none&#x27;" in raw  # a Content-Security-Policy: no fetching
    shot = page.parent / "review.png"
    browse(chromium, page, SEED_000, f"--screenshot={shot}", "--window-size=1280,2000")
    png = shot.read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert int.from_bytes(png[16:20], "big") == 1280
    assert len(png) > 50_000


def test_review_of_a_thousand_documents_renders_one_at_a_time(
    chromium: str, tmp_path: Path
) -> None:
    """1,000 documents: all in the index, one document's text in the DOM."""
    corpus = tmp_path / "corpus.jsonl"
    texts = [
        f"Case {i:04d}: marker-{i:04d}-zebra. A 50-year-old woman was seen." for i in range(1000)
    ]
    corpus.write_text(
        "".join(json.dumps({"id": f"doc{i:04d}", "text": t}) + "\n" for i, t in enumerate(texts)),
        encoding="utf-8",
    )
    record = CaseReport.model_validate(minimal_record())
    record.patients[0].evidence.age_years = "A 50-year-old woman"
    lines = [
        run_line(f"doc{i:04d}", text, record, f"{corpus}:{i + 1}") for i, text in enumerate(texts)
    ]
    page = tmp_path / "review.html"
    summary = write_review(write_run(tmp_path / "run.jsonl", lines), page)
    assert summary == ReviewSummary(documents=1000, ok=1000, failed=0, with_gold=0)
    assert page.read_text(encoding="utf-8").count("<li data-id=") == 1000

    dom = dump_dom(chromium, page, "doc0500")
    assert len(re.findall(r"<li data-id=", dom)) == 1000
    assert re.findall(r"marker-\d{4}-zebra", dom) == ["marker-0500-zebra"]
    assert len(re.findall(r"<mark\b", dom)) == 1
    assert '<li data-id="doc0500" data-search="doc0500' in dom
    assert re.search(r'<li data-id="doc0500"[^>]*class="current"', dom)


def page_data(page: Path) -> list[dict[str, Any]]:
    """The per-document JSON embedded in the page."""
    found = re.search(
        r'<script type="application/json" id="data">(.*?)</script>',
        page.read_text(encoding="utf-8"),
    )
    assert found
    return list(json.loads(found.group(1)))


def test_review_realigns_quotes_to_a_text_changed_since_the_run(tmp_path: Path) -> None:
    """Offsets are recomputed (and the page says so) when the text is not the one the run saw."""
    source = tmp_path / "case.txt"
    text = f"A 50-year-old woman. {EVIL}"
    record = CaseReport.model_validate(minimal_record())
    record.patients[0].evidence.age_years = "A 50-year-old woman"
    line = run_line("case", text, record, str(source))
    source.write_text("Preface. " + text, encoding="utf-8")
    page = tmp_path / "review.html"
    write_review(write_run(tmp_path / "run.jsonl", [line]), page)

    (doc,) = page_data(page)
    assert doc["text"] == "Preface. " + text  # the JSON escapes round-trip
    assert "differs from the one the run saw" in doc["note"]
    assert doc["segments"] == [[9, 28, [0]]]
    span = doc["spans"][0]
    assert (span["field"], span["row"], span["mark"]) == ("age_years", "f-p0-age_years", "m-0")


def test_the_text_of_a_package_member_or_corpus_line_is_found(tmp_path: Path) -> None:
    """Sources such as ``pkg.tar.gz:member`` and ``corpus.jsonl:N`` lead back to their text."""
    import tarfile

    from extractor.io.documents import iter_documents
    from extractor.review.data import Texts

    jats = FIXTURES / "corpora" / "jats" / "PMC6095483.xml"
    package = tmp_path / "pkg.tar.gz"
    with tarfile.open(package, "w:gz") as archive:
        archive.add(jats, arcname="oa/PMC6095483.xml")
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text('{"id": "a", "text": "A 50-year-old woman."}\n')
    texts = Texts(None)
    for item in iter_documents([package, corpus]):
        line = {"doc_id": item.id, "source": item.source, "doc_sha256": item.sha256}
        found = texts.find(line)
        assert found.current, item.source
