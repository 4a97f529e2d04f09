"""Soles as integer céntimos: parsing and the Peruvian format (``S/ 4,220.77``)."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP
from decimal import Decimal

AMOUNT_PATTERN = re.compile(r"[0-9]{1,9}(\.[0-9]{1,2})?")
CENT = Decimal("0.01")


class InvalidAmount(ValueError):  # noqa: N818 - named after what happened (STYLE.md §6)
    """Text that is not a non-negative amount with at most two decimals."""


def parse_soles(text: str | int | Decimal) -> int:
    """Parse ``"4220.77"`` (dot decimals, no thousands separator) into céntimos."""
    if isinstance(text, bool):
        raise InvalidAmount(repr(text))
    if isinstance(text, int):
        if text < 0:
            raise InvalidAmount(repr(text))
        return text * 100
    if isinstance(text, Decimal):
        text = format(text, "f")
    cleaned = text.strip()
    if not AMOUNT_PATTERN.fullmatch(cleaned):
        raise InvalidAmount(cleaned[:40])
    return int((Decimal(cleaned) * 100).to_integral_value())


def to_decimal(centimos: int) -> Decimal:
    """Céntimos as an exact Decimal of soles (for spreadsheets)."""
    return (Decimal(centimos) / 100).quantize(CENT)


def percent_of(centimos: int, rate: Decimal) -> int:
    """``rate`` of an amount, rounded half up to the céntimo (how SUP rounds)."""
    return int((Decimal(centimos) * rate).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def format_amount(centimos: int) -> str:
    """``4,220.77``: comma thousands, dot decimals (the format Peruvian payroll prints)."""
    sign = "-" if centimos < 0 else ""
    soles, cents = divmod(abs(centimos), 100)
    return f"{sign}{soles:,}.{cents:02d}"


def format_soles(centimos: int) -> str:
    """``S/ 4,220.77`` (``-S/ 5.00`` for a negative amount)."""
    text = format_amount(centimos)
    if text.startswith("-"):
        return f"-S/ {text[1:]}"
    return f"S/ {text}"
