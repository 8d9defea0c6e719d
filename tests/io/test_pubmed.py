"""PubMed XML exports: one document per PubmedArticle, streamed, with its PMID and metadata."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from extractor.errors import InputError
from extractor.io.documents import Document, Unreadable, iter_documents, iter_ids, read_document
from tests.conftest import FIXTURES

EXPORT = FIXTURES / "corpora" / "pubmed" / "pubmed2.xml"
EXPECTED: dict[str, Any] = json.loads(
    (FIXTURES / "corpora" / "expected.json").read_text(encoding="utf-8")
)["pubmed/pubmed2.xml"]
RAW = EXPORT.read_text(encoding="utf-8")
HEAD, _, REST = RAW.partition("<PubmedArticle>")
FIRST = "<PubmedArticle>" + REST.split("</PubmedArticle>")[0] + "</PubmedArticle>"


def _export(tmp_path: Path, *records: str) -> Path:
    path = tmp_path / "export.xml"
    path.write_text(HEAD + "\n".join(records) + "\n</PubmedArticleSet>\n", encoding="utf-8")
    return path


def _docs(path: Path) -> list[Document | Unreadable]:
    return list(iter_documents([path]))


def test_an_export_of_n_articles_gives_n_documents_with_their_pmids() -> None:
    docs = _docs(EXPORT)
    assert len(docs) == EXPECTED["n_articles"]
    assert [doc.id for doc in docs] == EXPECTED["pmids"]
    assert [doc.source for doc in docs] == [f"{EXPORT}:1", f"{EXPORT}:2"]
    assert [(doc.id, doc.source) for doc in docs] == list(iter_ids([EXPORT]))


def test_metadata_is_taken_exactly_from_the_record() -> None:
    first, second = _docs(EXPORT)
    assert isinstance(first, Document)
    assert isinstance(second, Document)
    assert dict(first.metadata) == EXPECTED["first"]
    assert second.metadata["doi"] == EXPECTED["_info"]["dois"][1]


def test_the_text_is_the_title_then_the_abstract() -> None:
    first = _docs(EXPORT)[0]
    assert isinstance(first, Document)
    title = EXPECTED["first"]["title"]
    assert first.text.startswith(f"{title}\n\nAbstract\n\nThis study subdivides")
    assert "Copyright 2001" not in first.text
    assert "Cryobiology" not in first.text  # the journal is metadata, not text
    assert [(s.title, s.kind) for s in first.sections] == [
        (title, "title"),
        ("Abstract", "abstract"),
    ]
    assert first.sections[1].end == len(first.text)


def test_abstract_labels_are_kept_as_headings(tmp_path: Path) -> None:
    structured = FIRST.replace(
        "<AbstractText>This study",
        '<AbstractText Label="BACKGROUND" NlmCategory="BACKGROUND">Background text.</AbstractText>'
        '<AbstractText Label="CASE PRESENTATION">A 64-year-old man.</AbstractText>'
        "<AbstractText>This study",
    )
    (doc,) = _docs(_export(tmp_path, structured))
    assert isinstance(doc, Document)
    assert "Abstract\n\nBACKGROUND\n\nBackground text.\n\nCASE PRESENTATION\n\nA 64-year-old" in (
        doc.text
    )


def test_doi_and_year_fall_back_to_elocation_and_medline_date(tmp_path: Path) -> None:
    record = (
        FIRST.replace('<ArticleId IdType="doi">10.1006/cryo.2001.2328</ArticleId>', "")
        .replace("<Pagination>", '<ELocationID EIdType="doi" ValidYN="Y">10.1/X.Y</ELocationID>'
                 "<ELocationID EIdType=\"doi\">10.5555/Case.2020.7</ELocationID><Pagination>")
        .replace("<PubDate><Year>2001</Year><Month>Jun</Month></PubDate>",
                 "<PubDate><MedlineDate>1998 Dec-1999 Jan</MedlineDate></PubDate>")
    )  # fmt: skip
    (doc,) = _docs(_export(tmp_path, record))
    assert isinstance(doc, Document)
    assert doc.metadata["doi"] == "10.5555/case.2020.7"  # 10.1/X.Y is no DOI
    assert doc.metadata["year"] == 1998


def test_a_record_without_abstract_is_unreadable_and_the_others_are_read(tmp_path: Path) -> None:
    bare = FIRST.split("<Abstract>")[0] + FIRST.split("</Abstract>")[1]
    docs = _docs(_export(tmp_path, bare, FIRST))
    assert isinstance(docs[0], Unreadable)
    assert "no abstract" in str(docs[0].error)
    assert "PMID 11748933" in str(docs[0].error)
    assert isinstance(docs[1], Document)


def test_a_large_export_is_streamed_record_by_record(tmp_path: Path) -> None:
    records = [FIRST.replace("11748933</PMID>", f"{30_000_000 + n}</PMID>") for n in range(2000)]
    path = _export(tmp_path, *records)
    ids = [doc.id for doc in iter_documents([path])]
    assert ids == [str(30_000_000 + n) for n in range(2000)]


def test_a_truncated_export_keeps_the_records_before_the_cut(tmp_path: Path) -> None:
    path = tmp_path / "cut.xml"
    path.write_text(RAW[: RAW.index("<PubmedArticle>", len(HEAD) + 20) + 300], encoding="utf-8")
    first, failure = _docs(path)
    assert isinstance(first, Document)
    assert first.id == "11748933"
    assert isinstance(failure, Unreadable)
    assert "malformed XML" in str(failure.error)


def test_read_document_refuses_an_export_of_several(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="holds several documents"):
        read_document(EXPORT)
    assert read_document(_export(tmp_path, FIRST)).id == "11748933"
