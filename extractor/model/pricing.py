"""What tokens cost: a price per million input and output tokens, and known defaults.

Prices change; the defaults are OpenAI's list prices for standard (not batch)
requests as published in 2025. ``--price-in``/``--price-out`` override them,
and an unknown model has no price (its cost is reported as unknown, never 0).
The embedded model costs nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from extractor.model.base import Usage


@dataclass(frozen=True)
class Prices:
    """US dollars per million prompt (input) and completion (output) tokens."""

    input_per_million: float
    output_per_million: float

    def cost(self, usage: Usage) -> float:
        """The cost of ``usage`` in US dollars."""
        return (
            usage.prompt_tokens * self.input_per_million
            + usage.completion_tokens * self.output_per_million
        ) / 1_000_000


FREE = Prices(0.0, 0.0)

KNOWN_PRICES: dict[str, Prices] = {
    "gpt-4o": Prices(2.50, 10.00),
    "gpt-4o-mini": Prices(0.15, 0.60),
    "gpt-4.1": Prices(2.00, 8.00),
    "gpt-4.1-mini": Prices(0.40, 1.60),
    "gpt-4.1-nano": Prices(0.10, 0.40),
    "o4-mini": Prices(1.10, 4.40),
    "gpt-5": Prices(1.25, 10.00),
    "gpt-5-mini": Prices(0.25, 2.00),
    "gpt-5-nano": Prices(0.05, 0.40),
}


def prices_for(
    model: str, *, embedded: bool, price_in: float | None = None, price_out: float | None = None
) -> Prices | None:
    """The prices that apply: explicit ones, else free for the embedded model, else known ones."""
    if price_in is not None or price_out is not None:
        return Prices(price_in or 0.0, price_out or 0.0)
    if embedded:
        return FREE
    return KNOWN_PRICES.get(model) or KNOWN_PRICES.get(model.rsplit("/", maxsplit=1)[-1])
