"""Evidence-alignment benchmark: 20 quotes against a 1 MB document with one ``Aligner``.

Builds a deterministic 1 MB case-report-like text, takes 10 verbatim quotes
from it and 10 paraphrased ones (a word changed, the case and spacing
altered), and times, on one ``Aligner``: normalising the
document (once), aligning the 10 verbatim quotes, and aligning the 10
paraphrased ones (found by the normalised or the fuzzy step, or ungrounded).
Prints the seconds and the status counts; writes the figures as JSON.

    .venv/bin/python eval/bench/align.py [--mb 1.0] [--json eval/bench/align.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import time
from collections import Counter
from pathlib import Path
from typing import Any

from extractor.record.grounding import Aligner

REPO = Path(__file__).resolve().parents[2]
WORDS = " ".join(
    (
        "patient tumour pancreatic ileal neuroendocrine grade ki-67 index somatostatin receptor",
        "imaging metastatic liver lesion resection octreotide chromogranin follow-up months",
        "well-differentiated carcinoid syndrome flushing diarrhoea biopsy histology showed the",
        "a of with and was in on after for by",
    )
).split()


def document(n_bytes: int, seed: int = 0) -> str:
    """Sentences of random clinical words, in paragraphs, up to ``n_bytes`` characters."""
    rng = random.Random(seed)  # noqa: S311 - a repeatable text, not a secret
    parts: list[str] = []
    size = 0
    while size < n_bytes:
        sentence = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 20)))
        sentence = sentence.capitalize() + (".\n\n" if rng.random() < 0.1 else ". ")
        parts.append(sentence)
        size += len(sentence)
    return "".join(parts)[:n_bytes]


def quotes(text: str, n: int, seed: int = 1) -> tuple[list[str], list[str]]:
    """``n`` verbatim quotes of 60 to 120 characters, and ``n`` paraphrases of others."""
    rng = random.Random(seed)  # noqa: S311
    verbatim, paraphrased = [], []
    for i in range(2 * n):
        start = rng.randrange(0, len(text) - 200)
        start = text.index(" ", start) + 1
        quote = text[start : start + rng.randint(60, 120)].rsplit(" ", 1)[0]
        if i % 2 == 0:
            verbatim.append(quote)
            continue
        words = quote.split()
        words[len(words) // 2] = "noted"  # a word changed
        paraphrased.append("  ".join(words).upper())
    return verbatim, paraphrased


def timed(aligner: Aligner, batch: list[str]) -> tuple[float, Counter[str]]:
    started = time.perf_counter()
    statuses = Counter(aligner.align(quote).status for quote in batch)
    return time.perf_counter() - started, statuses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=1.0)
    parser.add_argument("--json", type=Path, default=REPO / "eval" / "bench" / "align.json")
    args = parser.parse_args()
    text = document(int(args.mb * 1_000_000))
    verbatim, paraphrased = quotes(text, 10)
    aligner = Aligner(text)
    started = time.perf_counter()
    aligner.grounded("warm-up: normalises the document once")
    normalise_s = time.perf_counter() - started
    verbatim_s, verbatim_found = timed(aligner, verbatim)
    paraphrased_s, paraphrased_found = timed(aligner, paraphrased)
    figures: dict[str, Any] = {
        "document_chars": len(text), "quotes": len(verbatim) + len(paraphrased),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform()},
        "normalise_s": round(normalise_s, 3),
        "verbatim": {"seconds": round(verbatim_s, 4), "statuses": dict(verbatim_found)},
        "paraphrased": {"seconds": round(paraphrased_s, 3), "statuses": dict(paraphrased_found)},
        "total_s": round(normalise_s + verbatim_s + paraphrased_s, 3),
    }  # fmt: skip
    print(f"document {len(text):,} chars; normalised once in {normalise_s:.3f} s")
    print(f"  10 verbatim quotes:    {verbatim_s:8.4f} s  {dict(verbatim_found)}")
    print(f"  10 paraphrased quotes: {paraphrased_s:8.3f} s  {dict(paraphrased_found)}")
    print(f"  total for 20 quotes:   {figures['total_s']:8.3f} s")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"figures: {args.json}")


if __name__ == "__main__":
    main()
