"""Prices per million tokens: explicit, known defaults, free embedded, unknown."""

from __future__ import annotations

from extractor.model.base import Usage
from extractor.model.pricing import FREE, KNOWN_PRICES, Prices, prices_for


def test_cost_of_usage() -> None:
    assert Prices(2.0, 8.0).cost(Usage(1_000_000, 500_000)) == 6.0


def test_which_prices_apply() -> None:
    assert prices_for("gpt-4o-mini", embedded=False) == KNOWN_PRICES["gpt-4o-mini"]
    assert prices_for("openai/gpt-4o-mini", embedded=False) == KNOWN_PRICES["gpt-4o-mini"]
    assert prices_for("SmolLM2", embedded=True) == FREE
    assert prices_for("my-vllm-model", embedded=False) is None
    assert prices_for("gpt-4o", embedded=False, price_in=1.0, price_out=2.0) == Prices(1.0, 2.0)
