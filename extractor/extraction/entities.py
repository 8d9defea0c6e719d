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


def blocks(evidence: Evidence, count: int) -> list[tuple[str | None, Evidence]]:
    """The patients to fill, each with its label and the evidence that describes it.

    One patient reads the whole document, unlabelled; a series is cut where
    the case names its next patient ("Case 2", "the second patient").
    """
    if count <= 0:
        return []
    if count == 1:
        return [(None, evidence)]
    found: dict[int, tuple[str, list[str]]] = {}
    current: int | None = None
    for sentence in evidence.scoped("case"):
        match = _ORDINAL.search(sentence.text)
        if match:
            current = _ordinal(match)
            found.setdefault(current, (_label(match), []))
        if current is not None:
            found[current][1].append(sentence.text)
    return [(label, Evidence("\n\n".join(texts))) for _, (label, texts) in sorted(found.items())]


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
