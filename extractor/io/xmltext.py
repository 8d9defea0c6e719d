"""Text of XML elements: markup stripped, whitespace collapsed, undeclared entities named.

Entities are never expanded by the parser (``extractor.io.xmlstream``), and a
file declaring its own is refused, so an entity reference left in a tree is
one the file's external DTD would define (``&ndash;``, ``&nbsp;``): it is
replaced by the HTML character of that name, or dropped when there is none.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from html.entities import html5

from lxml import etree

# Elements whose text is a word apart from its neighbours even when the markup has no space.
_SPACED = frozenset(
    {"p", "title", "label", "caption", "list-item", "sec", "td", "th", "tr", "break", "br",
     "AbstractText", "def-item", "term", "def", "disp-formula"}
)  # fmt: skip


def local_name(element: etree._Element) -> str:
    """The tag without its namespace (``{http://www.w3.org/1998/Math/MathML}math`` -> ``math``);
    ``""`` for comments, processing instructions and entities."""
    tag = element.tag
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def entity_text(element: etree._Element) -> str:
    """The character an undeclared entity reference stands for (``""`` if unknown)."""
    if not isinstance(element, etree._Entity):
        return ""
    return html5.get(f"{element.name};", "")


def collapse(parts: Iterable[str]) -> str:
    """The parts joined, with runs of whitespace made one space and the ends stripped."""
    return " ".join("".join(parts).split())


def inline_text(element: etree._Element | None, skip: frozenset[str] = frozenset()) -> str:
    """The text inside ``element`` (not its tail), whitespace collapsed, ``skip`` tags left out."""
    return "" if element is None else collapse(_pieces(element, skip))


def _pieces(element: etree._Element, skip: frozenset[str]) -> Iterator[str]:
    if element.text:
        yield element.text
    for child in element:
        name = local_name(child)
        if name in _SPACED:
            yield " "
        if name and name not in skip:
            yield from _pieces(child, skip)
        elif not name:
            yield entity_text(child)
        yield " " if name in _SPACED else ""
        if child.tail:
            yield child.tail


def first_text(element: etree._Element, paths: Iterable[str]) -> str:
    """The inline text of the first of ``paths`` (ElementPath) found with text, or ``""``."""
    for path in paths:
        for found in element.iterfind(path):
            if text := inline_text(found):
                return text
    return ""
