"""Evidence quotes: where they occur in the document, and records kept to what is traceable.

A record's ``evidence`` quotes are not scored for accuracy; they are checked
for grounding (``shared/spec/case-record.md``, *How a record is scored*): a
quote is grounded when, after lower-casing and collapsing whitespace in both
(and joining words split by a line-end hyphen), it occurs in the document.

``align`` finds a quote's character offsets in three steps, each with its
status: ``exact``, then ``normalised``, then ``fuzzy`` (the best window of
document words sharing at least ``FUZZY_THRESHOLD`` of the quote's words); a
quote found by none is ``ungrounded``. Only ``exact`` and ``normalised``
count as grounded; ``fuzzy`` offsets point a reviewer at the likely source.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any, Literal

from extractor.record.schema import PATIENT_SCALARS, CaseReport, Patient

Status = Literal["exact", "normalised", "fuzzy", "ungrounded"]
FUZZY_THRESHOLD = 0.8
_HYPHEN_BREAK = re.compile(r"(?<=\w)-[ \t]*\r?\n\s*(?=\w)")
_WORD = re.compile(r"\w+")


def normalise(text: str) -> str:
    """Lower-case ``text``, join line-end hyphenation, collapse whitespace runs, strip."""
    return " ".join(_HYPHEN_BREAK.sub("", text).lower().split())


def is_grounded(quote: str, text: str) -> bool:
    """Whether the normalised ``quote`` is a non-empty substring of the normalised ``text``."""
    needle = normalise(quote)
    return bool(needle) and needle in normalise(text)


@dataclass(frozen=True)
class Alignment:
    """Where one evidence quote sits in its document (offsets are ``None`` when ungrounded)."""

    where: str
    status: Status
    start: int | None = None
    end: int | None = None

    @property
    def grounded(self) -> bool:
        """Found verbatim, or after whitespace, case and hyphenation normalisation."""
        return self.status in ("exact", "normalised")

    def to_dict(self) -> dict[str, Any]:
        """JSON form for output lines."""
        return {"where": self.where, "status": self.status, "start": self.start, "end": self.end}


def _normalised_with_offsets(text: str) -> tuple[str, list[int]]:
    """``normalise(text)`` and, for each of its characters, the offset it came from."""
    chars: list[str] = []
    offsets: list[int] = []
    skip_until = -1
    breaks = {m.start(): m.end() for m in _HYPHEN_BREAK.finditer(text)}
    for index, char in enumerate(text):
        if index < skip_until:
            continue
        if index in breaks:
            skip_until = breaks[index]
            continue
        if char.isspace():
            if chars and chars[-1] != " ":
                chars.append(" ")
                offsets.append(index)
            continue
        chars.append(char.lower())
        offsets.append(index)
    if chars and chars[-1] == " ":
        chars.pop()
        offsets.pop()
    return "".join(chars), offsets


def align(quote: str, text: str, where: str = "") -> Alignment:
    """Locate ``quote`` in ``text``: exact, normalised, fuzzy, or ungrounded."""
    if not quote.strip():
        return Alignment(where, "ungrounded")
    start = text.find(quote)
    if start >= 0:
        return Alignment(where, "exact", start, start + len(quote))
    haystack, offsets = _normalised_with_offsets(text)
    needle = normalise(quote)
    found = haystack.find(needle)
    if found >= 0:
        return Alignment(where, "normalised", offsets[found], offsets[found + len(needle) - 1] + 1)
    return _fuzzy(quote, text, where)


def _fuzzy(quote: str, text: str, where: str) -> Alignment:
    wanted = Counter(word.lower() for word in _WORD.findall(quote))
    size = sum(wanted.values())
    words = list(_WORD.finditer(text))
    if size < 3 or len(words) < size:
        return Alignment(where, "ungrounded")
    best, best_at = 0.0, -1
    window: Counter[str] = Counter(m.group().lower() for m in words[:size])
    for first in range(len(words) - size + 1):
        if first:
            window[words[first - 1].group().lower()] -= 1
            window[words[first + size - 1].group().lower()] += 1
        overlap = sum((window & wanted).values()) / size
        if overlap > best:
            best, best_at = overlap, first
    if best < FUZZY_THRESHOLD:
        return Alignment(where, "ungrounded")
    return Alignment(where, "fuzzy", words[best_at].start(), words[best_at + size - 1].end())


def align_record(record: CaseReport, text: str) -> list[Alignment]:
    """Every evidence quote of ``record`` aligned to ``text``."""
    return [align(quote, text, where) for where, quote in evidence_quotes(record)]


def evidence_quotes(record: CaseReport) -> list[tuple[str, str]]:
    """Every evidence quote of ``record`` as ``(where, quote)``, in record order.

    ``where`` is a readable path such as ``patients[0].evidence.age_years``,
    ``patients[0].imaging[1].evidence`` or ``patients[0].outcome.evidence.status``.
    Missing (``None``) quotes are skipped.
    """
    quotes: list[tuple[str, str]] = []
    for index, patient in enumerate(record.patients):
        quotes.extend(_patient_quotes(f"patients[{index}]", patient))
    return quotes


def _patient_quotes(prefix: str, patient: Patient) -> list[tuple[str, str]]:
    """The quotes of one patient, their paths starting with ``prefix``."""
    quotes = [(f"{prefix}.evidence.{key}", quote) for key, quote in patient.evidence.items()]
    items = {
        "imaging": [item.evidence for item in patient.imaging],
        "biomarkers": [item.evidence for item in patient.biomarkers],
        "treatments": [item.evidence for item in patient.treatments],
    }
    for name, item_quotes in items.items():
        quotes.extend(
            (f"{prefix}.{name}[{position}].evidence", quote)
            for position, quote in enumerate(item_quotes)
            if quote is not None
        )
    quotes.extend(
        (f"{prefix}.outcome.evidence.{key}", quote)
        for key, quote in patient.outcome.evidence.items()
    )
    return quotes


def require_grounding(record: CaseReport, text: str) -> CaseReport:
    """``record`` keeping only traceable values.

    A patient or outcome value whose evidence quote is missing or ungrounded
    becomes null (``metastatic_sites`` empty); an imaging, biomarker or
    treatment item without a grounded quote is dropped. Document-level fields
    carry no evidence and are kept.
    """
    patients = [_grounded_patient(patient, text) for patient in record.patients]
    return record.model_copy(update={"patients": patients})


def _grounded_patient(patient: Patient, text: str) -> Patient:
    def traced(quote: str | None) -> bool:
        return quote is not None and is_grounded(quote, text)

    evidence = patient.evidence
    update: dict[str, Any] = {
        name: getattr(patient, name) if traced(getattr(evidence, name)) else None
        for name in PATIENT_SCALARS
    }
    update["metastatic_sites"] = (
        patient.metastatic_sites if traced(evidence.metastatic_sites) else []
    )
    for name in ("imaging", "biomarkers", "treatments"):
        update[name] = [item for item in getattr(patient, name) if traced(item.evidence)]
    outcome = patient.outcome
    update["outcome"] = outcome.model_copy(
        update={
            "status": outcome.status if traced(outcome.evidence.status) else None,
            "follow_up_months": (
                outcome.follow_up_months if traced(outcome.evidence.follow_up_months) else None
            ),
        }
    )
    return patient.model_copy(update=update)
