"""Legajo (escalafón file) of a servidor: personal data, positions and career record."""

from __future__ import annotations

from datetime import date
from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from relying_party_demo.database import Base
from relying_party_demo.database import utcnow

ESTADO_VIGENTE = "VIGENTE"


class Legajo(Base):
    """The file the DRE/UGEL Equipo de Escalafón keeps for one DNI."""

    __tablename__ = "legajos"

    id: Mapped[int] = mapped_column(primary_key=True)
    dni: Mapped[str] = mapped_column(String(8), unique=True)
    # VIGENTE, or NO VIGENTE / CESADO (domain brief §5: tied to a current vínculo).
    estado: Mapped[str] = mapped_column(String(20))
    apellido_paterno: Mapped[str] = mapped_column(String(60))
    apellido_materno: Mapped[str] = mapped_column(String(60))
    nombres: Mapped[str] = mapped_column(String(80))
    fecha_nacimiento: Mapped[date | None]
    sexo: Mapped[str | None] = mapped_column(String(1))
    codigo_modular: Mapped[str] = mapped_column(String(10))
    dre: Mapped[str] = mapped_column(String(80))
    ugel: Mapped[str] = mapped_column(String(80))
    regimen_pensionario: Mapped[str] = mapped_column(String(40))
    cuspp: Mapped[str | None] = mapped_column(String(12))
    formacion: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    cargos: Mapped[list[LegajoCargo]] = relationship(
        back_populates="legajo",
        cascade="all, delete-orphan",
        order_by="LegajoCargo.posicion",
    )
    movimientos: Mapped[list[LegajoMovimiento]] = relationship(
        back_populates="legajo",
        cascade="all, delete-orphan",
        order_by="LegajoMovimiento.fecha",
    )

    @property
    def is_vigente(self) -> bool:
        """True while the file is tied to a current vínculo laboral."""
        return self.estado == ESTADO_VIGENTE

    @property
    def apellidos(self) -> str:
        """Both surnames, as printed on the boleta."""
        return f"{self.apellido_paterno} {self.apellido_materno}".strip()


class LegajoCargo(Base):
    """One position (plaza) held under one régimen laboral."""

    __tablename__ = "legajo_cargos"

    id: Mapped[int] = mapped_column(primary_key=True)
    legajo_id: Mapped[int] = mapped_column(ForeignKey("legajos.id", ondelete="CASCADE"), index=True)
    posicion: Mapped[int]
    cargo: Mapped[str] = mapped_column(String(80))
    tipo_servidor: Mapped[str] = mapped_column(String(60))
    regimen: Mapped[str] = mapped_column(String(40))
    escala: Mapped[str | None] = mapped_column(String(40))
    jornada_horas: Mapped[int]
    institucion: Mapped[str] = mapped_column(String(120))
    codigo_modular_ie: Mapped[str | None] = mapped_column(String(7))
    nivel_modalidad: Mapped[str | None] = mapped_column(String(60))
    entidad: Mapped[str] = mapped_column(String(80))
    fecha_ingreso: Mapped[date]
    fecha_termino: Mapped[date | None]
    resolucion: Mapped[str | None] = mapped_column(String(80))

    legajo: Mapped[Legajo] = relationship(back_populates="cargos")


class LegajoMovimiento(Base):
    """One entry of the trayectoria laboral (section IV of the legajo)."""

    __tablename__ = "legajo_movimientos"

    id: Mapped[int] = mapped_column(primary_key=True)
    legajo_id: Mapped[int] = mapped_column(ForeignKey("legajos.id", ondelete="CASCADE"), index=True)
    fecha: Mapped[date]
    tipo: Mapped[str] = mapped_column(String(60))
    descripcion: Mapped[str] = mapped_column(String(200))
    resolucion: Mapped[str | None] = mapped_column(String(80))

    legajo: Mapped[Legajo] = relationship(back_populates="movimientos")
