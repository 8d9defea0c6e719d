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
from typing import Any, Literal, TypeVar, get_args

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from rapidfuzz import fuzz

from extractor.record.markers import quote_fields

R = TypeVar("R", bound=BaseModel)

Status = Literal["exact", "normalised", "fuzzy", "ungrounded"]
FUZZY_SCORE = 85.0  # rapidfuzz's 0-100 similarity of the quote to its best window
MIN_FUZZY_CHARS = 12  # shorter quotes match too much by chance
_HYPHEN_BREAK = re.compile(r"(?<=\w)-[ \t]*\r?\n\s*(?=\w)")
_WORD = re.compile(r"\S+")


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
    def _haystack(self) -> str:
        """``normalise(text)``: the text every quote that is not verbatim is searched in.

        A document that holds NUL characters or whose lower case is longer
        takes the word-by-word build; any other is normalised at C speed.
        """
        text = self.text
        if "\x00" in text or len(text.lower()) != len(text):
            return self._normalised[0]
        return normalise(text)

    @cached_property
    def _normalised(self) -> tuple[str, list[int]]:
        """``normalise(text)`` and, for each of its characters, the offset it came from.

        Word by word: a word's characters map to its own offsets, a space to
        the end of the word before it; the characters of a line-end
        hyphenation (masked as NUL) are dropped. A character whose lower case
        is longer ("İ") maps each of its characters to its own offset.
        """
        text = self.text
        masked = _HYPHEN_BREAK.sub(lambda m: "\x00" * len(m[0]), text)
        lower = text.lower() if len(text.lower()) == len(text) else None
        words: list[str] = []
        offsets: list[int] = []
        position = 0
        for match in _WORD.finditer(masked):
            start, end = match.span()
            if words:
                offsets.append(position)
            if lower is not None and "\x00" not in match[0]:
                words.append(lower[start:end])  # the common case: one slice, one range
                offsets.extend(range(start, end))
            else:
                kept = [(i, text[i].lower()) for i in range(start, end) if masked[i] != "\x00"]
                words.append("".join(low for _, low in kept))
                offsets.extend(i for i, low in kept for _ in low)
            position = end
        return " ".join(words), offsets

    def align(self, quote: str, where: str = "") -> Alignment:
        """Locate ``quote``: exact, normalised, fuzzy, or ungrounded."""
        if not quote.strip():
            return Alignment(where, "ungrounded")
        start = self.text.find(quote)
        if start >= 0:
            return Alignment(where, "exact", start, start + len(quote))
        haystack = self._haystack  # offsets are built only for a quote that is found
        needle = normalise(quote)
        found = haystack.find(needle)
        if found >= 0:
            offsets = self._normalised[1]
            end = offsets[found + len(needle) - 1] + 1
            return Alignment(where, "normalised", offsets[found], end)
        if len(needle) < MIN_FUZZY_CHARS or not haystack:
            return Alignment(where, "ungrounded")
        best = fuzz.partial_ratio_alignment(needle, haystack, score_cutoff=FUZZY_SCORE)
        if best is None or best.dest_end <= best.dest_start:
            return Alignment(where, "ungrounded")
        offsets = self._normalised[1]
        return Alignment(where, "fuzzy", offsets[best.dest_start], offsets[best.dest_end - 1] + 1)

    def grounded(self, quote: str | None) -> bool:
        """Whether ``quote`` is present and grounded in this document."""
        if quote is None:
            return False
        needle = normalise(quote)
        return bool(needle) and needle in self._haystack


def align(quote: str, text: str, where: str = "") -> Alignment:
    """Locate ``quote`` in ``text`` (see ``Aligner.align``)."""
    return Aligner(text).align(quote, where)


def align_record(record: BaseModel, text: str | Aligner) -> list[Alignment]:
    """Every evidence quote of ``record`` aligned to ``text`` (normalised once)."""
    aligner = text if isinstance(text, Aligner) else Aligner(text)
    return [aligner.align(quote, where) for where, quote in evidence_quotes(record)]


def evidence_quotes(record: BaseModel, prefix: str = "") -> list[tuple[str, str]]:
    """Every evidence quote of ``record`` as ``(where, quote)``, in record order.

    Quotes are read from the fields the template marks ``Quotes``: a level's
    own quotes first, then those of its nested models and list items, in field
    order. ``where`` is a readable path such as ``patients[0].evidence.age_years``,
    ``patients[0].imaging[1].evidence`` or ``patients[0].outcome.evidence.status``.
    Missing (``None``) quotes are skipped.
    """
    quotes: list[tuple[str, str]] = []
    fields = type(record).model_fields
    for name in fields:
        if _is_quotes(type(record), name):
            quotes.extend((f"{prefix}{name}{key}", quote)
                          for key, quote in _quote_items(getattr(record, name)))  # fmt: skip
    for name in fields:
        value = getattr(record, name)
        if isinstance(value, BaseModel) and not _is_quotes(type(record), name):
            quotes.extend(evidence_quotes(value, f"{prefix}{name}."))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, BaseModel):
                    quotes.extend(evidence_quotes(item, f"{prefix}{name}[{index}]."))
    return quotes


def require_grounding(record: R, text: str | Aligner) -> R:
    """``record`` keeping only traceable values.

    At a level with a quote map, a value whose quote is missing or ungrounded
    becomes null (a list of values empty); an item with its own quote is
    dropped unless that quote is grounded; nested models and items without a
    quote of their own are checked field by field. A level without quotes
    (the document's bibliographic fields) is kept.
    """
    aligner = text if isinstance(text, Aligner) else Aligner(text)
    return _traced(record, aligner)


def _traced(record: R, aligner: Aligner) -> R:
    model = type(record)
    quote_field = next((n for n in model.model_fields if _is_quotes(model, n)), None)
    quotes = None if quote_field is None else getattr(record, quote_field)
    update: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        value = getattr(record, name)
        if name == quote_field:
            continue
        if isinstance(value, BaseModel):
            update[name] = _traced(value, aligner)
        elif isinstance(value, list) and value and isinstance(value[0], BaseModel):
            update[name] = [_traced(item, aligner) for item in value if _kept(item, aligner)]
        elif (
            isinstance(quotes, BaseModel | dict)
            and value not in (None, [])
            and not aligner.grounded(_quote_for(quotes, name))
        ):
            update[name] = [] if isinstance(value, list) else _null(info, value)
    return record.model_copy(update=update)


def _kept(item: BaseModel, aligner: Aligner) -> bool:
    """An item with a single quote of its own is kept only when that quote is grounded."""
    model = type(item)
    for name in model.model_fields:
        quote = getattr(item, name)
        if _is_quotes(model, name) and not isinstance(quote, BaseModel | dict):
            return aligner.grounded(quote)
    return True


def _is_quotes(model: type[BaseModel], name: str) -> bool:
    return name in quote_fields(model)


def _quote_items(value: Any) -> list[tuple[str, str]]:
    """A quote field's quotes as ``(path suffix, quote)``: ``.key`` for a map, ``""`` for one."""
    if value is None or isinstance(value, str):
        return [] if value is None else [("", value)]
    pairs = value.items() if isinstance(value, dict) else value.model_dump().items()
    return [(f".{key}", quote) for key, quote in pairs if quote is not None]


def _quote_for(quotes: BaseModel | dict[str, str], name: str) -> str | None:
    found = quotes.get(name) if isinstance(quotes, dict) else getattr(quotes, name, None)
    return found if isinstance(found, str) else None


def _null(info: FieldInfo, value: Any) -> Any:
    """None when the field may be null, else ``value`` unchanged (it cannot be withdrawn)."""
    return None if type(None) in get_args(info.annotation) else value
