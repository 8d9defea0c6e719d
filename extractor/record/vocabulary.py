"""The vocabulary of record values: surface forms, NCIt codes and a fast matcher.

A vocabulary file (a template's ``vocabulary_file``; the NEN record's is
``extractor/templates/nen.toml``) lists, for every enumerated value of the
record, the words clinical case reports use for it, and a few cue words for
the free-valued fields. This module loads such a file once,
compiles one regular expression per kind and answers two questions: where does
a text mention a value (:meth:`Vocabulary.find`), and which enum value does a
free-text answer mean (:meth:`Vocabulary.normalise`).

Every form is matched by the same rules:

- case-insensitively, except the forms a term lists under ``exact``;
- spaces, hyphens, en/em dashes and slashes between tokens are interchangeable
  and optional, so "Ga-68 DOTATATE" ~ "Ga 68 DOTATATE" ~ "Ga-68-DOTATATE" written
  with non-breaking hyphens; a letter/digit boundary inside a token may carry one
  too ("68Ga" ~ "68-Ga");
- brackets, parentheses and apostrophes in a form are optional, superscript
  digits match digits ("[68Ga]Ga-DOTA-TATE" ~ "⁶⁸Ga-DOTATATE");
- never inside a longer word ("nse" is not found in "response");
- a form ending in a letter also matches with "s"/"es" (consonant + "y" with
  "ies"); a form ending in ``*`` is a stem and matches any continuation;
- the ``[spelling]`` pairs add British/American variants of every form.
"""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from extractor.errors import ConfigError
from extractor.hashing import sha256_text
from extractor.record.patterns import compile_forms, form_key

__all__ = ["EMPTY_VOCABULARY", "Mention", "Term", "Vocabulary", "vocabulary"]

_RESERVED = frozenset({"spelling", "ignore", "cues", "implies"})
_TERM_KEYS = frozenset({"code", "forms", "exact", "implies", "same_as"})
_CUE_KEYS = frozenset({"forms", "exact"})
_NCIT = re.compile(r"C\d+")


@dataclass(frozen=True)
class Term:
    """One enum value of one kind, with the surface forms that name it."""

    kind: str
    value: str
    code: str | None
    forms: tuple[str, ...]
    implies: str | None = None
    exact_forms: tuple[str, ...] = ()  # the subset of ``forms`` matched case-sensitively


@dataclass(frozen=True)
class Mention:
    """Where a term is named in a text: ``text[start:end]`` is the surface form."""

    term: Term
    start: int
    end: int


class Vocabulary:
    """Terms by kind, cue words by field, and the compiled matchers (built on first use)."""

    def __init__(
        self,
        terms: dict[str, dict[str, Term]],
        ignore: dict[str, tuple[str, ...]],
        cues: dict[str, tuple[tuple[str, ...], tuple[str, ...]]],
        sha256: str = "",
    ) -> None:
        self.sha256 = sha256  # of the file it was loaded from: part of the strategy's revision
        self._terms = terms
        self._ignore = ignore
        self._cues = cues
        self._matchers: dict[str, tuple[re.Pattern[str], dict[str, Term | None]]] = {}
        self._cue_matchers: dict[str, re.Pattern[str]] = {}

    def kinds(self) -> tuple[str, ...]:
        """The kinds of value, in file order (``primary_site``, ``tracer``, …)."""
        return tuple(self._terms)

    def terms(self, kind: str) -> tuple[Term, ...]:
        """Every term of a kind, in file order."""
        return tuple(self._kind(kind).values())

    def term(self, kind: str, value: str) -> Term | None:
        """The term with this exact enum value, or None."""
        return self._kind(kind).get(value)

    def code(self, kind: str, value: str) -> str | None:
        """The NCIt code of a value, when the vocabulary records one."""
        found = self.term(kind, value)
        return found.code if found else None

    def find(self, kind: str, text: str) -> list[Mention]:
        """Every mention of a value of ``kind``: left to right, non-overlapping, longest first."""
        pattern, groups = self._matcher(kind)
        mentions: list[Mention] = []
        for match in pattern.finditer(text):
            term = groups[match.lastgroup or ""]
            if term is not None:
                mentions.append(Mention(term, match.start(), match.end()))
        return mentions

    def normalise(self, kind: str, answer: str) -> str | None:
        """The enum value a free-text answer means: the value itself, else its longest form."""
        wanted = form_key(answer)
        for term in self._kind(kind).values():
            if wanted and form_key(term.value) == wanted:
                return term.value
        mentions = self.find(kind, answer)
        if not mentions:
            return None
        return max(mentions, key=lambda mention: mention.end - mention.start).term.value

    def cues(self, field: str) -> tuple[str, ...]:
        """Cue words and phrases that signal a sentence may state ``field``."""
        forms, exact = self._cue(field)
        return forms + exact

    def find_cues(self, field: str, text: str) -> list[tuple[int, int]]:
        """The (start, end) spans of cue words for ``field`` in ``text``."""
        pattern = self._cue_matchers.get(field)
        if pattern is None:
            forms, exact = self._cue(field)
            entries = [(form, False, f"c{i}") for i, form in enumerate(forms)]
            entries += [(form, True, f"e{i}") for i, form in enumerate(exact)]
            pattern = self._cue_matchers[field] = compile_forms(entries)
        return [match.span() for match in pattern.finditer(text)]

    def _kind(self, kind: str) -> dict[str, Term]:
        try:
            return self._terms[kind]
        except KeyError:
            raise KeyError(f"no kind {kind!r} in the vocabulary") from None

    def _cue(self, field: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        try:
            return self._cues[field]
        except KeyError:
            raise KeyError(f"no cues for field {field!r} in the vocabulary") from None

    def _matcher(self, kind: str) -> tuple[re.Pattern[str], dict[str, Term | None]]:
        if kind not in self._matchers:
            groups: dict[str, Term | None] = {}
            entries: list[tuple[str, bool, str]] = []
            for term in self._kind(kind).values():
                for form in term.forms:
                    name = f"f{len(groups)}"
                    groups[name] = term
                    entries.append((form, form in term.exact_forms, name))
            for form in self._ignore.get(kind, ()):
                name = f"f{len(groups)}"
                groups[name] = None
                entries.append((form, False, name))
            self._matchers[kind] = (compile_forms(entries), groups)
        return self._matchers[kind]


EMPTY_VOCABULARY = Vocabulary({}, {}, {}, sha256_text(""))
"""The vocabulary of a template that declares none: no kinds, no cues."""


# --- loading ------------------------------------------------------------------------------


def vocabulary(path: Path) -> Vocabulary:
    """The vocabulary in ``path``, loaded once (a template's is ``Template.vocabulary``)."""
    return _load(path.resolve())


@functools.cache
def _load(path: Path) -> Vocabulary:
    try:
        source = path.read_text(encoding="utf-8")
        data = tomllib.loads(source)
    except OSError as exc:
        raise ConfigError(f"cannot read vocabulary {path}: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"vocabulary {path} is not valid TOML: {exc}") from exc
    where = str(path)
    pairs = _spelling(data.get("spelling", {}), where)
    raw = {
        kind: _kind_table(kind, table, where)
        for kind, table in data.items()
        if kind not in _RESERVED
    }
    terms = {kind: _build_terms(kind, entries, raw, pairs, where) for kind, entries in raw.items()}
    ignore = _ignore_table(data.get("ignore", {}), terms, pairs, where)
    implied = _implied_kinds(data.get("implies", {}), terms, where)
    _check_implies(terms, implied, where)
    _merge_implied(terms, ignore, implied)
    for kind, by_value in terms.items():
        _check_unique(kind, by_value, ignore.get(kind, ()), where)
    cues = _cues_table(data.get("cues", {}), pairs, where)
    return Vocabulary(terms, ignore, cues, sha256_text(source))


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(
        isinstance(item, str) and item.rstrip("*").strip() for item in value
    ):
        raise ConfigError(f"{where} must be a list of non-empty strings")
    return tuple(value)


def _spelling(table: Any, where: str) -> tuple[tuple[str, str], ...]:
    pairs = table.get("pairs", []) if isinstance(table, dict) else None
    if not isinstance(pairs, list) or not all(
        isinstance(pair, list) and len(pair) == 2 and all(isinstance(s, str) and s for s in pair)
        for pair in pairs
    ):
        raise ConfigError(f"{where}: [spelling] pairs must be a list of [british, american] pairs")
    return tuple((a.casefold(), b.casefold()) for a, b in pairs)


def _kind_table(kind: str, table: Any, where: str) -> dict[str, dict[str, Any]]:
    if not isinstance(table, dict) or not table:
        raise ConfigError(f"{where}: [{kind}] must be a table of values")
    for value, entry in table.items():
        label = f"{where}: [{kind}.{value!r}]"
        if not isinstance(entry, dict):
            raise ConfigError(f"{label} must be a table")
        unknown = set(entry) - _TERM_KEYS
        if unknown:
            raise ConfigError(f"{label} has unknown keys {sorted(unknown)}")
        if "forms" not in entry and "same_as" not in entry:
            raise ConfigError(f"{label} needs forms (or same_as)")
        code = entry.get("code")
        if code is not None and not (isinstance(code, str) and _NCIT.fullmatch(code)):
            raise ConfigError(f"{label} code {code!r} is not an NCIt code (C followed by digits)")
    return table


def _variants(form: str, pairs: tuple[tuple[str, str], ...]) -> list[str]:
    """The form and its other spellings (each pair applied both ways)."""
    found = [form]
    for british, american in pairs:
        for source, target in ((british, american), (american, british)):
            for known in list(found):
                other = _respell(known, source, target)
                if other not in found:
                    found.append(other)
    return found


def _respell(form: str, source: str, target: str) -> str:
    """Replace ``source`` by ``target``, except where ``source`` lies inside a ``target``."""
    lower = form.casefold()
    if source not in lower:
        return form
    spans = [
        (start, start + len(target))
        for start in range(len(lower))
        if lower.startswith(target, start)
    ]
    out, i = [], 0
    while i < len(form):
        inside = any(a <= i and i + len(source) <= b for a, b in spans)
        if lower.startswith(source, i) and not inside:
            out.append(target)
            i += len(source)
        else:
            out.append(form[i])
            i += 1
    return "".join(out)


def _build_terms(
    kind: str,
    entries: dict[str, dict[str, Any]],
    raw: dict[str, dict[str, dict[str, Any]]],
    pairs: tuple[tuple[str, str], ...],
    where: str,
) -> dict[str, Term]:
    terms: dict[str, Term] = {}
    for value, entry in entries.items():
        label = f"{where}: [{kind}.{value!r}]"
        code = entry.get("code")
        forms: list[str] = []
        exact: list[str] = []
        source = entry.get("same_as")
        if source is not None:
            other = raw.get(source, {}).get(value) if isinstance(source, str) else None
            if other is None or "same_as" in other:
                raise ConfigError(f"{label} same_as {source!r}: no such term to copy")
            code = code or other.get("code")
            forms += _strings(other.get("forms", []), label)
            exact += _strings(other.get("exact", []), label)
        forms += _strings(entry.get("forms", []), f"{label} forms")
        exact += _strings(entry.get("exact", []), f"{label} exact")
        spelled = [variant for form in forms for variant in _variants(form, pairs)]
        unique = tuple(dict.fromkeys(spelled + exact))
        implies = entry.get("implies")
        if implies is not None and not isinstance(implies, str):
            raise ConfigError(f"{label} implies must be a string")
        if not unique:
            raise ConfigError(f"{label} has no forms")
        terms[value] = Term(kind, value, code, unique, implies, tuple(dict.fromkeys(exact)))
    return terms


def _ignore_table(
    table: Any, terms: dict[str, dict[str, Term]], pairs: tuple[tuple[str, str], ...], where: str
) -> dict[str, tuple[str, ...]]:
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: [ignore] must be a table of kind = [forms]")
    ignore: dict[str, tuple[str, ...]] = {}
    for kind, forms in table.items():
        if kind not in terms:
            raise ConfigError(f"{where}: [ignore] names unknown kind {kind!r}")
        spelled = (
            v for form in _strings(forms, f"{where}: ignore.{kind}") for v in _variants(form, pairs)
        )
        ignore[kind] = tuple(dict.fromkeys(spelled))
    return ignore


def _implied_kinds(table: Any, terms: dict[str, dict[str, Term]], where: str) -> dict[str, str]:
    """The ``[implies]`` table: for a kind whose terms imply a value, the kind of that value."""
    if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
        raise ConfigError(f'{where}: [implies] must be a table of kind = "kind it implies"')
    for kind, target in table.items():
        if kind not in terms or target not in terms:
            raise ConfigError(f"{where}: [implies] {kind} = {target!r} names an unknown kind")
    return dict(table)


def _check_implies(terms: dict[str, dict[str, Term]], implied: dict[str, str], where: str) -> None:
    for kind, by_value in terms.items():
        for term in by_value.values():
            if term.implies is None:
                continue
            target = implied.get(kind)
            if target is None:
                raise ConfigError(f"{where}: [{kind}.{term.value!r}] implies a value, but "
                                  f"[implies] does not say of which kind for {kind}")  # fmt: skip
            if term.implies not in terms[target]:
                raise ConfigError(
                    f"{where}: [{kind}.{term.value!r}] implies {term.implies!r}, "
                    f"which is not a {target}"
                )


def _merge_implied(
    terms: dict[str, dict[str, Term]], ignore: dict[str, tuple[str, ...]], implied: dict[str, str]
) -> None:
    """Every term's forms also name the value it implies (an agent names its treatment type)."""
    for kind, target in implied.items():
        values = terms[target]
        for term in terms[kind].values():
            if term.implies is None:
                continue
            base = values[term.implies]
            values[term.implies] = Term(
                base.kind,
                base.value,
                base.code,
                tuple(dict.fromkeys(base.forms + term.forms)),
                base.implies,
                tuple(dict.fromkeys(base.exact_forms + term.exact_forms)),
            )
        merged = ignore.get(target, ()) + ignore.get(kind, ())
        if merged:
            ignore[target] = tuple(dict.fromkeys(merged))


def _check_unique(kind: str, terms: dict[str, Term], ignored: tuple[str, ...], where: str) -> None:
    """No form may name two values of one kind (nor be both a form and ignored)."""
    owner: dict[str, str] = {}
    named = [(form, term.value) for term in terms.values() for form in term.forms]
    named += [(form, "(ignored)") for form in ignored]
    for form, value in named:
        first = owner.setdefault(form_key(form), value)
        if first != value:
            raise ConfigError(
                f"{where}: [{kind}] form {form!r} is listed under both {first!r} and {value!r}"
            )


def _cues_table(
    table: Any, pairs: tuple[tuple[str, str], ...], where: str
) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: [cues] must be a table of fields")
    cues: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
    for name, entry in table.items():
        label = f"{where}: [cues.{name}]"
        if not isinstance(entry, dict) or set(entry) - _CUE_KEYS or "forms" not in entry:
            raise ConfigError(f"{label} must be a table with forms (and optionally exact)")
        forms = tuple(
            dict.fromkeys(
                v for form in _strings(entry["forms"], label) for v in _variants(form, pairs)
            )
        )
        cues[name] = (forms, _strings(entry.get("exact", []), label))
    return cues
