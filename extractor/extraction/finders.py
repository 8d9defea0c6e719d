"""Candidate finders: where a document may state a field, by general patterns and the vocabulary.

Each finder named by a field's ``Ask`` marker returns the ``Candidate``s the
text offers for that field, in document order, each with the verbatim
sentence that states it. The patterns are general (how case reports write an
age, a Ki-67 index, a follow-up, a DOI or a citation line), written from the
spec and ordinary clinical English, never from a particular document. A
mention that is negated ("no metastases", "without carcinoid syndrome") is
not a candidate.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

from extractor.extraction.evidence import Candidate, Evidence
from extractor.extraction.sentences import Sentence
from extractor.record.markers import Ask
from extractor.record.vocabulary import Vocabulary

Finder = Callable[[Evidence, Ask, Vocabulary], list[Candidate]]

TITLE_CHARS = 600  # a whole line this early in the document is taken for its title
_NEGATION = re.compile(
    r"\b(?:no|not|nor|neither|without|negative\s+for|absence\s+of|absent|free\s+of|"
    r"ruled\s+out|exclud\w*|non|denied|lack\s+of)\b[^.;:]{0,30}$",
    re.IGNORECASE,
)
_POST_NEGATION = re.compile(
    r"[^.;:]{0,25}?\b(?:(?:was|were|is|are|has been|had been)\s+)?(?:not\s+(?:seen|found|detected|"
    r"identified|present|observed|confirmed|shown)|excluded|ruled\s+out|absent|unlikely)\b",
    re.IGNORECASE,
)
_AGE = re.compile(
    r"\b(\d{1,3})[\s-]*(?:year|yr)s?[\s-]*old\b|\baged\s+(\d{1,3})\b|"
    r"\b(\d{1,3})\s+years?\s+of\s+age\b|\bage\s+(?:of\s+)?(\d{1,3})\b|\b(\d{1,3})\s*y/?o\b",
    re.IGNORECASE,
)
_PERCENT = re.compile(
    r"([<≤]|less than|up to|under)?\s*(\d+(?:\.\d+)?)\s*(?:%|percent)?"
    r"(?:\s*(?:-|–|to)\s*(\d+(?:\.\d+)?))?\s*(?:%|percent)",
    re.IGNORECASE,
)
_DURATION = re.compile(
    r"(more than|over|>|at least|almost|nearly|about|approximately)?\s*"
    r"(\d+(?:\.\d+)?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)"
    r"[\s-]*(months?|years?|weeks?)\b",
    re.IGNORECASE,
)
_NUMBER_WORDS = {
    word: n
    for n, word in enumerate(
        [
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
        ]
    )
}
_DOI = re.compile(r"\b10\.\d{4,9}/[^\s\"'<>;,\])}]+", re.IGNORECASE)
_YEAR = re.compile(r"\b(19[5-9]\d|20[0-4]\d)\b")
_PUBLISHED = re.compile(
    r"\b(?:published|publication date|available online|epub)\b|©|\bcopyright\b", re.IGNORECASE
)
# A journal name: capitalised words and dotted abbreviations ("Am J Case Rep", "Front. Med.",
# "Journal of Medical Case Reports", "Medicine (Baltimore)"), then its year, volume or pages.
_NAME_WORD = r"(?:[A-Z][\w'\u2019-]*\.?|\([A-Z][\w .'\u2019-]*\))"
_NAME = rf"{_NAME_WORD}(?:\s+(?:{_NAME_WORD}|of|and|the|&|in|for|on))*"
_CITATION = re.compile(
    rf"(?:^|(?<=[;.:]\s)|(?<=\)\s))(?P<journal>{_NAME})\.?\s*(?:\([^)]*\)\s*)?,?\s*"
    r"(?:(?:[A-Z][a-z]{2}\s+)?\(?(?P<year>(?:19|20)\d\d)\)?(?=[\s;:,.)]|$)|"
    r"vol(?:ume)?\.?\s*\d|\d+\s*\(\d+\)\s*:|\d+\s*:\s*\d)",
    re.MULTILINE,
)
_PAREN_YEAR = re.compile(r"\((19[5-9]\d|20[0-4]\d)\)")
_URL = re.compile(r"https?://\S+|www\.\S+")
_NOT_JOURNAL = re.compile(
    r"^[A-Z][a-z]+\s+[A-Z]{1,3}$|\b(?:Vol|Volume|No|Issue|Pages?|Epub|Published|Received|"
    r"Accepted|Copyright|Available|Online|Article|Doi|DOI)\b"
)
_LABELLED = re.compile(r"^\s*(title|journal|source|doi)\s*:\s*(.+)$", re.IGNORECASE | re.MULTILINE)
_JSON_KEY = re.compile(
    r'"(title|journal|venue|doi|year|publicationDate|date)"\s*:\s*'
    r'(?:\{\s*"name"\s*:\s*)?"?([^",}{\n]+)"?',
    re.IGNORECASE,
)
_LABEL_LINE = re.compile(r"^\s*[\w ]{2,30}\s*:")
_METADATA_LINE = re.compile(
    r"doi|https?://|www\.|issn|©|copyright|received|accepted|published|vol\.|volume|"
    r"\bpages?\b|correspond|e-?mail|@|licen[cs]e|open access",
    re.IGNORECASE,
)


def negated(text: str, start: int, end: int | None = None) -> bool:
    """Whether the mention at ``[start, end)`` of ``text`` is negated, before or after it."""
    if _NEGATION.search(text[max(0, start - 45) : start]):
        return True
    return end is not None and bool(_POST_NEGATION.match(text, end))


def _near_cue(
    vocab: Vocabulary, cue: str, sentence: Sentence, start: int, end: int, *, window: int = 60
) -> bool:
    return any(
        s - window <= end and start <= e + window for s, e in vocab.find_cues(cue, sentence.text)
    )


def mentions(evidence: Evidence, ask: Ask, vocab: Vocabulary) -> list[Candidate]:
    """Every non-negated mention of ``ask.vocabulary`` in scope (``near``/``avoid`` cues held)."""
    assert ask.vocabulary is not None
    found = []
    for sentence in evidence.scoped(ask.scope):
        for mention in vocab.find(ask.vocabulary, sentence.text):
            if negated(sentence.text, mention.start, mention.end):
                continue
            if ask.near and not _near_cue(vocab, ask.near, sentence, mention.start, mention.end):
                continue
            if ask.avoid and _near_cue(vocab, ask.avoid, sentence, mention.start, mention.end):
                continue
            found.append(
                replace(
                    evidence.candidate(mention.term.value, sentence, mention.start, mention.end),
                    weight=_weight(
                        evidence, vocab, ask, sentence, start=mention.start, end=mention.end
                    ),
                    meaning=mention.term.value,
                )
            )
    return found


def site_text(evidence: Evidence, ask: Ask, vocab: Vocabulary) -> list[Candidate]:
    """The document's own words for each mention, without the ``prefer`` cue's (the subject's)."""
    found = []
    for candidate in mentions(evidence, ask, vocab):
        words = candidate.surface
        for start, end in reversed(vocab.find_cues(ask.prefer, words) if ask.prefer else []):
            words = words[:start] + words[end:]
        words = " ".join(words.split()).strip(" ,;-")
        if words:
            found.append(replace(candidate, value=words))
    return found


def _weight(
    evidence: Evidence, vocab: Vocabulary, ask: Ask, sentence: Sentence, *, start: int, end: int
) -> float:
    """How much a mention counts when the most stated value is picked."""
    weight = 1.0
    if ask.prefer and _near_cue(vocab, ask.prefer, sentence, start, end, window=30):
        weight += 1.0
    if sentence.start < TITLE_CHARS and evidence.is_line(sentence):
        weight += 2.0  # a title names the report's subject
    return weight


def age(evidence: Evidence, ask: Ask, vocab: Vocabulary) -> list[Candidate]:
    """Ages written as "N-year-old", "aged N", "N years of age", "age of N"."""
    found = []
    for sentence in evidence.scoped(ask.scope):
        for match in _AGE.finditer(sentence.text):
            value = int(next(group for group in match.groups() if group))
            if 0 <= value <= 120:
                found.append(evidence.candidate(value, sentence, match.start(), match.end()))
    return found


def percent(evidence: Evidence, ask: Ask, vocab: Vocabulary) -> list[Candidate]:
    """A percentage written shortly after a cue ("Ki-67 index of 5-10%": the upper value)."""
    assert ask.cue is not None
    found = []
    for sentence in evidence.scoped(ask.scope):
        for _, cue_end in vocab.find_cues(ask.cue, sentence.text):
            match = _PERCENT.search(sentence.text, cue_end, cue_end + 50)
            if match:
                value = float(match.group(3) or match.group(2))
                if 0 <= value <= 100:
                    found.append(evidence.candidate(value, sentence, match.start(), match.end()))
    return found


def duration(evidence: Evidence, ask: Ask, vocab: Vocabulary) -> list[Candidate]:
    """A length of follow-up in months, from a sentence that speaks of following up."""
    found = []
    for sentence in evidence.scoped(ask.scope):
        if not re.search(r"follow", sentence.text, re.IGNORECASE):
            continue
        for match in _DURATION.finditer(sentence.text):
            number = match.group(2).lower()
            amount = float(_NUMBER_WORDS.get(number, number))
            unit = match.group(3).lower()
            months = amount * 12 if unit.startswith("year") else amount
            months = months / 4.345 if unit.startswith("week") else months
            found.append(evidence.candidate(round(months, 1), sentence, match.start(), match.end()))
    return found


def stated(evidence: Evidence, ask: Ask, vocab: Vocabulary) -> list[Candidate]:
    """True where a cue word is stated ("metastasis"), False where negated ("no metastasis")."""
    assert ask.cue is not None
    found = []
    for sentence in evidence.scoped(ask.scope):
        for start, end in vocab.find_cues(ask.cue, sentence.text):
            value = not negated(sentence.text, start, end)
            found.append(evidence.candidate(value, sentence, start, end))
    return found


def doi(evidence: Evidence, ask: Ask, vocab: Vocabulary) -> list[Candidate]:
    """DOIs in the document's head, as bare lower-case DOIs (references come later)."""
    found = []
    for sentence in evidence.front():
        for match in _DOI.finditer(sentence.text):
            value = match.group(0).rstrip(".").lower()
            found.append(evidence.candidate(value, sentence, match.start(), match.end()))
    return found


def year(evidence: Evidence, ask: Ask, vocab: Vocabulary) -> list[Candidate]:
    """Publication years of the head: keyed, on a publication line, cited, then in brackets."""
    keyed = [
        Candidate(int(found.group(1)), c.sentence, c.quote, c.surface)
        for c in _labelled(evidence, {"year", "publicationdate", "date"})
        if (found := _YEAR.search(str(c.value)))
    ]
    published, cited, bracketed = [], [], []
    for offset, text in _head_without_urls(evidence):
        for match in _YEAR.finditer(text):
            if _PUBLISHED.search(text[max(0, match.start() - 40) : match.start()]):
                published.append(_at(evidence, offset, match, 1))
        cited += [_at(evidence, offset, m, "year") for m in _CITATION.finditer(text) if m["year"]]
        bracketed += [_at(evidence, offset, m, 1) for m in _PAREN_YEAR.finditer(text)]
    return keyed + published + cited + bracketed


def _head_without_urls(evidence: Evidence) -> list[tuple[int, str]]:
    """The head's lines with URLs blanked out (same length, so offsets hold)."""
    return [
        (offset, _URL.sub(lambda m: " " * len(m.group(0)), line))
        for offset, line in evidence.head_lines()
    ]


def _at(evidence: Evidence, offset: int, match: re.Match[str], group: int | str) -> Candidate:
    """The year of ``match``'s ``group`` (in a line at ``offset``) as a candidate."""
    start, end = offset + match.start(group), offset + match.end(group)
    return evidence.candidate_at(int(match[group]), start, end)


def journal(evidence: Evidence, ask: Ask, vocab: Vocabulary) -> list[Candidate]:
    """A journal named by a label or key, or by the citation line of the head."""
    found = _labelled(evidence, {"journal", "venue"})
    for offset, text in _head_without_urls(evidence):
        for match in _CITATION.finditer(text):
            name = match.group("journal").strip(" .")
            if 2 <= len(name) <= 120 and len(name.split()) <= 12 and not _NOT_JOURNAL.search(name):
                start = offset + match.start("journal")
                found.append(evidence.candidate_at(name, start, start + len(name)))
    return found


def title(evidence: Evidence, ask: Ask, vocab: Vocabulary) -> list[Candidate]:
    """The title named by a label or key, else the first title-like line of the head.

    A title-like line has 4 to 45 words, starts with a capital and is no
    metadata; one that names the subject (the ``prefer`` or ``cue`` cue words:
    for the NEN record a neuroendocrine neoplasm, a case report) beats an
    earlier one that does not (a web page's banner).
    """
    found = _labelled(evidence, {"title"})
    if found:
        return found[:1]
    lines = [
        (offset, line.strip())
        for offset, line in evidence.head_lines()
        if 4 <= len(line.split()) <= 45 and line.strip()[:1].isupper()
        and not _METADATA_LINE.search(line) and not _LABEL_LINE.match(line)
    ]  # fmt: skip
    on_topic = [
        (offset, line)
        for offset, line in lines
        if any(vocab.find_cues(cue, line) for cue in (ask.prefer, ask.cue) if cue)
    ]
    chosen = (on_topic or lines)[:1]
    return [
        evidence.candidate_at(line.rstrip("."), offset, offset + len(line))
        for offset, line in chosen
    ]


def _labelled(evidence: Evidence, keys: set[str]) -> list[Candidate]:
    """Values written as ``Key: value`` lines or ``"key": "value"`` pairs in the head."""
    found = []
    for sentence in evidence.front():
        for pattern in (_LABELLED, _JSON_KEY):
            for match in pattern.finditer(sentence.text):
                if match.group(1).lower() in keys:
                    value = match.group(2).strip().rstrip(".")
                    found.append(evidence.candidate(value, sentence, match.start(2), match.end(2)))
    return found


_PHRASE_END = re.compile(
    r"[.;:()\[\]]|,\s|\s(?:in|at|on)\s+(?:a|an|the|this|our|his|her)\s|\s(?:who|which|that|because|"
    r"after|before|since|when|while|whereas|but|for|due|presenting|presented|is|was|were|are|has|"
    r"had|have|treated|managed|initially|usually|revealed|showed|found|detected|suspected|with)\b",
    re.IGNORECASE,
)
_CLAUSE_START = re.compile(  # where a phrase that ends at a cue ("X was performed") begins
    r".*(?:[.;:,]\s|\b(?:and|then|after|before|which|when|where|subsequently|later|finally|"
    r"thereafter|afterwards|also|she|he|patient)\s)",
    re.IGNORECASE | re.DOTALL,
)
_ASIDE = re.compile(r"\s*\([^()]{0,30}\)")  # a short parenthesis: "(G2)", "(10 mg/day)"
_PHRASE_START = re.compile(
    r"\s*(?:(?:a|an|the|his|her|their|of|with|by|to|later|then|subsequently|also|further)\s+)*"
    r"(?:(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|several|multiple)\s+"
    r"(?:(?:additional|more|further)\s+)?(?:cycles?|courses?|doses?|sessions?)\s+of\s+)?",
    re.IGNORECASE,
)
_PHRASE_SPLIT = re.compile(r",\s*(?:and\s+)?|\s+(?:and|plus|followed\s+by|then)\s+", re.IGNORECASE)
_PERSON = re.compile(  # a phrase that names the patient ("a 30-year-old male"), not what they had
    r"^(?:\d{1,3}[\s-]*(?:year|yr)s?[\s-]*old|patients?|(?:wo)?m[ae]n|male|female|boy|girl|lady|"
    r"gentleman)\b",
    re.IGNORECASE,
)
MAX_PHRASE_WORDS = 14


def _lead_end(text: str, start: int) -> int:
    """Where a phrase starting at ``start`` begins once its articles and counts are dropped."""
    lead = _PHRASE_START.match(text, start)
    return lead.end() if lead else start


def phrase(evidence: Evidence, ask: Ask, vocab: Vocabulary) -> list[Candidate]:
    """The words that follow a cue ("diagnosed with ...", "a case of ..."), to the clause's end.

    The phrase stops at punctuation or a word that starts a new clause ("in a
    45-year-old man", "who", "was", "treated", "with"); short parentheses are
    skipped ("a grade 2 (G2) NET"); leading articles, adverbs ("later") and
    counts ("four cycles of") are dropped; a negated cue, and a phrase that
    names the patient instead ("a case of a 30-year-old man"), are skipped;
    at most ``MAX_PHRASE_WORDS`` words are kept. A ``cue_before`` cue ends
    its phrase instead, which starts with the clause ("everolimus was started").
    """
    assert ask.cue is not None
    found = []
    for sentence in evidence.scoped(ask.scope):
        text = _ASIDE.sub(lambda m: " " * len(m[0]), sentence.text)  # same length: offsets hold
        spans = [(s, e, False) for s, e in vocab.find_cues(ask.cue, text)]
        if ask.cue_before:
            spans += [(s, e, True) for s, e in vocab.find_cues(ask.cue_before, text)]
        for start, end, before in sorted(spans):
            if negated(text, start, end):
                continue
            if before:  # the phrase ends at the cue: "everolimus was started"
                lead = _CLAUSE_START.match(text, 0, start)
                begin = _lead_end(text, lead.end() if lead else 0)
                words = text[begin:start].split()[-MAX_PHRASE_WORDS:]
            else:
                begin = _lead_end(text, end)
                stop = _PHRASE_END.search(text, begin)
                words = text[begin : stop.start() if stop else len(text)].split()
                words = words[:MAX_PHRASE_WORDS]
            value = " ".join(words).strip(" ,;-")
            if value and not value[0].isdigit() and not _PERSON.match(value):
                at = max(0, text.find(words[0], begin))
                found.append(evidence.candidate(value, sentence, at, at + len(value)))
    return found


def phrases(evidence: Evidence, ask: Ask, vocab: Vocabulary) -> list[Candidate]:
    """Like ``phrase``, each phrase cut into its parts ("capecitabine and temozolomide": two)."""
    found = []
    for candidate in phrase(evidence, ask, vocab):
        for piece in _PHRASE_SPLIT.split(candidate.value):
            part = piece[_lead_end(piece, 0) :].strip(" ,;-")
            if part and not _PERSON.match(part):
                found.append(replace(candidate, value=part, surface=part))
    return found


FINDERS: dict[str, Finder] = {
    "phrase": phrase,
    "phrases": phrases,
    "mentions": mentions,
    "site_text": site_text,
    "age": age,
    "percent": percent,
    "duration": duration,
    "stated": stated,
    "doi": doi,
    "year": year,
    "journal": journal,
    "title": title,
}
