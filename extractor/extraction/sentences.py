"""Sentences of a case report, each with exact character offsets into the text.

``split_sentences(text)`` returns the units that the framework asks narrow
questions about: sentences, and also headings, list items and table rows,
which are units of their own. For every unit ``text[start:end] == unit.text``,
stripped of surrounding whitespace, for any input (unicode, CRLF, tabs, an
empty text, a text of megabytes).

How:

1. Line structure first. Blank lines separate blocks. Within a run of
   non-blank lines, a line break is kept as a unit boundary when the next line
   is a list item ("- ", "• ", "1. ", "(a) "), when either line is a table row
   (tabs, two or more "|", or column gaps), when the line looks like a heading
   (it starts its block, has at most eight words, no closing full stop, the
   next line starts with a capital or digit, and the block's lines are short or
   the line is well short of them), or when the next line's first
   word would have fitted on the line (the break was the author's, not a
   wrap). Otherwise the break is a hard wrap and the lines are joined. A line
   ending in a comma or a letter and hyphen, or followed by a line that starts
   in lower case, is always joined.
2. Each block is segmented by syntok on a copy of the block of the same
   length, in which line breaks are spaces, so syntok's token offsets are
   offsets into the original text with no mapping.
3. A few corrections for clinical text that syntok gets wrong: it treats ";"
   as a sentence end, splits after "Dr." or "Fig." when the next word is "A",
   and can leave a bare list marker ("3.") or punctuation as a sentence (all
   merged back); it splits "et al. [8]" (the full stop is masked in the copy);
   and it misses the end of a sentence closing on a unit ("ng/mL.", "°C.",
   "8 h."), a decimal ("was 12.4."), "etc.", or a lettered entity
   ("chromogranin A.") before a capital, or followed by a sentence opening on
   a long number ("177-Lu-DOTATATE") (split there).
4. A unit longer than ``MAX_SENTENCE_CHARS`` (a table dump, a run-on list) is
   cut at the last "; ", else ", ", else whitespace, else hard, into pieces of
   at most that many characters.

Why syntok (1.4.4) rather than pysbd (0.3.4), measured on the 19 plain-text
case reports of the shared seeds and dev corpus (38.7 K characters) and on
125 invented case-report snippets with 151 hand-marked boundaries (87 in a set
used while writing the corrections, 64 in a set written after them), which
cover abbreviations, units, decimals, headings, lists, tables, hard wraps, CRLF:

* Speed on the corpus, one document at a time, 2 cores: syntok 1.2-1.5 M
  chars/s, pysbd 0.18-0.25 M chars/s, and pysbd 0.07 M chars/s on one long
  paragraph. This module end to end: 0.6-0.9 M chars/s on the corpus and on
  1 MB texts; 0.25-0.3 M chars/s on 1 MB of tokens such as "; A" repeated.
  (syntok's own ``analyze()`` is quadratic over paragraphs, since it pads each
  one with spaces up to its offset; blocks here are tokenized from offset 0.)
* Offsets: syntok gives each token's offset, exact by construction. pysbd finds
  its spans by searching each sentence back in the text; on inputs that its
  rules rewrite (e.g. "....") the spans overlap and characters are lost.
* Errors of the bare segmenters, given the same step 1 (without the
  corrections): invented snippets, syntok 3 false splits and 11 misses, pysbd
  9 false splits ("approx. 9 mm", "cf. the", "et al. [21]") and 2 misses;
  corpus, 244 boundaries inspected, syntok 24 false splits (21 at "; " in
  citation lines, 3 in "Front. Med.", "J. Clin. Med." and "Ctra. Ofra") and 3
  misses, pysbd 9 false splits (the same 3, and inside ".gov", "?aid=", before
  lower case) and 8 misses (no space after the full stop, a quoted abstract,
  "Chromogranin A. PET"). With the corrections, this module makes 1 error
  on the invented snippets ("Table 1. Laboratory values", a caption both
  split) and 3 on the corpus (the journal and street abbreviations above).
* Without step 1, neither keeps a heading off the next sentence: on the
  snippets pysbd breaks at every line break, hard wraps included (38 false
  splits against 9 with step 1), and syntok ignores single line breaks,
  gluing headings, list items and table rows to what follows (53 misses
  against 11).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import pairwise

from syntok import segmenter as _syntok
from syntok.tokenizer import Tokenizer

__all__ = ["MAX_SENTENCE_CHARS", "Sentence", "split_sentences"]

MAX_SENTENCE_CHARS = 600
"""No unit is longer than this; longer sentences are cut at a safe point."""


@dataclass(frozen=True)
class Sentence:
    """One unit of the document: ``text == document[start:end]``, stripped."""

    index: int
    start: int
    end: int
    text: str


def split_sentences(text: str) -> tuple[Sentence, ...]:
    """Split ``text`` into sentences, headings, list items and table rows."""
    units: list[Sentence] = []
    for block_start, block_end in _blocks(text):
        for start, end in _segment_block(text, block_start, block_end):
            for piece_start, piece_end in _cut_long(text, start, end):
                units.append(
                    Sentence(len(units), piece_start, piece_end, text[piece_start:piece_end])
                )
    return tuple(units)


# --- 1. line structure -------------------------------------------------------

# The line boundaries of str.splitlines, with CRLF as one.
_LINE_BREAK = re.compile(r"\r\n|[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
_LINE_BREAKS_TO_SPACES = str.maketrans(
    dict.fromkeys("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029", " ")
)

_MARKER = r"(?:[-*+•‣◦▪▫●○■□–—·⁃]|\(?\d{1,3}[.)]|\(?[A-Za-z]\)|\(?(?:i{1,3}|iv|vi{0,3}|ix|x)[.)])"
_LIST_ITEM = re.compile(_MARKER + r"\s+\S")
_MARKER_ONLY = re.compile(_MARKER)
_TABLE_CELL_GAP = re.compile(r"\S(?:\t+| {3,})(?=\S)")
_FIRST_WORD = re.compile(r"\S+")
_TERMINALS = frozenset(".!?…")
_CLOSERS = "\"'”’)]}»"
_HYPHENS = frozenset("-‐‑")

_MIN_WIDTH = 40
"""Below this, a block's longest line says nothing about its wrap width."""
_WRAP_FILL = 0.8
"""A wrapped line is filled to at least this share of the block's width."""
_HEADING_WORDS = 8
_SHORT_LINES = 50
"""A block whose lines are all shorter than this is not hard-wrapped prose."""


def _blocks(text: str) -> list[tuple[int, int]]:
    """Spans of the units of line structure: paragraphs, headings, items, rows."""
    blocks: list[tuple[int, int]] = []
    run: list[tuple[int, int]] = []
    position = 0
    for match in _LINE_BREAK.finditer(text):
        _add_line(text, position, match.start(), run, blocks)
        position = match.end()
    _add_line(text, position, len(text), run, blocks)
    _close_run(text, run, blocks)
    return blocks


def _add_line(
    text: str, start: int, end: int, run: list[tuple[int, int]], blocks: list[tuple[int, int]]
) -> None:
    line = text[start:end]
    stripped = line.strip()
    if not stripped:
        _close_run(text, run, blocks)
        return
    first = start + (len(line) - len(line.lstrip()))
    run.append((first, first + len(stripped)))


def _close_run(text: str, run: list[tuple[int, int]], blocks: list[tuple[int, int]]) -> None:
    """Turn a run of non-blank lines into blocks, joining hard-wrapped lines."""
    if not run:
        return
    width = max(_MIN_WIDTH, *(end - start for start, end in run))
    block_start, block_end = run[0]
    for line_span, next_span in pairwise(run):
        line = text[line_span[0] : line_span[1]]
        at_block_start = line_span[0] == block_start
        if _is_wrapped(text, line, next_span, width, at_block_start):
            block_end = next_span[1]
        else:
            blocks.append((block_start, block_end))
            block_start, block_end = next_span
    blocks.append((block_start, block_end))
    run.clear()


def _is_wrapped(
    text: str, line: str, next_span: tuple[int, int], width: int, at_block_start: bool
) -> bool:
    """Whether the break between ``line`` and the next line is a hard wrap."""
    following = text[next_span[0] : next_span[1]]
    if _LIST_ITEM.match(following) or _is_table_row(line) or _is_table_row(following):
        return False
    last = line[-1]
    if (
        last == ","
        or (last in _HYPHENS and len(line) > 1 and line[-2].isalpha())
        or following[0].islower()
    ):
        return True
    if (
        at_block_start
        and (width < _SHORT_LINES or len(line) <= 0.6 * width)
        and _is_heading(line, following)
    ):
        return False
    word = _FIRST_WORD.match(following)
    next_word = len(word.group()) if word else 0
    return len(line) + 1 + next_word > _WRAP_FILL * width


def _is_table_row(line: str) -> bool:
    if line.count("|") >= 2:
        return True
    gaps = _TABLE_CELL_GAP.finditer(line)
    first = next(gaps, None)
    if first is None:
        return False
    return "\t" in first.group() or next(gaps, None) is not None


def _is_heading(line: str, following: str) -> bool:
    if len(line) > 100 or not (following[0].isupper() or following[0].isdigit()):
        return False
    if line.rstrip(_CLOSERS)[-1:] in _TERMINALS or line[-1] in ",;-":
        return False
    return len(line.split()) <= _HEADING_WORDS


# --- 2. and 3. sentences within a block -------------------------------------

_TOKENIZER = Tokenizer(replace_not_contraction=False)

# syntok only ends a sentence at one of its terminals or an opening bracket;
# a block with none of them (a heading, a table row) is one unit as it is.
_MAY_SPLIT = re.compile(
    "[.!?;\u203c\u203d\u2047\u2048\u2049\u3002\ufe52\ufe57\uff01\uff0e\uff1f\uff61"
    "([{\uff5f\uff5b\uff3b\uff08\ufe5d\ufe5b\ufe59\ufd3e\u301a\u3018\u2985\u2983\u2329]"
)

# syntok splits "et al. [8]." after "al."; a comma in the copy keeps it whole.
_ET_AL_CITATION = re.compile(r"\bet al\.(?=\s*[\[(])")

# Sentence ends syntok misses: "...was 12.4. Uptake", "...ng/mL. Renal",
# "...39 °C. Blood", "...every 8 h. Blood", "...antihistamines, etc. None",
# "...chromogranin A. PET" (a lettered entity, not an initial) and
# "...therapy. 177-Lu-DOTATATE" (a sentence opening on a long number).
_MISSED_END = re.compile(
    r"(?:\d\.\d+\.|(?<=[a-zµμ/°])[A-Z]\.|(?<=\d)\s?[A-Za-z]\.|\betc\."
    r"|\b(?i:chromogranin|vitamin|hepatitis|immunoglobulin|protein|factor|type|grade"
    r"|group|stage|class|segment|zone|phase|cohort|arm)\s[A-Z]\."
    r")(?=\s+[\"'“‘(\[]?[A-Z])"
    r"|(?<![\w.])(?!(?i:approx|appr|resp|incl|excl|vol|nos|refs?|est|max|min|tab|figs?|suppl)\.)"
    r"[A-Za-z]{3,}\.(?=\s+\d{3,}-?[A-Za-z])"
)

# A unit never ends on these; syntok splits after them when "A" follows.
_NOT_FINAL = re.compile(
    r"(?:^|[\s(\[])(?:Dr|Drs|Prof|Mr|Mrs|Ms|St|Figs?|figs?|vs|approx|ca|cf|viz|e\.g|i\.e|Eqs?|Refs?)\.$"
)


def _segment_block(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence spans, stripped, of the block ``text[start:end]``."""
    copy = text[start:end].translate(_LINE_BREAKS_TO_SPACES)
    if not _MAY_SPLIT.search(copy):
        return [(start, end)]
    copy = _ET_AL_CITATION.sub("et al,", copy)
    starts = [0]
    for tokens in _syntok.segment(_TOKENIZER.tokenize(copy)):
        offset = next((token.offset for token in tokens if token.value), None)
        if offset is not None and offset > starts[-1]:
            starts.append(offset)
    starts.append(len(copy))

    # [start, end, has letters or digits] of each unit after the merges
    merged: list[tuple[int, int, bool]] = []
    previous = ""
    for piece_start, piece_end in pairwise(starts):
        piece = copy[piece_start:piece_end]
        alnum = _has_alnum(piece)
        if merged and (
            not alnum
            or not merged[-1][2]
            or _cannot_end(previous, alone=merged[-1][0] == piece_start - len(previous))
        ):
            merged[-1] = (merged[-1][0], piece_end, merged[-1][2] or alnum)
        else:
            merged.append((piece_start, piece_end, alnum))
        previous = piece

    spans: list[tuple[int, int]] = []
    for piece_start, piece_end, _ in merged:
        cut = piece_start
        for match in _MISSED_END.finditer(copy, piece_start, piece_end):
            if match.end() > cut:
                _add_stripped(text, start + cut, start + match.end(), spans)
                cut = match.end()
        _add_stripped(text, start + cut, start + piece_end, spans)
    return spans


def _cannot_end(piece: str, *, alone: bool) -> bool:
    """Whether a unit cannot end where syntok ended ``piece``.

    ``alone`` says that ``piece`` is the whole unit so far, not its last part.
    """
    piece = piece.rstrip()
    return (
        piece.endswith(";")
        or _NOT_FINAL.search(piece[-16:]) is not None
        or (alone and _MARKER_ONLY.fullmatch(piece) is not None)
    )


def _has_alnum(piece: str) -> bool:
    return any(character.isalnum() for character in piece)


def _add_stripped(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    piece = text[start:end]
    stripped = piece.strip()
    if stripped:
        first = start + (len(piece) - len(piece.lstrip()))
        spans.append((first, first + len(stripped)))


# --- 4. long units -----------------------------------------------------------

_SEMICOLON = re.compile(r";\s")
_COMMA = re.compile(r",\s")
_SPACE = re.compile(r"\s")
_LEADING_SPACE = re.compile(r"\s*")


def _cut_long(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """Cut ``text[start:end]`` into stripped pieces of at most MAX_SENTENCE_CHARS."""
    while end - start > MAX_SENTENCE_CHARS:
        cut = _cut_point(text, start)
        piece = text[start:cut].rstrip()
        yield start, start + len(piece)
        space = _LEADING_SPACE.match(text, cut)
        start = space.end() if space else cut
    yield start, end


def _cut_point(text: str, start: int) -> int:
    """Where to end a piece starting at ``start``: after "; ", ", ", or at a space."""
    limit = start + MAX_SENTENCE_CHARS
    lowest = start + MAX_SENTENCE_CHARS // 4
    for separator in (_SEMICOLON, _COMMA):
        found = list(separator.finditer(text, lowest, limit + 1))
        if found:
            return found[-1].start() + 1
    spaces = list(_SPACE.finditer(text, start + 1, limit + 1))
    if spaces:
        return spaces[-1].start()
    cut = limit
    while cut > start + 1 and _joins_previous(text[cut]):
        cut -= 1
    return cut


def _joins_previous(character: str) -> bool:
    """A combining mark, joiner or variation selector: not the start of a piece."""
    return (
        unicodedata.combining(character) != 0
        or character in "\u200c\u200d"
        or "\ufe00" <= character <= "\ufe0f"
    )
