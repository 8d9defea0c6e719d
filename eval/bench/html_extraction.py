"""HTML extraction: ``extractor.io.html`` against trafilatura, on real and hand-made pages.

For each page the article body is a list of paragraphs and headings picked by
hand (XPath below, chosen by reading each page), and boilerplate is split into
categories (references, page chrome, peer review, front matter). An
extractor's output is scored by

- body kept: the share of body paragraphs (and of their characters) found
  whole in the output, after lower-casing and dropping everything but letters
  and digits (so spacing and list markers do not count);
- leaked: each output line is attributed to the body, to a boilerplate
  category whose text contains it, or to nothing; the characters of the
  lines in each category are reported as a share of the output.

For the hand-made pages (``tests/fixtures/pages``) the probes are the kept and
dropped strings listed in ``tests/io/test_html.py``.

    .venv/bin/pip install trafilatura lxml_html_clean   # for this measurement only
    .venv/bin/python eval/bench/html_extraction.py [--json eval/bench/html_extraction.json]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import trafilatura
from lxml import html as lxml_html

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from extractor.io.html import html_text  # noqa: E402
from tests.io import test_html  # noqa: E402 - the hand-made pages' probes, stated once

REAL = REPO / "tests" / "fixtures" / "corpora" / "html"
PAGES = REPO / "tests" / "fixtures" / "pages"

_SECTIONS_PLOS = (
    "//div[@id='artText']/div[contains(@class,'abstract') or "
    "(contains(@class,'section') and not(.//h2[.='Acknowledgments']))]"
)
_SECTIONS_ELIFE = "//section[@id='abstract' or (starts-with(@id,'s') and not(contains(@id,'A')))]"
# Body units: paragraphs and headings of the article's sections; boilerplate by category.
REAL_PAGES: dict[str, dict[str, Any]] = {
    "plos_one_article.html": {
        "body": f"{_SECTIONS_PLOS}//p[not(starts-with(normalize-space(.),'https://doi.org'))]"
        f" | {_SECTIONS_PLOS}//h2 | {_SECTIONS_PLOS}//h3",
        "boilerplate": {
            "references": "//ol[contains(@class,'references')]",
            "front matter": "//div[@class='articleinfo'] | //div[@class='title-authors']",
            "page chrome": "//header | //nav | //footer | //aside"
            " | //div[@id='figure-carousel-section'] | //div[contains(@class,'article-meta')]",
        },
    },
    "elife_article.html": {
        # (the players' "This video cannot be played ..." notices are not body)
        "body": f"{_SECTIONS_ELIFE}//p[not(contains(.,'cannot be played'))]"
        f" | {_SECTIONS_ELIFE}//h2 | {_SECTIONS_ELIFE}//h3",
        "boilerplate": {
            "references": "//section[@id='references']",
            "peer review": "//section[@id='SA1' or @id='SA2']",
            "front matter": "//section[@id='info'] | //header[contains(@class,'content-header')]",
            "page chrome": "//header[@id='siteHeader'] | //nav | //footer"
            " | //section[@id='metrics'] | //div[contains(@class,'listing-read-more')]"
            " | //div[@id='downloads']/..",
        },
    },
}
HAND_PAGES = {
    "pubmed_abstract.html": (test_html.PUBMED_KEPT, test_html.PUBMED_DROPPED),
    "journal_article.html": (test_html.JOURNAL_KEPT, test_html.JOURNAL_DROPPED),
    "legacy_case.html": (test_html.LEGACY_KEPT, test_html.LEGACY_DROPPED),
}


def norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.lower())


def trafilatura_text(page: str) -> str:
    return trafilatura.extract(page, include_tables=True, include_comments=False) or ""


def trafilatura_recall(page: str) -> str:
    return (
        trafilatura.extract(page, include_tables=True, include_comments=False, favor_recall=True)
        or ""
    )


EXTRACTORS: dict[str, Callable[[str], str]] = {
    "html.py": html_text,
    "trafilatura": trafilatura_text,
    "trafilatura favor_recall": trafilatura_recall,
}


def texts(tree: Any, xpath: str) -> list[str]:
    found = (" ".join(el.text_content().split()) for el in tree.xpath(xpath))
    return [text for text in found if len(norm(text)) >= 3]


def score_real(page: str, spec: dict[str, Any], output: str) -> dict[str, Any]:
    tree = lxml_html.fromstring(page)
    body = texts(tree, spec["body"])
    flat = norm(output)
    kept = [unit for unit in body if norm(unit) in flat]
    categories = {name: norm(" ".join(texts(tree, xp))) for name, xp in spec["boilerplate"].items()}
    body_flat = norm(" ".join(body))
    chars: dict[str, int] = {"body": 0, **dict.fromkeys(categories, 0), "unattributed": 0}
    for line in output.splitlines():
        key = norm(line)
        if not key:
            continue
        where = "body" if key in body_flat else None
        where = where or next((n for n, t in categories.items() if key in t), "unattributed")
        chars[where] += len(line)
    total = sum(chars.values()) or 1
    return {
        "body_paragraphs": f"{len(kept)}/{len(body)}",
        "body_chars_kept": round(sum(map(len, kept)) / max(1, sum(map(len, body))), 3),
        "output_chars": len(output),
        "output_share": {name: round(count / total, 3) for name, count in chars.items()},
    }


def score_hand(kept: list[str], dropped: list[str], output: str) -> dict[str, Any]:
    flat = " ".join(output.split())
    return {
        "kept": f"{sum(' '.join(p.split()) in flat for p in kept)}/{len(kept)}",
        "leaked": f"{sum(p in flat for p in dropped)}/{len(dropped)}",
        "leaked_strings": [p for p in dropped if p in flat],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--json", type=Path, default=REPO / "eval" / "bench" / "html_extraction.json"
    )
    args = parser.parse_args()
    figures: dict[str, Any] = {"trafilatura": trafilatura.__version__, "pages": {}}
    for name, spec in REAL_PAGES.items():
        page = (REAL / name).read_text(encoding="utf-8")
        figures["pages"][name] = {
            label: score_real(page, spec, extract(page)) for label, extract in EXTRACTORS.items()
        }
    for name, (kept, dropped) in HAND_PAGES.items():
        page = (PAGES / name).read_text(encoding="utf-8")
        figures["pages"][name] = {
            label: score_hand(kept, dropped, extract(page)) for label, extract in EXTRACTORS.items()
        }
    print(json.dumps(figures, indent=2, ensure_ascii=False))
    args.json.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
