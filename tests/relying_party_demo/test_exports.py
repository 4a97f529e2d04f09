"""Exportar en Excel / Pdf and the PDF of one boleta, opened with openpyxl and pypdf."""

from __future__ import annotations

import io
from decimal import Decimal

from flask.testing import FlaskClient
from openpyxl import load_workbook
from pypdf import PdfReader

from tests.relying_party_demo.conftest import SignIn
from tests.relying_party_demo.test_boletas import boleta_id


def pdf_text(content: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(content))
    return len(reader.pages), "\n".join(page.extract_text() for page in reader.pages)


def test_excel_export_has_numeric_soles_cells_a_title_and_a_frozen_header(
    ayni_client: FlaskClient, seeded: dict[str, int], sign_in: SignIn
) -> None:
    sign_in("40000001")
    response = ayni_client.get("/boletas/export.xlsx?anio=2025&mes=12")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    assert 'filename="boletas_40000001_2025-12.xlsx"' in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.data)).active
    title = sheet["A1"].value
    assert "QUISPE HUAMAN, ROSA ELENA" in title
    assert "DNI 40000001" in title
    assert "Año 2025 - DICIEMBRE" in title
    assert sheet.freeze_panes == "A5"
    assert [cell.value for cell in sheet[4]][:7] == [
        "Periodo",
        "Año",
        "Mes",
        "Tipo de régimen",
        "Entidad",
        "Cargo",
        "Monto bruto",
    ]
    row = [cell for cell in sheet[5]]
    assert row[0].value == "DICIEMBRE 2025"
    assert row[3].value == "Ley Nro 29944"
    assert row[4].value == "UGEL LAMBAYEQUE"
    amounts = [Decimal(str(cell.value)) for cell in row[6:9]]
    assert amounts == [Decimal("4220.77"), Decimal("1001.78"), Decimal("3218.99")]
    assert all(isinstance(cell.value, int | float) for cell in row[6:9])
    assert all(cell.number_format == '"S/" #,##0.00' for cell in row[6:9])


def test_excel_export_of_a_year_lists_every_boleta_with_totals(
    ayni_client: FlaskClient, seeded: dict[str, int], sign_in: SignIn
) -> None:
    sign_in("40000003")
    response = ayni_client.get("/boletas/export.xlsx?anio=2024")
    assert 'filename="boletas_40000003_2024.xlsx"' in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.data)).active
    data = [row for row in sheet.iter_rows(min_row=5, values_only=True)]
    boletas, totals = data[:-1], data[-1]
    assert len(boletas) == 24  # two positions × 12 months, not paged
    assert boletas[0][0] == "DICIEMBRE 2024"
    assert totals[5] == "Totales"
    for column in (6, 7, 8):
        expected = sum(Decimal(str(row[column])) for row in boletas)
        assert Decimal(str(totals[column])).quantize(Decimal("0.01")) == expected
    for row in boletas:
        gross, discounts, net = (Decimal(str(value)) for value in row[6:9])
        assert gross - discounts == net


def test_pdf_export_is_a_table_with_the_same_numbers(
    ayni_client: FlaskClient, seeded: dict[str, int], sign_in: SignIn
) -> None:
    sign_in("40000001")
    response = ayni_client.get("/boletas/export.pdf?anio=2025&mes=12")
    assert response.mimetype == "application/pdf"
    assert 'filename="boletas_40000001_2025-12.pdf"' in response.headers["Content-Disposition"]
    pages, text = pdf_text(response.data)
    assert pages == 1
    for expected in (
        "QUISPE HUAMAN, ROSA ELENA",
        "DNI 40000001",
        "DICIEMBRE 2025",
        "Ley Nro 29944",
        "UGEL LAMBAYEQUE",
        "S/ 4,220.77",
        "S/ 1,001.78",
        "S/ 3,218.99",
        "hora de Lima",
    ):
        assert expected in text, expected


def test_pdf_export_of_a_whole_year_repeats_every_row(
    ayni_client: FlaskClient, seeded: dict[str, int], sign_in: SignIn
) -> None:
    sign_in("40000002")
    _, text = pdf_text(ayni_client.get("/boletas/export.pdf?anio=2025").data)
    assert text.count("Ley Nro 30328") == 10  # March to December
    assert "ENERO 2025" not in text


def test_exports_refuse_a_bad_filter_with_a_spanish_page(
    ayni_client: FlaskClient, seeded: dict[str, int], sign_in: SignIn
) -> None:
    sign_in("40000001")
    for url in ("/boletas/export.xlsx?anio=abc", "/boletas/export.pdf?mes=13"):
        response = ayni_client.get(url)
        assert response.status_code == 400
        assert "Filtro no válido" in response.get_data(as_text=True)


def test_the_boleta_pdf_is_one_a4_page_with_header_columns_and_totals(
    ayni_client: FlaskClient, seeded: dict[str, int], sign_in: SignIn
) -> None:
    sign_in("40000001")
    identifier = boleta_id("40000001", 2025, 12)
    response = ayni_client.get(f"/boletas/{identifier}.pdf")
    assert response.status_code == 200
    assert f"boleta_40000001_2025-12_{identifier}.pdf" in response.headers["Content-Disposition"]
    reader = PdfReader(io.BytesIO(response.data))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4
    text = reader.pages[0].extract_text()
    for expected in (
        "BOLETA DE PAGO N° 000123",
        "GERENCIA REGIONAL DE EDUCACION LAMBAYEQUE",
        "RUC - 20600000005",
        "DICIEMBRE - 2025",
        "QUISPE HUAMAN, ROSA ELENA",
        "INGRESOS",
        "DESCUENTOS",
        "APORTES DEL EMPLEADOR",
        "3,850.77",
        "385.08",
        "412.35",
        "346.57",
        "S/ 4,220.77",
        "S/ 1,001.78",
        "S/ 3,218.99",
        "hora de Lima",
    ):
        assert expected in text, expected


def test_every_seeded_boleta_pdf_fits_on_one_page(
    ayni_client: FlaskClient, seeded: dict[str, int], sign_in: SignIn
) -> None:
    sign_in("40000003")
    for regimen in ("Ley Nro 29944", "D.Leg. Nro 1057"):
        identifier = boleta_id("40000003", 2025, 12, regimen)
        reader = PdfReader(io.BytesIO(ayni_client.get(f"/boletas/{identifier}.pdf").data))
        assert len(reader.pages) == 1


def test_excel_text_that_looks_like_a_formula_is_written_as_a_neutralised_string(
    ayni_client: FlaskClient, seeded: dict[str, int], sign_in: SignIn
) -> None:
    """Imported text is written as text: a spreadsheet never runs it (OWASP CSV injection)."""
    from sqlalchemy import select

    from relying_party_demo.boletas.models import Boleta
    from relying_party_demo.extensions import db

    boleta = db.session.scalars(
        select(Boleta).where(Boleta.dni == "40000001", Boleta.anio == 2025, Boleta.mes == 12)
    ).first()
    assert boleta is not None
    boleta.cargo = '=HYPERLINK("http://x","y")'
    boleta.entidad = "@SUM(A1)\x01UGEL"  # a control character openpyxl cannot even store
    boleta.regimen = "\tLey"
    db.session.commit()
    sign_in("40000001")
    response = ayni_client.get("/boletas/export.xlsx?anio=2025&mes=12")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    row = list(sheet[5])
    assert (row[5].data_type, row[5].value) == ("s", '\'=HYPERLINK("http://x","y")')
    assert (row[4].data_type, row[4].value) == ("s", "'@SUM(A1)\ufffdUGEL")
    assert (row[3].data_type, row[3].value) == ("s", "'\tLey")
    formulas = [cell.coordinate for line in sheet.iter_rows() for cell in line]
    assert not [c for c in formulas if sheet[c].data_type == "f"]
    # Numbers stay numbers.
    assert row[1].data_type == row[2].data_type == "n"
    assert all(cell.data_type == "n" for cell in row[6:9])


def test_neutralise_quotes_every_formula_sign_and_control_character() -> None:
    from relying_party_demo.exports.cells import neutralise

    for raw in ("=1+1", "+51", "-2", "@SUM(A1)", "\tx", "\rx", "\nx", "\x00x", "\x7fx"):
        assert neutralise(raw).startswith("'"), repr(raw)
    assert neutralise("UGEL LAMBAYEQUE") == "UGEL LAMBAYEQUE"
    assert neutralise("Ley Nro 29944 - 2") == "Ley Nro 29944 - 2"
    assert neutralise("") == ""
