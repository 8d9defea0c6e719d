"""Evidence quotes: where they occur in the document, and records kept to what is traceable.

A record's ``evidence`` quotes are not scored for accuracy; they are checked
for grounding (``shared/spec/case-record.md``, *How a record is scored*): a
quote is grounded when, after lower-casing and collapsing whitespace in both
(and joining words split by a line-end hyphen), it occurs in the document.

``Aligner`` holds one document, normalised once however many quotes are
aligned to it, and finds a quote's character offsets in three steps, each
with its status: ``exact``, then ``normalised``, then ``fuzzy`` (the best
order-aware partial match of at least ``FUZZY_SCORE`` by rapidfuzz's
``partial_ratio_alignment``, linear in the document); a quote found by none
is ``ungrounded``. Only ``exact`` and ``normalised`` count as grounded;
``fuzzy`` offsets point a reviewer at the likely source.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any, Literal

from rapidfuzz import fuzz

from extractor.record.schema import PATIENT_SCALARS, CaseReport, Patient

Status = Literal["exact", "normalised", "fuzzy", "ungrounded"]
FUZZY_SCORE = 85.0  # rapidfuzz's 0-100 similarity of the quote to its best window
MIN_FUZZY_CHARS = 12  # shorter quotes match too much by chance
_HYPHEN_BREAK = re.compile(r"(?<=\w)-[ \t]*\r?\n\s*(?=\w)")


def normalise(text: str) -> str:
    """Lower-case ``text``, join line-end hyphenation, collapse whitespace runs, strip."""
    return " ".join(_HYPHEN_BREAK.sub("", text).lower().split())


@lru_cache(maxsize=16)
def _normalised_document(text: str) -> str:
    return normalise(text)


def is_grounded(quote: str, text: str) -> bool:
    """Whether the normalised ``quote`` is a non-empty substring of the normalised ``text``."""
    needle = normalise(quote)
    return bool(needle) and needle in _normalised_document(text)


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


class Aligner:
    """One document, normalised once, to align any number of quotes against."""

    def __init__(self, text: str) -> None:
        self.text = text

    @cached_property
    def _normalised(self) -> tuple[str, list[int]]:
        """``normalise(text)`` and, for each of its characters, the offset it came from."""
        text = self.text
        chars: list[str] = []
        offsets: list[int] = []
        position = 0
        for match in re.finditer(r"\S+", _HYPHEN_BREAK.sub(lambda m: "\x00" * len(m[0]), text)):
            if chars:
                chars.append(" ")
                offsets.append(position)
            for index in range(match.start(), match.end()):
                if text[index] != "\x00" and match.string[index] != "\x00":
                    chars.append(text[index].lower())
                    offsets.append(index)
            position = match.end()
        return "".join(chars), offsets

    def align(self, quote: str, where: str = "") -> Alignment:
        """Locate ``quote``: exact, normalised, fuzzy, or ungrounded."""
        if not quote.strip():
            return Alignment(where, "ungrounded")
        start = self.text.find(quote)
        if start >= 0:
            return Alignment(where, "exact", start, start + len(quote))
        haystack, offsets = self._normalised
        needle = normalise(quote)
        found = haystack.find(needle)
        if found >= 0:
            end = offsets[found + len(needle) - 1] + 1
            return Alignment(where, "normalised", offsets[found], end)
        if len(needle) < MIN_FUZZY_CHARS or not haystack:
            return Alignment(where, "ungrounded")
        best = fuzz.partial_ratio_alignment(needle, haystack, score_cutoff=FUZZY_SCORE)
        if best is None or best.dest_end <= best.dest_start:
            return Alignment(where, "ungrounded")
        return Alignment(where, "fuzzy", offsets[best.dest_start], offsets[best.dest_end - 1] + 1)

    def grounded(self, quote: str | None) -> bool:
        """Whether ``quote`` is present and grounded in this document."""
        if quote is None:
            return False
        needle = normalise(quote)
        return bool(needle) and needle in self._normalised[0]


def align(quote: str, text: str, where: str = "") -> Alignment:
    """Locate ``quote`` in ``text`` (see ``Aligner.align``)."""
    return Aligner(text).align(quote, where)


def align_record(record: CaseReport, text: str | Aligner) -> list[Alignment]:
    """Every evidence quote of ``record`` aligned to ``text`` (normalised once)."""
    aligner = text if isinstance(text, Aligner) else Aligner(text)
    return [aligner.align(quote, where) for where, quote in evidence_quotes(record)]


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


def require_grounding(record: CaseReport, text: str | Aligner) -> CaseReport:
    """``record`` keeping only traceable values.

    A patient or outcome value whose evidence quote is missing or ungrounded
    becomes null (``metastatic_sites`` empty); an imaging, biomarker or
    treatment item without a grounded quote is dropped. Document-level fields
    carry no evidence and are kept.
    """
    aligner = text if isinstance(text, Aligner) else Aligner(text)
    patients = [_grounded_patient(patient, aligner) for patient in record.patients]
    return record.model_copy(update={"patients": patients})


def _grounded_patient(patient: Patient, aligner: Aligner) -> Patient:
    traced = aligner.grounded

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
