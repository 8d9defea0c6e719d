"""The article text of a saved web page: navigation, banners and other boilerplate dropped.

Saved journal and PubMed pages wrap a few paragraphs of article in site
banners, menus, cookie notices, share buttons and footers. ``html_text``
keeps what a reader would call the article:

- elements that are never article text are skipped (``nav``, ``aside``,
  ``form``, ``script``...), and so are elements whose ``role``, ``class`` or
  ``id`` mark them as boilerplate;
- ``header`` and ``footer`` (tags, roles and class words) count as
  boilerplate only outside ``<article>``/``<main>``: inside, they are the
  article's own heading (title, authors) and notes;
- when the page has an ``<article>`` or ``<main>``, only its content is kept,
  preceded by the page's ``h1`` (or else its ``<title>``) if the article
  lacks a heading of its own.

Class and id values are matched by words, not substrings: each token is split
on ``-``, ``_`` and camelCase. A token is boilerplate when its first or last
word names boilerplate (``nav__item``, ``cookie-notice``, ``usa-skipnav``,
``page-sidebar``), or when its last word is ``header``, ``footer`` or
``banner`` outside the article (``site-header``, ``usa-banner``); a word
inside a token (``article-header-title``) or a leading ``header``
(``header-note``) does not count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from html.parser import HTMLParser
from typing import Literal

_INVISIBLE_TAGS = frozenset(
    {"head", "script", "style", "noscript", "template", "svg", "iframe", "canvas", "object"}
)
_SKIPPED_TAGS = _INVISIBLE_TAGS | {"nav", "aside", "form", "button", "select", "dialog", "menu"}
_PAGE_TAGS = frozenset({"header", "footer"})  # boilerplate outside the article only
_ARTICLE_TAGS = frozenset({"article", "main"})
_BLOCK_TAGS = frozenset(
    {"p", "div", "br", "hr", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section",
     "article", "main", "header", "footer", "table", "ul", "ol", "dl", "blockquote", "title",
     "dt", "dd", "figure", "figcaption", "caption", "pre", "address", "details", "summary"}
)  # fmt: skip
_CELL_TAGS = frozenset({"td", "th"})
_VOID_TAGS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
     "source", "track", "wbr"}
)  # fmt: skip
_BOILERPLATE_ROLES = frozenset(
    {"navigation", "banner", "contentinfo", "search", "complementary", "menu", "menubar",
     "toolbar", "dialog", "alertdialog"}
)  # fmt: skip
_ARTICLE_ROLES = frozenset({"main", "article"})
_BOILERPLATE_WORDS = frozenset(
    {"nav", "navbar", "topnav", "navigation", "menu", "menubar", "breadcrumb", "breadcrumbs",
     "cookie", "cookies", "consent", "sidebar", "skip", "skipnav", "skiplink", "share",
     "sharing", "social", "ad", "ads", "advert", "adverts", "advertisement", "related",
     "similar", "citedby", "recommended", "recommendations", "toolbar", "masthead",
     "newsletter", "popup", "modal"}
)  # fmt: skip
_PAGE_WORDS = frozenset({"header", "footer", "superfooter", "banner"})
# A token with one of these words names a state (``sidebar-visible``, ``has-nav``), not a part.
_STATE_WORDS = frozenset(
    {"is", "has", "with", "no", "visible", "open", "opened", "closed", "collapsed", "expanded",
     "active", "hidden", "enabled", "disabled"}
)  # fmt: skip
_UNCHECKED_TAGS = frozenset({"html", "body"})  # their classes name page states

Region = Literal["article", "heading", "other"]


@dataclass(frozen=True)
class _State:
    """Where the parser is: what the text at this point of the page belongs to."""

    skipping: bool = False
    in_article: bool = False
    in_title: bool = False
    in_h1: bool = False

    @property
    def region(self) -> Region:
        if self.in_article:
            return "article"
        return "heading" if self.in_h1 else "other"


def _words(token: str) -> list[str]:
    """``c-siteHeader__nav`` -> ``["site", "header", "nav"]`` (a one-letter namespace dropped)."""
    words = re.findall(r"[a-z0-9]+", re.sub(r"([a-z0-9])([A-Z])", r"\1-\2", token).lower())
    while len(words) > 1 and len(words[0]) == 1:
        words.pop(0)
    return words


def _names_boilerplate(value: str, in_article: bool) -> bool:
    """Whether a class or id value marks boilerplate, by the first and last word of a token."""
    last_words = _BOILERPLATE_WORDS if in_article else _BOILERPLATE_WORDS | _PAGE_WORDS
    for token in value.split():
        words = _words(token)
        if not words or _STATE_WORDS.intersection(words):
            continue
        if words[0] in _BOILERPLATE_WORDS or words[-1] in last_words:
            return True
    return False


def _is_boilerplate(tag: str, attrs: dict[str, str], in_article: bool) -> bool:
    if tag in _SKIPPED_TAGS or (tag in _PAGE_TAGS and not in_article):
        return True
    if attrs.get("role", "").strip().lower() in _BOILERPLATE_ROLES:
        return True
    if tag in _UNCHECKED_TAGS:
        return False
    return any(_names_boilerplate(attrs.get(name, ""), in_article) for name in ("class", "id"))


class _ArticleText(HTMLParser):
    """Collects text with the region it belongs to, skipping boilerplate subtrees.

    With ``clean`` False it only skips what a browser does not show (scripts,
    styles, the head) and keeps the whole page.
    """

    def __init__(self, clean: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.clean = clean
        self.parts: list[tuple[Region, str]] = []
        self.title: list[str] = []
        self.has_article = False
        self.article_has_h1 = False
        self._stack: list[tuple[str, _State]] = []

    @property
    def state(self) -> _State:
        return self._stack[-1][1] if self._stack else _State()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        parent = self.state
        if tag in _VOID_TAGS:
            if tag in _BLOCK_TAGS and not parent.skipping:
                self.parts.append((parent.region, "\n"))
            return
        values = {name: value or "" for name, value in attrs}
        if self.clean:
            skipping = parent.skipping or _is_boilerplate(tag, values, parent.in_article)
            starts_article = tag in _ARTICLE_TAGS or values.get("role") in _ARTICLE_ROLES
        else:
            skipping, starts_article = parent.skipping or tag in _INVISIBLE_TAGS, False
        state = replace(
            parent,
            skipping=skipping,
            in_article=parent.in_article or (starts_article and not skipping),
            in_title=parent.in_title or (tag == "title" and self._in_head()),
            in_h1=parent.in_h1 or tag == "h1",
        )
        self._stack.append((tag, state))
        if not skipping:
            self.has_article |= state.in_article
            self.article_has_h1 |= state.in_article and tag == "h1"
            self._separate(tag, state)

    def _in_head(self) -> bool:
        """Whether the parser is in the document head (not, say, an SVG icon's title)."""
        return all(open_tag in {"html", "head"} for open_tag, _ in self._stack)

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self._stack) - 1, -1, -1):
            if self._stack[index][0] == tag:
                state = self._stack[index][1]
                del self._stack[index:]  # also closes elements left open inside it
                if not state.skipping:
                    self._separate(tag, state)
                return

    def handle_data(self, data: str) -> None:
        state = self.state
        if state.in_title:
            self.title.append(data)
        elif not state.skipping:
            self.parts.append((state.region, data))

    def _separate(self, tag: str, state: _State) -> None:
        if tag in _BLOCK_TAGS:
            self.parts.append((state.region, "\n"))
        elif tag in _CELL_TAGS:
            self.parts.append((state.region, " "))

    def text(self) -> str:
        if not self.has_article:
            return "".join(text for _, text in self.parts)
        article = "".join(text for region, text in self.parts if region == "article")
        if self.article_has_h1:
            return article
        heading = "".join(text for region, text in self.parts if region == "heading")
        return (heading if heading.strip() else "".join(self.title)) + "\n" + article


def html_text(html: str) -> str:
    """The article text of an HTML page, one block per line, boilerplate dropped.

    Should the cleaning leave nothing (a page marked up in a way the rules
    misread), the page's visible text is returned instead.
    """
    return _lines(html, clean=True) or _lines(html, clean=False)


def _lines(html: str, clean: bool) -> str:
    parser = _ArticleText(clean)
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in parser.text().splitlines())
    return "\n".join(line for line in lines if line)
