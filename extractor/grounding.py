"""Evidence quotes and whether they occur in the document they claim to quote.

A record's ``evidence`` quotes are not scored for accuracy; they are checked
for grounding (``shared/spec/case-record.md``, *How a record is scored*): a
quote is grounded when, after lower-casing and collapsing whitespace in both,
it occurs in the document text.
"""

from __future__ import annotations

from extractor.schema import CaseReport, Patient


def normalise(text: str) -> str:
    """Lower-case ``text``, collapse every whitespace run to one space and strip it."""
    return " ".join(text.lower().split())


def is_grounded(quote: str, text: str) -> bool:
    """Whether the normalised ``quote`` is a non-empty substring of the normalised ``text``."""
    needle = normalise(quote)
    return bool(needle) and needle in normalise(text)


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
