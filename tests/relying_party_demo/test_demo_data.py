"""ayni seed-demo: realistic, consistent to the cent, idempotent."""

from __future__ import annotations

from decimal import Decimal

import pytest
from flask import Flask
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import select


def boletas_of(dni: str, **filters: int) -> list:
    from relying_party_demo.boletas.models import Boleta
    from relying_party_demo.extensions import db

    return list(db.session.scalars(select(Boleta).filter_by(dni=dni, **filters)))


def test_seeding_twice_changes_nothing(ayni_app: Flask) -> None:
    from relying_party_demo.boletas.models import Boleta
    from relying_party_demo.boletas.models import BoletaConcepto
    from relying_party_demo.demo_data import seed_demo
    from relying_party_demo.extensions import db

    first = seed_demo()
    ids = list(db.session.scalars(select(BoletaConcepto.id).order_by(BoletaConcepto.id)))
    second = seed_demo()
    assert first["legajos_created"] == 3
    assert first["boletas_created"] > 200
    assert second == {
        "legajos_unchanged": 3,
        "boletas_unchanged": first["boletas_created"],
        "legajos_removed": 0,
    }
    assert db.session.scalar(select(func.count()).select_from(Boleta)) == first["boletas_created"]
    assert list(db.session.scalars(select(BoletaConcepto.id).order_by(BoletaConcepto.id))) == ids


@pytest.mark.parametrize("turn", [1, 2])
def test_each_test_gets_the_whole_seed_whatever_the_one_before_committed(
    ayni_app: Flask, seeded: dict[str, int], turn: int
) -> None:
    from relying_party_demo.boletas.models import Boleta
    from relying_party_demo.boletas.models import BoletaConcepto
    from relying_party_demo.demo_data import seed_demo
    from relying_party_demo.extensions import db

    # The rows copied back are exactly what seeding writes: seeding again has nothing to do.
    assert seed_demo() == {
        "legajos_unchanged": seeded["legajos_created"],
        "boletas_unchanged": seeded["boletas_created"],
        "legajos_removed": 0,
    }
    # A committed change; the next turn must find the whole seed again.
    db.session.execute(delete(BoletaConcepto))
    db.session.execute(delete(Boleta))
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Boleta)) == 0


# shared/domain/sample-boleta.json, line by line (código, céntimos).
SAMPLE_LINES = [
    ("+rim ley29944", 385077),
    ("+aguinaldo", 30000),
    ("+asig.rural", 7000),
    ("-afp aporte", 38508),
    ("-afp seguro", 5276),
    ("-afp comision", 5969),
    ("-5ta cat", 5840),
    ("-derrama", 1550),
    ("-sutep", 1800),
    ("-bn prestamo", 41235),
    ("essalud", 34657),
]


def test_rosa_december_2025_is_the_sample_boleta(ayni_app: Flask) -> None:
    from relying_party_demo.demo_data import seed_demo

    seed_demo()
    (boleta,) = boletas_of("40000001", anio=2025, mes=12)
    assert boleta.numero == "000123"
    assert (boleta.total_ingresos, boleta.total_descuentos, boleta.neto) == (
        422077,
        100178,
        321899,
    )
    assert boleta.monto_imponible == 385077
    assert [(line.codigo, line.monto) for line in boleta.conceptos] == SAMPLE_LINES
    assert boleta.cuspp == "584221RQHUA3"
    assert boleta.institucion == "IE N° 10999 SAN MARTIN DE PORRES"


def test_every_seeded_boleta_adds_up_to_the_cent(ayni_app: Flask) -> None:
    from relying_party_demo.boletas.models import Boleta
    from relying_party_demo.demo_data import seed_demo
    from relying_party_demo.extensions import db

    seed_demo()
    for boleta in db.session.scalars(select(Boleta)):
        ingresos = sum(line.monto for line in boleta.lines("ingreso"))
        descuentos = sum(line.monto for line in boleta.lines("descuento"))
        assert boleta.total_ingresos == ingresos
        assert boleta.total_descuentos == descuentos
        assert boleta.neto == ingresos - descuentos > 0


def test_aguinaldo_in_july_and_december_escolaridad_in_january(ayni_app: Flask) -> None:
    from relying_party_demo.demo_data import seed_demo

    seed_demo()
    for boleta in boletas_of("40000001"):
        codes = {line.codigo for line in boleta.conceptos}
        assert ("+aguinaldo" in codes) == (boleta.mes in (7, 12))
        assert ("+escolarid" in codes) == (boleta.mes == 1)
    # Contratados (Ley 30328) work March-December and get escolaridad in June.
    juan = boletas_of("40000002")
    assert {boleta.mes for boleta in juan} == set(range(3, 13))
    assert all(
        ("+escolarid" in {line.codigo for line in boleta.conceptos}) == (boleta.mes == 6)
        for boleta in juan
    )


def test_onp_and_afp_members_get_their_own_deductions(ayni_app: Flask) -> None:
    from relying_party_demo.demo_data import seed_demo

    seed_demo()
    (juan,) = boletas_of("40000002", anio=2024, mes=5)
    onp = [line for line in juan.conceptos if line.codigo == "-onp"]
    assert onp
    assert onp[0].monto == round(juan.monto_imponible * Decimal("0.13"))
    assert not any(line.codigo.startswith("-afp") for line in juan.conceptos)
    (rosa,) = boletas_of("40000001", anio=2024, mes=5)
    codes = [line.codigo for line in rosa.conceptos]
    assert {"-afp aporte", "-afp seguro", "-afp comision"} <= set(codes)
    assert "-onp" not in codes


def test_maria_holds_two_positions_every_month(ayni_app: Flask) -> None:
    from relying_party_demo.demo_data import seed_demo

    seed_demo()
    for month in (1, 6, 12):
        regimes = sorted(boleta.regimen for boleta in boletas_of("40000003", anio=2025, mes=month))
        assert regimes == ["D.Leg. Nro 1057", "Ley Nro 29944"]


def test_the_rim_follows_the_official_scale_by_period(ayni_app: Flask) -> None:
    from relying_party_demo.demo_data import seed_demo

    seed_demo()

    def rim(anio: int, mes: int) -> int:
        (boleta,) = boletas_of("40000001", anio=anio, mes=mes)
        return next(line.monto for line in boleta.conceptos if line.codigo == "+rim ley29944")

    # 2ª escala = 110 % of (RIM per hour × 30 h).
    assert rim(2022, 6) == 286011  # 86.67 × 30 × 1.1
    assert rim(2023, 6) == 313500  # 95.00
    assert rim(2024, 6) == 340989  # 103.33
    assert rim(2025, 6) == 363066  # 110.02
    assert rim(2026, 6) == 385077  # 116.69


def test_the_person_without_legajo_gets_none(ayni_app: Flask) -> None:
    from relying_party_demo.demo_data import seed_demo
    from relying_party_demo.legajo.services import legajo_for

    seed_demo()
    assert legajo_for("40000004") is None
    assert boletas_of("40000004") == []
    assert legajo_for("40000001") is not None


def test_seed_demo_accepts_other_dnis(ayni_app: Flask) -> None:
    from relying_party_demo.demo_data import seed_demo
    from relying_party_demo.legajo.services import vigente_legajo_for

    counts = seed_demo(("41234567",))
    assert counts["legajos_created"] == 1
    assert vigente_legajo_for("41234567") is not None
    assert len(boletas_of("41234567")) == counts["boletas_created"] > 0
    assert seed_demo(("41234567",))["legajos_unchanged"] == 1
