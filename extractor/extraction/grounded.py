"""The grounded strategy: the framework finds where each field is stated; the model only chooses.

A small model cannot read a whole report and fill forty fields, but it can
answer one closed question about a few sentences. So, for each field that
declares an ``Ask`` (``extractor.record.markers``), the framework:

1. finds the candidates the text offers (``finders``, ``items``): values
   stated in sentences of the right part of the article, each with the
   verbatim sentence that states it;
2. keeps none when there is none (the field is null: nothing is invented);
3. keeps the one value when all candidates agree: it is stated by a pattern
   the spec defines (an age written as an age, a site named by the
   vocabulary), which is the check;
4. asks the model when candidates disagree, with a grammar that allows only
   the candidates or ``none``, over only the sentences that state them.

Every kept value therefore carries a verbatim evidence quote by
construction, and ``sources`` records which mechanism gave each field
(``rule``, ``model`` or ``none``).
"""

from __future__ import annotations

import re
from collections import Counter
from functools import cache
from typing import Any, Literal

from pydantic import BaseModel, create_model

from extractor.config import StrategyName
from extractor.extraction.evidence import Candidate, Evidence
from extractor.extraction.finders import FINDERS, negated
from extractor.extraction.items import ITEM_FINDERS
from extractor.extraction.prompts import Prompt, fill
from extractor.io.sections import Section
from extractor.model.base import Completion, ModelClient, Usage
from extractor.record.markers import Ask, asks
from extractor.record.schema import CaseReport, Outcome, Patient
from extractor.record.vocabulary import Vocabulary, vocabulary

NONE = "none"
MAX_OPTIONS = 6  # a closed question lists at most this many candidates
MAX_SENTENCES = 6  # and quotes at most this many sentences
MAX_SERIES = 10  # patients filled at most in one case series
_PATIENT_INTRO = re.compile(
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
_CHOOSE = (
    "Question: {{ question }}\nOptions: {{ options }}\n"
    "Answer with the option that the sentences state, or none."
)


@cache
def choice_model(path: str, options: tuple[str, ...]) -> type[BaseModel]:
    """The answer model of one closed question: one of ``options`` or ``none``."""
    answer: Any = Literal[(*options, NONE)]
    return create_model("Choice", __doc__=path, answer=(answer, ...))


class _Asker:
    """Asks the closed questions of one document, adding up what they cost."""

    def __init__(self, client: ModelClient, prompt: Prompt, evidence: Evidence) -> None:
        self.client, self.prompt, self.evidence = client, prompt, evidence
        self.usage, self.attempts = Usage(), 0

    async def choose(self, path: str, ask: Ask, options: dict[str, Candidate]) -> str | None:
        """The option the model picks for ``path`` (``None`` for ``none``)."""
        keys = tuple(options)[:MAX_OPTIONS]
        sentences = sorted({options[key].sentence for key in keys})[:MAX_SENTENCES]
        numbered = "\n".join(
            f"[{n}] {self.evidence.sentences[i].text}" for n, i in enumerate(sentences, start=1)
        )
        task = fill(self.prompt.tasks.get("choose", _CHOOSE), question=ask.question,
                    options=", ".join(keys))  # fmt: skip
        messages = [
            {"role": "system", "content": self.prompt.system},
            {"role": "user", "content": fill(self.prompt.user, document=numbered, task=task)},
        ]
        answer = await self.client.complete(messages, choice_model(path, keys))
        self.usage += answer.usage
        self.attempts += answer.attempts
        chosen = str(getattr(answer.record, "answer", NONE))
        return None if chosen == NONE else chosen


class Grounded:
    """Each field from the sentences that state it; the model chooses among candidates."""

    name: StrategyName = "grounded"
    code_revision = 5  # bump whenever a finder or a marker changes an answer
    splits = False  # each question quotes a few sentences, never the whole text

    def __init__(self, ask_model: bool = True, vocab: Vocabulary | None = None) -> None:
        self.ask_model = ask_model
        self.vocab = vocab

    async def extract(
        self, client: ModelClient, prompt: Prompt, text: str, sections: tuple[Section, ...] = ()
    ) -> Completion[CaseReport]:
        closed = [(s.start, s.end) for s in sections if s.kind in ("background", "discussion")]
        evidence = Evidence(text, closed=closed)
        asker = _Asker(client, prompt, evidence)
        sources: dict[str, str] = {}
        record: dict[str, Any] = {}
        for name, ask in asks(CaseReport).items():
            if ask.finder in FINDERS:
                record[name], _ = await self._field(name, ask, evidence, asker, sources)
        kind = self._document_kind(evidence)
        record.update(kind)
        sources.update(dict.fromkeys(kind, "rule"))
        record["patients"] = [
            await self._patient(f"patients[{n}]", part, asker, sources, label)
            for n, (label, part) in enumerate(self._patients(evidence, record))
        ]
        return Completion(
            record=CaseReport.model_validate(record),
            usage=asker.usage,
            attempts=asker.attempts,
            sources=sources,
        )

    @property
    def revision(self) -> str:
        """The code revision and the vocabulary's hash: either changes the answers."""
        return f"{self.code_revision}.{self._vocab().sha256[:12]}"

    def _vocab(self) -> Vocabulary:
        return self.vocab or vocabulary()

    async def _field(
        self, path: str, ask: Ask, evidence: Evidence, asker: _Asker, sources: dict[str, str],
        *, siblings: dict[str, Any] | None = None,
    ) -> tuple[Any, str | None]:  # fmt: skip
        """The value of one scalar field and its quote, with its mechanism in ``sources``."""
        found = FINDERS[ask.finder](evidence, ask, self._vocab())
        if ask.words_of is not None:
            meant = (siblings or {}).get(ask.words_of)
            found = [c for c in found if meant is not None and c.meaning == meant]
        if not found:
            sources[path] = "none"
            return None, None
        options = _options(found, ask)
        if len(options) == 1 or not self.ask_model or ask.pick in ("any_true", "max", "last"):
            sources[path] = "rule"
            chosen = _picked(found, options, ask)
        else:
            sources[path] = "model"
            chosen = await asker.choose(path, ask, {str(k): c for k, c in options.items()})
            chosen = next((k for k in options if str(k) == chosen), None)
        if chosen is None:
            return None, None
        return chosen, options[chosen].quote

    async def _patient(
        self, path: str, evidence: Evidence, asker: _Asker, sources: dict[str, str],
        label: str | None,
    ) -> dict[str, Any]:  # fmt: skip
        patient: dict[str, Any] = {"label": label, "evidence": {}}
        sources[f"{path}.label"] = "rule"
        vocab = self._vocab()
        for name, ask in asks(Patient).items():
            if ask.finder in ITEM_FINDERS:
                patient[name] = ITEM_FINDERS[ask.finder](evidence, vocab)
                continue
            if ask.finder not in FINDERS:  # filled from the document's structure (label)
                continue
            if ask.many:
                value, quote = self._values(evidence, ask, patient.get(ask.unlike or ""))
                sources[f"{path}.{name}"] = "rule" if value else "none"
            else:
                value, quote = await self._field(
                    f"{path}.{name}", ask, evidence, asker, sources, siblings=patient
                )
            patient[name] = value
            if quote is not None and value not in (None, []):
                patient["evidence"][name] = quote
        patient["outcome"] = {"evidence": {}}
        for name, ask in asks(Outcome).items():
            value, quote = await self._field(
                f"{path}.outcome.{name}", ask, evidence, asker, sources
            )
            patient["outcome"][name] = value
            if quote is not None and value is not None:
                patient["outcome"]["evidence"][name] = quote
        return patient

    def _values(self, evidence: Evidence, ask: Ask, unlike: Any) -> tuple[list[Any], str | None]:
        """Every distinct value stated for a list field (``unlike`` left out), first quote."""
        found = [c for c in FINDERS[ask.finder](evidence, ask, self._vocab()) if c.value != unlike]
        return sorted({c.value for c in found}), (found[0].quote if found else None)

    def _document_kind(self, evidence: Evidence) -> dict[str, Any]:
        """document_type, reports_nen and n_patients, by the spec's own definitions.

        A case series describes two or more patients (labelled cases, "the
        second case", "two patients"); a case report introduces one; a review,
        editorial or study that introduces none is ``other``. NEN is reported
        when the case mentions a neuroendocrine neoplasm.
        """
        vocab = self._vocab()
        case = evidence.scoped("case")
        head = " ".join(s.text for s in evidence.front()[:12])
        kinds = Counter(m.term.value for m in vocab.find("document_type", head))
        count = max((_series_count(s.text) for s in case), default=0)
        introduced = any(_PATIENT_INTRO.search(s.text) for s in case)
        if kinds["other"] and not (kinds["case_report"] or kinds["case_series"]):
            kind, n = "other", None  # a study, trial, review or editorial, whatever it counts
        elif count > 1 or kinds["case_series"]:
            kind, n = "case_series", max(count, 2)
        elif introduced or kinds["case_report"]:
            kind, n = "case_report", 1
        else:
            kind, n = "other", None
        nen = any(
            not negated(s.text, start, end)
            for s in case
            for start, end in vocab.find_cues("reports_nen", s.text)
        )
        return {"document_type": kind, "reports_nen": kind != "other" and nen, "n_patients": n}

    def _patients(
        self, evidence: Evidence, record: dict[str, Any]
    ) -> list[tuple[str | None, Evidence]]:
        """The patients to fill, each with the evidence that describes them."""
        if not record["reports_nen"] or record["document_type"] == "other":
            return []
        if record["document_type"] == "case_report":
            return [(None, evidence)]
        blocks: dict[int, tuple[str, list[str]]] = {}
        current: int | None = None
        for sentence in evidence.scoped("case"):
            found = _ORDINAL.search(sentence.text)
            if found:
                current = _ordinal(found)
                blocks.setdefault(current, (_label(found), []))
            if current is not None:
                blocks[current][1].append(sentence.text)
        return [
            (label, Evidence("\n\n".join(texts))) for _, (label, texts) in sorted(blocks.items())
        ]


def _series_count(text: str) -> int:
    """The patients a sentence says the document describes (0 when it says nothing)."""
    count = 0
    for match in _COUNT.finditer(text):
        word = match.group(1).lower()
        count = max(count, int(word) if word.isdigit() else _COUNT_WORDS.get(word, 0))
    for match in _ORDINAL.finditer(text):
        count = max(count, _ordinal(match))
    return count if count <= MAX_SERIES else 0


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


def _options(found: list[Candidate], ask: Ask) -> dict[Any, Candidate]:
    """The distinct candidate values, most often stated first, each with its first quote."""
    counts: dict[Any, float] = {}
    for candidate in found:
        counts[candidate.value] = counts.get(candidate.value, 0.0) + candidate.weight
    first: dict[Any, Candidate] = {}
    for candidate in found:
        first.setdefault(candidate.value, candidate)
    order = sorted(first, key=lambda value: -counts[value]) if ask.pick == "most" else list(first)
    return {value: first[value] for value in order}


def _picked(found: list[Candidate], options: dict[Any, Candidate], ask: Ask) -> Any:
    """The candidate that stands without a model, by the field's ``pick`` rule."""
    if ask.pick == "any_true":
        return any(c.value for c in found) if True in options or False in options else None
    if ask.pick == "max":
        return max(options)
    if ask.pick == "last":
        return found[-1].value
    return next(iter(options))
