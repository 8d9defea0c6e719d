"""JATS XML from PubMed Central: text, sections and metadata of real articles, streamed safely."""

from __future__ import annotations

import asyncio
import http.server
import io
import json
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from extractor.config import RunSettings
from extractor.errors import InputError
from extractor.extraction.bulk import run_extraction
from extractor.extraction.cache import ResponseCache
from extractor.extraction.document import DocumentExtractor
from extractor.extraction.prompts import load_prompt
from extractor.extraction.strategies import Whole
from extractor.io.documents import (
    Document,
    Unreadable,
    iter_documents,
    iter_ids,
    read_document,
)
from extractor.io.xmltext import inline_text
from extractor.testing import FakeClient, minimal_record
from extractor.testing.corpus import jats_archive
from tests.conftest import FIXTURES

CORPORA = FIXTURES / "corpora"
EXPECTED: dict[str, Any] = json.loads((CORPORA / "expected.json").read_text(encoding="utf-8"))
JATS = sorted(name for name in EXPECTED if name.startswith("jats/"))
METADATA_KEYS = ("title", "doi", "journal", "year")


def _only(path: Path) -> Document:
    items = list(iter_documents([path]))
    assert len(items) == 1
    assert isinstance(items[0], Document), items[0]
    return items[0]


def _tree(name: str) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.parse(str(CORPORA / name), parser).getroot()


@pytest.mark.parametrize("name", JATS)
def test_metadata_is_taken_exactly_from_the_article_meta(name: str) -> None:
    doc = _only(CORPORA / name)
    assert dict(doc.metadata) == {key: EXPECTED[name][key] for key in METADATA_KEYS}


@pytest.mark.parametrize("name", JATS)
def test_body_sections_are_found_in_order_with_their_ranges(name: str) -> None:
    doc = _only(CORPORA / name)
    body = [s for s in doc.sections if s.kind not in {"title", "abstract"}]
    assert [s.title for s in body] == EXPECTED[name]["sections"]
    assert [s.kind for s in doc.sections][:2] == ["title", "abstract"]
    for section in doc.sections:
        assert doc.text[section.start : section.end].startswith(section.title)
    starts = [s.start for s in doc.sections]
    ends = [s.end for s in doc.sections]
    assert starts == sorted(starts)
    assert all(end <= start for end, start in zip(ends, starts[1:], strict=False))


def test_the_case_report_has_its_case_apart_from_background_and_discussion() -> None:
    doc = _only(CORPORA / "jats/PMC13261293.xml")
    kinds = {s.title: s.kind for s in doc.sections}
    assert kinds["Introduction"] == "background"
    assert kinds["Case History"] == "case"
    assert kinds["Discussion"] == "discussion"
    case = next(s for s in doc.sections if s.kind == "case")
    assert "A 7‐year‐old male Golden Retriever" in doc.text[case.start : case.end]


@pytest.mark.parametrize("name", JATS)
def test_references_affiliations_and_licence_are_not_in_the_text(name: str) -> None:
    doc = _only(CORPORA / name)
    root = _tree(name)
    refs = [inline_text(t) for t in root.iter("article-title") if _in(t, "ref-list")]
    affiliations = [inline_text(aff, frozenset({"label", "sup"})) for aff in root.iter("aff")]
    licences = [inline_text(p) for p in root.iter("license-p")]
    assert refs
    assert affiliations
    body = inline_text(root.find(".//body"))  # a methods section may name an institute
    text = " ".join(doc.text.split())
    assert [ref for ref in refs if len(ref) > 30 and ref in text] == []
    assert [aff for aff in affiliations if aff and aff in text and aff not in body] == []
    assert [p for p in licences if p and p in text] == []


def _in(element: etree._Element, ancestor: str) -> bool:
    return any(parent.tag == ancestor for parent in element.iterancestors())


def test_title_abstract_and_body_are_kept_with_headings_on_their_own_line() -> None:
    doc = _only(CORPORA / "jats/PMC13261293.xml")
    assert doc.text.startswith(EXPECTED["jats/PMC13261293.xml"]["title"] + "\n\n")
    assert "\n\nCase History\n\nA 7‐year‐old male Golden Retriever" in doc.text
    assert "FIGURE 1 Computed tomography (CT) findings" in doc.text  # a caption, with its label


def test_tables_are_rendered_as_rows_of_cells() -> None:
    doc = _only(CORPORA / "jats/1472-6831-8-11.nxml")
    assert "\nTotal OHIP-NL (49) | 44.1 | 40.2 | 0.9 | 0.8\n" in doc.text
    assert "Table 1 Mean total scores and mean item scores" in doc.text


def test_an_article_set_gives_its_articles_with_their_pmcids() -> None:
    path = CORPORA / "jats/PMC4816447.xml"
    doc = _only(path)
    assert doc.id == "PMC4816447"
    assert doc.source == f"{path}:1"
    assert read_document(path).text == doc.text


def test_the_id_is_the_pmcid_with_its_prefix_else_the_file_stem(tmp_path: Path) -> None:
    assert _only(CORPORA / "jats/PMC6095483.xml").id == "PMC6095483"  # tagged "6095483"
    assert _only(CORPORA / "jats/1472-6831-8-11.nxml").id == "PMC2329613"
    bare = tmp_path / "no-pmcid.xml"
    bare.write_text("<article><body><p>A 60-year-old man.</p></body></article>")
    assert _only(bare).id == "no-pmcid"


def test_undeclared_entities_become_their_characters(tmp_path: Path) -> None:
    path = tmp_path / "a.nxml"
    path.write_text(
        '<!DOCTYPE article PUBLIC "-//NLM//DTD JATS//EN" "JATS-archivearticle1.dtd">'
        "<article><body><p>Ki-67 1&ndash;2&#x0025;&nbsp;(low) &unknown; grade</p></body></article>"
    )
    assert _only(path).text == "Ki-67 1–2% (low) grade"


# --- archives -------------------------------------------------------------------------


def test_a_tar_gz_of_many_articles_is_streamed_with_unique_ids(tmp_path: Path) -> None:
    archive = tmp_path / "oa_package.tar.gz"
    pmcids = jats_archive(archive, [CORPORA / name for name in JATS], 200)
    docs = list(iter_documents([archive]))
    assert all(isinstance(doc, Document) for doc in docs)
    assert [doc.id for doc in docs] == pmcids
    assert docs[0].source == f"{archive}:oa/000/{pmcids[0]}.nxml"
    assert all(doc.source.startswith(f"{archive}:oa/") for doc in docs[:5])
    assert [(doc.id, doc.source) for doc in docs] == list(iter_ids([archive]))


def test_an_archive_skips_other_members_and_reports_damage(tmp_path: Path) -> None:
    article = (CORPORA / "jats/PMC13261293.xml").read_bytes()
    archive = tmp_path / "package.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        for name, data in [
            ("PMC13261293/PMC13261293.nxml", article),
            ("PMC13261293/figure1.jpg", b"\xff\xd8 not text"),
            ("PMC13261293/article.pdf", b"%PDF-1.4"),
            ("PMC13261293/._PMC13261293.nxml", b"\x00\x05resource fork"),
        ]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    docs = list(iter_documents([tmp_path]))
    assert [doc.id for doc in docs] == ["PMC13261293"]
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(archive.read_bytes()[: len(archive.read_bytes()) // 2])
    (item,) = list(iter_documents([cut]))
    assert isinstance(item, Unreadable)
    assert "not a readable .tar.gz archive" in str(item.error)


def test_a_folder_of_nxml_files_is_read_file_by_file(tmp_path: Path) -> None:
    ids = [doc.id for doc in iter_documents([CORPORA / "jats"])]
    assert sorted(ids) == sorted(
        ["PMC2329613", "PMC13261293", "PMC4816447", "PMC5828200", "PMC6095483"]
    )


# --- robustness -----------------------------------------------------------------------

SVG = '<svg xmlns="http://www.w3.org/2000/svg"><text x="1">Figure</text></svg>'
RSS = '<?xml version="1.0"?><rss version="2.0"><channel><title>News</title></channel></rss>'
EMPTY_BODY = (
    "<article><front><article-meta><title-group><article-title>A case</article-title>"
    "</title-group></article-meta></front><body><sec><title> </title></sec></body></article>"
)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("<article><body><p>unclosed</body></article>", "malformed XML (line 1"),
        ("", "no XML (the file is empty)"),
        (SVG, "not JATS or PubMed XML (the root element is <svg>"),
        (RSS, "not JATS or PubMed XML (the root element is <rss>"),
        (EMPTY_BODY, "the article has no body text"),
    ],
)
def test_unreadable_xml_gets_a_clear_error_and_the_run_goes_on(
    tmp_path: Path, content: str, message: str
) -> None:
    (tmp_path / "a_bad.xml").write_text(content)
    good = tmp_path / "b_good.nxml"
    good.write_bytes((CORPORA / "jats/PMC5828200.nxml").read_bytes())
    bad, ok = list(iter_documents([tmp_path]))
    assert isinstance(bad, Unreadable)
    assert message in str(bad.error)
    assert bad.id == "a_bad"
    assert isinstance(ok, Document)
    with pytest.raises(InputError, match=r"a_bad\.xml"):
        read_document(tmp_path / "a_bad.xml")


def test_a_huge_file_is_refused_without_building_it(tmp_path: Path) -> None:
    paragraph = "<p>" + "word " * 200 + "</p>"
    path = tmp_path / "huge.nxml"
    path.write_text("<article><body>" + paragraph * 21_000 + "</body></article>")
    assert path.stat().st_size > 20_000_000
    (item,) = list(iter_documents([path]))
    assert isinstance(item, Unreadable)
    assert "over 20,000,000 bytes of XML" in str(item.error)


def _bomb(levels: int) -> str:
    entities = '<!ENTITY lol0 "lol">' + "".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, levels + 1)
    )
    return (
        f'<?xml version="1.0"?><!DOCTYPE article [{entities}]>'
        f"<article><body><p>x &lol{levels}; y</p></body></article>"
    )


@pytest.mark.parametrize("levels", [3, 9])
def test_an_entity_bomb_is_refused_unexpanded(tmp_path: Path, levels: int) -> None:
    path = tmp_path / "bomb.xml"
    path.write_text(_bomb(levels))
    (item,) = list(iter_documents([path]))
    assert isinstance(item, Unreadable)
    assert "entit" in str(item.error)
    assert "lollol" not in str(item.error)


class _Recorder(http.server.BaseHTTPRequestHandler):
    requests: list[str] = []  # noqa: RUF012 - one list for the test's server

    def do_GET(self) -> None:
        self.requests.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b'<!ENTITY leaked "LEAKED-OVER-HTTP">')

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def http_url() -> Iterator[str]:
    """A server on 127.0.0.1 that records every request made to it."""
    _Recorder.requests = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_an_external_entity_is_refused_and_nothing_is_read(tmp_path: Path, http_url: str) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET-MARKER")
    for target in (secret.as_uri(), "file:///etc/passwd", f"{http_url}/entity"):
        path = tmp_path / "xxe.xml"
        path.write_text(
            f'<?xml version="1.0"?><!DOCTYPE article [<!ENTITY xxe SYSTEM "{target}">]>'
            "<article><body><p>x &xxe; y</p></body></article>"
        )
        (item,) = list(iter_documents([path]))
        assert isinstance(item, Unreadable)
        assert "declares entities (&xxe;)" in str(item.error)
        assert "SECRET-MARKER" not in str(item.error)
        assert "root:" not in str(item.error)
    assert _Recorder.requests == []


def test_the_dtd_a_doctype_names_is_never_fetched(tmp_path: Path, http_url: str) -> None:
    path = tmp_path / "article.nxml"
    path.write_text(
        f'<!DOCTYPE article PUBLIC "-//NLM//DTD JATS//EN" "{http_url}/JATS-archive.dtd">'
        "<article><body><p>A 51-year-old woman &leaked;</p></body></article>"
    )
    assert _only(path).text == "A 51-year-old woman"
    assert _Recorder.requests == []


def test_xml_inputs_go_through_a_run_one_line_per_document(tmp_path: Path) -> None:
    """JATS files, a PubMed export and a package of 30 articles: every document gets a line."""
    archive = tmp_path / "package.tar.gz"
    jats_archive(archive, [CORPORA / name for name in JATS], 30)
    inputs = [CORPORA / "jats", CORPORA / "pubmed", archive]
    client = FakeClient(default=minimal_record())
    extractor = DocumentExtractor(client, load_prompt(), ResponseCache(None), {}, strategy=Whole())
    out = tmp_path / "run.jsonl"
    asyncio.run(run_extraction(inputs, out, extractor, RunSettings()))
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(lines) == 5 + 2 + 30
    assert {line["doc_id"] for line in lines} >= {"PMC13261293", "11748933", "PMC9000030"}
    assert all(line["error"] is None for line in lines)
