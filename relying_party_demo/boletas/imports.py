"""``ayni import-boletas FILE``: load boletas from a payroll export (CSV or JSON).

Every row is validated first; a bad row is reported with its line and reason and nothing of
the file is written. Boletas are matched on their natural key (dni, anio, mes, planilla,
regimen, entidad, codigo_plaza): importing the same file twice changes nothing, and a
corrected file replaces the boletas it names.

CSV (UTF-8, comma-separated, a header row; one row per concept line, the boleta columns
repeated on each of its lines; column order is free):

=====================  =====================================================================
column                 meaning
=====================  =====================================================================
dni                    8 digits
anio, mes              period: 4-digit year, month 1-12
planilla               e.g. ``ACTIVOS - MENSUAL``, ``CAS - MENSUAL``
regimen                AYNI "Tipo de régimen", e.g. ``Ley Nro 29944``, ``D.Leg. Nro 1057``
entidad                e.g. ``UGEL LAMBAYEQUE``
codigo_plaza           the plaza (tells apart two positions in one régimen and entidad)
numero                 boleta number, e.g. ``000123``
direccion_regional     e.g. ``GERENCIA REGIONAL DE EDUCACION LAMBAYEQUE``
ruc_entidad            11 digits
fecha_pago             ``YYYY-MM-DD`` or ``DD/MM/YYYY`` (optional)
apellidos, nombres     as printed
codigo_modular         the servidor's código modular (up to 10 digits)
cargo, tipo_servidor   e.g. ``PROFESOR``, ``DOCENTE NOMBRADO``
regimen_laboral        as printed, e.g. ``LEY Nº 29944``
escala                 e.g. ``2ª ESCALA MAGISTERIAL`` (``-`` when none)
jornada_horas          weekly hours, 1-60
institucion            institución educativa
codigo_modular_ie      7 digits (optional)
banco, cuenta          bank and account (only ``****1234`` is stored)
regimen_pensionario    ``ONP`` or ``AFP …``
cuspp                  12 characters (optional; AFP members)
monto_imponible        pensionable base, soles
tipo                   ``ingreso``, ``descuento`` or ``aporte`` (employer contribution)
codigo, descripcion    the concept, e.g. ``+rim ley29944`` / ``Remuneración Íntegra Mensual``
monto                  soles with a dot and at most two decimals, no thousands separator
=====================  =====================================================================

JSON: ``{"boletas": [ {<the boleta columns above>, "ingresos": [{"codigo", "descripcion",
"monto"}], "descuentos": [...], "aportes": [...]} ]}`` (or the bare list). Amounts may be
strings (``"4220.77"``) or numbers; they are read as decimals, never floats. Problems are
reported by boleta position (``registro 3``).

Totals (Monto bruto, Total descuentos, Neto) are computed from the lines; a boleta without
ingresos or whose descuentos exceed its ingresos is refused.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from relying_party_demo.boletas.errors import ImportRejected
from relying_party_demo.boletas.errors import InconsistentTotals
from relying_party_demo.boletas.errors import RowProblem
from relying_party_demo.boletas.models import APORTE
from relying_party_demo.boletas.models import CONCEPT_KINDS
from relying_party_demo.boletas.models import DESCUENTO
from relying_party_demo.boletas.models import INGRESO
from relying_party_demo.boletas.money import InvalidAmount
from relying_party_demo.boletas.money import parse_soles
from relying_party_demo.boletas.records import BoletaRecord
from relying_party_demo.boletas.records import ConceptoRecord
from relying_party_demo.boletas.services import put_boleta
from relying_party_demo.extensions import db

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_REPORTED_PROBLEMS = 200

# (column, max length, required)
TEXT_COLUMNS = (
    ("planilla", 40, True),
    ("regimen", 40, True),
    ("entidad", 80, True),
    ("codigo_plaza", 20, True),
    ("numero", 12, True),
    ("direccion_regional", 80, True),
    ("apellidos", 120, True),
    ("nombres", 80, True),
    ("cargo", 80, True),
    ("tipo_servidor", 60, True),
    ("regimen_laboral", 40, True),
    ("escala", 40, True),
    ("institucion", 120, True),
    ("banco", 60, True),
    ("cuenta", 24, True),
    ("regimen_pensionario", 40, True),
)
BOLETA_COLUMNS = (
    "dni",
    "anio",
    "mes",
    "ruc_entidad",
    "fecha_pago",
    "codigo_modular",
    "jornada_horas",
    "codigo_modular_ie",
    "cuspp",
    "monto_imponible",
    *(name for name, _, _ in TEXT_COLUMNS),
)
LINE_COLUMNS = ("tipo", "codigo", "descripcion", "monto")
REQUIRED_CSV_COLUMNS = frozenset(BOLETA_COLUMNS) - {"fecha_pago", "codigo_modular_ie", "cuspp"}
JSON_GROUPS = (("ingresos", INGRESO), ("descuentos", DESCUENTO), ("aportes", APORTE))


class RowError(ValueError):
    """One field of a row is wrong (the message is the Spanish reason)."""


def digits(value: str, name: str, low: int, high: int) -> str:
    """A string of ``low``..``high`` ASCII digits."""
    if not (low <= len(value) <= high and value.isascii() and value.isdigit()):
        size = f"{low}" if low == high else f"{low} a {high}"
        raise RowError(f"{name} debe tener {size} dígitos")
    return value


def number(value: str, name: str, low: int, high: int) -> int:
    """A whole number in a range."""
    if not value.isascii() or not value.isdigit() or len(value) > 6:
        raise RowError(f"{name} debe ser un número entero")
    parsed = int(value)
    if not low <= parsed <= high:
        raise RowError(f"{name} debe estar entre {low} y {high}")
    return parsed


def payment_date(value: str) -> date | None:
    """``YYYY-MM-DD`` or ``DD/MM/YYYY``; empty means unknown."""
    if not value:
        return None
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(value, pattern).date()  # noqa: DTZ007 - a calendar date
        except ValueError:
            continue
    raise RowError("fecha_pago debe tener el formato AAAA-MM-DD o DD/MM/AAAA")


def amount(value: Any, name: str) -> int:
    """Soles → céntimos, with the Spanish reason on failure."""
    try:
        return parse_soles(value if isinstance(value, str | Decimal | int) else str(value))
    except InvalidAmount:
        raise RowError(f"{name} no es un monto válido (use 1234.56)") from None


def text_value(raw: Mapping[str, Any], name: str) -> str:
    """A stripped string column (numbers from JSON become their text)."""
    value = raw.get(name)
    if value is None:
        return ""
    if isinstance(value, Decimal | int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise RowError(f"{name} debe ser texto")
    return value.strip()


@dataclass(frozen=True)
class BoletaHeader:
    """The boleta part of a row, validated."""

    fields: dict[str, Any]

    @property
    def key(self) -> tuple[Any, ...]:
        """The natural key (see BoletaRecord.natural_key)."""
        f = self.fields
        keys = ("dni", "anio", "mes", "planilla", "regimen", "entidad", "codigo_plaza")
        return tuple(f[name] for name in keys)


def parse_header(raw: Mapping[str, Any]) -> BoletaHeader:
    """Validate the boleta columns of one row."""
    fields: dict[str, Any] = {
        "dni": digits(text_value(raw, "dni"), "dni", 8, 8),
        "anio": number(text_value(raw, "anio"), "anio", 1990, 2100),
        "mes": number(text_value(raw, "mes"), "mes", 1, 12),
        "ruc_entidad": digits(text_value(raw, "ruc_entidad"), "ruc_entidad", 11, 11),
        "fecha_pago": payment_date(text_value(raw, "fecha_pago")),
        "codigo_modular": digits(text_value(raw, "codigo_modular"), "codigo_modular", 1, 10),
        "jornada_horas": number(text_value(raw, "jornada_horas"), "jornada_horas", 1, 60),
        "monto_imponible": amount(raw.get("monto_imponible", ""), "monto_imponible"),
    }
    code_ie = text_value(raw, "codigo_modular_ie")
    fields["codigo_modular_ie"] = digits(code_ie, "codigo_modular_ie", 7, 7) if code_ie else None
    cuspp = text_value(raw, "cuspp")
    if cuspp and not re.fullmatch(r"[0-9A-Z]{12}", cuspp):
        raise RowError("cuspp debe tener 12 letras mayúsculas o dígitos")
    fields["cuspp"] = cuspp or None
    for name, length, required in TEXT_COLUMNS:
        value = text_value(raw, name)
        if required and not value:
            raise RowError(f"falta {name}")
        if len(value) > length:
            raise RowError(f"{name} supera {length} caracteres")
        fields[name] = value
    return BoletaHeader(fields)


def parse_line(raw: Mapping[str, Any], kind: str | None = None) -> ConceptoRecord:
    """Validate one concept line."""
    tipo = kind or text_value(raw, "tipo").lower()
    if tipo not in CONCEPT_KINDS:
        raise RowError("tipo debe ser ingreso, descuento o aporte")
    codigo = text_value(raw, "codigo")
    descripcion = text_value(raw, "descripcion")
    if not codigo or len(codigo) > 30:
        raise RowError("codigo es obligatorio (hasta 30 caracteres)")
    if not descripcion or len(descripcion) > 160:
        raise RowError("descripcion es obligatoria (hasta 160 caracteres)")
    return ConceptoRecord(tipo, codigo, descripcion, amount(raw.get("monto", ""), "monto"))


def build_record(header: BoletaHeader, lines: Iterable[ConceptoRecord]) -> BoletaRecord:
    """A BoletaRecord from a validated header and its lines."""
    return BoletaRecord(conceptos=tuple(lines), **header.fields)


@dataclass
class Parsed:
    """What a file holds once every row is checked."""

    records: list[BoletaRecord]
    problems: list[RowProblem]


def parse_csv(content: str) -> Parsed:
    """Group CSV rows (one per concept line) into boletas, collecting every problem."""
    reader = csv.DictReader(io.StringIO(content))
    columns = {name.strip() for name in (reader.fieldnames or []) if name}
    missing = sorted((REQUIRED_CSV_COLUMNS | set(LINE_COLUMNS)) - columns)
    if missing:
        return Parsed([], [RowProblem(1, "faltan columnas: " + ", ".join(missing))])
    problems: list[RowProblem] = []
    groups: dict[tuple[Any, ...], tuple[int, BoletaHeader, list[ConceptoRecord]]] = {}
    for raw in reader:
        line = reader.line_num
        row = {(key or "").strip(): value for key, value in raw.items()}
        if None in raw or any(value is None for value in raw.values()):
            problems.append(
                RowProblem(line, "la fila no tiene el número de columnas del encabezado")
            )
            continue
        try:
            header = parse_header(row)
            concept = parse_line(row)
        except RowError as error:
            problems.append(RowProblem(line, str(error)))
            continue
        if header.key not in groups:
            groups[header.key] = (line, header, [])
        first_line, first, lines = groups[header.key]
        if header.fields != first.fields:
            problems.append(
                RowProblem(line, f"los datos de la boleta no coinciden con la línea {first_line}")
            )
            continue
        lines.append(concept)
    records = []
    for first_line, header, lines in groups.values():
        record = build_record(header, lines)
        if check_record(record, first_line, problems, "línea"):
            records.append(record)
    return Parsed(records, problems)


def check_record(record: BoletaRecord, line: int, problems: list[RowProblem], where: str) -> bool:
    """Add a problem when the boleta's totals cannot be right."""
    try:
        record.check()
    except InconsistentTotals as error:
        reason = (
            "la boleta no tiene ingresos"
            if str(error) == "no ingresos"
            else "los descuentos superan a los ingresos (neto negativo)"
        )
        problems.append(RowProblem(line, reason, where))
        return False
    return True


def parse_json(content: str) -> Parsed:
    """Read ``{"boletas": [...]}`` (or a bare list), collecting every problem."""
    try:
        document = json.loads(content, parse_float=Decimal)
    except json.JSONDecodeError as error:
        return Parsed([], [RowProblem(error.lineno, f"JSON no válido: {error.msg}")])
    except RecursionError:
        return Parsed([], [RowProblem(1, "JSON no válido: demasiados niveles anidados")])
    items = document.get("boletas") if isinstance(document, dict) else document
    if not isinstance(items, list):
        return Parsed([], [RowProblem(1, 'se esperaba {"boletas": [...]} o una lista')])
    problems: list[RowProblem] = []
    records: list[BoletaRecord] = []
    seen: dict[tuple[Any, ...], int] = {}
    for position, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            problems.append(RowProblem(position, "cada boleta debe ser un objeto", "registro"))
            continue
        try:
            header = parse_header(item)
            lines: list[ConceptoRecord] = []
            for group, kind in JSON_GROUPS:
                entries = item.get(group, [])
                if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
                    raise RowError(f"{group} debe ser una lista de objetos")
                lines += [parse_line(entry, kind) for entry in entries]
        except RowError as error:
            problems.append(RowProblem(position, str(error), "registro"))
            continue
        if header.key in seen:
            problems.append(
                RowProblem(position, f"boleta repetida (registro {seen[header.key]})", "registro")
            )
            continue
        seen[header.key] = position
        record = build_record(header, lines)
        if check_record(record, position, problems, "registro"):
            records.append(record)
    return Parsed(records, problems)


PARSERS: dict[str, Callable[[str], Parsed]] = {".csv": parse_csv, ".json": parse_json}


def read_file(path: Path) -> Parsed:
    """Read and validate a CSV or JSON payroll file (by extension)."""
    parser = PARSERS.get(path.suffix.lower())
    if parser is None:
        return Parsed([], [RowProblem(0, "el archivo debe ser .csv o .json")])
    if path.stat().st_size > MAX_FILE_BYTES:
        return Parsed([], [RowProblem(0, "el archivo supera 50 MB")])
    try:
        content = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        return Parsed([], [RowProblem(0, "el archivo no está en UTF-8")])
    return parser(content)


def import_boletas(path: Path, *, dry_run: bool = False) -> dict[str, int]:
    """Validate the whole file, then write it in one transaction (or not at all)."""
    parsed = read_file(path)
    if parsed.problems:
        raise ImportRejected(parsed.problems[:MAX_REPORTED_PROBLEMS])
    counts = {"boletas": len(parsed.records), "created": 0, "updated": 0, "unchanged": 0}
    try:
        for record in parsed.records:
            counts[put_boleta(record)] += 1
        if dry_run:
            db.session.rollback()
        else:
            db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return counts
