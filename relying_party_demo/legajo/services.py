"""Reading legajos (always by the signed-in DNI) and writing them from seeds."""

from __future__ import annotations

from dataclasses import asdict
from dataclasses import dataclass
from dataclasses import field
from datetime import date
from typing import Any

from sqlalchemy import select

from relying_party_demo.extensions import db
from relying_party_demo.legajo.models import Legajo
from relying_party_demo.legajo.models import LegajoCargo
from relying_party_demo.legajo.models import LegajoMovimiento


def legajo_for(dni: str) -> Legajo | None:
    """The legajo of this DNI, whatever its estado."""
    return db.session.scalar(select(Legajo).filter_by(dni=dni))


def vigente_legajo_for(dni: str) -> Legajo | None:
    """The legajo of this DNI if it is vigente, else None."""
    legajo = legajo_for(dni)
    return legajo if legajo is not None and legajo.is_vigente else None


@dataclass(frozen=True)
class CargoRecord:
    """One position of a legajo, as a seed or import gives it."""

    cargo: str
    tipo_servidor: str
    regimen: str
    escala: str | None
    jornada_horas: int
    institucion: str
    codigo_modular_ie: str | None
    nivel_modalidad: str | None
    entidad: str
    fecha_ingreso: date
    fecha_termino: date | None = None
    resolucion: str | None = None


@dataclass(frozen=True)
class MovimientoRecord:
    """One trayectoria entry."""

    fecha: date
    tipo: str
    descripcion: str
    resolucion: str | None = None


@dataclass(frozen=True)
class LegajoRecord:
    """A whole legajo, as a seed or import gives it."""

    dni: str
    estado: str
    apellido_paterno: str
    apellido_materno: str
    nombres: str
    fecha_nacimiento: date | None
    sexo: str | None
    codigo_modular: str
    dre: str
    ugel: str
    regimen_pensionario: str
    cuspp: str | None
    formacion: str | None
    cargos: tuple[CargoRecord, ...] = field(default_factory=tuple)
    movimientos: tuple[MovimientoRecord, ...] = field(default_factory=tuple)


SCALAR_FIELDS = (
    "estado",
    "apellido_paterno",
    "apellido_materno",
    "nombres",
    "fecha_nacimiento",
    "sexo",
    "codigo_modular",
    "dre",
    "ugel",
    "regimen_pensionario",
    "cuspp",
    "formacion",
)
CARGO_FIELDS = tuple(CargoRecord.__dataclass_fields__)
MOVIMIENTO_FIELDS = tuple(MovimientoRecord.__dataclass_fields__)


def snapshot(legajo: Legajo) -> dict[str, Any]:
    """The stored legajo in the shape of a LegajoRecord (to detect no-op writes)."""
    return {
        "dni": legajo.dni,
        **{name: getattr(legajo, name) for name in SCALAR_FIELDS},
        "cargos": tuple(
            {name: getattr(cargo, name) for name in CARGO_FIELDS} for cargo in legajo.cargos
        ),
        "movimientos": tuple(
            {name: getattr(entry, name) for name in MOVIMIENTO_FIELDS}
            for entry in legajo.movimientos
        ),
    }


def record_as_dict(record: LegajoRecord) -> dict[str, Any]:
    """A LegajoRecord in the snapshot's shape."""
    data = asdict(record)
    data["cargos"] = tuple(data["cargos"])
    data["movimientos"] = tuple(data["movimientos"])
    return data


def put_legajo(record: LegajoRecord) -> str:
    """Create or replace one legajo (no commit); return created, updated or unchanged."""
    legajo = legajo_for(record.dni)
    if legajo is not None and snapshot(legajo) == record_as_dict(record):
        return "unchanged"
    outcome = "updated"
    if legajo is None:
        legajo = Legajo(dni=record.dni)
        db.session.add(legajo)
        outcome = "created"
    for name in SCALAR_FIELDS:
        setattr(legajo, name, getattr(record, name))
    legajo.cargos = [
        LegajoCargo(posicion=index, **asdict(cargo)) for index, cargo in enumerate(record.cargos)
    ]
    legajo.movimientos = [LegajoMovimiento(**asdict(entry)) for entry in record.movimientos]
    return outcome


def delete_legajo(dni: str) -> bool:
    """Remove a legajo (no commit); True if one existed."""
    legajo = legajo_for(dni)
    if legajo is None:
        return False
    db.session.delete(legajo)
    return True
