"""One JATS ``<article>`` (PubMed Central's XML) into text, sections and metadata.

The text is what a reader of the article reads, without its apparatus:

- the title, then each abstract (the abstract's own title, or "Abstract", as
  its heading), then the body, and figures and tables of a ``floats-group``;
- section titles as headings on a line of their own (their numbering
  ``<label>`` left out); paragraphs, list items, figure and table captions
  (with their label, "Figure 1 ..."), footnotes and formulas one block each;
  tables one line per row, cells apart by `` | ``;
- front matter (authors, affiliations, author notes, licence, history),
  reference lists, acknowledgements and all back matter left out, and so are
  graphics, media files and LaTeX duplicates of formulas.

Blocks are apart by a blank line. Sections (``extractor.io.sections``) are
the title, each abstract and each top-level body section, with the kind its
title says. Metadata from ``<article-meta>``: the title (markup stripped),
the DOI (bare, lower-case), the journal (``<journal-title>``) and the year
(the first ``<pub-date>`` of publication: ``epub``, ``ppub``, ``pub`` or
``epub-ppub`` by ``pub-type``, or ``date-type="pub"``; else the first with a
year). The id is the PMCID (``PMC`` and digits) when the article states one.
An article whose body has no text is refused with an ``InputError``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from lxml import etree

from extractor.errors import InputError
from extractor.io.metadata import stated
from extractor.io.sections import Section, SectionedText, section_kind
from extractor.io.xmltext import collapse, entity_text, first_text, inline_text, local_name

# Never text for the model: the article's apparatus and non-text objects.
_SKIPPED = frozenset(
    {"ref-list", "ack", "back", "fn-group", "app-group", "glossary", "notes", "sec-meta",
     "graphic", "inline-graphic", "media", "object-id", "tex-math", "permissions",
     "alt-text", "long-desc", "label", "counts", "custom-meta-group", "processing-meta"}
)  # fmt: skip
# Each one block of text (a paragraph of its own).
_BLOCKS = frozenset(
    {"p", "list-item", "def-item", "disp-formula", "fn", "attrib", "speech", "verse-line",
     "statement", "disp-quote", "address", "array", "preformat", "code", "term", "def"}
)  # fmt: skip
_CAPTIONED = frozenset({"fig", "table-wrap", "supplementary-material", "boxed-text", "chem-struct"})
_TITLE = frozenset({"title"})  # a heading, a block of its own
_CAPTION = frozenset({"caption"})
_SKIPPED_ABSTRACTS = frozenset({"graphical", "teaser", "toc", "web-summary"})
_PUBLISHED = frozenset({"epub", "ppub", "pub", "epub-ppub", "electronic", "print"})
_PMCID = re.compile(r"(?:PMC)?(\d+)", re.IGNORECASE)


def read_article(
    article: etree._Element, where: str, fallback_id: str
) -> tuple[str, str, tuple[Section, ...], Mapping[str, Any]]:
    """The id, text, sections and metadata of one ``<article>`` element."""
    meta = article.find("front/article-meta")
    built = SectionedText()
    title = inline_text(meta.find("title-group/article-title")) if meta is not None else ""
    built.open(title, "title")
    built.add(title)
    for abstract in _abstracts(meta):
        heading = inline_text(abstract.find("title")) or "Abstract"
        built.open(heading, "abstract")
        built.add(heading)
        renderer = _Renderer(built)
        renderer.children(abstract, skip=_TITLE)
        renderer.flush()
    built.close()
    body_start = len(built.text())
    body = article.find("body")
    if body is not None:
        _body(body, built)
    if len(built.text()) == body_start:
        raise InputError(f"{where}: the article has no body text (only its front matter)")
    for floats in article.iterfind("floats-group"):
        renderer = _Renderer(built)
        renderer.children(floats)
        renderer.flush()
    return _article_id(meta, fallback_id), built.text(), built.sections(), _metadata(article)


def _abstracts(meta: etree._Element | None) -> list[etree._Element]:
    if meta is None:
        return []
    return [
        abstract
        for abstract in meta.iterfind("abstract")
        if abstract.get("abstract-type", "") not in _SKIPPED_ABSTRACTS
    ]


def _body(body: etree._Element, built: SectionedText) -> None:
    """The body: untitled blocks outside any section, then one section per top-level ``sec``."""
    renderer = _Renderer(built)
    renderer.text(body.text)
    for child in body:
        if local_name(child) == "sec":
            renderer.flush()
            title = inline_text(child.find("title"))
            built.open(title, section_kind(title))
            renderer.block(child)
            built.close()
        else:
            renderer.child(child)
        renderer.text(child.tail)
    renderer.flush()


class _Renderer:
    """Walks elements, gathering inline text into the current block and adding blocks."""

    def __init__(self, built: SectionedText) -> None:
        self.built = built
        self.pending: list[str] = []

    def text(self, text: str | None) -> None:
        if text:
            self.pending.append(text)

    def flush(self) -> None:
        block = collapse(self.pending)
        self.pending.clear()
        self.built.add(block)

    def block(self, element: etree._Element) -> None:
        """``element`` as a container of blocks: its own text a block apart from its neighbours."""
        self.flush()
        self.children(element)
        self.flush()

    def children(self, element: etree._Element, skip: frozenset[str] = frozenset()) -> None:
        """The content of ``element``, its children of the ``skip`` names left out."""
        self.text(element.text)
        for child in element:
            if local_name(child) not in skip:
                self.child(child)
            self.text(child.tail)

    def child(self, child: etree._Element) -> None:
        name = local_name(child)
        if not name:
            self.text(entity_text(child))
        elif name in _SKIPPED:
            return
        elif name in _TITLE:
            self.flush()
            self.built.add(inline_text(child))
        elif name == "table":
            self.flush()
            self.built.add(_table(child))
        elif name in _CAPTIONED:
            self.flush()
            self.built.add(_caption(child))
            self.children(child, skip=_CAPTION)
            self.flush()
        elif name in _BLOCKS or name == "sec":
            self.block(child)
        else:
            self.children(child)
            if name in {"break", "br"}:
                self.text(" ")


def _caption(element: etree._Element) -> str:
    """``Figure 1 The caption's title. Its paragraphs.``: the label and caption in one block."""
    label = inline_text(element.find("label"))
    caption = element.find("caption")
    parts = [label, inline_text(caption)] if caption is not None else [label]
    return " ".join(part for part in parts if part)


def _table(table: etree._Element) -> str:
    """One line per row, cells apart by `` | ``."""
    rows = []
    for row in table.iter("tr"):
        cells = [inline_text(cell) for cell in row if local_name(cell) in {"td", "th"}]
        if any(cells):
            rows.append(" | ".join(cells))
    return "\n".join(rows)


def _article_id(meta: etree._Element | None, fallback: str) -> str:
    if meta is not None:
        for article_id in meta.iterfind("article-id"):
            if article_id.get("pub-id-type") in {"pmc", "pmcid"}:
                match = _PMCID.fullmatch((article_id.text or "").strip())
                if match:
                    return f"PMC{match[1]}"
    return fallback


def _metadata(article: etree._Element) -> Mapping[str, Any]:
    meta = article.find("front/article-meta")
    if meta is None:
        return stated()
    doi = next((i.text for i in meta.iterfind("article-id") if i.get("pub-id-type") == "doi"), None)
    journal = first_text(
        article, ("front/journal-meta/journal-title-group/journal-title",
                  "front/journal-meta/journal-title")
    )  # fmt: skip
    return stated(
        title=inline_text(meta.find("title-group/article-title")),
        doi=doi,
        journal=journal,
        year=_year(meta),
    )


def _year(meta: etree._Element) -> str | None:
    dates = list(meta.iterfind("pub-date"))
    published = [
        d for d in dates
        if d.get("pub-type") in _PUBLISHED or d.get("date-type") in {"pub", "epub", "ppub"}
    ]  # fmt: skip
    for date in published + dates:
        year = (date.findtext("year") or "").strip()
        if year:
            return year
    return None
