"""The adjudication app driven in a real headless Chromium (Debian's), through Playwright.

The app runs in a uvicorn thread on 127.0.0.1; Playwright launches the system
Chromium (``executable_path``: no browser is downloaded). A missing browser
fails the tests, never skips them: install it with ``apt-get install -y chromium``.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from extractor.evaluation.gold import check_gold
from extractor.review.app import Adjudication, bind, server
from tests.conftest import SEED_000
from tests.review.conftest import UNGROUNDED, XSS, XSS_ID, Workspace

FLAGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
AGE = 'input[data-path="patients.0.age_years"]'
Pages = list[tuple[Page, list[str]]]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """The system Chromium under Playwright; fails (does not skip) when there is none."""
    found = next(
        (p for n in ("chromium", "chromium-browser") if (p := shutil.which(n)) is not None), None
    )
    if found is None:
        pytest.fail("no Chromium on PATH: install it with `apt-get install -y chromium`")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=found, args=FLAGS)
        yield launched
        launched.close()


@dataclass(frozen=True)
class Served:
    url: str
    workspace: Workspace


@pytest.fixture
def served(workspace: Workspace) -> Iterator[Served]:
    """The app on a free port of 127.0.0.1, in a thread, stopped after the test."""
    sock = bind(0)
    app_server = server(Adjudication(workspace.run, workspace.gold, workspace.triage))
    thread = threading.Thread(target=app_server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not app_server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert app_server.started, "uvicorn did not start"
    yield Served(f"http://127.0.0.1:{sock.getsockname()[1]}/", workspace)
    app_server.should_exit = True
    thread.join(10)


@pytest.fixture
def pages(browser: Browser) -> Iterator[Pages]:
    """The pages a test opens, each with the errors its scripts raised: none, at the end."""
    opened: Pages = []
    yield opened
    for page, errors in opened:
        page.close()
        assert errors == [], errors


def open_document(browser: Browser, served: Served, doc_id: str, pages: Pages) -> Page:
    """A fresh page showing ``doc_id`` (its script errors recorded in ``pages``)."""
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    pages.append((page, errors))
    page.goto(served.url + "#doc=" + quote(doc_id, safe=""))
    page.wait_for_selector(f"#view h2:text-is('{doc_id}')")
    return page


def select_text(page: Page, words: str) -> None:
    """Select the first occurrence of ``words`` in the document with the mouse, as a person does."""
    box = page.evaluate(
        """(words) => {
          const root = document.getElementById("text");
          const at = root.textContent.indexOf(words);
          const rect = (offset) => {  // the box of one character of the text
            const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
            let node, seen = 0;
            while ((node = walker.nextNode()) && offset >= seen + node.length) seen += node.length;
            const range = document.createRange();
            range.setStart(node, offset - seen);
            range.setEnd(node, offset - seen + 1);
            node.parentElement.scrollIntoView({block: "center"});
            const r = range.getBoundingClientRect();
            return {left: r.left, right: r.right, y: r.top + r.height / 2};
          };
          const first = rect(at);
          const last = rect(at + words.length - 1);
          return {x1: first.left + 1, y1: first.y, x2: last.right - 1, y2: last.y};
        }""",
        words,
    )
    page.mouse.move(box["x1"], box["y1"])
    page.mouse.down()
    page.mouse.move(box["x2"], box["y2"], steps=8)
    page.mouse.up()
    page.wait_for_function(
        "(words) => document.getElementById('pick').textContent.includes('“' + words + '”')",
        arg=words,
    )


def label_file(served: Served) -> Path:
    return served.workspace.gold / "labels" / f"{SEED_000}.json"


def test_correct_a_value_cite_its_evidence_and_save_a_gold_label(
    browser: Browser, served: Served, pages: Pages
) -> None:
    page = open_document(browser, served, SEED_000, pages)
    flags = page.text_content("#flags") or ""
    assert "patient 1 · age_years" in flags
    assert "runs disagree: 79 | 78" in flags
    assert f"patient 1 · evidence.label: quote not in the text: “{UNGROUNDED}”" in flags
    assert flags.index("age_years") < flags.index("evidence.label")  # disagreements first
    label_row = "#row-patients\\.0\\.label"
    assert "flag-ungrounded" in (page.get_attribute(label_row, "class") or "")
    assert "not in the text" in (page.text_content(label_row) or "")
    assert "flag-disagree" in (page.get_attribute("#row-patients\\.0\\.age_years", "class") or "")
    assert page.input_value(AGE) == "79"
    assert page.locator("#text mark").count() >= 8  # the run's evidence, highlighted

    page.click('button[data-unquote="patients.0.evidence.label"]')  # the lost quote
    page.fill(AGE, "78")
    select_text(page, "A 78-year-old man")
    page.click('button[data-pick="patients.0.evidence.age_years"]')
    cited = page.locator("#row-patients\\.0\\.age_years button[data-goto-quote]")
    assert cited.text_content() == "“A 78-year-old man”"
    page.click("#save")
    page.wait_for_selector("#messages.ok")
    assert "3 changes" in (page.text_content("#messages") or "")
    assert "done" in (page.get_attribute("#flags li:first-child", "class") or "")

    saved = json.loads(label_file(served).read_text(encoding="utf-8"))
    assert saved == served.workspace.expected.model_dump(mode="json")
    assert check_gold(served.workspace.gold) == {}
    assert "labelled" in (page.text_content(f"#docs li[data-id='{SEED_000}']") or "")


def test_an_invalid_value_shows_an_error_and_writes_nothing(
    browser: Browser, served: Served, pages: Pages
) -> None:
    page = open_document(browser, served, SEED_000, pages)
    page.fill(AGE, "300")
    page.click("#save")
    page.wait_for_selector("#messages.bad")
    message = page.text_content("#messages") or ""
    assert "Nothing was written" in message
    assert "patients[0].age_years: Input should be less than or equal to 120" in message
    assert (
        "patients[0].evidence.label: quote not found in the document" not in message
    )  # schema first
    assert "invalid" in (page.get_attribute("#row-patients\\.0\\.age_years", "class") or "")
    assert not label_file(served).exists()
    assert not (served.workspace.gold / "audit.jsonl").exists()
    assert list((served.workspace.gold / "docs").iterdir()) == []


def test_two_tabs_saving_the_same_label_are_a_conflict(
    browser: Browser, served: Served, pages: Pages
) -> None:
    first, second = (open_document(browser, served, SEED_000, pages) for _ in range(2))
    first.click('button[data-unquote="patients.0.evidence.label"]')
    first.click("#save")
    first.wait_for_selector("#messages.ok")
    saved = label_file(served).read_bytes()
    second.fill(AGE, "77")
    second.click("#save")
    second.wait_for_selector("#messages.bad")
    assert "changed elsewhere" in (second.text_content("#messages") or "")
    assert label_file(served).read_bytes() == saved
    second.click("button[data-reload]")
    second.wait_for_function(f"() => document.querySelector('{AGE}').value === '79'")


def test_a_document_with_a_script_never_runs_it(
    browser: Browser, served: Served, pages: Pages
) -> None:
    page = open_document(browser, served, XSS_ID, pages)
    assert page.title() == f"Adjudicate: {XSS_ID}"
    assert page.evaluate("window.pwned") is None
    assert XSS in (page.text_content("#text") or "")  # shown as text
    assert page.input_value('input[data-path="title"]') == XSS
    assert page.locator("#view script, #view img").count() == 0
    assert page.locator("#text mark").count() == 1


def test_the_app_renders_for_a_screenshot(
    browser: Browser, served: Served, pages: Pages, tmp_path: Path
) -> None:
    page = open_document(browser, served, SEED_000, pages)
    shot = tmp_path / "adjudicate.png"
    page.screenshot(path=str(shot))
    png = shot.read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert int.from_bytes(png[16:20], "big") == 1400
    assert len(png) > 50_000
