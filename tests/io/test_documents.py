"""Reading each supported input into Documents, and clear errors for bad files and lines."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from pypdf import PdfWriter

from extractor.errors import InputError
from extractor.hashing import sha256_text
from extractor.io import documents
from extractor.io.documents import (
    MAX_TEXT_BYTES,
    Document,
    Unreadable,
    html_text,
    iter_documents,
    iter_paths,
    read_document,
)
from tests.conftest import FIXTURES, GOLD

PAGES = FIXTURES / "pages"


def test_text_file_keeps_text_id_hash_and_source() -> None:
    path = GOLD / "docs" / "000_41db0c827232113d.txt"
    doc = read_document(path)
    assert doc.id == "000_41db0c827232113d"
    assert doc.text == path.read_text(encoding="utf-8")
    assert doc.sha256 == sha256_text(doc.text)
    assert doc.source == str(path)


def test_json_object_renders_its_text_fields(tmp_path: Path) -> None:
    path = tmp_path / "paper.json"
    path.write_text(
        json.dumps(
            {
                "title": "A NET",
                "doi": "10.1/x",
                "url": None,
                "abstract": "A 60-year-old man.",
                "journal": {"name": "J Med", "volume": "3"},
                "isOpenAccess": False,
            }
        )
    )
    doc = read_document(path)
    assert doc.text == "title: A NET\ndoi: 10.1/x\nabstract: A 60-year-old man.\njournal: J Med; 3"


def test_html_keeps_visible_text_only(tmp_path: Path) -> None:
    page = (
        "<html><head><title>t</title><style>p{}</style></head><body>"
        "<script>alert(1)</script><h1>Case</h1><p>A 40-year-old &amp; well</p></body></html>"
    )
    path = tmp_path / "page.html"
    path.write_text(page)
    assert read_document(path).text == "Case\nA 40-year-old & well"
    assert "alert" not in html_text(page)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.txt", b"  \n\t", "empty"),
        ("binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00", "binary"),
        ("latin1.txt", "caf\xe9 carcinoid".encode("latin-1"), "not UTF-8"),
        ("list.json", b"[1, 2]", "expected a JSON object"),
        ("broken.json", b"{'a':", "invalid JSON"),
        ("notes.docx", b"PK\x03\x04", "unsupported file type"),
        ("broken.pdf", b"%PDF-1.4", "not a readable PDF"),
        ("empty.pdf", b"", "not a readable PDF"),
    ],
)
def test_bad_files_raise_a_clear_input_error(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError, match=message) as info:
        read_document(path)
    assert name in str(info.value)


def test_oversized_text_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    path.write_text("a" * (MAX_TEXT_BYTES + 1))
    with pytest.raises(InputError, match="over the"):
        read_document(path)


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        read_document(tmp_path / "nope.txt")


def test_directory_expands_to_supported_files_sorted(tmp_path: Path) -> None:
    (tmp_path / "b.txt").write_text("b")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.md").write_text("a")
    (tmp_path / "c.pdf").write_bytes(b"%PDF-1.4")
    (tmp_path / "d.jsonl").write_text("")
    (tmp_path / "notes.docx").write_text("x")
    (tmp_path / ".hidden.txt").write_text("x")
    assert [p.name for p in iter_paths([tmp_path])] == ["b.txt", "c.pdf", "d.jsonl", "a.md"]


def test_document_from_text_hashes_its_text() -> None:
    doc = Document.from_text("x", "hello")
    assert doc.sha256 == sha256_text("hello")


def test_document_from_text_has_no_pages() -> None:
    doc = Document.from_text("x", "hello")
    assert doc.pages == ()
    assert doc.page_at(0) is None


def test_saved_page_is_read_as_its_article_text() -> None:
    doc = read_document(PAGES / "pubmed_abstract.html")
    assert doc.id == "pubmed_abstract"
    assert "Spinal metastasis of neuro-endocrine tumours (NETs)" in doc.text
    assert "Skip to main page content" not in doc.text


# PDF: files the tests build by hand, so no binary fixture hides what they contain.

PAGE_1 = ["A 54-year-old woman with a pancreatic NET.", "Ki-67 was 3% (G1)."]
PAGE_2 = ["She was treated with octreotide (LAR)."]


def text_pdf(pages: list[list[str]]) -> bytes:
    """A minimal PDF with a Helvetica text layer: one line per string, a page per list."""
    n = len(pages)
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(n))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {n} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    for i, lines in enumerate(pages):
        shown = " 0 -16 Td ".join(f"({pdf_escape(line)}) Tj" for line in lines)
        stream = f"BT /F1 12 Tf 72 720 Td {shown} ET".encode()
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % (5 + 2 * i)
        )
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def pdf_escape(line: str) -> str:
    """A line as the inside of a PDF string literal: backslashes and parentheses escaped."""
    return line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def written(writer: PdfWriter) -> bytes:
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def test_pdf_text_layer_is_read_page_by_page(tmp_path: Path) -> None:
    path = tmp_path / "case.pdf"
    path.write_bytes(text_pdf([PAGE_1, PAGE_2]))
    doc = read_document(path)
    first, second = "\n".join(PAGE_1), "\n".join(PAGE_2)
    assert doc.text == f"{first}\n\n{second}"
    assert doc.pages == (0, len(first) + 2)
    assert doc.text[doc.pages[1] :].startswith("She was treated")
    assert doc.sha256 == sha256_text(doc.text)
    assert (doc.id, doc.source) == ("case", str(path))


def test_page_at_maps_offsets_to_page_numbers(tmp_path: Path) -> None:
    path = tmp_path / "case.pdf"
    path.write_bytes(text_pdf([PAGE_1, PAGE_2]))
    doc = read_document(path)
    assert doc.page_at(0) == 1
    assert doc.page_at(doc.text.index("Ki-67")) == 1
    assert doc.page_at(doc.text.index("octreotide")) == 2


def test_image_only_pdf_asks_for_ocr(tmp_path: Path) -> None:
    writer = PdfWriter()
    writer.add_blank_page(width=612, height=792)
    writer.add_blank_page(width=612, height=792)
    path = tmp_path / "scan.pdf"
    path.write_bytes(written(writer))
    with pytest.raises(InputError, match="no text layer") as info:
        read_document(path)
    assert "scan.pdf" in str(info.value)
    assert "ocrmypdf" in str(info.value)


def test_password_protected_pdf_is_a_clear_input_error(tmp_path: Path) -> None:
    writer = PdfWriter(clone_from=io.BytesIO(text_pdf([PAGE_1])))
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    path = tmp_path / "locked.pdf"
    path.write_bytes(written(writer))
    with pytest.raises(InputError, match=r"encrypted PDF.*decrypt it first"):
        read_document(path)


def test_pdf_encrypted_without_a_user_password_is_read(tmp_path: Path) -> None:
    writer = PdfWriter(clone_from=io.BytesIO(text_pdf([PAGE_1])))
    writer.encrypt(user_password="", owner_password="owner", algorithm="RC4-128")
    path = tmp_path / "restricted.pdf"
    path.write_bytes(written(writer))
    assert read_document(path).text == "\n".join(PAGE_1)


def test_truncated_pdf_is_a_clear_input_error(tmp_path: Path) -> None:
    path = tmp_path / "cut.pdf"
    path.write_bytes(text_pdf([PAGE_1])[:200])
    with pytest.raises(InputError, match=r"cut\.pdf: not a readable PDF"):
        read_document(path)


# JSONL corpora: many documents per file, read lazily by iter_documents.


def write_jsonl(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def test_jsonl_lines_become_documents(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "corpus.jsonl",
        [
            json.dumps({"id": "pmid-1", "text": "A 60-year-old man.", "year": 2020}),
            "",
            json.dumps({"id": 42, "text": "A 30-year-old woman."}),
        ],
    )
    docs = list(iter_documents([path]))
    assert docs == [
        Document("pmid-1", "A 60-year-old man.", sha256_text("A 60-year-old man."), f"{path}:1"),
        Document("42", "A 30-year-old woman.", sha256_text("A 30-year-old woman."), f"{path}:3"),
    ]


@pytest.mark.parametrize(
    ("line", "unreadable_id", "message"),
    [
        ('{"id": "a", "text": ', "corpus:2", "invalid JSON at column"),
        ('["a", "text"]', "corpus:2", "expected a JSON object, found list"),
        ('{"text": "A case."}', "corpus:2", 'no "id"'),
        ('{"id": true, "text": "A case."}', "corpus:2", 'no "id"'),
        ('{"id": " ", "text": "A case."}', "corpus:2", 'no "id"'),
        ('{"id": "b"}', "b", 'no "text" string \\(found none\\)'),
        ('{"id": "b", "text": 7}', "b", 'no "text" string \\(found int\\)'),
        ('{"id": "b", "text": "  "}', "b", "no text"),
        (json.dumps({"id": "b", "text": "a" * (MAX_TEXT_BYTES + 1)}), "b", "over the"),
    ],
)
def test_bad_jsonl_line_is_unreadable_and_the_run_goes_on(
    tmp_path: Path, line: str, unreadable_id: str, message: str
) -> None:
    good = json.dumps({"id": "a", "text": "A case."})
    path = write_jsonl(tmp_path / "corpus.jsonl", [good, line, good.replace('"a"', '"c"')])
    first, bad, last = iter_documents([path])
    assert isinstance(first, Document)
    assert isinstance(last, Document)
    assert last.id == "c"
    assert isinstance(bad, Unreadable)
    assert (bad.id, bad.source) == (unreadable_id, f"{path}:2")
    assert str(bad.error).startswith(f"{path}:2: ")
    assert bad.error.args[0] == str(bad.error)
    with pytest.raises(InputError, match=message):
        raise bad.error


def test_jsonl_line_that_is_not_utf8_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "corpus.jsonl"
    path.write_bytes(b'{"id": "a", "text": "caf\xe9"}\n')
    [bad] = iter_documents([path])
    assert isinstance(bad, Unreadable)
    assert "corpus.jsonl:1: not UTF-8" in str(bad.error)


def test_overlong_jsonl_line_is_skipped_without_loading_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(documents, "MAX_LINE_BYTES", 64)
    long_line = json.dumps({"id": "long", "text": "x" * 500})
    path = write_jsonl(tmp_path / "corpus.jsonl", [long_line, '{"id": 2, "text": "Short."}'])
    bad, good = iter_documents([path])
    assert isinstance(bad, Unreadable)
    assert "corpus.jsonl:1: line is over the 64 byte limit" in str(bad.error)
    assert isinstance(good, Document)
    assert (good.id, good.source) == ("2", f"{path}:2")


def test_jsonl_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    path = tmp_path / "corpus.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"id": 1, "text": "A case."}\n')
    [doc] = iter_documents([path])
    assert isinstance(doc, Document)
    assert doc.text == "A case."


def test_empty_jsonl_is_one_unreadable_entry(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "corpus.jsonl", ["", "  "])
    [bad] = iter_documents([path])
    assert isinstance(bad, Unreadable)
    assert (bad.id, bad.source) == ("corpus", str(path))
    assert "no documents" in str(bad.error)


def test_jsonl_given_to_read_document_points_to_iter_documents(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "corpus.jsonl", ['{"id": 1, "text": "A case."}'])
    with pytest.raises(InputError, match="iter_documents"):
        read_document(path)


def test_iter_documents_mixes_files_and_corpora_in_path_order(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("A case.")
    write_jsonl(tmp_path / "b.jsonl", ['{"id": "b1", "text": "B one."}', "{oops"])
    (tmp_path / "c.txt").write_bytes(b"")
    (tmp_path / "d.pdf").write_bytes(text_pdf([PAGE_2]))
    items = list(iter_documents([tmp_path, tmp_path / "missing.txt"]))
    assert [(type(item).__name__, item.id) for item in items] == [
        ("Document", "a"),
        ("Document", "b1"),
        ("Unreadable", "b:2"),
        ("Unreadable", "c"),
        ("Document", "d"),
        ("Unreadable", "missing"),
    ]
    unreadable = [item for item in items if isinstance(item, Unreadable)]
    assert [item.source for item in unreadable] == [
        f"{tmp_path / 'b.jsonl'}:2",
        str(tmp_path / "c.txt"),
        str(tmp_path / "missing.txt"),
    ]
    assert "cannot read" in str(unreadable[2].error)


def test_unreadable_jsonl_file_is_one_unreadable_entry(tmp_path: Path) -> None:
    path = tmp_path / "corpus.jsonl"
    path.mkdir()  # a directory named like a corpus cannot be opened as one
    [bad] = iter_documents([path / "..." / "corpus.jsonl"])
    assert isinstance(bad, Unreadable)
    assert "cannot read" in str(bad.error)


def test_jsonl_is_streamed_not_loaded_whole(tmp_path: Path) -> None:
    """After the first document, cutting the file short cuts the run short: it is read lazily."""
    path = write_jsonl(
        tmp_path / "big.jsonl",
        [json.dumps({"id": i, "text": f"Case number {i}."}) for i in range(10_000)],
    )
    items: Iterator[Document | Unreadable] = iter_documents([path])
    first = next(items)
    assert isinstance(first, Document)
    assert first.id == "0"
    path.write_text("")  # truncates the file the generator still has open
    rest = list(items)
    assert 0 < len(rest) < 1_000  # only what its read buffer already held (the last line cut)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"a" * 9000 + b"\x00 and more", "binary"),  # a NUL past the first 8 KB is binary too
        ("text\x00".encode("utf-16"), "binary"),
        (b"\xff\xfe" + b"\x00\xd8", "not UTF-16"),  # a lone surrogate
    ],
)
def test_nul_anywhere_and_broken_utf16_are_input_errors(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "doc.txt"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        read_document(path)


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_with_a_byte_order_mark_is_decoded(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "doc.txt"
    bom = b"\xff\xfe" if encoding.endswith("le") else b"\xfe\xff"
    path.write_bytes(bom + "Café: a 54-year-old".encode(encoding))
    assert read_document(path).text == "Café: a 54-year-old"


def test_entries_that_are_not_regular_files_are_unreadable_not_skipped(tmp_path: Path) -> None:
    """A symlink loop, a dangling link and a FIFO each get an error; the FIFO is never opened."""
    (tmp_path / "ok.txt").write_text("fine")
    (tmp_path / "loop.txt").symlink_to("loop.txt")
    (tmp_path / "gone.md").symlink_to("missing.md")
    os.mkfifo(tmp_path / "fifo.txt")
    os.mkfifo(tmp_path / "pipe.jsonl")
    (tmp_path / "folder.txt").mkdir()  # a folder named like a document is a folder
    found = {item.id: item for item in iter_documents([tmp_path])}
    assert sorted(found) == ["fifo", "gone", "loop", "ok", "pipe"]
    assert isinstance(found["ok"], Document)
    messages = {i: str(item.error) for i, item in found.items() if isinstance(item, Unreadable)}
    assert "symbolic links" in messages["loop"]
    assert "No such file" in messages["gone"]
    assert "not a regular file (a FIFO)" in messages["fifo"]
    assert "not a regular file (a FIFO)" in messages["pipe"]
    assert [i for i, _ in documents.iter_ids(iter_paths([tmp_path]))] == list(found)
