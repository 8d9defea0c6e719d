"""One ``<PubmedArticle>`` of a PubMed XML export into text, sections and metadata.

The text is the title, then "Abstract" and the abstract; a structured
abstract's ``Label`` (BACKGROUND, CASE PRESENTATION...) is kept as a heading
on a line of its own before its paragraph. The copyright line is left out.
Sections: the title and the abstract. Metadata: the title (``ArticleTitle``,
as written), the DOI (``ArticleIdList/ArticleId[@IdType="doi"]``, else
``ELocationID[@EIdType="doi"]``), the journal (``Journal/Title``) and the year
(``JournalIssue/PubDate/Year``, else the first year of ``MedlineDate``, else
``ArticleDate``). The id is the PMID. A record without an abstract is
refused with an ``InputError``: its title alone is no case report.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lxml import etree

from extractor.errors import InputError
from extractor.io.metadata import normal_doi, stated
from extractor.io.sections import Section, SectionedText
from extractor.io.xmltext import first_text, inline_text

_ARTICLE = "MedlineCitation/Article"
_DOI_PATHS = (
    'PubmedData/ArticleIdList/ArticleId[@IdType="doi"]',
    f'{_ARTICLE}/ELocationID[@EIdType="doi"]',
)


def read_article(
    record: etree._Element, where: str, fallback_id: str
) -> tuple[str, str, tuple[Section, ...], Mapping[str, Any]]:
    """The id, text, sections and metadata of one ``<PubmedArticle>`` element."""
    pmid = (record.findtext("MedlineCitation/PMID") or "").strip() or fallback_id
    where = f"{where} (PMID {pmid})" if pmid != fallback_id else where
    built = SectionedText()
    title = inline_text(record.find(f"{_ARTICLE}/ArticleTitle"))
    built.open(title, "title")
    built.add(title)
    paragraphs = list(record.iterfind(f"{_ARTICLE}/Abstract/AbstractText"))
    if not any(inline_text(p) for p in paragraphs):
        raise InputError(f"{where}: no abstract (the PubMed record has only its title)")
    built.open("Abstract", "abstract")
    built.add("Abstract")
    for paragraph in paragraphs:
        built.add((paragraph.get("Label") or "").strip())
        built.add(inline_text(paragraph))
    return pmid, built.text(), built.sections(), _metadata(record, title)


def _metadata(record: etree._Element, title: str) -> Mapping[str, Any]:
    dois = (inline_text(found) for path in _DOI_PATHS for found in record.iterfind(path))
    doi = next((doi for doi in dois if normal_doi(doi)), None)
    issue = f"{_ARTICLE}/Journal/JournalIssue/PubDate"
    year = first_text(
        record, (f"{issue}/Year", f"{issue}/MedlineDate", f"{_ARTICLE}/ArticleDate/Year")
    )
    journal = inline_text(record.find(f"{_ARTICLE}/Journal/Title"))
    return stated(title=title, doi=doi, journal=journal, year=year)
