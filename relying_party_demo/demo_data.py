"""``ayni seed-demo``: realistic legajos and monthly boletas for the demo people.

Amounts follow the domain brief (shared/domain/boleta-y-legajo.md §3): RIM per hour by period
× weekly hours × escala index, aguinaldo S/ 300 in July and December, escolaridad S/ 400 in
January (June for contratados), ONP 13 %, AFP 10 % + prima de seguro + comisión sobre flujo,
EsSalud 9 % paid by the employer, 5ta categoría withheld monthly. Rosa Elena's December 2025
boleta is exactly ``sample-boleta.json``. Everything is deterministic, so running the seed again
changes nothing.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from dataclasses import field
from datetime import date
from decimal import Decimal

from relying_party_demo.boletas.models import APORTE
from relying_party_demo.boletas.models import DESCUENTO
from relying_party_demo.boletas.models import INGRESO
from relying_party_demo.boletas.money import percent_of
from relying_party_demo.boletas.records import BoletaRecord
from relying_party_demo.boletas.records import ConceptoRecord
from relying_party_demo.boletas.services import put_boleta
from relying_party_demo.extensions import db
from relying_party_demo.legajo.services import CargoRecord
from relying_party_demo.legajo.services import LegajoRecord
from relying_party_demo.legajo.services import MovimientoRecord
from relying_party_demo.legajo.services import delete_legajo
from relying_party_demo.legajo.services import put_legajo

# The demo people (the same DNIs the demo launcher creates in Passport).
ROSA, JUAN, MARIA, PEDRO = "40000001", "40000002", "40000003", "40000004"
DEMO_DNIS = (ROSA, JUAN, MARIA, PEDRO)
NO_LEGAJO_DNIS = frozenset({PEDRO})

FIRST_PERIOD = (2022, 1)
LAST_PERIOD = (2026, 10)

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
MONTHS_ES = ("", "ENE", "FEB", "MAR", "ABR", "MAY", "JUN", "JUL", "AGO", "SET", "OCT", "NOV")


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


@dataclass(frozen=True)
class Position:
    """One plaza of a demo person and how it is paid."""

    codigo_plaza: str
    regimen: str
    regimen_laboral: str
    entidad: str
    direccion_regional: str
    ruc_entidad: str
    cargo: str
    tipo_servidor: str
    escala: str
    escala_number: int | None
    jornada_horas: int
    institucion: str
    codigo_modular_ie: str | None
    nivel_modalidad: str | None
    planilla: str
    fecha_ingreso: date
    resolucion: str
    months: tuple[int, ...] = tuple(range(1, 13))
    escolaridad_month: int | None = 1
    cas_pay: tuple[tuple[tuple[int, int], int], ...] = ()
    asignaciones: tuple[tuple[str, str, int], ...] = ()
    fixed_discounts: tuple[tuple[str, str, int], ...] = ()
    fecha_termino: date | None = None
    pays_fifth_category: bool = True

    def base_pay(self, year: int, month: int) -> int:
        """The pensionable monthly pay (RIM, contract pay or CAS fee) in céntimos."""
        if self.cas_pay:
            amount = 0
            for since, value in self.cas_pay:
                if (year, month) >= since:
                    amount = value
            return amount
        index = Decimal(ESCALA_INDEX[self.escala_number or 1])
        hours = self.jornada_horas
        return int((Decimal(rim_per_hour(year, month) * hours) * index).quantize(Decimal(1)))


@dataclass(frozen=True)
class Person:
    """A demo servidor: legajo data, pension system, positions."""

    dni: str
    apellido_paterno: str
    apellido_materno: str
    nombres: str
    fecha_nacimiento: date
    sexo: str
    dre: str
    ugel: str
    pension: str
    cuspp: str | None
    banco: str
    cuenta: str
    formacion: str
    positions: tuple[Position, ...]
    movimientos: tuple[MovimientoRecord, ...] = ()
    loan: tuple[tuple[int, int], int, int] | None = None  # (start period, cuotas, cuota)
    overrides: dict[tuple[int, int, str], int] = field(default_factory=dict)
    boleta_numbers: dict[tuple[int, int], str] = field(default_factory=dict)

    @property
    def codigo_modular(self) -> str:
        """Teacher código modular: ``10`` + DNI (domain brief §5)."""
        return "10" + self.dni


LAMBAYEQUE = ("UGEL LAMBAYEQUE", "GERENCIA REGIONAL DE EDUCACION LAMBAYEQUE", "20600000005")
SAN_ROMAN = ("UGEL SAN ROMAN", "DIRECCION REGIONAL DE EDUCACION PUNO", "20600000013")
BRENA = ("UGEL 03 BREÑA", "DIRECCION REGIONAL DE EDUCACION DE LIMA METROPOLITANA", "20600000021")


def demo_people() -> dict[str, Person]:
    """The three demo people who have a legajo vigente."""
    rosa = Person(
        dni=ROSA,
        apellido_paterno="QUISPE",
        apellido_materno="HUAMAN",
        nombres="ROSA ELENA",
        fecha_nacimiento=date(1983, 11, 7),
        sexo="F",
        dre=LAMBAYEQUE[1],
        ugel=LAMBAYEQUE[0],
        pension="AFP INTEGRA",
        cuspp="584221RQHUA3",
        banco="BANCO DE LA NACION",
        cuenta="CTA- 04051234567",
        formacion="Licenciada en Educación Primaria (UNPRG, 2008)",
        positions=(
            Position(
                codigo_plaza="1171214311E4",
                regimen="Ley Nro 29944",
                regimen_laboral="LEY Nº 29944",
                entidad=LAMBAYEQUE[0],
                direccion_regional=LAMBAYEQUE[1],
                ruc_entidad=LAMBAYEQUE[2],
                cargo="PROFESOR",
                tipo_servidor="DOCENTE NOMBRADO",
                escala="2ª ESCALA MAGISTERIAL",
                escala_number=2,
                jornada_horas=30,
                institucion="IE N° 10999 SAN MARTIN DE PORRES",
                codigo_modular_ie="0456789",
                nivel_modalidad="PRIMARIA - EBR",
                planilla="ACTIVOS - MENSUAL",
                fecha_ingreso=date(2010, 3, 1),
                resolucion="RD N° 0456-2010-UGEL-L",
                asignaciones=(("+asig.rural", "Asignación por ruralidad (Rural 3)", 7000),),
                fixed_discounts=(
                    ("-derrama", "Derrama Magisterial", 1550),
                    ("-sutep", "Cuota sindical SUTEP", 1800),
                ),
            ),
        ),
        movimientos=(
            MovimientoRecord(
                date(2010, 3, 1),
                "Ingreso",
                "Nombramiento como profesora de aula, IE N° 10999",
                "RD N° 0456-2010-UGEL-L",
            ),
            MovimientoRecord(
                date(2013, 1, 1),
                "Reubicación",
                "Ubicada en la 1ª escala magisterial, Ley N° 29944",
                "RD N° 0112-2013-UGEL-L",
            ),
            MovimientoRecord(
                date(2019, 3, 1),
                "Ascenso de escala",
                "Asciende a la 2ª escala magisterial",
                "RD N° 0731-2019-UGEL-L",
            ),
        ),
        loan=((2024, 11), 36, 41235),
        overrides={(2025, 12, "-5ta cat"): 5840},
        boleta_numbers={(2025, 12): "000123"},
    )
    juan = Person(
        dni=JUAN,
        apellido_paterno="MAMANI",
        apellido_materno="CONDORI",
        nombres="JUAN CARLOS",
        fecha_nacimiento=date(1990, 5, 21),
        sexo="M",
        dre=SAN_ROMAN[1],
        ugel=SAN_ROMAN[0],
        pension="ONP",
        cuspp=None,
        banco="BANCO DE LA NACION",
        cuenta="CTA- 04059876543",
        formacion="Profesor de Educación Secundaria, Matemática (ISP Juliaca, 2014)",
        positions=(
            Position(
                codigo_plaza="1118314711E2",
                regimen="Ley Nro 30328",
                regimen_laboral="LEY Nº 30328",
                entidad=SAN_ROMAN[0],
                direccion_regional=SAN_ROMAN[1],
                ruc_entidad=SAN_ROMAN[2],
                cargo="PROFESOR",
                tipo_servidor="DOCENTE CONTRATADO",
                escala="CONTRATO (1ª ESCALA)",
                escala_number=1,
                jornada_horas=30,
                institucion='IE "LAS MERCEDES"',
                codigo_modular_ie="0712345",
                nivel_modalidad="SECUNDARIA - EBR",
                planilla="CONTRATADOS - MENSUAL",
                fecha_ingreso=date(2026, 3, 1),
                fecha_termino=date(2026, 12, 31),
                resolucion="RD N° 0210-2026-UGEL-SR",
                # Contracts run March to December; contratados get escolaridad in June.
                months=tuple(range(3, 13)),
                escolaridad_month=6,
                asignaciones=(("+asig.biling", "Asignación por IE bilingüe", 5000),),
                fixed_discounts=(("-sutep", "Cuota sindical SUTEP", 1000),),
            ),
        ),
        movimientos=tuple(
            MovimientoRecord(
                date(year, 3, 1),
                "Contrato",
                f"Contrato docente Ley N° 30328, año lectivo {year}",
                f"RD N° 0{200 + year % 100}-{year}-UGEL-SR",
            )
            for year in range(2022, 2027)
        ),
    )
    maria = Person(
        dni=MARIA,
        apellido_paterno="FLORES",
        apellido_materno="RAMOS",
        nombres="MARIA ISABEL",
        fecha_nacimiento=date(1979, 2, 14),
        sexo="F",
        dre=BRENA[1],
        ugel=BRENA[0],
        pension="AFP PRIMA",
        cuspp="612350MFRMS4",
        banco="BANCO DE LA NACION",
        cuenta="CTA- 04052223334",
        formacion="Licenciada en Educación Secundaria, Comunicación (UNE, 2003); Maestría en "
        "Gestión Educativa (2015)",
        positions=(
            Position(
                codigo_plaza="1161214211E7",
                regimen="Ley Nro 29944",
                regimen_laboral="LEY Nº 29944",
                entidad=BRENA[0],
                direccion_regional=BRENA[1],
                ruc_entidad=BRENA[2],
                cargo="PROFESOR",
                tipo_servidor="DOCENTE NOMBRADO",
                escala="3ª ESCALA MAGISTERIAL",
                escala_number=3,
                jornada_horas=30,
                institucion='IE N° 1061 "REPUBLICA DE CHILE"',
                codigo_modular_ie="0334455",
                nivel_modalidad="SECUNDARIA - EBR",
                planilla="ACTIVOS - MENSUAL",
                fecha_ingreso=date(2005, 4, 1),
                resolucion="RDR N° 1450-2005-DRELM",
                fixed_discounts=(
                    ("-derrama", "Derrama Magisterial", 1550),
                    ("-coopac", "Coopac Santa María Magdalena - aporte", 5000),
                ),
            ),
            Position(
                codigo_plaza="CAS-0387-2021",
                regimen="D.Leg. Nro 1057",
                regimen_laboral="D.LEG. Nº 1057 - CAS",
                entidad=BRENA[0],
                direccion_regional=BRENA[1],
                ruc_entidad=BRENA[2],
                cargo="PROMOTORA DE TUTORIA Y CONVIVENCIA ESCOLAR",
                tipo_servidor="CONTRATADO CAS",
                escala="-",
                escala_number=None,
                jornada_horas=20,
                institucion="SEDE UGEL 03 BREÑA",
                codigo_modular_ie=None,
                nivel_modalidad=None,
                planilla="CAS - MENSUAL",
                fecha_ingreso=date(2021, 8, 1),
                resolucion="Contrato CAS N° 387-2021-UGEL03",
                escolaridad_month=None,
                cas_pay=(((2022, 1), 150000), ((2025, 1), 165000)),
                pays_fifth_category=False,
            ),
        ),
        movimientos=(
            MovimientoRecord(
                date(2005, 4, 1),
                "Ingreso",
                "Nombramiento como profesora de Comunicación",
                "RDR N° 1450-2005-DRELM",
            ),
            MovimientoRecord(
                date(2014, 8, 1),
                "Reasignación",
                "Reasignada por interés personal a la IE N° 1061 (UGEL 03)",
                "RD N° 3321-2014-UGEL03",
            ),
            MovimientoRecord(
                date(2018, 3, 1),
                "Ascenso de escala",
                "Asciende a la 3ª escala magisterial",
                "RD N° 0977-2018-UGEL03",
            ),
            MovimientoRecord(
                date(2021, 8, 1),
                "Contrato CAS",
                "Promotora de tutoría y convivencia escolar (D.Leg. N° 1057), 20 horas",
                "Contrato CAS N° 387-2021-UGEL03",
            ),
        ),
    )
    return {person.dni: person for person in (rosa, juan, maria)}


GENERIC_SURNAMES = ("CHAVEZ", "TORRES", "RAMIREZ", "VARGAS", "CASTILLO", "ROJAS", "MENDOZA")
GENERIC_NAMES = ("ANA LUCIA", "JOSE LUIS", "CARMEN ROSA", "LUIS ALBERTO", "GLADYS", "WILBER")
GENERIC_UGELS = (
    ("UGEL CHICLAYO", "GERENCIA REGIONAL DE EDUCACION LAMBAYEQUE", "20600000030"),
    ("UGEL PIURA", "DIRECCION REGIONAL DE EDUCACION PIURA", "20600000048"),
    ("UGEL HUANCAYO", "DIRECCION REGIONAL DE EDUCACION JUNIN", "20600000056"),
    ("UGEL CUSCO", "DIRECCION REGIONAL DE EDUCACION CUSCO", "20600000064"),
)


def generic_person(dni: str) -> Person:
    """A plausible nombrado teacher for any other DNI (deterministic from the DNI)."""
    digest = hashlib.sha256(dni.encode()).digest()
    ugel, dre, ruc = GENERIC_UGELS[digest[0] % len(GENERIC_UGELS)]
    escala = 1 + digest[1] % 5
    afp = digest[2] % 3
    pension = ("ONP", "AFP HABITAT", "AFP PROFUTURO")[afp]
    return Person(
        dni=dni,
        apellido_paterno=GENERIC_SURNAMES[digest[3] % len(GENERIC_SURNAMES)],
        apellido_materno=GENERIC_SURNAMES[digest[4] % len(GENERIC_SURNAMES)],
        nombres=GENERIC_NAMES[digest[5] % len(GENERIC_NAMES)],
        fecha_nacimiento=date(1970 + digest[6] % 25, 1 + digest[7] % 12, 1 + digest[8] % 28),
        sexo="F" if digest[9] % 2 else "M",
        dre=dre,
        ugel=ugel,
        pension=pension,
        cuspp=None if pension == "ONP" else f"{digest[10]:03d}{dni[-3:]}XYZA1"[:12],
        banco="BANCO DE LA NACION",
        cuenta=f"CTA- 0405{dni[1:]}",
        formacion="Profesor(a) titulado(a) en Educación",
        positions=(
            Position(
                codigo_plaza=f"11{dni}E1",
                regimen="Ley Nro 29944",
                regimen_laboral="LEY Nº 29944",
                entidad=ugel,
                direccion_regional=dre,
                ruc_entidad=ruc,
                cargo="PROFESOR",
                tipo_servidor="DOCENTE NOMBRADO",
                escala=f"{escala}ª ESCALA MAGISTERIAL",
                escala_number=escala,
                jornada_horas=30,
                institucion=f"IE N° {100 + digest[11] % 900} ",
                codigo_modular_ie=f"0{dni[1:]}"[:7],
                nivel_modalidad="PRIMARIA - EBR",
                planilla="ACTIVOS - MENSUAL",
                fecha_ingreso=date(2012, 3, 1),
                resolucion=f"RD N° 0{digest[12] % 900 + 100}-2012-{ugel.replace(' ', '-')}",
                fixed_discounts=(("-derrama", "Derrama Magisterial", 1550),),
            ),
        ),
        movimientos=(
            MovimientoRecord(date(2012, 3, 1), "Ingreso", "Nombramiento como profesor(a)"),
        ),
    )


def periods() -> list[tuple[int, int]]:
    """Every (year, month) of the demo payroll, oldest first."""
    result = []
    year, month = FIRST_PERIOD
    while (year, month) <= LAST_PERIOD:
        result.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return result


def loan_line(person: Person, year: int, month: int) -> ConceptoRecord | None:
    """The Banco de la Nación loan cuota of this month, if one is running."""
    if person.loan is None:
        return None
    (start_year, start_month), cuotas, cuota = person.loan
    number = (year - start_year) * 12 + (month - start_month) + 1
    if number < 1 or number > cuotas:
        return None
    description = f"Préstamo Multired Banco de la Nación (cuota {number}/{cuotas})"
    return ConceptoRecord(DESCUENTO, "-bn prestamo", description, cuota)


def build_boleta(
    person: Person, index: int, position: Position, year: int, month: int
) -> BoletaRecord:
    """One month's boleta of one position."""
    base = position.base_pay(year, month)
    lines: list[ConceptoRecord] = []
    if position.cas_pay:
        lines.append(ConceptoRecord(INGRESO, "+rem.cas", "Remuneración CAS - D.Leg. N° 1057", base))
    elif position.regimen == "Ley Nro 30328":
        description = (
            f"Remuneración mensual por contrato - Ley N° 30328 ({position.jornada_horas} horas)"
        )
        lines.append(ConceptoRecord(INGRESO, "+rem.contrato", description, base))
    else:
        description = (
            f"Remuneración Íntegra Mensual - Ley N° 29944 "
            f"({position.escala_number}{'ra' if position.escala_number in (1, 3) else 'da'} "
            f"escala, {position.jornada_horas} horas)"
        )
        if position.escala_number not in (1, 2, 3):
            description = (
                f"Remuneración Íntegra Mensual - Ley N° 29944 ({position.escala_number}ª escala, "
                f"{position.jornada_horas} horas)"
            )
        lines.append(ConceptoRecord(INGRESO, "+rim ley29944", description, base))
    if month in (7, 12):
        label = "Aguinaldo por Fiestas Patrias" if month == 7 else "Aguinaldo por Navidad"
        lines.append(ConceptoRecord(INGRESO, "+aguinaldo", label, AGUINALDO))
    if position.escolaridad_month == month:
        lines.append(
            ConceptoRecord(INGRESO, "+escolarid", "Bonificación por escolaridad", ESCOLARIDAD)
        )
    for code, description, amount in position.asignaciones:
        lines.append(ConceptoRecord(INGRESO, code, description, amount))

    if person.pension == "ONP":
        lines.append(
            ConceptoRecord(
                DESCUENTO, "-onp", "ONP - Sistema Nacional de Pensiones 13%",
                percent_of(base, Decimal("0.13")),
            )
        )  # fmt: skip
    else:
        insurance = afp_insurance_rate(year)
        commission = AFP_COMMISSION[person.pension]
        lines += [
            ConceptoRecord(
                DESCUENTO, "-afp aporte", f"{person.pension} - Aporte obligatorio 10%",
                percent_of(base, Decimal("0.10")),
            ),
            ConceptoRecord(
                DESCUENTO, "-afp seguro",
                f"{person.pension} - Prima de seguro {insurance * 100:.2f}%".replace(".00%", "%"),
                percent_of(base, insurance),
            ),
            ConceptoRecord(
                DESCUENTO, "-afp comision",
                f"{person.pension} - Comisión sobre flujo {commission * 100:.2f}%",
                percent_of(base, commission),
            ),
        ]  # fmt: skip
    if position.pays_fifth_category:
        monthly_extras = sum(amount for _, _, amount in position.asignaciones)
        working_months = len(position.months)
        annual = (base + monthly_extras) * working_months + 2 * AGUINALDO
        annual += ESCOLARIDAD if position.escolaridad_month else 0
        fifth = person.overrides.get(
            (year, month, "-5ta cat"), fifth_category_monthly(annual, year)
        )
        if fifth:
            lines.append(
                ConceptoRecord(DESCUENTO, "-5ta cat", "Impuesto a la Renta 5ta categoría", fifth)
            )
    for code, description, amount in position.fixed_discounts:
        lines.append(ConceptoRecord(DESCUENTO, code, description, amount))
    if index == 0:
        loan = loan_line(person, year, month)
        if loan is not None:
            lines.append(loan)
    lines.append(
        ConceptoRecord(
            APORTE,
            "essalud",
            "EsSalud 9% (aporte del empleador)",
            percent_of(base, Decimal("0.09")),
        )
    )
    serial = (year % 100) * 10000 + month * 100 + int(person.dni[-2:]) * 3 + index
    numero = person.boleta_numbers.get((year, month)) if index == 0 else None
    return BoletaRecord(
        dni=person.dni,
        anio=year,
        mes=month,
        planilla=position.planilla,
        regimen=position.regimen,
        entidad=position.entidad,
        codigo_plaza=position.codigo_plaza,
        numero=numero or f"{serial:06d}",
        direccion_regional=position.direccion_regional,
        ruc_entidad=position.ruc_entidad,
        fecha_pago=date(year, month, 18),
        apellidos=f"{person.apellido_paterno} {person.apellido_materno}",
        nombres=person.nombres,
        codigo_modular=person.codigo_modular,
        cargo=position.cargo,
        tipo_servidor=position.tipo_servidor,
        regimen_laboral=position.regimen_laboral,
        escala=position.escala,
        jornada_horas=position.jornada_horas,
        institucion=position.institucion.strip(),
        codigo_modular_ie=position.codigo_modular_ie,
        banco=person.banco,
        cuenta=person.cuenta,
        regimen_pensionario=person.pension,
        cuspp=person.cuspp,
        conceptos=tuple(lines),
        monto_imponible=base,
    )


def boletas_of(person: Person) -> list[BoletaRecord]:
    """Every demo boleta of a person."""
    records = []
    for year, month in periods():
        for index, position in enumerate(person.positions):
            if month in position.months:
                records.append(build_boleta(person, index, position, year, month))
    return records


def legajo_of(person: Person) -> LegajoRecord:
    """The legajo vigente of a person."""
    return LegajoRecord(
        dni=person.dni,
        estado="VIGENTE",
        apellido_paterno=person.apellido_paterno,
        apellido_materno=person.apellido_materno,
        nombres=person.nombres,
        fecha_nacimiento=person.fecha_nacimiento,
        sexo=person.sexo,
        codigo_modular=person.codigo_modular,
        dre=person.dre,
        ugel=person.ugel,
        regimen_pensionario=person.pension,
        cuspp=person.cuspp,
        formacion=person.formacion,
        cargos=tuple(
            CargoRecord(
                cargo=position.cargo,
                tipo_servidor=position.tipo_servidor,
                regimen=position.regimen,
                escala=position.escala,
                jornada_horas=position.jornada_horas,
                institucion=position.institucion.strip(),
                codigo_modular_ie=position.codigo_modular_ie,
                nivel_modalidad=position.nivel_modalidad,
                entidad=position.entidad,
                fecha_ingreso=position.fecha_ingreso,
                fecha_termino=position.fecha_termino,
                resolucion=position.resolucion,
            )
            for position in person.positions
        ),
        movimientos=person.movimientos,
    )


def seed_demo(dnis: tuple[str, ...] = DEMO_DNIS) -> dict[str, int]:
    """Write legajos and boletas for these DNIs in one transaction; return counts."""
    people = demo_people()
    counts: Counter[str] = Counter()
    try:
        for dni in dnis:
            if dni in NO_LEGAJO_DNIS:
                # The demo's person without a legajo stays without one.
                counts["legajos_removed"] += int(delete_legajo(dni))
                continue
            person = people.get(dni) or generic_person(dni)
            counts[f"legajos_{put_legajo(legajo_of(person))}"] += 1
            for record in boletas_of(person):
                counts[f"boletas_{put_boleta(record)}"] += 1
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return dict(counts)
