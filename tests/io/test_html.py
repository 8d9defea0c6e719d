"""The article text of saved web pages: article kept, navigation and boilerplate dropped."""

from __future__ import annotations

import pytest

from extractor.io.html import html_text
from tests.conftest import FIXTURES

PAGES = FIXTURES / "pages"


def _page(name: str) -> str:
    return html_text((PAGES / name).read_text(encoding="utf-8"))


PUBMED_KEPT = [
    "Early post-surgical recurrence of metastatic vertebral neuro-endocrine tumour treated "
    "effectively with chemo-radiotherapy",
    "doi: 10.1051/bmdcn/2019090105.",
    "Arun-Kumar Kaliya-Perumal",
    "Abstract",
    "Spinal metastasis of neuro-endocrine tumours (NETs) usually arise from a primary in the lung.",
    "concurrent chemo-radiotherapy was initiated.",
    "Sagittal MRI images showing T6 vertebral involvement.",
]
PUBMED_DROPPED = [
    "Skip to main page content",
    "An official website of the United States government",
    "The .gov means it’s official",
    "Here's how you know",
    "NCBI Homepage",
    "Log in",
    "Search PubMed",
    "Advanced",
    "User Guide",
    "Share this article",
    "Facebook",
    "Similar articles",
    "Vertebral metastases of a pulmonary carcinoid",
    "Cited by",
    "Full text links",
    "Add to Collections",
    "About NCBI",
    "National Library of Medicine",
    "Follow NCBI",
    "uses cookies",
    "Accept",
    "window.ncbi",
    "- PubMed",
]
JOURNAL_KEPT = [
    "Pancreatic neuroendocrine tumour presenting with hypoglycaemia: a case report",
    "Maria Rossi & Jonas Berg",
    "Insulinomas are the most common functioning pancreatic neuroendocrine tumours.",
    "A 54-year-old woman presented with recurrent fasting hypoglycaemia & confusion.",
    "A 1.8 cm tumour in the pancreatic tail was removed by distal pancreatectomy; Ki-67 was 2%.",
    "On admission her glucose was 2.1 mmol/L with inappropriately raised insulin.",
    "Chromogranin A 180 ng/mL",
]
JOURNAL_DROPPED = [
    "Skip to main content",
    "Advertisement",
    "Submit manuscript",
    "Home",
    "Share this article",
    "Get shareable link",
    "Tweet",
    "Related articles",
    "Metastatic insulinoma",
    "Recommended content",
    "Article metrics",
    "newsletter",
    "BioMed Central",
    "Privacy statement",
    "cookies",
    "dataLayer",
    "| Journal of Medical Case Reports",
]
LEGACY_KEPT = [
    "Carcinoid of the appendix found at appendicectomy",
    "Received 3 May 2004; accepted 9 June 2004",
    "A 19-year-old man underwent appendicectomy for acute appendicitis.",
    "No further surgery was needed; he remained well at five years.",
]
LEGACY_DROPPED = ["Case Reports Online", "Archive", "Current issue", "Most read", "Copyright"]


@pytest.mark.parametrize(
    ("name", "kept", "dropped"),
    [
        ("pubmed_abstract.html", PUBMED_KEPT, PUBMED_DROPPED),
        ("journal_article.html", JOURNAL_KEPT, JOURNAL_DROPPED),
        ("legacy_case.html", LEGACY_KEPT, LEGACY_DROPPED),
    ],
)
def test_saved_page_keeps_article_and_drops_boilerplate(
    name: str, kept: list[str], dropped: list[str]
) -> None:
    text = _page(name)
    assert [line for line in kept if line not in text] == []
    assert [line for line in dropped if line in text] == []


def test_pubmed_page_starts_with_the_citation_and_title() -> None:
    lines = _page("pubmed_abstract.html").splitlines()
    assert lines[0] == "Biomedicine (Taipei). 2019 Mar;9(1):5."
    assert lines[2].startswith("Early post-surgical recurrence")


def test_page_without_article_keeps_its_title_once() -> None:
    text = _page("legacy_case.html")
    assert text.count("Carcinoid of the appendix found at appendicectomy") == 1


@pytest.mark.parametrize(
    ("markup", "kept"),
    [
        ('<div class="article-header-title">Kept</div>', True),
        ('<div class="header-note">Kept</div>', True),
        ('<div class="c-article-share-box">Kept</div>', True),
        ('<div class="site-header">Gone</div>', False),
        ('<div class="usa-banner">Gone</div>', False),
        ('<div class="nav__item">Gone</div>', False),
        ('<div class="usa-skipnav">Gone</div>', False),
        ('<div id="cookieConsent">Gone</div>', False),
        ('<div class="c-ad">Gone</div>', False),
        ('<div class="wide page-sidebar">Gone</div>', False),
        ('<div role="navigation">Gone</div>', False),
        ('<div role="contentinfo">Gone</div>', False),
        ("<nav>Gone</nav>", False),
        ("<header>Gone</header>", False),
        ("<form><label>Gone</label></form>", False),
    ],
)
def test_class_id_and_role_are_matched_by_words(markup: str, kept: bool) -> None:
    text = html_text(f"<body><p>Case text.</p>{markup}</body>")
    assert ("Kept" in text or "Gone" in text) is kept
    assert "Case text." in text


def test_state_classes_on_the_page_do_not_drop_it() -> None:
    page = (
        '<html class="light sidebar-visible"><body class="has-nav menu-open">'
        '<div class="page-wrapper nav-open"><p>A 40-year-old man.</p></div></body></html>'
    )
    assert html_text(page) == "A 40-year-old man."


def test_header_and_footer_belong_to_the_article_inside_it() -> None:
    page = (
        "<header>Site name</header><article><header><h1>A NET</h1>"
        '<div class="article-footer">Received 2020</div></header>'
        "<p>A 60-year-old man.</p><footer>Keywords: NET</footer></article><footer>Site</footer>"
    )
    assert html_text(page) == "A NET\nReceived 2020\nA 60-year-old man.\nKeywords: NET"


def test_article_without_heading_gets_the_page_h1() -> None:
    page = "<div><h1>A NET</h1><p>Teaser</p></div><main><p>A 60-year-old man.</p></main>"
    assert html_text(page) == "A NET\nA 60-year-old man."


def test_article_without_any_h1_gets_the_document_title() -> None:
    page = (
        "<html><head><title>A NET | J Med</title></head><body>"
        "<svg><title>icon</title></svg><article><p>A 60-year-old man.</p></article>"
        "</body></html>"
    )
    assert html_text(page) == "A NET | J Med\nA 60-year-old man."


def test_unclosed_tags_inside_boilerplate_are_closed_with_it() -> None:
    page = '<div class="menu"><ul><li>Menu item<li>Other</div><p>Case text<p>More'
    assert html_text(page) == "Case text\nMore"


def test_table_cells_are_separated() -> None:
    assert html_text("<table><tr><td>CgA</td><td>180</td></tr></table>") == "CgA 180"


def test_page_whose_text_is_all_boilerplate_falls_back_to_visible_text() -> None:
    page = '<body><div class="nav-wrapper"><p>Only text</p></div><script>x()</script></body>'
    assert html_text(page) == "Only text"
