"""Reading .txt, .md, .json and .html into Documents, and clear errors for bad files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from extractor.documents import MAX_TEXT_BYTES, Document, html_text, iter_paths, read_document
from extractor.errors import InputError
from extractor.hashing import sha256_text
from tests.conftest import GOLD


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
        ("scan.pdf", b"%PDF-1.4", "unsupported file type"),
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
    (tmp_path / "notes.docx").write_text("x")
    (tmp_path / ".hidden.txt").write_text("x")
    assert [p.name for p in iter_paths([tmp_path])] == ["b.txt", "a.md"]


def test_document_from_text_hashes_its_text() -> None:
    doc = Document.from_text("x", "hello")
    assert doc.sha256 == sha256_text("hello")
