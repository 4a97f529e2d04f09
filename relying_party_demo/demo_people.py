"""The demo people of ``ayni seed-demo``: who they are, where they work, how they are paid.

The DNIs match the users the demo launcher creates in Passport. Names, plazas, accounts and
resolutions are invented; entities and pay follow the domain brief.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from dataclasses import field
from datetime import date
from decimal import Decimal

from relying_party_demo.boletas.pay_rules import ESCALA_INDEX
from relying_party_demo.boletas.pay_rules import rim_per_hour
from relying_party_demo.legajo.services import MovimientoRecord

# The demo people (the same DNIs the demo launcher creates in Passport).
ROSA, JUAN, MARIA, PEDRO = "40000001", "40000002", "40000003", "40000004"
DEMO_DNIS = (ROSA, JUAN, MARIA, PEDRO)
NO_LEGAJO_DNIS = frozenset({PEDRO})


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
