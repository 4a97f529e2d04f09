"""Pay rules of the education sector 2022-2026 (shared/domain/boleta-y-legajo.md §3).

RIM per hour by period × weekly hours × escala index; aguinaldo and escolaridad; ONP and AFP
rates; UIT and the 5ta categoría scale. Amounts in céntimos, rates as Decimal.
"""

from __future__ import annotations

from decimal import Decimal

ESCALA_INDEX = {1: "1.00", 2: "1.10", 3: "1.20", 4: "1.30", 5: "1.50", 6: "1.75", 7: "1.90"}
ESCALA_INDEX[8] = "2.10"
UIT = {2022: 460000, 2023: 495000, 2024: 515000, 2025: 535000, 2026: 550000}
AFP_COMMISSION = {
    "AFP INTEGRA": Decimal("0.0155"),
    "AFP PRIMA": Decimal("0.0160"),
    "AFP HABITAT": Decimal("0.0147"),
    "AFP PROFUTURO": Decimal("0.0169"),
}
# 5ta categoría: the annual scale over 7 UIT (brackets in UIT, rate).
FIFTH_CATEGORY_BRACKETS = (
    (5, Decimal("0.08")),
    (20, Decimal("0.14")),
    (35, Decimal("0.17")),
    (45, Decimal("0.20")),
    (None, Decimal("0.30")),
)
AGUINALDO = 30000
ESCOLARIDAD = 40000


def rim_per_hour(year: int, month: int) -> int:
    """RIM per hour in céntimos for a period (DS 036-2023-EF, …, DS 277-2025-EF)."""
    period = (year, month)
    if period < (2023, 3):
        return 8667
    if period < (2023, 11):
        return 9500
    if period < (2025, 3):
        return 10333
    if period < (2025, 11):
        return 11002
    return 11669


def afp_insurance_rate(year: int) -> Decimal:
    """Prima de seguro: 1.70 % until 2024, 1.37 % from January 2025."""
    return Decimal("0.0137") if year >= 2025 else Decimal("0.0170")


def fifth_category_monthly(annual_income: int, year: int) -> int:
    """Monthly 5ta categoría withholding for a projected annual income (céntimos)."""
    uit = UIT[year]
    taxable = annual_income - 7 * uit
    if taxable <= 0:
        return 0
    tax = Decimal(0)
    lower = 0
    for upper_uit, rate in FIFTH_CATEGORY_BRACKETS:
        upper = taxable if upper_uit is None else min(taxable, upper_uit * uit)
        if upper > lower:
            tax += (upper - lower) * rate
        if upper_uit is None or taxable <= upper_uit * uit:
            break
        lower = upper_uit * uit
    return int((tax / 12).quantize(Decimal(1)))
