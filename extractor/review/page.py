"""A review page for a run: one self-contained HTML file, one document shown at a time.

An index lists the documents (status; with gold, micro-F1). The selected one
shows its text with each evidence span highlighted and linked to the row of
the field it supports (and back), the quotes not found, and its record as
tables, gold and predicted side by side when a gold set is given.

Safe with any text and fast with thousands of documents: the index goes
through ``html.escape``; the documents are JSON in a ``<script
type="application/json">`` (``<``, ``>``, ``&`` escaped); ``assets/review.js``
renders only the selected one (``#doc=ID``) with text nodes, never ``innerHTML``;
a Content-Security-Policy allows only the inlined CSS and JS, and no fetching.

What each document shows is gathered in ``extractor.review.data``.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Any
from urllib.parse import quote

from extractor.evaluation.counts import total
from extractor.evaluation.gold import load_gold
from extractor.io.runfile import latest_lines
from extractor.record.template import default_template, load_template
from extractor.review.data import Texts, document_data

ASSETS = Path(__file__).parent / "assets"

Data = dict[str, Any]


@dataclass(frozen=True)
class ReviewSummary:
    """What a review page holds: documents, with a record or failed, and with a gold label."""

    documents: int
    ok: int
    failed: int
    with_gold: int


def write_review(
    run: Path, out: Path, gold_dir: Path | None = None, record: str | None = None
) -> ReviewSummary:
    """Write the review page of ``run`` to ``out`` (with gold comparisons if ``gold_dir``).

    The run's records are read as the ``record`` template's (by default the
    gold set's, else the NEN record's).
    """
    gold = None if gold_dir is None else load_gold(gold_dir, record)
    template = gold.template if gold is not None else (
        default_template() if record is None else load_template(record))  # fmt: skip
    lines = {line.doc_id: line.to_dict() for line in latest_lines(run)}
    texts = Texts(gold)
    labels = {} if gold is None else {k: item.label for k, item in gold.items.items()}
    docs, scores = [], []
    for doc_id, line in lines.items():
        data, score = document_data(line, texts.find(line), labels.get(doc_id), template)
        docs.append(data)
        scores.extend([] if score is None else [score])
    summary = ReviewSummary(
        documents=len(docs),
        ok=sum(doc["status"] == "ok" for doc in docs),
        failed=sum(doc["status"] != "ok" for doc in docs),
        with_gold=len(scores),
    )
    overall = total(scores).f1 if scores else None
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(_page(run.name, docs, summary, overall), encoding="utf-8")
    return summary


# --- the page ------------------------------------------------------------------------------------


def _page(name: str, docs: list[Data], summary: ReviewSummary, f1: float | None) -> str:
    """The page: ``assets/review.html`` filled with escaped values, CSS, JS and data."""
    css, js = (ASSETS / "review.css").read_text("utf-8"), (ASSETS / "review.js").read_text("utf-8")
    policy = (
        f"default-src 'none'; style-src '{_digest(css)}'; script-src '{_digest(js)}'; "
        "img-src 'none'; connect-src 'none'; form-action 'none'; base-uri 'none'"
    )
    counts = f"{summary.documents} documents: {summary.ok} ok, {summary.failed} failed"
    if f1 is not None:
        counts += f"; {summary.with_gold} with gold, micro-F1 {f1:.3f}"
    return Template((ASSETS / "review.html").read_text("utf-8")).substitute(
        policy=html.escape(policy),
        title=html.escape(f"Review: {name}"),
        counts=html.escape(counts),
        index="\n".join(_index_item(doc) for doc in docs),
        data=_script_json(docs),
        css=css,
        js=js,
    )


def _index_item(doc: Data) -> str:
    """One entry of the index: a link to ``#doc=ID``, the status and the F1."""
    status, f1 = doc["status"], doc["f1"]
    search = html.escape(f"{doc['id']} {doc['source']} {status}".lower())
    score = "" if f1 is None else f' <span class="f1">F1 {f1:.2f}</span>'
    return (
        f'<li data-id="{html.escape(doc["id"])}" data-search="{search}">'
        f'<a href="#doc={html.escape(quote(doc["id"], safe=""))}">{html.escape(doc["id"])}</a> '
        f'<span class="status {"ok" if status == "ok" else "failed"}">{html.escape(status)}</span>'
        f"{score}</li>"
    )


def _script_json(value: Any) -> str:
    """JSON safe inside a ``<script>`` element: ``<``, ``>`` and ``&`` as ``\\u`` escapes."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def _digest(content: str) -> str:
    """A CSP source expression allowing exactly this inline block."""
    return "sha256-" + base64.b64encode(hashlib.sha256(content.encode()).digest()).decode()
