"""What every export prints above the data: who, which DNI, which filter, when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from datetime import timezone
from zoneinfo import ZoneInfo
from zoneinfo import ZoneInfoNotFoundError

from relying_party_demo.boletas.periods import month_name
from relying_party_demo.boletas.services import BoletaFilter


def lima_zone() -> timezone | ZoneInfo:
    """America/Lima (UTC−5 all year; the fixed offset if the system lacks tzdata)."""
    try:
        return ZoneInfo("America/Lima")
    except ZoneInfoNotFoundError:
        return timezone(timedelta(hours=-5), "PET")


def lima_time(moment: datetime) -> str:
    """``26/11/2026 12:07`` in Lima time."""
    return moment.astimezone(lima_zone()).strftime("%d/%m/%Y %H:%M")


def filter_label(chosen: BoletaFilter) -> str:
    """``Año 2022 - DICIEMBRE`` / ``Año 2022 - todos los meses``."""
    if chosen.anio is None:
        return "Todos los periodos"
    month = month_name(chosen.mes) if chosen.mes else "todos los meses"
    return f"Año {chosen.anio} - {month}"


@dataclass(frozen=True)
class ExportTitle:
    """The heading of an export."""

    full_name: str
    dni: str
    chosen: BoletaFilter
    generated_at: datetime

    @property
    def text(self) -> str:
        """One line: name, DNI and filter."""
        return f"Boletas de pago - {self.full_name} - DNI {self.dni} - {filter_label(self.chosen)}"

    @property
    def generated(self) -> str:
        """``Generado el 26/11/2026 12:07 (hora de Lima)``."""
        return f"Generado el {lima_time(self.generated_at)} (hora de Lima)"

    def file_name(self, extension: str) -> str:
        """``boletas_40000001_2022-12.xlsx`` (CONTRACT.md)."""
        return f"boletas_{self.dni}_{self.chosen.slug}.{extension}"
