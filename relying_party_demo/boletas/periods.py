"""Month names as Peruvian payroll prints them (``SETIEMBRE``, not ``SEPTIEMBRE``)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

MONTH_NAMES = (
    "ENERO",
    "FEBRERO",
    "MARZO",
    "ABRIL",
    "MAYO",
    "JUNIO",
    "JULIO",
    "AGOSTO",
    "SETIEMBRE",
    "OCTUBRE",
    "NOVIEMBRE",
    "DICIEMBRE",
)

# For the Mes filter (a person reads these): translatable, unlike the printed period.
MONTH_LABELS = (
    _l("Enero"),
    _l("Febrero"),
    _l("Marzo"),
    _l("Abril"),
    _l("Mayo"),
    _l("Junio"),
    _l("Julio"),
    _l("Agosto"),
    _l("Setiembre"),
    _l("Octubre"),
    _l("Noviembre"),
    _l("Diciembre"),
)


def month_name(month: int) -> str:
    """``12`` → ``DICIEMBRE``."""
    return MONTH_NAMES[month - 1]


def period_label(year: int, month: int) -> str:
    """``DICIEMBRE 2022``, as the Periodo column shows it."""
    return f"{month_name(month)} {year}"
