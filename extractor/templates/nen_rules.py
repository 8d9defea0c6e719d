"""The NEN record's own finders for the grounded strategy: its lists and its document kind.

The NEN template's ``Ask`` markers name these by ``module:function``; the
generic strategy (``extractor.extraction.grounded``) calls them as it calls
its built-in finders.

**The document kind** (``document_type``, ``reports_nen``, ``n_patients``),
by the spec's definitions: a case series describes two or more patients
(labelled cases, "the second case", "two patients"); a case report
introduces one; a review, editorial or study that introduces none is
``other``. NEN is reported when the case mentions a neuroendocrine neoplasm.

**The lists**, one sentence at a time. Each item is built from the
vocabulary's mentions in one sentence of the case (never from background or
discussion), with that sentence as its verbatim
evidence:

- imaging: a modality, and the tracer named in the same sentence (a tracer
  named without a modality is a PET/CT when it is a positron emitter, as the
  spec reads "PET"); the result is positive when the sentence reports a
  finding, negative when it reports none;
- markers: a marker with the result the words around it state (positive or
  negative staining, elevated or normal levels); a marker whose result is
  not stated is left out, since the scorer keys markers by name and result;
- treatments: every agent named (with the type it implies) and every
  treatment type named without an agent; planned, refused or negated
  treatments are left out, and a response named in the same sentence is
  attributed to the treatment.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from typing import Any

from extractor.extraction.entities import introduced, series_count
from extractor.extraction.evidence import Candidate, Evidence
from extractor.extraction.finders import negated
from extractor.extraction.sentences import Sentence
from extractor.record.markers import Ask
from extractor.record.vocabulary import Vocabulary

_FINDING = re.compile(
    r"\b(reveal|show|demonstrat|detect|identif|confirm|found|visuali[sz]|uptake|avid|lesion|"
    r"mass|nodul|tumou?r|thicken|enlarg|positive|metasta|hypermetabol|focus|foci)",
    re.IGNORECASE,
)
_NO_FINDING = re.compile(
    r"\b(no|without|negative|normal|unremarkable|did not (?:show|reveal|detect))\b", re.IGNORECASE
)
_PLANNED = re.compile(
    r"\b(plan(?:ned)?|schedul\w*|recommend\w*|refer(?:red)?\s+(?:for|to)|candidate|consider\w*|"
    r"propos\w*|declin\w*|refus\w*|will\s+(?:be|receive|undergo)|could\s+not|not\s+eligible|"
    r"contraindicat\w*|was\s+offered)\b",
    re.IGNORECASE,
)
_RESULT_WORDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("negative", re.compile(r"\bnegative\b|\(-\)|\bnot\s+(?:express|stain)", re.I)),
    ("positive", re.compile(r"\bpositiv\w*|\(\+\)|\bexpress\w*|\bimmunoreactiv|\bstain", re.I)),
    ("normal", re.compile(r"\bnormal\b|\bwithin\s+(?:the\s+)?(?:normal|reference)", re.I)),
    ("elevated", re.compile(r"\belevat\w*|\braised\b|\bhigh\w*|\bincreas\w*|\babove\b", re.I)),
)  # fmt: skip
_TISSUE = re.compile(r"immunohisto|\bstain|\bIHC\b|positiv|negativ|express", re.IGNORECASE)
_BLOOD = re.compile(r"\bserum\b|\bplasma\b|\bblood\b|\blevels?\b|ng/ml|pg/ml|u/l|\bnmol", re.I)
_URINE = re.compile(r"\burin", re.IGNORECASE)
_PET_TRACERS = ("68Ga-", "18F-", "64Cu-")


def _case(evidence: Evidence) -> list[Sentence]:
    return evidence.scoped("case")


def imaging(evidence: Evidence, ask: Ask, vocab: Vocabulary) -> list[dict[str, Any]]:
    """One imaging item per (modality, tracer) stated in the case, first sentence kept."""
    items: dict[tuple[str, str | None], dict[str, Any]] = {}
    for sentence in _case(evidence):
        text = sentence.text
        modalities = [m for m in vocab.find("modality", text) if not negated(text, m.start, m.end)]
        tracers = [m.term.value for m in vocab.find("tracer", text)]
        tracer = tracers[0] if len(set(tracers)) == 1 else None
        modalities_found: list[tuple[str, str | None]]
        if not modalities and tracer and tracer.startswith(_PET_TRACERS):
            modalities_found = [("PET/CT", tracer)]
        else:
            modalities_found = [
                (m.term.value, tracer if m.term.value.startswith(("PET", "SPECT")) else None)
                for m in modalities
            ]
        for key in modalities_found:
            if key not in items:
                items[key] = {"modality": key[0], "tracer": key[1], "result": _finding(text),
                              "evidence": evidence.quote(sentence)}  # fmt: skip
    return list(items.values())


def _finding(text: str) -> str | None:
    if _NO_FINDING.search(text) and not _FINDING.search(text.split(",", maxsplit=1)[0]):
        return "negative"
    return "positive" if _FINDING.search(text) else None


def biomarkers(evidence: Evidence, ask: Ask, vocab: Vocabulary) -> list[dict[str, Any]]:
    """One marker item per (name, result) stated in the case."""
    items: dict[tuple[str, str], dict[str, Any]] = {}
    for sentence in _case(evidence):
        text = sentence.text
        for mention in vocab.find("biomarker", text):
            window = text[max(0, mention.start - 40) : mention.end + 60]
            result = next((name for name, pattern in _RESULT_WORDS if pattern.search(window)), None)
            if result is None or (mention.term.value, result) in items:
                continue
            specimen = (
                "urine" if _URINE.search(window)
                else "tissue" if result in ("positive", "negative") and _TISSUE.search(window)
                else "blood" if _BLOOD.search(window) else None
            )  # fmt: skip
            items[(mention.term.value, result)] = {
                "name": mention.term.value, "specimen": specimen, "result": result,
                "evidence": evidence.quote(sentence, mention.start, mention.end),
            }  # fmt: skip
    return list(items.values())


def treatments(evidence: Evidence, ask: Ask, vocab: Vocabulary) -> list[dict[str, Any]]:
    """One treatment per (type, agent) given in the case, in order of first mention."""
    items: dict[tuple[str, str | None], dict[str, Any]] = {}
    typed_with_agent: set[str] = set()
    for sentence in _case(evidence):
        text = sentence.text
        if _PLANNED.search(text):
            continue
        responses = [m.term.value for m in vocab.find("response", text)]
        response = responses[0] if len(set(responses)) == 1 else None
        for mention in vocab.find("agent", text):
            if negated(text, mention.start, mention.end):
                continue
            kind = mention.term.implies or "other"
            typed_with_agent.add(kind)
            key: tuple[str, str | None] = (kind, mention.term.value)
            items.setdefault(key, _treatment(key, response, evidence, sentence, mention.start))
        for mention in vocab.find("treatment_type", text):
            if negated(text, mention.start, mention.end):
                continue
            key = (mention.term.value, None)
            items.setdefault(key, _treatment(key, response, evidence, sentence, mention.start))
    return [
        item for key, item in items.items() if key[1] is not None or key[0] not in typed_with_agent
    ]


def _treatment(
    key: tuple[str, str | None], response: str | None, evidence: Evidence, sentence: Sentence,
    start: int,
) -> dict[str, Any]:  # fmt: skip
    return {
        "type": key[0], "agent": key[1], "detail": None, "cycles": None, "response": response,
        "evidence": evidence.quote(sentence, start, start + 1),
    }  # fmt: skip


# --- the document kind ---------------------------------------------------------------


@lru_cache(maxsize=8)
def _kind(evidence: Evidence, vocab: Vocabulary) -> tuple[str, bool, int | None]:
    """``document_type``, ``reports_nen`` and ``n_patients`` of one document, found once."""
    case = evidence.scoped("case")
    head = " ".join(s.text for s in evidence.front()[:12])
    kinds = Counter(m.term.value for m in vocab.find("document_type", head))
    count = max((series_count(s.text) for s in case), default=0)
    if kinds["other"] and not (kinds["case_report"] or kinds["case_series"]):
        kind, n = "other", None  # a study, trial, review or editorial, whatever it counts
    elif count > 1 or kinds["case_series"]:
        kind, n = "case_series", max(count, 2)
    elif introduced(case) or kinds["case_report"]:
        kind, n = "case_report", 1
    else:
        kind, n = "other", None
    nen = any(
        not negated(s.text, start, end)
        for s in case
        for start, end in vocab.find_cues("reports_nen", s.text)
    )
    return kind, kind != "other" and nen, n


def _stated(evidence: Evidence, value: Any) -> list[Candidate]:
    """``value`` as the one candidate, quoted from the document's first sentence."""
    first = evidence.sentences[0] if evidence.sentences else None
    return [Candidate(value, 0 if first is None else first.index, "")]


def document_type(evidence: Evidence, ask: Ask, vocab: Vocabulary) -> list[Candidate]:
    """The document's type, by the spec's definitions."""
    return _stated(evidence, _kind(evidence, vocab)[0])


def reports_nen(evidence: Evidence, ask: Ask, vocab: Vocabulary) -> list[Candidate]:
    """Whether the case is a neuroendocrine neoplasm (never for ``other`` documents)."""
    return _stated(evidence, _kind(evidence, vocab)[1])


def patient_count(evidence: Evidence, ask: Ask, vocab: Vocabulary) -> list[Candidate]:
    """How many patients the document reports as cases (None for ``other`` documents)."""
    return _stated(evidence, _kind(evidence, vocab)[2])
