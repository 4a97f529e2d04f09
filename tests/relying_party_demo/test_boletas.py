"""Mi boleta: filters in the URL, validation, paging, the detail, and 404 on others' boletas."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy import select

from tests.relying_party_demo.conftest import SignIn


def boleta_id(dni: str, anio: int, mes: int, regimen: str | None = None) -> int:
    from relying_party_demo.boletas.models import Boleta
    from relying_party_demo.extensions import db

    statement = select(Boleta.id).filter_by(dni=dni, anio=anio, mes=mes)
    if regimen:
        statement = statement.filter_by(regimen=regimen)
    found = db.session.scalar(statement)
    assert found is not None
    return found


def result_rows(page: str) -> list[list[str]]:
    """The cells of the results table, as text."""
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        rows.append([re.sub(r"<[^>]+>", "", cell).strip() for cell in cells])
    return rows


def test_mi_boleta_defaults_to_the_latest_year_newest_first(
    ayni_client: FlaskClient, seeded: dict[str, int], sign_in: SignIn
) -> None:
    sign_in("40000001")
    page = ayni_client.get("/boletas").get_data(as_text=True)
    assert "Resultados de búsqueda de boletas" in page
    assert '<option value="2026" selected>' in page
    years = re.findall(r'<option value="(\d{4})"', page)
    assert years == ["2026", "2025", "2024", "2023", "2022"]
    rows = result_rows(page)
    assert [row[1] for row in rows[:3]] == ["OCTUBRE 2026", "SETIEMBRE 2026", "AGOSTO 2026"]
    assert rows[0][0] == "Cargar boleta"
    assert rows[0][2] == "Ley Nro 29944"
    assert rows[0][3] == "UGEL LAMBAYEQUE"


def test_filtering_by_year_and_month_shows_that_boleta_in_peruvian_format(
    ayni_client: FlaskClient, seeded: dict[str, int], sign_in: SignIn
) -> None:
    sign_in("40000001")
    page = ayni_client.get("/boletas?anio=2025&mes=12").get_data(as_text=True)
    assert result_rows(page) == [
        [
            "Cargar boleta",
            "DICIEMBRE 2025",
            "Ley Nro 29944",
            "UGEL LAMBAYEQUE",
            "S/ 4,220.77",
            "S/ 1,001.78",
            "S/ 3,218.99",
        ]
    ]
    assert '<option value="12" selected>' in page
    # The export links carry the same filter.
    assert 'href="/boletas/export.xlsx?anio=2025&amp;mes=12"' in page
    assert 'href="/boletas/export.pdf?anio=2025&amp;mes=12"' in page


def test_an_empty_month_means_every_month_of_the_year(
    ayni_client: FlaskClient, seeded: dict[str, int], sign_in: SignIn
) -> None:
    sign_in(
        "40000001",
    )
    ayni_client.application.config["BOLETAS_PAGE_SIZE"] = 50
    try:
        page = ayni_client.get("/boletas?anio=2022&mes=").get_data(as_text=True)
    finally:
        ayni_client.application.config["BOLETAS_PAGE_SIZE"] = 12
    rows = result_rows(page)
    assert len(rows) == 12
    assert rows[0][1] == "DICIEMBRE 2022"
    assert rows[-1][1] == "ENERO 2022"


def test_two_positions_in_one_month_are_two_rows(
    ayni_client: FlaskClient, seeded: dict[str, int], sign_in: SignIn
) -> None:
    sign_in("40000003")
    rows = result_rows(ayni_client.get("/boletas?anio=2024&mes=7").get_data(as_text=True))
    assert [(row[1], row[2], row[3]) for row in rows] == [
        ("JULIO 2024", "D.Leg. Nro 1057", "UGEL 03 BREÑA"),
        ("JULIO 2024", "Ley Nro 29944", "UGEL 03 BREÑA"),
    ]


def test_long_results_are_paged_and_keep_the_filter(
    ayni_client: FlaskClient, seeded: dict[str, int], sign_in: SignIn
) -> None:
    sign_in("40000003")  # two positions: 24 boletas in 2023
    first = ayni_client.get("/boletas?anio=2023").get_data(as_text=True)
    assert "Se encontraron 24 boletas." in first
    assert "Página 1 de 2." in first
    assert len(result_rows(first)) == 12
    assert 'href="/boletas?pagina=2&amp;anio=2023&amp;mes="' in first
    second = ayni_client.get("/boletas?anio=2023&pagina=2").get_data(as_text=True)
    assert len(result_rows(second)) == 12
    assert result_rows(second)[-1][1] == "ENERO 2023"
    # A page past the end shows the last page rather than nothing.
    assert "Página 2 de 2." in ayni_client.get("/boletas?anio=2023&pagina=9").get_data(as_text=True)


def test_a_year_without_boletas_gives_a_clear_empty_state(
    ayni_client: FlaskClient, seeded: dict[str, int], sign_in: SignIn
) -> None:
    sign_in("40000002")  # contratado: no boletas in January or February
    page = ayni_client.get("/boletas?anio=2024&mes=1").get_data(as_text=True)
    assert "No se encontraron boletas para el periodo seleccionado" in page
    assert "Exportar en Excel" not in page
    assert "<tbody>" not in page


def test_bad_query_values_give_a_spanish_validation_message_not_a_500(
    ayni_client: FlaskClient, seeded: dict[str, int], sign_in: SignIn
) -> None:
    sign_in("40000001")
    cases = {
        "/boletas?anio=abc": "Seleccione un año válido",
        "/boletas?anio=20222": "Seleccione un año válido",
        "/boletas?anio=2022&mes=13": "Seleccione un mes válido",
        "/boletas?anio=2022&mes=0": "Seleccione un mes válido",
        "/boletas?anio=2022&mes=-1": "Seleccione un mes válido",
        "/boletas?anio=%D9%A2%D9%A0%D9%A2%D9%A2": "Seleccione un año válido",
        "/boletas?pagina=abc": "El número de página no es válido",
        "/boletas?mes=" + "9" * 500: "Seleccione un mes válido",
    }
    for url, message in cases.items():
        response = ayni_client.get(url)
        page = response.get_data(as_text=True)
        assert response.status_code == 400, url
        assert message in page, url
        assert 'role="alert"' in page
        assert "Resultados de búsqueda de boletas" not in page


def test_cargar_boleta_shows_the_full_pay_slip_consistent_to_the_cent(
    ayni_client: FlaskClient, seeded: dict[str, int], sign_in: SignIn
) -> None:
    sign_in("40000001")
    page = ayni_client.get(f"/boletas/{boleta_id('40000001', 2025, 12)}").get_data(as_text=True)
    for expected in (
        "40000001",
        "QUISPE HUAMAN, ROSA ELENA",
        "1040000001",
        "PROFESOR",
        "LEY Nº 29944",
        "2ª ESCALA MAGISTERIAL",
        "30 horas",
        "IE N° 10999 SAN MARTIN DE PORRES",
        "UGEL LAMBAYEQUE",
        "BANCO DE LA NACION · ****4567",
        "AFP INTEGRA",
        "584221RQHUA3",
        "DICIEMBRE 2025",
        "+rim ley29944",
        "S/ 3,850.77",
        "-afp seguro",
        "S/ 52.76",
        "Préstamo Multired Banco de la Nación (cuota 14/36)",
        "EsSalud 9% (aporte del empleador)",
        "S/ 346.57",
        "S/ 4,220.77",
        "S/ 1,001.78",
        "S/ 3,218.99",
    ):
        assert expected in page, expected
    assert "04051234567" not in page  # only the masked account


def test_another_persons_boleta_is_404_never_403_and_never_the_data(
    ayni_client: FlaskClient, seeded: dict[str, int], sign_in: SignIn
) -> None:
    sign_in("40000001")
    someone_else = boleta_id("40000002", 2025, 12)
    for url in (f"/boletas/{someone_else}", f"/boletas/{someone_else}.pdf"):
        response = ayni_client.get(url)
        assert response.status_code == 404, url
        page = response.get_data(as_text=True)
        assert "MAMANI" not in page
        assert "Página no encontrada" in page
    assert ayni_client.get("/boletas/999999999").status_code == 404
    # Beyond the id column's range: still 404, not a driver overflow.
    for url in ("/boletas/99999999999999999999", "/boletas/99999999999999999999.pdf"):
        assert ayni_client.get(url).status_code == 404, url


def test_pages_with_pay_data_are_not_cached(
    ayni_client: FlaskClient, seeded: dict[str, int], sign_in: SignIn
) -> None:
    sign_in("40000001")
    assert ayni_client.get("/boletas").headers["Cache-Control"] == "no-store"
