"""Welcome, Inicio, Mi legajo and the no-legajo path (signed in without Passport)."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from tests.relying_party_demo.conftest import SignIn

NO_LEGAJO = "USTED NO TIENE LEGAJO CREADO O VIGENTE, SOLICITAR LA ACTUALIZACIÓN A SU DRE/UGEL"


def test_welcome_page_shows_the_seed_texts_and_both_options(ayni_client: FlaskClient) -> None:
    response = ayni_client.get("/")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "¡Bienvenidos! A la Plataforma de Servicios para el Servidor Público" in page
    assert "Sistema integrado de gestión de personal en el sector educación" in page
    assert 'href="/auth/login"' in page
    assert "/generar-contrasena" in page
    assert "solicite su usuario y contraseña a través de mesa de partes de su UGEL o DRE" in page
    assert 'lang="es-PE"' in page


def test_pages_carry_a_strict_content_security_policy(ayni_client: FlaskClient) -> None:
    response = ayni_client.get("/")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "style-src 'self'" in policy
    assert "unsafe-inline" not in policy
    page = response.get_data(as_text=True)
    assert "style=" not in page
    assert "<script" not in page


def test_anonymous_visitors_are_sent_to_the_welcome_page(ayni_client: FlaskClient) -> None:
    for path in ("/inicio", "/legajo", "/boletas", "/boletas/1", "/boletas/export.xlsx"):
        response = ayni_client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"] == "/", path


def test_a_person_with_a_legajo_sees_the_opciones_de_legajo(
    ayni_client: FlaskClient, seeded: dict[str, int], sign_in: SignIn
) -> None:
    sign_in("40000001")
    page = ayni_client.get("/inicio").get_data(as_text=True)
    assert "OPCIONES DE LEGAJO" in page
    assert "Mi boleta" in page
    assert "Ingresar" in page
    assert 'href="/boletas"' in page
    assert 'href="/legajo"' in page


def test_welcome_sends_a_signed_in_person_to_inicio(
    ayni_client: FlaskClient, seeded: dict[str, int], sign_in: SignIn
) -> None:
    sign_in("40000001")
    assert ayni_client.get("/").headers["Location"] == "/inicio"


def test_mi_legajo_summarises_the_escalafon_file(
    ayni_client: FlaskClient, seeded: dict[str, int], sign_in: SignIn
) -> None:
    sign_in("40000003")
    page = ayni_client.get("/legajo").get_data(as_text=True)
    assert "FLORES RAMOS, MARIA ISABEL" in page
    assert "VIGENTE" in page
    assert "UGEL 03 BREÑA" in page
    assert "Ley Nro 29944" in page
    assert "D.Leg. Nro 1057" in page
    assert "3ª ESCALA MAGISTERIAL" in page
    assert "Ascenso de escala" in page
    assert "AFP PRIMA" in page


def test_a_person_without_legajo_sees_only_the_message_and_aceptar(
    ayni_client: FlaskClient, seeded: dict[str, int], sign_in: SignIn
) -> None:
    sign_in("40000004")
    for path in ("/inicio", "/legajo", "/boletas", "/boletas/export.pdf"):
        response = ayni_client.get(path)
        assert response.headers["Location"] == "/sin-legajo", path
    page = ayni_client.get("/sin-legajo").get_data(as_text=True)
    assert NO_LEGAJO in page
    assert ">Aceptar<" in page
    assert "Mi boleta" not in page
    assert "OPCIONES DE LEGAJO" not in page
    assert "Cerrar sesión" not in page
    assert "Mi legajo" not in page
    # Aceptar signs out (a POST with the CSRF token).
    assert re.search(r'<form method="post" action="/auth/logout">', page)


def test_a_legajo_that_is_not_vigente_counts_as_no_legajo(
    ayni_client: FlaskClient, seeded: dict[str, int], sign_in: SignIn
) -> None:
    from relying_party_demo.extensions import db
    from relying_party_demo.legajo.services import legajo_for

    legajo = legajo_for("40000002")
    assert legajo is not None
    legajo.estado = "CESADO"
    db.session.commit()
    sign_in("40000002")
    assert ayni_client.get("/boletas").headers["Location"] == "/sin-legajo"
    assert NO_LEGAJO in ayni_client.get("/sin-legajo").get_data(as_text=True)


def test_the_no_legajo_page_sends_a_person_with_legajo_back_to_inicio(
    ayni_client: FlaskClient, seeded: dict[str, int], sign_in: SignIn
) -> None:
    sign_in("40000001")
    assert ayni_client.get("/sin-legajo").headers["Location"] == "/inicio"


def test_unknown_pages_get_a_spanish_404(ayni_client: FlaskClient) -> None:
    response = ayni_client.get("/no-existe")
    assert response.status_code == 404
    assert "Página no encontrada" in response.get_data(as_text=True)
