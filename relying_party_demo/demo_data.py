"""``ayni seed-demo``: realistic legajos and monthly boletas for the demo people.

Amounts follow the domain brief (shared/domain/boleta-y-legajo.md §3): RIM per hour by period
× weekly hours × escala index, aguinaldo S/ 300 in July and December, escolaridad S/ 400 in
January (June for contratados), ONP 13 %, AFP 10 % + prima de seguro + comisión sobre flujo,
EsSalud 9 % paid by the employer, 5ta categoría withheld monthly. Rosa Elena's December 2025
boleta is exactly ``sample-boleta.json``. Everything is deterministic, so running the seed again
changes nothing.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal

from relying_party_demo.boletas.models import APORTE
from relying_party_demo.boletas.models import DESCUENTO
from relying_party_demo.boletas.models import INGRESO
from relying_party_demo.boletas.money import percent_of
from relying_party_demo.boletas.pay_rules import AFP_COMMISSION
from relying_party_demo.boletas.pay_rules import AGUINALDO
from relying_party_demo.boletas.pay_rules import ESCOLARIDAD
from relying_party_demo.boletas.pay_rules import afp_insurance_rate
from relying_party_demo.boletas.pay_rules import fifth_category_monthly
from relying_party_demo.boletas.records import BoletaRecord
from relying_party_demo.boletas.records import ConceptoRecord
from relying_party_demo.boletas.services import put_boleta
from relying_party_demo.demo_people import DEMO_DNIS
from relying_party_demo.demo_people import NO_LEGAJO_DNIS
from relying_party_demo.demo_people import Person
from relying_party_demo.demo_people import Position
from relying_party_demo.demo_people import demo_people
from relying_party_demo.demo_people import generic_person
from relying_party_demo.extensions import db
from relying_party_demo.legajo.services import CargoRecord
from relying_party_demo.legajo.services import LegajoRecord
from relying_party_demo.legajo.services import delete_legajo
from relying_party_demo.legajo.services import put_legajo

__all__ = ["DEMO_DNIS", "boletas_of", "demo_people", "generic_person", "seed_demo"]

FIRST_PERIOD = (2022, 1)
LAST_PERIOD = (2026, 10)


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
