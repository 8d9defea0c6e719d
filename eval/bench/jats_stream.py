"""Streaming benchmark: memory while 1,000 JATS articles go through ``iter_documents``.

Builds, from the real JATS fixtures (``tests/fixtures/corpora/jats``), a PMC
Open Access-style ``.tar.gz`` of N articles (each copy with its own member
name and PMCID), the same N articles as one ``<pmc-articleset>`` file, and a
PubMed export of 10 x N records, then reads each in a fresh process and
prints its peak RSS (``ru_maxrss``) and current RSS after 100 documents and
after all of them, with documents per second. Flat memory means the figures
at 100 and at N are about the same. Writes the figures as JSON.

    .venv/bin/python eval/bench/jats_stream.py [--n 1000] [--json eval/bench/jats_stream.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from extractor.config import ModelConfig, RunSettings
from extractor.extraction.bulk import RunSummary, extract_files
from extractor.io.documents import Document, iter_documents
from extractor.testing.corpus import jats_archive, with_pmcid
from extractor.testing.fake import minimal_record
from extractor.testing.stub_server import stub_server

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "corpora"
JATS = sorted((FIXTURES / "jats").glob("*.*xml"))
CHECKPOINT = 100


def _rss_mb() -> tuple[float, float]:
    """(peak, current) resident memory of this process in MB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return round(peak, 1), round(pages * os.sysconf("SC_PAGE_SIZE") / 2**20, 1)


def measure(path: Path) -> dict[str, Any]:
    """Read every document of ``path``; memory after CHECKPOINT documents and at the end."""
    figures: dict[str, Any] = {"start_rss_mb": _rss_mb()[1]}
    started = time.perf_counter()
    count = failed = chars = 0
    for item in iter_documents([path]):
        count += 1
        if isinstance(item, Document):
            chars += len(item.text)
        else:
            failed += 1
        if count == CHECKPOINT:
            figures[f"peak_rss_mb_at_{CHECKPOINT}"], figures[f"rss_mb_at_{CHECKPOINT}"] = _rss_mb()
    seconds = time.perf_counter() - started
    figures["peak_rss_mb_at_end"], figures["rss_mb_at_end"] = _rss_mb()
    figures.update(
        documents=count, unreadable=failed, mean_chars=round(chars / max(1, count - failed)),
        seconds=round(seconds, 2), documents_per_second=round(count / seconds, 1),
    )  # fmt: skip
    return figures


def measure_extract(path: Path, url: str) -> dict[str, Any]:
    """Extract every document of ``path`` against the stub at ``url``; memory as above."""
    figures: dict[str, Any] = {"start_rss_mb": _rss_mb()[1]}

    def on_progress(summary: RunSummary) -> None:
        if summary.documents == CHECKPOINT and f"rss_mb_at_{CHECKPOINT}" not in figures:
            figures[f"peak_rss_mb_at_{CHECKPOINT}"], figures[f"rss_mb_at_{CHECKPOINT}"] = _rss_mb()

    config = ModelConfig(model="stub", base_url=url)
    settings = RunSettings(strategy="whole", concurrency=16, overwrite=True)
    with tempfile.TemporaryDirectory() as tmp:
        summary = asyncio.run(
            extract_files(
                [path], Path(tmp) / "run.jsonl", config, settings, on_progress=on_progress
            )
        )
    figures["peak_rss_mb_at_end"], figures["rss_mb_at_end"] = _rss_mb()
    figures.update(documents=summary.documents, ok=summary.ok, seconds=round(summary.seconds, 2))
    return figures


def _article_set(path: Path, n: int) -> None:
    """One ``<pmc-articleset>`` file of n articles (DOCTYPE and XML declaration dropped)."""
    bodies = []
    for article in JATS:
        raw = article.read_bytes()
        start = raw.index(b"<article ")
        end = raw.rindex(b"</article>") + len(b"</article>")
        bodies.append(raw[start:end])
    with path.open("wb") as out:
        out.write(b"<pmc-articleset>")
        for index in range(n):
            out.write(with_pmcid(bodies[index % len(bodies)], f"PMC{8_000_001 + index}"))
        out.write(b"</pmc-articleset>")


def _pubmed_export(path: Path, n: int) -> None:
    raw = (FIXTURES / "pubmed" / "pubmed2.xml").read_text(encoding="utf-8")
    head, _, rest = raw.partition("<PubmedArticle>")
    record = "<PubmedArticle>" + rest.split("</PubmedArticle>")[0] + "</PubmedArticle>"
    with path.open("w", encoding="utf-8") as out:
        out.write(head)
        for index in range(n):
            out.write(record.replace("11748933</PMID>", f"{40_000_000 + index}</PMID>") + "\n")
        out.write("</PubmedArticleSet>\n")


def _in_child(path: Path, url: str | None = None) -> dict[str, Any]:
    extra = [] if url is None else ["--url", url]
    result = subprocess.run(
        [sys.executable, __file__, "--measure", str(path), *extra],
        cwd=REPO, capture_output=True, text=True, check=True,
    )  # fmt: skip
    figures: dict[str, Any] = json.loads(result.stdout)
    figures["input_mb"] = round(path.stat().st_size / 2**20, 1)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--json", type=Path, default=REPO / "eval" / "bench" / "jats_stream.json")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure is not None:
        found = (
            measure(args.measure) if args.url is None else measure_extract(args.measure, args.url)
        )
        print(json.dumps(found))
        return
    figures: dict[str, Any] = {
        "n": args.n, "python": platform.python_version(), "machine": platform.machine(),
        "cpus": os.cpu_count(), "inputs": {},
    }  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        archive, articleset, export = (
            folder / "oa_package.tar.gz", folder / "articleset.xml", folder / "pubmed.xml"
        )  # fmt: skip
        jats_archive(archive, JATS, args.n)
        _article_set(articleset, args.n)
        _pubmed_export(export, 10 * args.n)
        for label, path in [
            (f"tar.gz of {args.n} JATS members", archive),
            (f"pmc-articleset of {args.n} articles", articleset),
            (f"PubMed export of {10 * args.n} records", export),
        ]:
            figures["inputs"][label] = _in_child(path)
            print(label, json.dumps(figures["inputs"][label]), flush=True)
        with stub_server(minimal_record()) as (url, _):
            figures["extract"] = _in_child(archive, url)
        print("extract of the package against the stub", json.dumps(figures["extract"]), flush=True)
    args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
