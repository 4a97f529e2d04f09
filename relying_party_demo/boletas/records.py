"""Boletas as plain values: what seeds and imports hand to the store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from relying_party_demo.boletas.errors import InconsistentTotals
from relying_party_demo.boletas.models import APORTE
from relying_party_demo.boletas.models import DESCUENTO
from relying_party_demo.boletas.models import INGRESO


@dataclass(frozen=True)
class ConceptoRecord:
    """One concept line; ``monto`` in céntimos."""

    tipo: str
    codigo: str
    descripcion: str
    monto: int


@dataclass(frozen=True)
class BoletaRecord:
    """One boleta with its lines; totals are derived from the lines."""

    dni: str
    anio: int
    mes: int
    planilla: str
    regimen: str
    entidad: str
    codigo_plaza: str
    numero: str
    direccion_regional: str
    ruc_entidad: str
    fecha_pago: date | None
    apellidos: str
    nombres: str
    codigo_modular: str
    cargo: str
    tipo_servidor: str
    regimen_laboral: str
    escala: str
    jornada_horas: int
    institucion: str
    codigo_modular_ie: str | None
    banco: str
    cuenta: str
    regimen_pensionario: str
    cuspp: str | None
    conceptos: tuple[ConceptoRecord, ...]
    monto_imponible: int

    @property
    def natural_key(self) -> tuple[str, int, int, str, str, str, str]:
        """What identifies the boleta across imports."""
        return (
            self.dni,
            self.anio,
            self.mes,
            self.planilla,
            self.regimen,
            self.entidad,
            self.codigo_plaza,
        )

    def total(self, kind: str) -> int:
        """Sum of the lines of one kind, in céntimos."""
        return sum(line.monto for line in self.conceptos if line.tipo == kind)

    @property
    def total_ingresos(self) -> int:
        """T-REMUN (Monto bruto)."""
        return self.total(INGRESO)

    @property
    def total_descuentos(self) -> int:
        """T-DSCTO."""
        return self.total(DESCUENTO)

    @property
    def neto(self) -> int:
        """T-LIQUI = T-REMUN − T-DSCTO."""
        return self.total_ingresos - self.total_descuentos

    @property
    def total_aportes(self) -> int:
        """Employer contributions."""
        return self.total(APORTE)

    def check(self) -> None:
        """Refuse a boleta that would print a negative neto or no income at all."""
        if not any(line.tipo == INGRESO for line in self.conceptos):
            raise InconsistentTotals("no ingresos")
        if self.neto < 0:
            raise InconsistentTotals("descuentos exceed ingresos")


def mask_account(account: str) -> str:
    """``CTA- 04051234567`` → ``****4567`` (only the masked form is stored)."""
    # ASCII only: str.isdigit() also accepts "²" and other scripts' digits.
    digits = "".join(ch for ch in account if ch.isascii() and ch.isdigit())
    if len(digits) < 4:
        return "****"
    return "****" + digits[-4:]
