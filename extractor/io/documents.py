"""Reading inputs into ``Document(id, text, sha256, source)``.

Supported: ``.txt`` and ``.md`` (as they are), ``.json`` (an object whose
text-like fields are rendered as ``key: value`` lines), ``.html``/``.htm``
(the article text of a saved page, see ``extractor.io.html``), ``.pdf`` (the
text layer, page by page), ``.jsonl`` corpora (one ``{"id", "text"}``
object per line, read lazily by ``iter_documents``) and, streamed, JATS and
PubMed XML (``.xml``/``.nxml``) and ``.tar.gz`` packages of JATS files
(``extractor.io.xmlstream``). A file that cannot be
read raises ``InputError`` with a message naming the file and the reason, so
a run records it and goes on.
"""

from __future__ import annotations

import json
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from pypdf import PasswordType, PdfReader
from pypdf.errors import DependencyError

from extractor.errors import InputError
from extractor.hashing import sha256_text
from extractor.io.files import decode, is_folder, regular_size
from extractor.io.html import html_text
from extractor.io.metadata import EMPTY, file_metadata
from extractor.io.sections import Section, text_sections
from extractor.io.xmlstream import ARCHIVE_SUFFIXES, MEMBER_SUFFIXES, XmlFailure, iter_xml_path

STREAMED_SUFFIXES = MEMBER_SUFFIXES | ARCHIVE_SUFFIXES  # XML: many documents a file, streamed
SUPPORTED_SUFFIXES = frozenset(
    {".txt", ".md", ".json", ".html", ".htm", ".pdf", ".jsonl"} | STREAMED_SUFFIXES
)
MAX_TEXT_BYTES = 2_000_000
MAX_FILE_BYTES = 20_000_000  # an HTML page may carry much markup around its text
MAX_PDF_BYTES = 200_000_000  # a PDF carries its figures (and a scan, its page images)
MAX_LINE_BYTES = 20_000_000  # one JSONL line: a text within MAX_TEXT_BYTES, JSON-escaped
PAGE_SEPARATOR = "\n\n"


@dataclass(frozen=True)
class Document:
    """One input document: its id, text, text hash and where it came from.

    ``pages`` holds, for a paged source (a PDF), the character offset in
    ``text`` where each page starts: page ``n`` starts at ``pages[n - 1]``.
    ``sections`` are the titled parts of the text, in order, each with its
    kind (case, discussion...). ``metadata`` is a read-only mapping of what
    the input states of ``title``, ``doi`` (bare, lower-case), ``journal``
    and ``year`` (an int), absent keys unstated; it is not part of the hash.
    """

    id: str
    text: str
    sha256: str
    source: str
    pages: tuple[int, ...] = ()
    sections: tuple[Section, ...] = ()
    metadata: Mapping[str, Any] = field(default_factory=lambda: EMPTY, hash=False)

    @classmethod
    def from_text(cls, id: str, text: str, source: str = "<memory>") -> Document:
        """A document from text in memory, with the sections a ``.txt`` file would get."""
        return cls(id, text, sha256_text(text), source, sections=text_sections(text))

    def page_at(self, offset: int) -> int | None:
        """The page number (from 1) holding character ``offset``; None if not paged."""
        return bisect_right(self.pages, offset) if self.pages else None


@dataclass(frozen=True)
class Unreadable:
    """An input that yields no document: its id, where it came from and why."""

    id: str
    source: str
    error: InputError


def iter_paths(inputs: Iterable[Path]) -> Iterator[Path]:
    """Every input file: files as given, directories expanded to their supported files.

    A named file is yielded even with an unsupported suffix, so that reading
    it reports the problem; entries found inside directories are filtered by
    suffix and sorted, hidden ones and folders skipped. An entry that is not
    a regular file (a FIFO, a symlink loop, a dangling link) is yielded too,
    so that reading it reports why it has no text.
    """
    for path in inputs:
        if is_folder(path):
            for child in sorted(path.rglob("*")):
                relative = child.relative_to(path)
                hidden = any(part.startswith(".") for part in relative.parts)
                supported = suffix_of(child) in SUPPORTED_SUFFIXES
                if supported and not hidden and not is_folder(child):
                    yield child
        else:
            yield path


def suffix_of(path: Path) -> str:
    """The file type of ``path``: its lower-case suffix, ``.tar.gz`` for a gzipped tar."""
    name = path.name.lower()
    return ".tar.gz" if name.endswith(".tar.gz") else path.suffix.lower()


def iter_documents(inputs: Iterable[Path]) -> Iterator[Document | Unreadable]:
    """Every document of the inputs, lazily: one per file, one per line of a ``.jsonl``,
    one per article or record of an XML file or archive.

    An input that cannot be read (a file, or one line of a corpus) is yielded
    as ``Unreadable`` instead of raised, so a run records it and goes on.
    """
    for path in iter_paths(inputs):
        if path.suffix.lower() == ".jsonl":
            yield from _iter_jsonl(path)
            continue
        if suffix_of(path) in STREAMED_SUFFIXES:
            yield from _iter_xml(path)
            continue
        try:
            yield read_document(path)
        except InputError as e:
            yield Unreadable(path.stem, str(path), e)
        except Exception as e:  # noqa: BLE001 - whatever a reader raises, the run goes on
            error = InputError(f"{path}: cannot read ({type(e).__name__}: {e})")
            yield Unreadable(path.stem, str(path), error)


def iter_ids(paths: Iterable[Path]) -> Iterator[tuple[str, str]]:
    """The ``(id, source)`` of each document ``iter_documents`` gives, without reading texts.

    A JSONL corpus is read line by line for its ids, with the same rule as
    ``iter_documents`` (so counts, shards and duplicate checks agree with the run).
    """
    for path in paths:
        if suffix_of(path) in STREAMED_SUFFIXES:  # ids are in the XML: read as the run will
            yield from ((item.id, item.source) for item in _iter_xml(path))
            continue
        if path.suffix.lower() != ".jsonl":
            yield path.stem, str(path)
            continue
        yielded = False
        try:
            regular_size(path)
            with path.open("rb") as stream:
                for number, line in _numbered_lines(stream):
                    if line is None or line.strip():
                        yielded = True
                        yield _jsonl_line_id(path, number, line), f"{path}:{number}"
        except (OSError, InputError):
            pass
        if not yielded:
            yield path.stem, str(path)


def _jsonl_line_id(path: Path, number: int, line: bytes | None) -> str:
    """The id of the document on one corpus line (its fallback id when it has none)."""
    where = f"{path}:{number}"
    try:
        if line is None:
            raise InputError(where)
        data = _jsonl_object(where, line.removeprefix(b"\xef\xbb\xbf") if number == 1 else line)
        return _jsonl_id(where, data.get("id"))
    except InputError:
        return f"{path.stem}:{number}"


def read_document(path: Path) -> Document:
    """Read one file into a ``Document``; raise ``InputError`` saying why it cannot be."""
    suffix = suffix_of(path)
    if suffix in STREAMED_SUFFIXES:
        return _one_xml_document(path)
    if suffix not in SUPPORTED_SUFFIXES:
        supported = ", ".join(sorted(SUPPORTED_SUFFIXES))
        raise InputError(f"{path}: unsupported file type {suffix or '(none)'}; use {supported}")
    if suffix == ".jsonl":
        raise InputError(
            f"{path}: a JSONL corpus holds many documents; read it with iter_documents"
        )
    limit = MAX_PDF_BYTES if suffix == ".pdf" else MAX_FILE_BYTES
    try:
        size = regular_size(path)
        if size > limit:
            raise InputError(f"{path}: file is {size:,} bytes, over the {limit:,} limit")
        metadata: Mapping[str, Any] = EMPTY
        if suffix == ".pdf":
            text, pages = _pdf_text(path)
        else:
            content = decode(path, path.read_bytes())
            text, pages = _to_text(path, suffix, content), ()
            metadata = file_metadata(suffix, content, text)
    except OSError as e:
        raise InputError(f"{path}: cannot read: {e.strerror or e}") from e
    _check_text(str(path), text)
    sections = text_sections(text)
    return Document(path.stem, text, sha256_text(text), str(path), pages, sections, metadata)


def _one_xml_document(path: Path) -> Document:
    """The one document of an XML file; ``InputError`` if it holds none or several."""
    items = _iter_xml(path)
    first = next(items)
    if isinstance(first, Unreadable):
        raise first.error
    if suffix_of(path) in ARCHIVE_SUFFIXES or next(items, None) is not None:
        raise InputError(f"{path}: holds several documents; read it with iter_documents")
    return first


def _iter_xml(path: Path) -> Iterator[Document | Unreadable]:
    """The documents of a JATS or PubMed XML file, or of a ``.tar.gz`` of them, streamed."""
    for item in iter_xml_path(path):
        try:
            if isinstance(item, XmlFailure):
                raise item.error
            _check_text(item.source, item.text)
        except InputError as e:
            yield Unreadable(item.id, item.source, e)
            continue
        sha = sha256_text(item.text)
        yield Document(item.id, item.text, sha, item.source, (), item.sections, item.metadata)


def _check_text(where: str, text: str) -> None:
    if not text.strip():
        raise InputError(f"{where}: no text (the document is empty)")
    n_bytes = len(text.encode("utf-8"))
    if n_bytes > MAX_TEXT_BYTES:
        raise InputError(f"{where}: {n_bytes:,} bytes of text, over the {MAX_TEXT_BYTES:,} limit")


def _pdf_text(path: Path) -> tuple[str, tuple[int, ...]]:
    """The text layer of a PDF, pages joined by a blank line, and where each page starts."""
    with path.open("rb") as stream:
        texts = [text.strip() for text in _pdf_pages(path, stream)]
    if not any(texts):
        raise InputError(f"{path}: no text layer (a scanned PDF?); run OCR first, e.g. ocrmypdf")
    starts, offset = [], 0
    for text in texts:
        starts.append(offset)
        offset += len(text) + len(PAGE_SEPARATOR)
    return PAGE_SEPARATOR.join(texts), tuple(starts)


def _pdf_pages(path: Path, stream: BinaryIO) -> list[str]:
    try:
        reader = PdfReader(stream)
        if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
            raise InputError(
                f"{path}: encrypted PDF (a password is needed to open it); "
                "decrypt it first, e.g. qpdf --decrypt --password=... in.pdf out.pdf"
            )
        if not reader.pages:
            raise InputError(f"{path}: PDF has no pages")
        return [page.extract_text() for page in reader.pages]
    except (InputError, OSError):
        raise
    except DependencyError as e:
        raise InputError(f"{path}: PDF needs an optional library to open: {e}") from e
    # pypdf raises many exception types on malformed files; each means this file is unreadable.
    except Exception as e:
        raise InputError(
            f"{path}: not a readable PDF ({type(e).__name__}: {e}); "
            "repair or re-save it, e.g. qpdf in.pdf out.pdf"
        ) from e


def _to_text(path: Path, suffix: str, content: str) -> str:
    if suffix == ".json":
        return _json_text(path, content)
    if suffix in {".html", ".htm"}:
        return html_text(content)
    return content


def _json_text(path: Path, content: str) -> str:
    try:
        data = json.loads(content)
        if not isinstance(data, dict):
            raise InputError(f"{path}: expected a JSON object, found {type(data).__name__}")
        lines = [f"{key}: {text}" for key, value in data.items() if (text := _flatten(value))]
    except json.JSONDecodeError as e:
        raise InputError(f"{path}: invalid JSON at line {e.lineno}: {e.msg}") from e
    except RecursionError:
        raise InputError(f"{path}: JSON nested too deeply") from None
    return "\n".join(lines)


def _flatten(value: Any) -> str:
    """The text in a JSON value: strings and numbers, nested objects and lists joined."""
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, str | int | float):
        return str(value).strip()
    if isinstance(value, dict):
        return "; ".join(t for v in value.values() if (t := _flatten(v)))
    if isinstance(value, list):
        return "; ".join(t for v in value if (t := _flatten(v)))
    return ""


def _iter_jsonl(path: Path) -> Iterator[Document | Unreadable]:
    """The documents of a JSONL corpus, one line at a time (the file is never read whole)."""
    count = 0
    try:
        regular_size(path)
        with path.open("rb") as stream:
            for number, line in _numbered_lines(stream):
                if line is not None and not line.strip():
                    continue
                count += 1
                yield _jsonl_document(path, number, line)
    except OSError as e:
        error = InputError(f"{path}: cannot read: {e.strerror or e}")
        yield Unreadable(path.stem, str(path), error)
        return
    except InputError as e:
        yield Unreadable(path.stem, str(path), e)
        return
    if not count:
        yield Unreadable(path.stem, str(path), InputError(f"{path}: no documents (empty file)"))


def _numbered_lines(stream: BinaryIO) -> Iterator[tuple[int, bytes | None]]:
    """Each line with its number from 1; None for a line over ``MAX_LINE_BYTES`` (skipped)."""
    number = 0
    while line := stream.readline(MAX_LINE_BYTES + 1):
        number += 1
        if len(line) <= MAX_LINE_BYTES or line.endswith(b"\n"):
            yield number, line
            continue
        while (rest := stream.readline(MAX_LINE_BYTES)) and not rest.endswith(b"\n"):
            pass
        yield number, None


def _jsonl_document(path: Path, number: int, line: bytes | None) -> Document | Unreadable:
    """The document on one line of a corpus, or why there is none."""
    where = f"{path}:{number}"
    doc_id = f"{path.stem}:{number}"
    try:
        if line is None:
            raise InputError(f"{where}: line is over the {MAX_LINE_BYTES:,} byte limit")
        data = _jsonl_object(where, line.removeprefix(b"\xef\xbb\xbf") if number == 1 else line)
        doc_id = _jsonl_id(where, data.get("id"))
        text = data.get("text")
        if not isinstance(text, str):
            found = "none" if text is None else type(text).__name__
            raise InputError(f'{where}: no "text" string (found {found})')
        _check_text(where, text)
    except InputError as e:
        return Unreadable(doc_id, where, e)
    return Document(doc_id, text, sha256_text(text), where, sections=text_sections(text))


def _jsonl_object(where: str, line: bytes) -> dict[str, Any]:
    try:
        data = json.loads(line.decode("utf-8"))
    except RecursionError:
        raise InputError(f"{where}: JSON nested too deeply") from None
    except UnicodeDecodeError as e:
        raise InputError(f"{where}: not UTF-8 text (byte 0x{line[e.start]:02x})") from e
    except json.JSONDecodeError as e:
        raise InputError(f"{where}: invalid JSON at column {e.colno}: {e.msg}") from e
    if not isinstance(data, dict):
        raise InputError(f"{where}: expected a JSON object, found {type(data).__name__}")
    return data


def _jsonl_id(where: str, value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise InputError(f'{where}: no "id" (expected a non-empty string or an integer)')
