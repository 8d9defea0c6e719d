"""The paired bootstrap: a confidence interval for the change in micro-F1 between two runs.

The same resampled documents are scored for both runs, so differences
between documents cancel and only the change between runs remains.
"""

from __future__ import annotations

import random
import statistics

from extractor.evaluation.counts import FieldCounts

_QUANTILES = 40  # cut points every 2.5 %: the ends bound a 95 % interval


def paired_bootstrap(
    per_doc_a: list[FieldCounts], per_doc_b: list[FieldCounts], resamples: int, seed: int
) -> tuple[float, float]:
    """The 95 % CI of ``F1(B) - F1(A)`` by resampling documents with replacement.

    Each resample draws the same document indices for A and B, sums their
    counts, and takes the difference of the two micro-F1s; the interval is
    the 2.5th and 97.5th percentile (linear interpolation) of the differences.
    """
    if len(per_doc_a) != len(per_doc_b):
        raise ValueError(
            "paired_bootstrap needs the same documents, in the same order, for A and B"
        )
    if resamples < 1:
        raise ValueError(f"resamples must be at least 1, not {resamples}")
    if per_doc_a == per_doc_b:
        return 0.0, 0.0  # every resample gives exactly 0
    terms_a, terms_b = _f1_terms(per_doc_a), _f1_terms(per_doc_b)
    rng = random.Random(seed)  # noqa: S311 - reproducible statistics, not security
    population = range(len(per_doc_a))
    deltas = []
    for _ in range(resamples):
        picks = rng.choices(population, k=len(population))
        deltas.append(_resampled_f1(terms_b, picks) - _resampled_f1(terms_a, picks))
    if len(deltas) == 1:
        return deltas[0], deltas[0]
    # Cut points every 2.5 %: the first and last are the 2.5th and 97.5th percentiles,
    # interpolated linearly between ranks ("inclusive", as numpy's default).
    cuts = statistics.quantiles(deltas, n=_QUANTILES, method="inclusive")
    return cuts[0], cuts[-1]


def _f1_terms(per_doc: list[FieldCounts]) -> tuple[list[int], list[int]]:
    """Per document ``2 TP`` and ``2 TP + FP + FN``: micro-F1 is the ratio of their sums."""
    return [2 * c.tp for c in per_doc], [2 * c.tp + c.fp + c.fn for c in per_doc]


def _resampled_f1(terms: tuple[list[int], list[int]], picks: list[int]) -> float:
    """Micro-F1 ``2TP / (2TP + FP + FN)`` of the picked documents; 0.0 without a TP."""
    twice_tp = sum(map(terms[0].__getitem__, picks))
    return twice_tp / sum(map(terms[1].__getitem__, picks)) if twice_tp else 0.0
