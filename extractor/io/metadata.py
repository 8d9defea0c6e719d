"""Bibliographic metadata an input states: title, DOI, journal and year.

Readers put what a file states in ``Document.metadata``, a read-only mapping
with any of the keys ``title``, ``doi``, ``journal`` and ``year``: the title
and journal as written (markup stripped, whitespace collapsed), the DOI bare
and lower-case, the year an ``int``. JATS and PubMed XML state them in their
front matter (``extractor.io.jats``, ``extractor.io.pubmed``); here are the
other sources:

- ``html_metadata``: a saved page's ``<meta>`` tags, Highwire ``citation_*``
  first, then Dublin Core ``dc.*`` and PRISM; ``og:site_name`` names the
  journal only as a last resort, on a page that states an article title or
  DOI, and never when it names an aggregator (PubMed, ScienceDirect...);
- ``json_metadata``: an object with ``title``, ``doi``, ``journal`` (a string
  or an object with a ``name``) and ``year`` (or a date such as
  ``publicationDate``), as ``.json`` inputs and scraped records carry them;
- ``text_metadata``: such a JSON object standing on a line of its own near the
  top of a plain text (as in the seed reports scraped with their record).

``metadata_fields(document)`` gives the record's document fields from the
metadata, normalised per the spec (title without a trailing full stop, bare
lower-case DOI, year as an integer), for the strategies to take instead of
asking the model.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from html.parser import HTMLParser
from types import MappingProxyType
from typing import Any, Protocol

METADATA_KEYS = ("title", "doi", "journal", "year")
EMPTY: Mapping[str, Any] = MappingProxyType({})

_DOI = re.compile(r"10\.\d{4,9}/\S+")
_YEAR = re.compile(r"(?<!\d)(1[89]\d\d|20\d\d)(?!\d)")
_DOI_TRAILING = ".,;:\"'"


class _HasMetadata(Protocol):
    @property
    def metadata(self) -> Mapping[str, Any]: ...


def normal_doi(value: object) -> str | None:
    """The bare, lower-case DOI in ``value`` (``https://doi.org/``, ``doi:`` dropped), or None."""
    if not isinstance(value, str):
        return None
    match = _DOI.search(value.strip())
    if not match:
        return None
    doi = match.group()
    while doi and (doi[-1] in _DOI_TRAILING or _unbalanced_close(doi)):
        doi = doi[:-1]
    return doi.lower() or None


def _unbalanced_close(doi: str) -> bool:
    """Whether ``doi`` ends with a bracket it never opened (``(doi:10.1/x)`` in prose)."""
    pairs = {")": "(", "]": "[", "}": "{", ">": "<"}
    last = doi[-1]
    return last in pairs and doi.count(pairs[last]) < doi.count(last)


def normal_year(value: object) -> int | None:
    """The year in ``value``: an int, or the first 4-digit year in a date string."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 1800 <= value <= 2100 else None
    if isinstance(value, str):
        match = _YEAR.search(value)
        return int(match.group()) if match else None
    return None


def normal_text(value: object) -> str | None:
    """A string with its whitespace collapsed; None for anything else or blank."""
    if not isinstance(value, str):
        return None
    return " ".join(value.split()) or None


def stated(
    title: object = None, doi: object = None, journal: object = None, year: object = None
) -> Mapping[str, Any]:
    """The read-only metadata mapping of the values given, each normalised, absent ones left out."""
    values = {
        "title": normal_text(title),
        "doi": normal_doi(doi),
        "journal": normal_text(journal),
        "year": normal_year(year),
    }
    return MappingProxyType({key: value for key, value in values.items() if value is not None})


def metadata_fields(document: _HasMetadata) -> dict[str, Any]:
    """The record's ``title``/``doi``/``journal``/``year`` that ``document`` states, per the spec.

    Only the fields the input states are returned (so a caller knows which
    came from metadata): the title without a trailing full stop, the DOI bare
    and lower-case, the journal as written, the year an ``int``.
    """
    metadata = document.metadata
    title = normal_text(metadata.get("title"))
    if title is not None and title.endswith(".") and not title.endswith(".."):
        title = title[:-1].rstrip() or None
    fields = {
        "title": title,
        "doi": normal_doi(metadata.get("doi")),
        "journal": normal_text(metadata.get("journal")),
        "year": normal_year(metadata.get("year")),
    }
    return {key: value for key, value in fields.items() if value is not None}


# --- HTML <meta> tags -----------------------------------------------------------------

_HTML_SOURCES: dict[str, tuple[str, ...]] = {
    "title": ("citation_title", "dc.title", "prism.title"),
    "doi": ("citation_doi", "prism.doi", "dc.identifier", "bepress_citation_doi"),
    "journal": ("citation_journal_title", "prism.publicationname", "dc.source"),
    "year": (
        "citation_publication_date", "citation_date", "citation_online_date",
        "citation_year", "prism.publicationdate", "dc.date", "dc.date.issued",
    ),
}  # fmt: skip
_AGGREGATORS = frozenset(
    {"pubmed", "pubmed central", "pmc", "europe pmc", "sciencedirect", "google scholar",
     "researchgate", "semantic scholar", "scopus", "wiley online library", "springerlink",
     "jstor", "ovid", "ebsco", "tandfonline", "taylor & francis online"}
)  # fmt: skip


class _MetaTags(HTMLParser):
    """Collects ``<meta name|property=... content=...>`` values, first one of each name."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "meta":
            return
        values = {name: value or "" for name, value in attrs}
        name = (values.get("name") or values.get("property") or "").strip().lower()
        content = values.get("content", "").strip()
        if name and content:
            self.tags.setdefault(name, content)


def html_metadata(html: str) -> Mapping[str, Any]:
    """The title, DOI, journal and year a page's ``<meta>`` tags state."""
    head_end = html.lower().find("</head>")
    parser = _MetaTags()
    parser.feed(html if head_end < 0 else html[:head_end])
    parser.close()
    tags = parser.tags
    found: dict[str, Any] = {}
    for key, names in _HTML_SOURCES.items():
        for name in names:
            value = tags.get(name)
            if value and (key != "doi" or normal_doi(value)):
                found[key] = value
                break
    site = normal_text(tags.get("og:site_name"))
    article = "title" in found or "doi" in found
    if "journal" not in found and article and site and site.lower() not in _AGGREGATORS:
        found["journal"] = site
    return stated(**found)


# --- JSON objects ---------------------------------------------------------------------

_JSON_YEAR_KEYS = ("year", "publicationDate", "publication_date", "pubdate", "date", "published")
_JSON_JOURNAL_KEYS = ("journal", "journal_title", "journalTitle", "venue")


def json_metadata(data: Mapping[str, Any]) -> Mapping[str, Any]:
    """The title, DOI, journal and year a JSON object states under the usual keys."""
    journal = next((data[k] for k in _JSON_JOURNAL_KEYS if data.get(k)), None)
    if isinstance(journal, Mapping):
        journal = journal.get("name") or journal.get("title")
    year = next((data[k] for k in _JSON_YEAR_KEYS if normal_year(data.get(k)) is not None), None)
    return stated(title=data.get("title"), doi=data.get("doi"), journal=journal, year=year)


_MAX_TEXT_LINES = 20  # a record stated with a text comes before it


def text_metadata(text: str) -> Mapping[str, Any]:
    """The metadata of a JSON object standing on one line near the top of a plain text."""
    for line in text.splitlines()[:_MAX_TEXT_LINES]:
        stripped = line.strip()
        if not (stripped.startswith("{") and stripped.endswith("}")):
            continue
        try:
            data = json.loads(stripped)
        except (json.JSONDecodeError, RecursionError):
            continue
        if isinstance(data, dict) and ("title" in data or "doi" in data):
            return json_metadata(data)
    return EMPTY


def file_metadata(suffix: str, content: str, text: str) -> Mapping[str, Any]:
    """The metadata a text-like file states: ``.json`` keys, HTML meta tags, a JSON line in text.

    ``content`` is the decoded file, ``text`` what was read from it; a
    ``.json`` file's content is a JSON object (its reader checked).
    """
    if suffix == ".json":
        data = json.loads(content)
        return json_metadata(data) if isinstance(data, dict) else EMPTY
    if suffix in {".html", ".htm"}:
        return html_metadata(content)
    if suffix in {".txt", ".md"}:
        return text_metadata(text)
    return EMPTY
