"""Mi boleta: the searches (always scoped to the signed-in DNI) and the boleta store."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Select
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from relying_party_demo.boletas.errors import InvalidFilter
from relying_party_demo.boletas.models import Boleta
from relying_party_demo.boletas.models import BoletaConcepto
from relying_party_demo.boletas.records import BoletaRecord
from relying_party_demo.boletas.records import mask_account
from relying_party_demo.extensions import db

MAX_PARAM_LENGTH = 10


@dataclass(frozen=True)
class BoletaFilter:
    """Año and Mes as in the URL (``mes`` None = every month)."""

    anio: int | None
    mes: int | None

    @property
    def slug(self) -> str:
        """``2022-12``, ``2022`` or ``todos`` (for file names)."""
        if self.anio is None:
            return "todos"
        if self.mes is None:
            return str(self.anio)
        return f"{self.anio}-{self.mes:02d}"


def parse_filter(raw_anio: str | None, raw_mes: str | None) -> BoletaFilter:
    """Parse ``anio``/``mes`` query values; InvalidFilter names the bad one."""
    anio: int | None = None
    mes: int | None = None
    if raw_anio is not None and raw_anio.strip():
        text = raw_anio.strip()
        if len(text) != 4 or not text.isascii() or not text.isdigit():
            raise InvalidFilter("anio")
        anio = int(text)
        if not 1990 <= anio <= 2100:
            raise InvalidFilter("anio")
    if raw_mes is not None and raw_mes.strip():
        text = raw_mes.strip()
        if len(text) > 2 or not text.isascii() or not text.isdigit():
            raise InvalidFilter("mes")
        mes = int(text)
        if not 1 <= mes <= 12:
            raise InvalidFilter("mes")
    return BoletaFilter(anio, mes)


def parse_page(raw: str | None) -> int:
    """The ``pagina`` query value; InvalidFilter on anything but a small positive number."""
    if raw is None or not raw.strip():
        return 1
    text = raw.strip()
    if len(text) > 4 or not text.isascii() or not text.isdigit() or int(text) < 1:
        raise InvalidFilter("pagina")
    return int(text)


def years_with_boletas(dni: str) -> list[int]:
    """The years this DNI has boletas for, latest first (the Año options)."""
    rows = db.session.scalars(
        select(Boleta.anio).where(Boleta.dni == dni).distinct().order_by(Boleta.anio.desc())
    )
    return list(rows)


def resolve_filter(dni: str, chosen: BoletaFilter) -> BoletaFilter:
    """No año in the URL means the latest year with boletas (what the seed screen shows)."""
    if chosen.anio is not None:
        return chosen
    years = years_with_boletas(dni)
    return BoletaFilter(years[0] if years else None, chosen.mes)


def search_statement(dni: str, chosen: BoletaFilter) -> Select[Boleta]:
    """Boletas of this DNI for the filter, newest first."""
    statement = select(Boleta).where(Boleta.dni == dni)
    if chosen.anio is not None:
        statement = statement.where(Boleta.anio == chosen.anio)
    if chosen.mes is not None:
        statement = statement.where(Boleta.mes == chosen.mes)
    return statement.order_by(
        Boleta.anio.desc(), Boleta.mes.desc(), Boleta.regimen, Boleta.entidad, Boleta.id
    )


@dataclass(frozen=True)
class Page:
    """One page of results."""

    items: list[Boleta]
    total: int
    number: int
    size: int

    @property
    def pages(self) -> int:
        """How many pages there are (at least 1)."""
        return max(1, math.ceil(self.total / self.size))


def search_boletas(dni: str, chosen: BoletaFilter, page: int, size: int) -> Page:
    """One page of the person's boletas for the filter."""
    statement = search_statement(dni, chosen)
    total = db.session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    number = min(page, max(1, math.ceil(total / size)))
    items = list(db.session.scalars(statement.limit(size).offset((number - 1) * size)))
    return Page(items, total, number, size)


def all_boletas(dni: str, chosen: BoletaFilter, limit: int) -> list[Boleta]:
    """Every boleta of the filter (for exports), newest first, at most ``limit``."""
    return list(db.session.scalars(search_statement(dni, chosen).limit(limit)))


def boleta_for(dni: str, boleta_id: int) -> Boleta | None:
    """One boleta, only if it belongs to this DNI (else None: the view answers 404)."""
    return db.session.scalar(
        select(Boleta)
        .where(Boleta.id == boleta_id, Boleta.dni == dni)
        .options(selectinload(Boleta.conceptos))
    )


def find_by_key(record: BoletaRecord) -> Boleta | None:
    """The stored boleta with the record's natural key."""
    dni, anio, mes, planilla, regimen, entidad, plaza = record.natural_key
    return db.session.scalar(
        select(Boleta)
        .filter_by(
            dni=dni,
            anio=anio,
            mes=mes,
            planilla=planilla,
            regimen=regimen,
            entidad=entidad,
            codigo_plaza=plaza,
        )
        .options(selectinload(Boleta.conceptos))
    )


HEADER_FIELDS = (
    "numero",
    "direccion_regional",
    "ruc_entidad",
    "fecha_pago",
    "apellidos",
    "nombres",
    "codigo_modular",
    "cargo",
    "tipo_servidor",
    "regimen_laboral",
    "escala",
    "jornada_horas",
    "institucion",
    "codigo_modular_ie",
    "banco",
    "regimen_pensionario",
    "cuspp",
    "monto_imponible",
)


def same_contents(boleta: Boleta, record: BoletaRecord) -> bool:
    """True when storing the record would change nothing."""
    if any(getattr(boleta, name) != getattr(record, name) for name in HEADER_FIELDS):
        return False
    if boleta.cuenta != mask_account(record.cuenta):
        return False
    stored = [(c.tipo, c.codigo, c.descripcion, c.monto) for c in boleta.conceptos]
    given = [(c.tipo, c.codigo, c.descripcion, c.monto) for c in record.conceptos]
    return stored == given


def put_boleta(record: BoletaRecord) -> str:
    """Create or replace one boleta (no commit); return created, updated or unchanged."""
    record.check()
    boleta = find_by_key(record)
    if boleta is not None and same_contents(boleta, record):
        return "unchanged"
    outcome = "updated"
    if boleta is None:
        dni, anio, mes, planilla, regimen, entidad, plaza = record.natural_key
        boleta = Boleta(
            dni=dni,
            anio=anio,
            mes=mes,
            planilla=planilla,
            regimen=regimen,
            entidad=entidad,
            codigo_plaza=plaza,
        )
        db.session.add(boleta)
        outcome = "created"
    for name in HEADER_FIELDS:
        setattr(boleta, name, getattr(record, name))
    boleta.cuenta = mask_account(record.cuenta)
    boleta.total_ingresos = record.total_ingresos
    boleta.total_descuentos = record.total_descuentos
    boleta.neto = record.neto
    boleta.conceptos = [
        BoletaConcepto(
            tipo=line.tipo,
            posicion=index,
            codigo=line.codigo,
            descripcion=line.descripcion,
            monto=line.monto,
        )
        for index, line in enumerate(record.conceptos)
    ]
    db.session.flush()
    return outcome


def store_boletas(records: Iterable[BoletaRecord]) -> Counter[str]:
    """Write many boletas in one transaction; counts of created/updated/unchanged."""
    outcomes: Counter[str] = Counter()
    try:
        for record in records:
            outcomes[put_boleta(record)] += 1
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return outcomes
