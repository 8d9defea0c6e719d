"""Outcome counts and their rates (``extractor.evaluation.counts``)."""

from __future__ import annotations

import pytest

from extractor.evaluation.counts import FieldCounts


def test_field_counts_rates() -> None:
    counts = FieldCounts(tp=3, fp=1, fn=2)
    assert counts.precision == 0.75
    assert counts.recall == 0.6
    assert counts.f1 == pytest.approx(2 * 0.75 * 0.6 / 1.35)
    assert counts.predicted == 4


def test_field_counts_rates_are_zero_when_undefined() -> None:
    counts = FieldCounts(abstain=5)
    assert (counts.precision, counts.recall, counts.f1) == (0.0, 0.0, 0.0)


def test_field_counts_add_returns_a_new_total() -> None:
    left, right = FieldCounts(tp=1, fp=2, abstain=1), FieldCounts(fn=3, invented=1, tp=1)
    assert left.add(right) == left + right == FieldCounts(tp=2, fp=2, fn=3, abstain=1, invented=1)
    assert left == FieldCounts(tp=1, fp=2, abstain=1)
