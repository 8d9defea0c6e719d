"""Outcome counts of a field and the rates derived from them (precision, recall, F1)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import fields as dataclass_fields
from typing import Any


@dataclass
class FieldCounts:
    """Outcome counts of one field (or a total); a wrong value adds one FP and one FN."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    abstain: int = 0
    invented: int = 0

    @property
    def predicted(self) -> int:
        """Predicted values scored: each is a TP or a FP, so this is ``tp + fp``."""
        return self.tp + self.fp

    @property
    def precision(self) -> float:
        """TP / (TP + FP), 0.0 when nothing was predicted."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        """TP / (TP + FN), 0.0 when the gold label has nothing."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall, 0.0 when both are 0."""
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def add(self, other: FieldCounts) -> FieldCounts:
        """A new total of these counts and ``other``'s."""
        names = (item.name for item in dataclass_fields(self))
        return FieldCounts(**{name: getattr(self, name) + getattr(other, name) for name in names})

    __add__ = add

    def to_dict(self) -> dict[str, Any]:
        """Counts and rates as a JSON-ready dict."""
        return {
            "tp": self.tp, "fp": self.fp, "fn": self.fn, "abstain": self.abstain,
            "invented": self.invented, "predicted": self.predicted,
            "precision": self.precision, "recall": self.recall, "f1": self.f1,
        }  # fmt: skip


def total(counts: Iterable[FieldCounts]) -> FieldCounts:
    """The sum of ``counts``."""
    return sum(counts, FieldCounts())
