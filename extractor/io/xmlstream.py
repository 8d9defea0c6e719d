"""XML inputs read safely and as a stream: JATS articles, PMC article sets and packages, PubMed.

One parser configuration for every XML input (lxml): entities are never
expanded (``resolve_entities=False``), no DTD is loaded (``load_dtd=False``,
so the NLM DTD a ``DOCTYPE`` names by URL is never fetched), no network
(``no_network=True``) and libxml2's limits on text size and depth stay on
(``huge_tree=False``). A document whose ``DOCTYPE`` declares entities of its
own is refused outright: that is how entity bombs and external entities
(``SYSTEM "file:///etc/passwd"``) are built, and JATS and PubMed files never
need it.

The file is fed to a pull parser in blocks, and each record (an ``<article>``
root, each ``<article>`` of a ``<pmc-articleset>``, each ``<PubmedArticle>``
of a ``<PubmedArticleSet>``) is turned into a document and then cleared, so
memory holds one record at a time however long the file. A record of more
than ``MAX_RECORD_BYTES`` of markup, malformed XML and a root that is none of
these give an ``XmlFailure`` naming the file and the reason; documents
already read from the file stand.

PMC Open Access packages, a ``.tar.gz`` (``.tgz``) of JATS files, are read
front to back once (``tarfile`` in streaming mode ``r|gz``), one member at a
time, nothing written to disk. Every ``.xml`` and ``.nxml`` member is read as
above, with the source ``archive.tar.gz:member/path.nxml``; other members
(an article package's PDF and figures), folders, links and hidden files are
passed over. A corrupt or truncated archive gives an ``XmlFailure`` after the
documents read before the damage.
"""

from __future__ import annotations

import gzip
import tarfile
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any, cast

from lxml import etree

from extractor.errors import InputError
from extractor.io import jats, pubmed
from extractor.io.files import regular_size
from extractor.io.sections import Section

MAX_RECORD_BYTES = 20_000_000  # the markup of one article, as for one HTML page
_BLOCK = 1 << 16
PARSER_OPTIONS: dict[str, Any] = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "huge_tree": False,
}
ARCHIVE_SUFFIXES = frozenset({".tar.gz", ".tgz"})
MEMBER_SUFFIXES = frozenset({".xml", ".nxml"})
_RECORDS = {"article": None, "pmc-articleset": "article", "PubmedArticleSet": "PubmedArticle"}


@dataclass(frozen=True)
class XmlDocument:
    """One document read from XML, before it becomes a ``Document``."""

    id: str
    text: str
    source: str
    sections: tuple[Section, ...]
    metadata: Mapping[str, Any]


@dataclass(frozen=True)
class XmlFailure:
    """A record or a whole file that yields no document, and why."""

    id: str
    source: str
    error: InputError


XmlItem = XmlDocument | XmlFailure


def iter_xml_path(path: Path) -> Iterator[XmlItem]:
    """The documents of an XML file, or of every XML member of a ``.tar.gz`` (``.tgz``)."""
    name = path.name.lower()
    try:
        regular_size(path)  # a FIFO would block
        if name.endswith(tuple(ARCHIVE_SUFFIXES)):
            yield from _iter_archive(path)
            return
        with path.open("rb") as stream:
            yield from iter_xml(stream, str(path), path.stem)
    except OSError as e:
        error = InputError(f"{path}: cannot read: {e.strerror or e}")
        yield XmlFailure(path.stem, str(path), error)
    except InputError as e:
        yield XmlFailure(path.stem, str(path), e)


def _iter_archive(path: Path) -> Iterator[XmlItem]:
    stem, count = path.name.split(".")[0], 0
    try:
        with path.open("rb") as raw, tarfile.open(fileobj=raw, mode="r|gz") as archive:
            for member in archive:
                name = PurePosixPath(member.name)
                hidden = any(part.startswith(".") for part in name.parts)
                if not member.isfile() or hidden or name.suffix.lower() not in MEMBER_SUFFIXES:
                    continue
                stream = archive.extractfile(member)
                if stream is not None:
                    count += 1
                    with stream:
                        yield from iter_xml(stream, f"{path}:{member.name}", name.stem)
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as e:
        reason = f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
        error = InputError(f"{path}: not a readable .tar.gz archive ({reason})")
        yield XmlFailure(stem, str(path), error)
        return
    if not count:
        error = InputError(f"{path}: no .xml or .nxml files in the archive")
        yield XmlFailure(stem, str(path), error)


def iter_xml(stream: IO[bytes], source: str, stem: str) -> Iterator[XmlItem]:
    """The documents of one XML file (or archive member) read from ``stream``.

    Ids: a lone article's PMCID, else ``stem``; in an article set or a PubMed
    export, each record's PMCID or PMID, else ``stem:N`` (N from 1).
    """
    records = _Records(source)
    try:
        for number, root_tag, element in records.read(stream):
            yield _document(element, root_tag, source, stem, number)
    except InputError as e:
        yield XmlFailure(stem, source, e)


def _document(
    element: etree._Element, root_tag: str, source: str, stem: str, number: int
) -> XmlItem:
    fallback = stem if root_tag == "article" else f"{stem}:{number}"
    where = source if root_tag == "article" else f"{source}:{number}"
    try:
        if root_tag == "PubmedArticleSet":
            doc_id, text, sections, metadata = pubmed.read_article(element, where, fallback)
        else:
            doc_id, text, sections, metadata = jats.read_article(element, where, fallback)
    except InputError as e:
        return XmlFailure(fallback, where, e)
    except Exception as e:  # noqa: BLE001 - whatever one record raises, the others are read
        return XmlFailure(
            fallback, where, InputError(f"{where}: cannot read ({type(e).__name__}: {e})")
        )
    return XmlDocument(doc_id, text, where, sections, metadata)


class _Records:
    """Feeds a pull parser block by block and yields each complete record, then clears it."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.parser = etree.XMLPullParser(events=("start", "end"), **PARSER_OPTIONS)
        self.root: etree._Element | None = None
        self.record_tag: str | None = None
        self.count = 0
        self.depth = 0  # of the element the parser is in (1: the root)
        self.fed = 0
        self.boundary = 0  # bytes fed when the last record ended

    def read(self, stream: IO[bytes]) -> Iterator[tuple[int, str, etree._Element]]:
        while block := stream.read(_BLOCK):
            self.fed += len(block)
            yield from self._feed(block)
            if self.fed - self.boundary > MAX_RECORD_BYTES:
                raise InputError(
                    f"{self.source}: a record is over {MAX_RECORD_BYTES:,} bytes of XML; "
                    "split the file or check that it is an article"
                )
        yield from self._close()
        if self.root is None:
            raise InputError(f"{self.source}: no XML (the file is empty)")

    def _feed(self, block: bytes) -> Iterator[tuple[int, str, etree._Element]]:
        try:
            self.parser.feed(block)
        except etree.XMLSyntaxError as e:
            raise _malformed(self.source, e) from e
        yield from self._events()

    def _close(self) -> Iterator[tuple[int, str, etree._Element]]:
        try:
            self.parser.close()
        except etree.XMLSyntaxError as e:
            if self.root is None and not self.fed:
                return
            raise _malformed(self.source, e) from e
        yield from self._events()

    def _events(self) -> Iterator[tuple[int, str, etree._Element]]:
        for event, element in self.parser.read_events():
            if not isinstance(element, etree._Element):
                continue
            if event == "start":
                self.depth += 1
                if self.root is None:
                    self.root = self._start(element)
                continue
            self.depth -= 1
            if self.depth == 0 and self.record_tag is None:  # a lone article ended
                self.count += 1
                yield self.count, str(element.tag), element
            elif self.depth == 1 and self.root is not None and self.record_tag is not None:
                if element.tag == self.record_tag:  # a record of a set; anything else dropped
                    self.count += 1
                    yield self.count, str(self.root.tag), element
                self.boundary = self.fed
                element.clear()
                self.root.remove(element)

    def _start(self, root: etree._Element) -> etree._Element:
        _refuse_entities(root, self.source)
        tag = root.tag if isinstance(root.tag, str) else ""
        if tag not in _RECORDS:
            name = etree.QName(root).localname if tag else "?"
            raise InputError(
                f"{self.source}: not JATS or PubMed XML (the root element is <{name}>, "
                "not <article>, <pmc-articleset> or <PubmedArticleSet>)"
            )
        self.record_tag = _RECORDS[tag]
        return root


def _refuse_entities(root: etree._Element, source: str) -> None:
    dtd = root.getroottree().docinfo.internalDTD
    entities = [] if dtd is None else list(cast(Any, dtd).iterentities())  # not in the stubs
    if entities:
        names = ", ".join(f"&{entity.name};" for entity in entities[:3])
        raise InputError(
            f"{source}: the DOCTYPE declares entities ({names}); refused, since entity "
            "declarations are how XML bombs and external-entity reads are built"
        )


def _malformed(source: str, error: etree.XMLSyntaxError) -> InputError:
    line = f"line {error.lineno}: " if error.lineno else ""
    message = error.msg or str(error)
    if "amplification" in message.lower():  # libxml2's own guard against entity bombs
        return InputError(f"{source}: refused, an entity bomb ({line}{message})")
    return InputError(f"{source}: malformed XML ({line}{message}); re-download or repair it")
