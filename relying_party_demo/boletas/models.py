"""Boletas de pago: one per DNI, period, planilla, régimen and entidad, with concept lines.

Money is integer céntimos: never float. Totals are stored as printed (T-REMUN, T-DSCTO,
T-LIQUI) and checked against the lines when a boleta is written.
"""

from __future__ import annotations

from datetime import date
from datetime import datetime

from sqlalchemy import BigInteger
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import String
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from relying_party_demo.database import Base
from relying_party_demo.database import utcnow

INGRESO = "ingreso"
DESCUENTO = "descuento"
APORTE = "aporte"
CONCEPT_KINDS = (INGRESO, DESCUENTO, APORTE)


class Boleta(Base):
    """A pay slip as the SUP payroll printed it (a snapshot: later legajo edits don't move it)."""

    __tablename__ = "boletas"
    __table_args__ = (
        # The natural key of a payroll line: importing the same file twice finds the same row.
        UniqueConstraint(
            "dni",
            "anio",
            "mes",
            "planilla",
            "regimen",
            "entidad",
            "codigo_plaza",
            name="uq_boletas_periodo",
        ),
        Index("ix_boletas_dni_periodo", "dni", "anio", "mes"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dni: Mapped[str] = mapped_column(String(8))
    anio: Mapped[int]
    mes: Mapped[int]
    planilla: Mapped[str] = mapped_column(String(40))
    regimen: Mapped[str] = mapped_column(String(40))
    entidad: Mapped[str] = mapped_column(String(80))
    codigo_plaza: Mapped[str] = mapped_column(String(20))
    numero: Mapped[str] = mapped_column(String(12))
    direccion_regional: Mapped[str] = mapped_column(String(80))
    ruc_entidad: Mapped[str] = mapped_column(String(11))
    fecha_pago: Mapped[date | None]
    apellidos: Mapped[str] = mapped_column(String(120))
    nombres: Mapped[str] = mapped_column(String(80))
    codigo_modular: Mapped[str] = mapped_column(String(10))
    cargo: Mapped[str] = mapped_column(String(80))
    tipo_servidor: Mapped[str] = mapped_column(String(60))
    regimen_laboral: Mapped[str] = mapped_column(String(40))
    escala: Mapped[str] = mapped_column(String(40))
    jornada_horas: Mapped[int]
    institucion: Mapped[str] = mapped_column(String(120))
    codigo_modular_ie: Mapped[str | None] = mapped_column(String(7))
    banco: Mapped[str] = mapped_column(String(60))
    # Only the masked account is kept ("****4567"): the slip never needs the full number.
    cuenta: Mapped[str] = mapped_column(String(24))
    regimen_pensionario: Mapped[str] = mapped_column(String(40))
    cuspp: Mapped[str | None] = mapped_column(String(12))
    total_ingresos: Mapped[int] = mapped_column(BigInteger)
    total_descuentos: Mapped[int] = mapped_column(BigInteger)
    neto: Mapped[int] = mapped_column(BigInteger)
    monto_imponible: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    conceptos: Mapped[list[BoletaConcepto]] = relationship(
        back_populates="boleta",
        cascade="all, delete-orphan",
        order_by="BoletaConcepto.posicion",
    )

    def lines(self, kind: str) -> list[BoletaConcepto]:
        """The concept lines of one kind (ingreso, descuento, aporte), in printed order."""
        return [line for line in self.conceptos if line.tipo == kind]

    @property
    def total_aportes(self) -> int:
        """Employer contributions (EsSalud), not deducted from the neto."""
        return sum(line.monto for line in self.conceptos if line.tipo == APORTE)


class BoletaConcepto(Base):
    """One printed concept line (``+rim ley29944``, ``-afp aporte``, ``essalud``)."""

    __tablename__ = "boleta_conceptos"

    id: Mapped[int] = mapped_column(primary_key=True)
    boleta_id: Mapped[int] = mapped_column(ForeignKey("boletas.id", ondelete="CASCADE"), index=True)
    tipo: Mapped[str] = mapped_column(String(10))
    posicion: Mapped[int]
    codigo: Mapped[str] = mapped_column(String(30))
    descripcion: Mapped[str] = mapped_column(String(160))
    monto: Mapped[int] = mapped_column(BigInteger)

    boleta: Mapped[Boleta] = relationship(back_populates="conceptos")
