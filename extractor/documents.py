"""Reading inputs into ``Document(id, text, sha256, source)``.

Supported: ``.txt`` and ``.md`` (as they are), ``.json`` (an object whose
text-like fields are rendered as ``key: value`` lines) and ``.html``/``.htm``
(visible text only). A file that cannot be read raises ``InputError`` with a
message naming the file and the reason, so a run records it and goes on.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from extractor.errors import InputError
from extractor.hashing import sha256_text

SUPPORTED_SUFFIXES = frozenset({".txt", ".md", ".json", ".html", ".htm"})
MAX_TEXT_BYTES = 2_000_000
MAX_FILE_BYTES = 20_000_000  # an HTML page may carry much markup around its text


@dataclass(frozen=True)
class Document:
    """One input document: its id (file stem), text, text hash and path."""

    id: str
    text: str
    sha256: str
    source: str

    @classmethod
    def from_text(cls, id: str, text: str, source: str = "<memory>") -> Document:
        """A document from text in memory (tests, and callers of the library)."""
        return cls(id=id, text=text, sha256=sha256_text(text), source=source)


def iter_paths(inputs: Iterable[Path]) -> Iterator[Path]:
    """Every input file: files as given, directories expanded to their supported files.

    A named file is yielded even with an unsupported suffix, so that reading
    it reports the problem; files found inside directories are filtered by
    suffix and sorted, hidden files skipped.
    """
    for path in inputs:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                relative = child.relative_to(path)
                hidden = any(part.startswith(".") for part in relative.parts)
                if child.is_file() and not hidden and child.suffix.lower() in SUPPORTED_SUFFIXES:
                    yield child
        else:
            yield path


def read_document(path: Path) -> Document:
    """Read one file into a ``Document``; raise ``InputError`` saying why it cannot be."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        supported = ", ".join(sorted(SUPPORTED_SUFFIXES))
        raise InputError(f"{path}: unsupported file type {suffix or '(none)'}; use {supported}")
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InputError(f"{path}: file is {size:,} bytes, over the {MAX_FILE_BYTES:,} limit")
        raw = path.read_bytes()
    except OSError as e:
        raise InputError(f"{path}: cannot read: {e.strerror or e}") from e
    text = _to_text(path, suffix, _decode(path, raw))
    if not text.strip():
        raise InputError(f"{path}: no text (the document is empty)")
    n_bytes = len(text.encode("utf-8"))
    if n_bytes > MAX_TEXT_BYTES:
        raise InputError(f"{path}: {n_bytes:,} bytes of text, over the {MAX_TEXT_BYTES:,} limit")
    return Document(id=path.stem, text=text, sha256=sha256_text(text), source=str(path))


def _decode(path: Path, raw: bytes) -> str:
    if b"\x00" in raw[:8192]:
        raise InputError(f"{path}: binary file (contains NUL bytes), not text")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(
            f"{path}: not UTF-8 text (byte 0x{raw[e.start]:02x} at offset {e.start}); "
            "convert it to UTF-8"
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
    except json.JSONDecodeError as e:
        raise InputError(f"{path}: invalid JSON at line {e.lineno}: {e.msg}") from e
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a JSON object, found {type(data).__name__}")
    lines = [f"{key}: {text}" for key, value in data.items() if (text := _flatten(value))]
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


_SKIPPED_TAGS = frozenset({"script", "style", "noscript", "template", "head", "svg", "iframe"})
_BLOCK_TAGS = frozenset(
    {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section",
     "article", "header", "footer", "table", "ul", "ol", "blockquote", "title", "dt", "dd"}
)  # fmt: skip


class _VisibleText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED_TAGS:
            self._skip_depth += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED_TAGS:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip_depth:
            self.parts.append(data)


def html_text(html: str) -> str:
    """The visible text of an HTML page: no scripts, styles or head; one block per line."""
    parser = _VisibleText()
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)
