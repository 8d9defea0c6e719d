"""A document as evidence: its sentences, which part of the article each is in, and quotes.

The grounded strategy reads a document sentence by sentence. Headings
("Case presentation", "Discussion", structured-abstract labels such as
"BACKGROUND:") put each sentence in a part of the article; the spec says
background, discussion and literature review never fill a patient field, so
those sentences (and any sentence that cites the literature) are out of the
``case`` scope. A quote is always a verbatim slice of one sentence, so every
value built from it is grounded by construction.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

from extractor.extraction.sentences import Sentence, split_sentences
from extractor.io.sections import heading_kind
from extractor.record.markers import Scope

Part = Literal["front", "case", "background", "discussion", "references", "other"]

MAX_QUOTE = 400  # the record's bound on an evidence quote
FRONT_CHARS = 3000  # the head of a document, where its own title, DOI and journal sit

# Headings after which nothing fills a field (sections.py calls them "other" headings).
_CLOSING = re.compile(
    r"^(?:references|bibliography|acknowledg|funding|financial support|conflicts? of interest|"
    r"competing interests?|disclosures?|authors?'? contributions?|declarations?|ethics|consent|"
    r"abbreviations|data availability)",
    re.IGNORECASE,
)
_KIND_PART: dict[str, Part] = {
    "title": "front", "abstract": "other", "case": "case", "background": "background",
    "discussion": "discussion", "other": "other",
}  # fmt: skip
_LABEL = re.compile(r"^([A-Z][A-Za-z ]{2,40}):\s")
_LITERATURE = re.compile(
    r"\bet al\b|\[\d+(?:\s*[,\u2013-]\s*\d+)*\]|"
    r"\b(?:reported|described|documented|published) in the literature\b|"
    r"previously (?:been )?(?:reported|described)|\breported cases\b|"
    r"\bstud(?:y|ies) (?:have|has) (?:shown|reported)\b",
    re.IGNORECASE,
)
_FRONT_LABEL = re.compile(r"^(title|source|authors?|journal|doi|keywords?)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Candidate:
    """A value the text may state, the sentence that states it, and a verbatim quote."""

    value: Any
    sentence: int
    quote: str
    surface: str = ""
    weight: float = 1.0
    meaning: Any = None


def heading_part(line: str) -> Part | None:
    """The part of the article a heading (or a structured-abstract label) opens, if any.

    Heading words are classified as the document's sections are
    (``extractor.io.sections.heading_kind``). A heading that names no kind
    ("Methods", "Results") opens ``other``, which may state patient fields:
    only the parts the spec names, and the back matter, are closed.
    """
    words = line.strip().rstrip(":").strip()
    if not words or len(words) > 80:
        return None
    if _FRONT_LABEL.match(words):
        return "front"
    if _CLOSING.match(words):
        return "references"
    kind = heading_kind(words)
    return "other" if kind is None else _KIND_PART[kind]


class Evidence:
    """One document's sentences, each in a part of the article, with quoting helpers."""

    def __init__(self, text: str, closed: Sequence[tuple[int, int]] = ()) -> None:
        self.text = text
        self.closed = tuple(closed)  # spans the document's own sections call background/discussion

    @cached_property
    def sentences(self) -> tuple[Sentence, ...]:
        """The document's sentences with their character offsets."""
        return split_sentences(self.text)

    @cached_property
    def parts(self) -> tuple[Part, ...]:
        """The part of the article each sentence is in (``front`` before any heading)."""
        current: Part = "front"
        parts: list[Part] = []
        for sentence in self.sentences:
            opened = self._opens(sentence.text)
            if opened is not None:
                current = opened
            parts.append(current)
        return tuple(parts)

    @staticmethod
    def _opens(text: str) -> Part | None:
        """The part a heading line or a leading ``Label:`` opens (None: not a heading)."""
        label = _LABEL.match(text)
        if label:
            return heading_part(label.group(1))
        line = text.strip()
        if "\n" in line or line.endswith((".", "?", "!", ",", ";")) or len(line.split()) > 8:
            return None
        return heading_part(line) if line[:1].isupper() else None

    def in_scope(self, index: int, scope: Scope) -> bool:
        """Whether sentence ``index`` may state a field of ``scope``."""
        if scope == "document":
            return True
        part = self.parts[index]
        if part in ("background", "discussion", "references"):
            return False
        start = self.sentences[index].start
        if any(first <= start < last for first, last in self.closed):
            return False
        return not _LITERATURE.search(self.sentences[index].text)

    def scoped(self, scope: Scope) -> list[Sentence]:
        """The sentences that may state a field of ``scope``, in document order."""
        return self._case if scope == "case" else list(self.sentences)

    @cached_property
    def _case(self) -> list[Sentence]:
        """The sentences of the case scope, found once for every field that reads them."""
        return [s for s in self.sentences if self.in_scope(s.index, "case")]

    @cached_property
    def _front(self) -> list[Sentence]:
        return [
            s for s in self.sentences if s.start < FRONT_CHARS or self.parts[s.index] == "front"
        ]

    def front(self) -> list[Sentence]:
        """The sentences of the document's head (its own title, DOI, journal and year)."""
        return self._front

    def is_line(self, sentence: Sentence) -> bool:
        """Whether ``sentence`` is a whole line of the text (a title, a heading, a label)."""
        before = self.text[sentence.start - 1] if sentence.start else "\n"
        after = self.text[sentence.end] if sentence.end < len(self.text) else "\n"
        return before == "\n" and after in "\r\n"

    @cached_property
    def _head_lines(self) -> list[tuple[int, str]]:
        lines, offset = [], 0
        for line in self.text[:FRONT_CHARS].splitlines(keepends=True):
            if line.strip():
                lines.append((offset, line.rstrip("\r\n")))
            offset += len(line)
        return lines

    def head_lines(self) -> list[tuple[int, str]]:
        """The lines of the document's head with their offsets (citation lines stay whole)."""
        return self._head_lines

    def candidate_at(self, value: Any, start: int, end: int) -> Candidate:
        """A candidate ``value`` at document offsets ``[start, end)``, quoted from its line."""
        index = next(
            (s.index for s in self.sentences if s.start <= start < s.end),
            self.sentences[-1].index if self.sentences else 0,
        )
        line_start = self.text.rfind("\n", 0, start) + 1
        line_end = self.text.find("\n", end)
        line_end = len(self.text) if line_end < 0 else line_end
        first = max(line_start, min(start - MAX_QUOTE // 2, line_end - MAX_QUOTE))
        quote = self.text[first : min(line_end, first + MAX_QUOTE)].strip()
        return Candidate(value, index, quote, self.text[start:end])

    def quote(self, sentence: Sentence, start: int = 0, end: int | None = None) -> str:
        """A verbatim quote of ``sentence`` around ``[start, end)`` (sentence-relative)."""
        text = sentence.text
        if len(text) <= MAX_QUOTE:
            return text
        end = len(text) if end is None else end
        middle = (start + end) // 2
        first = max(0, min(middle - MAX_QUOTE // 2, len(text) - MAX_QUOTE))
        return text[first : first + MAX_QUOTE].strip()

    def candidate(self, value: Any, sentence: Sentence, start: int, end: int) -> Candidate:
        """A candidate ``value`` found at ``[start, end)`` of ``sentence``."""
        return Candidate(
            value, sentence.index, self.quote(sentence, start, end), sentence.text[start:end]
        )
