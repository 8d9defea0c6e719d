"""Surface forms compiled into one longest-match regular expression per kind.

The matching rules are the vocabulary's (see ``extractor.record.vocabulary``):
separators interchangeable and optional, brackets and apostrophes optional,
superscript digits as digits, word boundaries, plural endings, ``*`` stems,
and case-sensitive ``exact`` forms. Forms go into a prefix tree, so the
expression prefers the longest form and stays linear in the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_SEP_CHARS = "\\s\\-/\u00ad\u2010\u2011\u2012\u2013\u2014\u2212"
_SEP = f"[{_SEP_CHARS}]{{0,3}}"
_SPLIT = re.compile(f"[{_SEP_CHARS}]+")
_KEY_JUNK = re.compile(f"[{_SEP_CHARS}_'’ʼ\\[\\]()]+")
_SUPERSCRIPT = dict(zip("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹", strict=True))
_APOSTROPHES = "'’ʼ"
_BRACKETS = "[]()"
_VOWELS = "aeiou"


@dataclass
class _Node:
    """A trie node of regex units; ``ends`` are the terminals of forms ending here.

    Separators are not units of the trie: ``sep_before`` holds the child units that
    an optional separator may precede, so "gall bladder" and "gallbladder neck"
    share one path and the longer form still wins.
    """

    children: dict[str, _Node] = field(default_factory=dict)
    sep_before: set[str] = field(default_factory=set)
    ends: list[str] = field(default_factory=list)


def form_key(text: str) -> str:
    """A form compared loosely: case, separators, brackets and apostrophes ignored."""
    return _KEY_JUNK.sub("", text).casefold()


def _char_class(char: str) -> str:
    if char.isalpha():
        return "alpha"
    if char.isdigit():
        return "digit"
    if char in _BRACKETS:
        return "bracket"
    return "apostrophe" if char in _APOSTROPHES else "other"


def _char_unit(char: str, exact: bool) -> str:
    """The regex for one character of a form."""
    kind = _char_class(char)
    if kind == "alpha" and not exact and len(char.upper()) == 1 and char.lower() != char.upper():
        return f"[{re.escape(char.lower())}{re.escape(char.upper())}]"
    if kind == "digit" and char in _SUPERSCRIPT:
        return f"[{char}{_SUPERSCRIPT[char]}]"
    if kind == "bracket":
        return re.escape(char) + "?"
    if kind == "apostrophe":
        return f"[{_APOSTROPHES}]?"
    return re.escape(char)


def _token_units(token: str, exact: bool) -> list[str]:
    """Units of one token; an optional separator goes at letter/digit and bracket edges."""
    units: list[str] = []
    previous = ""
    for char in token:
        kind = _char_class(char)
        edge = {previous, kind} == {"alpha", "digit"} or "bracket" in (previous, kind)
        if previous and edge and units[-1] != _SEP:
            units.append(_SEP)
        units.append(_char_unit(char, exact))
        previous = kind
    return units


def _form_units(form: str, exact: bool) -> tuple[tuple[str, ...], str]:
    """The unit path of a form and the tail (plural, boundary) that ends it."""
    stem = form.endswith("*")
    body = form.rstrip("*").strip()
    units: list[str] = []
    for token in _SPLIT.split(body):
        if token:
            if units:
                units.append(_SEP)
            units.extend(_token_units(token, exact))
    last = body[-1]
    if stem:
        return tuple(units), r"\w*"
    tail = r"(?!\w)" if last.isalnum() else ""
    if not last.isalpha():
        return tuple(units), tail
    consonant_y = len(body) > 1 and body[-2].isalpha() and body[-2].lower() not in _VOWELS
    if not exact and last in "yY" and consonant_y:  # "ovary" ~ "ovaries": "y" goes to the tail
        return tuple(units[:-1]), "(?:[yY]|[iI][eE][sS])" + tail
    plural = "(?:e?s)?" if exact else "(?:[eE]?[sS])?"
    return tuple(units), plural + tail


def _is_exact_unit(unit: str) -> bool:
    """A case-sensitive letter (a case-insensitive one is a ``[xX]`` class)."""
    return len(unit) == 1 and unit.isalpha()


def _node_pattern(node: _Node) -> str:
    """Children before terminals, so a longer form wins over its prefix.

    Case-insensitive branches go before case-sensitive ones, so that "CT-guided"
    (ignored) is tried before the abbreviation "CT" that it starts with.
    """
    children = sorted(node.children.items(), key=lambda item: _is_exact_unit(item[0]))
    branches = [
        (_SEP if unit in node.sep_before else "") + unit + _node_pattern(child)
        for unit, child in children
    ]
    branches.extend(node.ends)
    if len(branches) == 1:
        return branches[0]
    return "(?:" + "|".join(branches) + ")"


def compile_forms(entries: list[tuple[str, bool, str]]) -> re.Pattern[str]:
    """One regex for (form, exact, group name) entries: a trie, each form a named end."""
    root = _Node()
    seen: set[tuple[tuple[str, ...], str]] = set()
    for form, exact, name in entries:
        units, tail = _form_units(form, exact)
        node, separated = root, False
        for unit in units:
            if unit == _SEP:
                separated = True
                continue
            if separated:
                node.sep_before.add(unit)
            node, separated = node.children.setdefault(unit, _Node()), False
        path = (tuple(unit for unit in units if unit != _SEP), tail)
        if path not in seen:  # "PET/CT" and "PETCT" share one path: the first form ends it
            seen.add(path)
            node.ends.append(f"{tail}(?P<{name}>)")
    if not root.children and not root.ends:
        return re.compile(r"(?!)")
    return re.compile(r"(?<!\w)" + _node_pattern(root))
