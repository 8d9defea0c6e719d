"""How many patients a case report describes, and which sentences describe each.

Case reports introduce their patients in a few ways: "a 45-year-old woman",
"the patient", "two patients", "Case 2", "the second case". The grounded
strategy reads a document's entities this way when its template has no
``count`` rule of its own, and always splits a series into one block of
sentences per patient.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

from extractor.extraction.evidence import Evidence
from extractor.extraction.sentences import Sentence

MAX_SERIES = 10  # patients filled at most in one case series
_INTRO = re.compile(
    r"\b\d{1,3}[\s-]*(?:year|yr)s?[\s-]*old\b|\baged\s+\d|"
    r"\b(?:a|an|the|this|our|such\s+a)\s+(?:[\w-]+\s+){0,3}"
    r"(?:man|woman|boy|girl|lady|gentleman|patient|male|female)\b",
    re.IGNORECASE,
)
_COUNT_WORDS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
                "nine": 9, "ten": 10}  # fmt: skip
_COUNT = re.compile(
    r"\b(two|three|four|five|six|seven|eight|nine|ten|\d{1,2})\s+(?:[\w-]+\s+){0,2}"
    r"(?:cases|patients)\b(?!\s+(?:of|with|who|have|had|were|reported))",
    re.IGNORECASE,
)
_EVERY = re.compile(r"\b(?:both|all|each\s+of\s+the)\s+(?:\w+\s+)?(?:patients|cases)\b", re.I)
_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5}
_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5}
_ORDINAL = re.compile(
    r"\b(?:the\s+)?(first|second|third|fourth|fifth)\s+(case|patient)\b|"
    r"\b(?:case|patient)\s+(\d|ii?i?|iv|v)\b",
    re.IGNORECASE,
)


def introduced(case: Sequence[Sentence]) -> bool:
    """Whether the case sentences introduce a patient ("a 60-year-old man", "the patient")."""
    return any(_INTRO.search(sentence.text) for sentence in case)


def series_count(text: str) -> int:
    """The patients a sentence says the document describes (0 when it says nothing)."""
    count = 0
    for match in _COUNT.finditer(text):
        word = match.group(1).lower()
        count = max(count, int(word) if word.isdigit() else _COUNT_WORDS.get(word, 0))
    for match in _ORDINAL.finditer(text):
        count = max(count, _ordinal(match))
    return count if count <= MAX_SERIES else 0


def entity_count(evidence: Evidence) -> int:
    """How many patients the case describes: the series count, else one if one is introduced."""
    case = evidence.scoped("case")
    count = max((series_count(sentence.text) for sentence in case), default=0)
    return count if count > 1 else int(introduced(case))


class Block(NamedTuple):
    """One patient to fill: its label and the words that name it, and the text about it."""

    label: str | None
    evidence: Evidence
    named: str | None = None  # the phrase of the text that names it ("the second case")


def blocks(evidence: Evidence, count: int) -> list[Block]:
    """The patients to fill, each with its label and the evidence that describes it.

    One patient reads the whole document, unlabelled; a series is cut where
    the case names its next patient ("Case 2", "the second patient"), inside
    a sentence too ("in the first case, …, and in the second case, …"). A
    sentence about all of them ("both patients were treated with …") belongs
    to each.
    """
    if count <= 0:
        return []
    if count == 1:
        return [Block(None, evidence)]
    found: dict[int, tuple[str, list[str]]] = {}
    named: dict[int, str] = {}
    current: int | None = None
    for sentence in evidence.scoped("case"):
        text, start = sentence.text, 0
        if found and _EVERY.search(text) and not _ORDINAL.search(text):
            for _, texts in found.values():  # "both patients were treated with ...": each of them
                texts.append(text)
            continue
        for match in _ORDINAL.finditer(text):
            number = _ordinal(match)
            if number == current:
                continue
            if current is not None and match.start() > start:
                found[current][1].append(text[start : match.start()].strip())
            current, start = number, match.start()
            found.setdefault(current, (_label(match), []))
            named.setdefault(current, match.group(0).strip())
        if current is not None and text[start:].strip():
            found[current][1].append(text[start:].strip())
    return [
        Block(label, Evidence("\n\n".join(texts)), named[number])
        for number, (label, texts) in sorted(found.items())
    ]


def _ordinal(match: re.Match[str]) -> int:
    word = (match.group(1) or match.group(3)).lower()
    if word.isdigit():
        return int(word)
    return _ORDINALS.get(word, _ROMAN.get(word, 0))


def _label(match: re.Match[str]) -> str:
    """A series patient's label: "Case 2" as written, or "Case 2" for "the second case"."""
    if match.group(3):
        return match.group(0).strip().capitalize()
    return f"{match.group(2).capitalize()} {_ordinal(match)}"
