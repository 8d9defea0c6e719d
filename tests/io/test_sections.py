"""Sections: heading words to kinds, heading lines in plain text, texts built with sections."""

from __future__ import annotations

from pathlib import Path

import pytest

from extractor.io.documents import Document, read_document
from extractor.io.html import html_text
from extractor.io.sections import (
    Section,
    SectionedText,
    heading_kind,
    section_at,
    section_kind,
    text_sections,
)
from tests.conftest import FIXTURES


@pytest.mark.parametrize(
    ("title", "kind"),
    [
        ("Case report", "case"), ("CASE PRESENTATION", "case"), ("2. Case Presentation:", "case"),
        ("Case 1", "case"), ("Case History", "case"), ("Clinical presentation", "case"),
        ("Presentation of case", "case"), ("Patient information", "case"),
        ("Case report and discussion", "case"),
        ("Introduction", "background"), ("BACKGROUND", "background"),
        ("Background and aims", "background"),
        ("Abstract", "abstract"), ("Summary", "abstract"), ("Author summary", "abstract"),
        ("Discussion", "discussion"), ("III. DISCUSSION", "discussion"),
        ("Discussion and literature review", "discussion"),
        ("Review of the literature", "discussion"), ("Conclusions", "discussion"),
        ("Summary and conclusions", "discussion"), ("Comment", "discussion"),
        ("Materials and methods", "other"), ("Results", "other"), ("References", "other"),
        ("Acknowledgments", "other"), ("Funding", "other"), ("Case selection", "other"),
        ("Literature search", "other"), ("Tibetan sheep surveillance", "other"),
    ],
)  # fmt: skip
def test_a_heading_is_classified_by_its_words(title: str, kind: str) -> None:
    assert section_kind(title) == kind


def test_only_known_headings_are_heading_lines() -> None:
    assert heading_kind("Results") == "other"
    assert heading_kind("Tibetan sheep surveillance") is None
    assert heading_kind("## Case presentation") == "case"


REPORT = """\
A rare carcinoid of the appendix

Open access

Introduction
Appendiceal neuroendocrine tumours are found in 0.3% of appendicectomies.

## Case presentation

A 19-year-old man presented with acute appendicitis.
Histology showed a 0.9 cm well-differentiated tumour.

Discussion:
Simple appendicectomy suffices below 1 cm.
A line that names the Discussion in passing.

References
1. Smith J. Carcinoids. 2001.
"""


def test_plain_text_sections_run_from_heading_to_heading() -> None:
    sections = text_sections(REPORT)
    assert [(s.title, s.kind) for s in sections] == [
        ("Introduction", "background"),
        ("Case presentation", "case"),
        ("Discussion", "discussion"),
        ("References", "other"),
    ]
    case = sections[1]
    assert REPORT[case.start : case.end] == (
        "## Case presentation\n\nA 19-year-old man presented with acute appendicitis.\n"
        "Histology showed a 0.9 cm well-differentiated tumour."
    )
    assert sections[-1].end == len(REPORT.rstrip())
    assert section_at(sections, REPORT.index("19-year-old")) == case
    assert section_at(sections, 0) is None


@pytest.mark.parametrize(
    "text",
    [
        "Case report\nOpen access\nPublished: 2021\n",  # a label, not a heading: no text follows
        "Discussion.\nThe tumour was small.\n",  # a sentence
        "Case presentation\n",  # nothing follows
        "The patient was well at the Discussion of the case\nand went home.\n",
        "at the discussion\nOf the case.\n",  # a wrapped line of prose
    ],
)
def test_lines_that_are_not_headings(text: str) -> None:
    assert text_sections(text) == ()


def test_a_heading_followed_by_a_subheading_is_a_heading() -> None:
    text = "Abstract\nBackground\nInsulinomas are rare.\n"
    assert [(s.title, s.kind) for s in text_sections(text)] == [
        ("Abstract", "abstract"),
        ("Background", "background"),
    ]


def test_txt_and_html_documents_get_sections(tmp_path: Path) -> None:
    path = tmp_path / "report.txt"
    path.write_text(REPORT, encoding="utf-8")
    assert read_document(path).sections == text_sections(REPORT)
    assert Document.from_text("r", REPORT).sections == text_sections(REPORT)
    page = read_document(FIXTURES / "pages" / "journal_article.html")
    assert page.text == html_text((FIXTURES / "pages" / "journal_article.html").read_text())
    assert [s.kind for s in page.sections] == ["abstract", "background", "case", "case"]


def test_sectioned_text_records_ranges_of_added_blocks() -> None:
    built = SectionedText()
    built.open("Title", "title")
    built.add("Title")
    built.open("Empty", "other")
    built.add("   ")
    built.open("Case", "case")
    built.add("Case")
    built.add("A 40-year-old woman.")
    built.close()
    built.add("Outside any section.")
    text = built.text()
    assert text == "Title\n\nCase\n\nA 40-year-old woman.\n\nOutside any section."
    assert built.sections() == (
        Section("Title", 0, 5, "title"),
        Section("Case", 7, 33, "case"),
    )
    assert text[7:33] == "Case\n\nA 40-year-old woman."
