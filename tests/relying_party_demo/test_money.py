"""Soles in céntimos and the Peruvian format."""

from __future__ import annotations

from decimal import Decimal

import pytest

from relying_party_demo.boletas.money import InvalidAmount
from relying_party_demo.boletas.money import format_soles
from relying_party_demo.boletas.money import parse_soles
from relying_party_demo.boletas.money import percent_of


@pytest.mark.parametrize(
    ("centimos", "expected"),
    [
        (422077, "S/ 4,220.77"),
        (0, "S/ 0.00"),
        (5, "S/ 0.05"),
        (100000000, "S/ 1,000,000.00"),
        (99999, "S/ 999.99"),
        (-500, "-S/ 5.00"),
    ],
)
def test_amounts_use_comma_thousands_and_dot_decimals(centimos: int, expected: str) -> None:
    assert format_soles(centimos) == expected


@pytest.mark.parametrize(
    ("text", "centimos"),
    [("4220.77", 422077), ("300", 30000), ("0.5", 50), (" 15.50 ", 1550), (Decimal("58.4"), 5840)],
)
def test_amounts_parse_into_exact_centimos(text: str, centimos: int) -> None:
    assert parse_soles(text) == centimos


@pytest.mark.parametrize("text", ["4,220.77", "1.234", "-5", "abc", "", "1e3", "S/ 10", "١٢"])
def test_malformed_amounts_are_refused(text: str) -> None:
    with pytest.raises(InvalidAmount):
        parse_soles(text)


def test_percentages_round_half_up_to_the_centimo() -> None:
    # The sample boleta: 1.37 % of 3,850.77 = 52.755… → 52.76.
    assert percent_of(385077, Decimal("0.0137")) == 5276
    assert percent_of(385077, Decimal("0.10")) == 38508
