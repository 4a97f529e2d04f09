"""ayni import-boletas: validate every row first, all or nothing, idempotent."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func
from sqlalchemy import select

from relying_party_demo.cli import import_boletas_command

HEADER = {
    "dni": "40000009",
    "anio": "2025",
    "mes": "11",
    "planilla": "ACTIVOS - MENSUAL",
    "regimen": "Ley Nro 29944",
    "entidad": "UGEL CHICLAYO",
    "codigo_plaza": "1171214399E1",
    "numero": "004512",
    "direccion_regional": "GERENCIA REGIONAL DE EDUCACION LAMBAYEQUE",
    "ruc_entidad": "20600000030",
    "fecha_pago": "2025-11-18",
    "apellidos": "CHAVEZ TORRES",
    "nombres": "ANA LUCIA",
    "codigo_modular": "1040000009",
    "cargo": "PROFESOR",
    "tipo_servidor": "DOCENTE NOMBRADO",
    "regimen_laboral": "LEY Nº 29944",
    "escala": "1ª ESCALA MAGISTERIAL",
    "jornada_horas": "30",
    "institucion": "IE N° 11015 JOSE OLAYA",
    "codigo_modular_ie": "0654321",
    "banco": "BANCO DE LA NACION",
    "cuenta": "CTA- 04051112223",
    "regimen_pensionario": "ONP",
    "cuspp": "",
    "monto_imponible": "3500.70",
}
LINES = [
    ("ingreso", "+rim ley29944", "Remuneración Íntegra Mensual - Ley N° 29944", "3500.70"),
    ("ingreso", "+asig.rural", "Asignación por ruralidad (Rural 2)", "100"),
    ("descuento", "-onp", "ONP 13%", "455.09"),
    ("descuento", "-derrama", "Derrama Magisterial", "15.50"),
    ("aporte", "essalud", "EsSalud 9%", "315.06"),
]


def csv_text(rows: list[dict[str, Any]]) -> str:
    output = io.StringIO()
    writer = csv.DictWriter(output, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return output.getvalue()


def payroll_rows(**changes: str) -> list[dict[str, Any]]:
    rows = []
    for tipo, codigo, descripcion, monto in LINES:
        row = dict(HEADER, tipo=tipo, codigo=codigo, descripcion=descripcion, monto=monto)
        rows.append(row)
    second = [dict(row, mes="12", numero="004999") for row in rows]
    return [dict(row, **changes) for row in rows] + second


def count_boletas() -> int:
    from relying_party_demo.boletas.models import Boleta
    from relying_party_demo.extensions import db

    return db.session.scalar(select(func.count()).select_from(Boleta)) or 0


def run(app: Flask, *args: str) -> Any:
    return app.test_cli_runner().invoke(import_boletas_command, list(args))


@pytest.fixture
def payroll_csv(tmp_path: Path) -> Path:
    path = tmp_path / "planilla.csv"
    path.write_text(csv_text(payroll_rows()), encoding="utf-8")
    return path


def test_a_valid_csv_is_imported_with_totals_from_its_lines(
    ayni_app: Flask, payroll_csv: Path
) -> None:
    from relying_party_demo.boletas.services import BoletaFilter
    from relying_party_demo.boletas.services import boleta_for
    from relying_party_demo.boletas.services import search_boletas

    result = run(ayni_app, str(payroll_csv), "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {
        "ok": True,
        "file": str(payroll_csv),
        "dry_run": False,
        "boletas": 2,
        "created": 2,
        "updated": 0,
        "unchanged": 0,
    }
    page = search_boletas("40000009", BoletaFilter(2025, 11), 1, 10)
    (boleta,) = page.items
    boleta = boleta_for("40000009", boleta.id)
    assert boleta is not None
    assert (boleta.total_ingresos, boleta.total_descuentos, boleta.neto) == (360070, 47059, 313011)
    assert boleta.cuenta == "****2223"
    assert [line.codigo for line in boleta.conceptos] == [line[1] for line in LINES]


def test_importing_the_same_file_twice_changes_nothing(ayni_app: Flask, payroll_csv: Path) -> None:
    assert run(ayni_app, str(payroll_csv)).exit_code == 0
    result = run(ayni_app, str(payroll_csv), "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["unchanged"] == 2
    assert json.loads(result.stdout)["created"] == 0
    assert count_boletas() == 2


def test_a_corrected_file_replaces_the_boletas_it_names(
    ayni_app: Flask, payroll_csv: Path, tmp_path: Path
) -> None:
    assert run(ayni_app, str(payroll_csv)).exit_code == 0
    corrected = tmp_path / "corregida.csv"
    rows = payroll_rows()
    rows[3]["monto"] = "25.50"  # the derrama of November
    corrected.write_text(csv_text(rows), encoding="utf-8")
    result = run(ayni_app, str(corrected), "--json")
    assert json.loads(result.stdout)["updated"] == 1
    assert json.loads(result.stdout)["unchanged"] == 1
    assert count_boletas() == 2


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"dni": "4000000X"}, "dni debe tener 8 dígitos"),
        ({"mes": "13"}, "mes debe estar entre 1 y 12"),
        ({"monto": "4,220.77"}, "monto no es un monto válido"),
        ({"monto": "-3"}, "monto no es un monto válido"),
        ({"tipo": "bono"}, "tipo debe ser ingreso, descuento o aporte"),
        ({"fecha_pago": "31/02/2025"}, "fecha_pago debe tener el formato"),
        ({"entidad": ""}, "falta entidad"),
        ({"cuspp": "abc"}, "cuspp debe tener 12"),
    ],
)
def test_a_bad_row_is_reported_with_its_line_and_nothing_is_written(
    ayni_app: Flask, tmp_path: Path, change: dict[str, str], reason: str
) -> None:
    rows = payroll_rows()
    rows[7].update(change)  # line 9 of the file (header is line 1)
    path = tmp_path / "mala.csv"
    path.write_text(csv_text(rows), encoding="utf-8")
    result = run(ayni_app, str(path))
    assert result.exit_code != 0
    assert f"línea 9: {reason}" in result.stdout
    assert len(result.stderr.strip().splitlines()) == 1
    assert "no se escribió nada" in result.stderr
    assert count_boletas() == 0


def test_descuentos_above_ingresos_are_refused(ayni_app: Flask, tmp_path: Path) -> None:
    rows = payroll_rows()
    rows[2]["monto"] = "9000"
    path = tmp_path / "negativa.csv"
    path.write_text(csv_text(rows), encoding="utf-8")
    result = run(ayni_app, str(path), "--json")
    report = json.loads(result.stdout)
    assert result.exit_code != 0
    assert report["ok"] is False
    assert report["errors"] == [
        {
            "line": 2,
            "where": "línea",
            "reason": "los descuentos superan a los ingresos (neto negativo)",
        }
    ]
    assert count_boletas() == 0


def test_rows_of_one_boleta_must_agree_on_its_header(ayni_app: Flask, tmp_path: Path) -> None:
    rows = payroll_rows()
    rows[1]["nombres"] = "OTRA PERSONA"
    path = tmp_path / "mezcla.csv"
    path.write_text(csv_text(rows), encoding="utf-8")
    result = run(ayni_app, str(path))
    assert "línea 3: los datos de la boleta no coinciden con la línea 2" in result.stdout
    assert count_boletas() == 0


def test_missing_columns_are_reported_before_any_row(ayni_app: Flask, tmp_path: Path) -> None:
    path = tmp_path / "incompleta.csv"
    path.write_text("dni,anio,mes\n40000009,2025,11\n", encoding="utf-8")
    result = run(ayni_app, str(path))
    assert result.exit_code != 0
    assert "faltan columnas" in result.stdout


def test_dry_run_validates_and_counts_but_writes_nothing(
    ayni_app: Flask, payroll_csv: Path
) -> None:
    result = run(ayni_app, str(payroll_csv), "--dry-run", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["created"] == 2
    assert count_boletas() == 0


def test_a_json_payroll_is_imported_and_amounts_are_never_floats(
    ayni_app: Flask, tmp_path: Path
) -> None:
    boleta: dict[str, Any] = {key: value for key, value in HEADER.items()}
    boleta["anio"] = 2025
    boleta["ingresos"] = [
        {"codigo": "+rim ley29944", "descripcion": "RIM", "monto": 3500.70},
        {"codigo": "+x", "descripcion": "Décimos", "monto": "0.10"},
    ]
    boleta["descuentos"] = [{"codigo": "-onp", "descripcion": "ONP", "monto": 455.09}]
    boleta["aportes"] = [{"codigo": "essalud", "descripcion": "EsSalud", "monto": 315.06}]
    path = tmp_path / "planilla.json"
    path.write_text(json.dumps({"boletas": [boleta]}), encoding="utf-8")
    result = run(ayni_app, str(path), "--json")
    assert result.exit_code == 0, result.stdout + result.stderr
    from relying_party_demo.boletas.services import BoletaFilter
    from relying_party_demo.boletas.services import search_boletas

    (stored,) = search_boletas("40000009", BoletaFilter(2025, 11), 1, 10).items
    assert stored.total_ingresos == 350080
    assert stored.neto == 350080 - 45509
    assert run(ayni_app, str(path), "--json").exit_code == 0
    assert count_boletas() == 1


def test_a_bad_json_record_is_reported_by_position(ayni_app: Flask, tmp_path: Path) -> None:
    good = dict(HEADER, ingresos=[{"codigo": "+a", "descripcion": "A", "monto": "10"}])
    bad = dict(good, mes="12", ingresos="no es lista")
    path = tmp_path / "planilla.json"
    path.write_text(json.dumps([good, bad, good]), encoding="utf-8")
    result = run(ayni_app, str(path))
    assert result.exit_code != 0
    assert "registro 2: ingresos debe ser una lista de objetos" in result.stdout
    assert "registro 3: boleta repetida (registro 1)" in result.stdout
    assert count_boletas() == 0


def test_json_nested_too_deeply_is_reported_not_a_traceback(
    ayni_app: Flask, tmp_path: Path
) -> None:
    path = tmp_path / "planilla.json"
    path.write_text("[" * 50_000 + "]" * 50_000, encoding="utf-8")
    result = run(ayni_app, str(path))
    assert result.exit_code != 0
    assert "demasiados niveles anidados" in result.stdout
    assert count_boletas() == 0


def test_unknown_formats_and_missing_files_fail_in_one_line(
    ayni_app: Flask, tmp_path: Path
) -> None:
    other = tmp_path / "planilla.xls"
    other.write_text("x")
    result = run(ayni_app, str(other))
    assert result.exit_code != 0
    assert "el archivo debe ser .csv o .json" in result.stdout
    missing = run(ayni_app, str(tmp_path / "no-existe.csv"))
    assert missing.exit_code != 0
    assert missing.stderr.strip().startswith("ayni: import-boletas: no such file")
