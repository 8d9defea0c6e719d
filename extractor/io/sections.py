"""Sections of a document: titled character ranges, each of a kind.

The spec's first rule for ambiguities is that background, discussion and
literature-review text never fills a patient field, so a strategy or the
chunker needs to know which part of a document is the case itself.
``Section(title, start, end, kind)`` says that ``text[start:end]`` (heading
included) is the part titled ``title``; ``kind`` is one of

- ``title``: the article title;
- ``abstract``: an abstract or summary;
- ``case``: the case presentation, report, description or history;
- ``background``: the introduction or background;
- ``discussion``: the discussion, literature review, comment or conclusion;
- ``other``: anything else (methods, results, acknowledgements, references...).

``section_kind`` maps a heading to its kind from general heading words
(numbering, case and a trailing colon ignored). ``text_sections`` finds the
sections of plain text by its heading lines: a short line without a final
full stop, followed by text, that names a known heading. ``SectionedText``
builds a text block by block while recording sections, for the XML readers.
Sections are in text order and do not overlap; they need not cover the
whole text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

SectionKind = Literal["title", "abstract", "case", "background", "discussion", "other"]
SECTION_KINDS: tuple[SectionKind, ...] = (
    "title", "abstract", "case", "background", "discussion", "other"
)  # fmt: skip
BLOCK_SEPARATOR = "\n\n"


@dataclass(frozen=True)
class Section:
    """``text[start:end]`` is the section titled ``title``, of kind ``kind``."""

    title: str
    start: int
    end: int
    kind: SectionKind


# First match wins, so "Case report and discussion" is the case and "Summary and
# conclusions" the discussion. Patterns see the heading lower-cased, unnumbered.
_KIND_PATTERNS: tuple[tuple[SectionKind, str], ...] = (
    ("case", r"(?:clinical |illustrative |index )?cases?\b"
             r"(?![ -](?:selection|definition|control))"),
    ("case", r"(?:clinical|patient) (?:presentation|history|case|description|information|details)"),
    ("case", r"(?:presentation|report|description|history) of (?:the |a |our )?(?:case|patient)s?"),
    ("case", r"patients? (?:and|&) (?:case|history)"),
    ("case", r"(?:(?:disease|medical|clinical|past|family|patient|case) )?history$"),
    ("case", r"(?:history of present(?:ing)? illness|clinical findings|timeline"
             r"|diagnostic (?:assessment|work-?up)|therapeutic interventions?"
             r"|follow-?up and outcomes?)$"),
    ("background", r"(?:introduction|background)\b"),
    ("abstract", r"(?:abstract|summary|synopsis|author summary|structured abstract|highlights)$"),
    ("discussion", r"(?:\S+ ){0,3}(?:discussion|conclusions?|concluding|comments?$)"),
    ("discussion", r"(?:\S+ ){0,3}(?:literature review"
                   r"|review of (?:the )?(?:literature|cases|published))"),
    ("discussion", r"(?:learning points|take-?home messages?|lessons? learned)\b"),
)  # fmt: skip
# Headings that are not one of the kinds above but are headings all the same.
_OTHER_HEADINGS = re.compile(
    r"(?:references|bibliography|acknowledge?ments?|funding|financial support|"
    r"(?:conflicts?|declarations?) of interests?|competing interests?|disclosures?|"
    r"authors?'? contributions?|contributors|methods|materials and methods|"
    r"patients and methods|results|ethics(?: statement| approval)?|consent(?: for publication)?|"
    r"informed consent|patient consent|data availability(?: statement)?|abbreviations|"
    r"supplementary (?:material|information|data)s?|supporting information|keywords|"
    r"figures?|tables?|figure legends|author information|notes|footnotes|appendix)$"
)
_COMPILED = tuple((kind, re.compile(pattern)) for kind, pattern in _KIND_PATTERNS)
_NUMBERING = re.compile(r"^(?:#+\s*)?(?:(?:\d+(?:\.\d+)*|[ivxlc]+|[a-z])[.)]?\s+)?")
_MAX_HEADING_CHARS = 80
_MAX_HEADING_WORDS = 10
_TERMINALS = frozenset(".!?:;)")


def normal_heading(title: str) -> str:
    """``"2.1 Case Presentation:"`` -> ``"case presentation"`` (numbering, ``#``, colon dropped)."""
    text = " ".join(title.split()).lower().rstrip(":.").strip()
    return _NUMBERING.sub("", text, count=1).strip()


def heading_kind(title: str) -> SectionKind | None:
    """The kind of a heading made of known heading words; None for any other line."""
    heading = normal_heading(title)
    if not heading:
        return None
    for kind, pattern in _COMPILED:
        if pattern.match(heading):
            return kind
    return "other" if _OTHER_HEADINGS.match(heading) else None


def section_kind(title: str) -> SectionKind:
    """The kind of the section titled ``title`` (``other`` when no heading word says)."""
    return heading_kind(title) or "other"


def section_at(sections: tuple[Section, ...], offset: int) -> Section | None:
    """The section holding character ``offset``, if any."""
    return next((s for s in sections if s.start <= offset < s.end), None)


# --- plain text -----------------------------------------------------------------------


_LINE = re.compile(r"[^\n]*(?:\n|$)")


def text_sections(text: str) -> tuple[Section, ...]:
    """The sections of plain text, by its heading lines (see the module docstring).

    A section runs from its heading to the next heading (trailing blank
    lines left out), the last one to the end of the text.
    """
    headings: list[tuple[int, str, SectionKind]] = []
    lines = [(m.start(), m.group()) for m in _LINE.finditer(text) if m.group()]
    for index, (start, line) in enumerate(lines):
        following = next((rest for _, rest in lines[index + 1 :] if rest.strip()), "")
        kind = _heading_line(line, following)
        if kind is not None:
            headings.append((start + len(line) - len(line.lstrip()), line.strip(), kind))
    sections = []
    for index, (start, line, kind) in enumerate(headings):
        end = headings[index + 1][0] if index + 1 < len(headings) else len(text)
        end = start + len(text[start:end].rstrip())
        sections.append(Section(_title(line), start, end, kind))
    return tuple(sections)


def _heading_line(line: str, following: str) -> SectionKind | None:
    """The kind of ``line`` if it is a heading line followed by text, else None."""
    if not _short(line) or not _text_follows(following):
        return None
    return heading_kind(line)


def _short(line: str) -> bool:
    stripped = line.strip()
    return (
        0 < len(stripped) <= _MAX_HEADING_CHARS
        and (stripped[0].isupper() or stripped[0].isdigit() or stripped[0] == "#")
        and not stripped.endswith(".")
        and len(stripped.split()) <= _MAX_HEADING_WORDS
    )


def _text_follows(following: str) -> bool:
    """Whether the next line is prose or another heading (not a label such as "Open access")."""
    stripped = following.strip()
    if not stripped:
        return False
    if not _short(stripped) or stripped[-1] in _TERMINALS:
        return True
    return heading_kind(stripped) is not None


def _title(line: str) -> str:
    """A heading line as a title: Markdown ``#`` marks and a trailing colon dropped."""
    return line.lstrip("#").strip().rstrip(":").strip()


# --- building a text with its sections ------------------------------------------------


class SectionedText:
    """A text built block by block (blocks apart by a blank line), recording its sections."""

    def __init__(self) -> None:
        self._blocks: list[str] = []
        self._length = 0
        self._sections: list[Section] = []
        self._open: tuple[str, SectionKind] | None = None
        self._open_start: int | None = None

    def add(self, block: str) -> None:
        """Append a block of text (ignored when blank)."""
        if not block.strip():
            return
        if self._blocks:
            self._length += len(BLOCK_SEPARATOR)
        if self._open is not None and self._open_start is None:
            self._open_start = self._length
        self._blocks.append(block)
        self._length += len(block)

    def open(self, title: str, kind: SectionKind) -> None:
        """Start a section (closing the one open): it begins with the next block added."""
        self.close()
        self._open, self._open_start = (title, kind), None

    def close(self) -> None:
        """End the open section at the last block added (a section with no block is dropped)."""
        if self._open is not None and self._open_start is not None:
            title, kind = self._open
            self._sections.append(Section(title, self._open_start, self._length, kind))
        self._open, self._open_start = None, None

    def text(self) -> str:
        return BLOCK_SEPARATOR.join(self._blocks)

    def sections(self) -> tuple[Section, ...]:
        self.close()
        return tuple(self._sections)
