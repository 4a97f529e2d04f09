"""Malformed, oversized and unknown requests get Spanish pages (JSON for protocol endpoints)."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from tests.factories import DEFAULT_PASSWORD
from tests.factories import make_user
from tests.helpers import CAPTCHA
from tests.helpers import csrf_token


def test_a_non_utf8_query_string_gets_a_spanish_400(client: FlaskClient) -> None:
    response = client.get("/ingresar?authz=%ff%fe")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Solicitud no válida" in page
    assert '<html lang="es">' in page


def test_a_non_utf8_form_body_gets_a_400_before_the_view(client: FlaskClient) -> None:
    user = make_user()
    token = csrf_token(client)
    body = f"csrf_token={token}&username={user.dni}&password=%C3%28&captcha={CAPTCHA}"
    response = client.post("/ingresar", data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert "Solicitud no válida" in response.get_data(as_text=True)


def test_raw_non_utf8_bytes_in_a_form_body_get_a_400(client: FlaskClient) -> None:
    response = client.post(
        "/ingresar",
        data=b"username=\xff\xfe&password=x",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400


def test_a_nul_character_anywhere_gets_a_400_before_the_view(client: FlaskClient) -> None:
    # PostgreSQL refuses NUL in text columns: it must never reach a query.
    user = make_user()
    token = csrf_token(client)
    for response in (
        client.get("/ingresar?login_hint=%00"),
        client.get("/verificacion/abc%00def"),
        client.get("/ingresar", headers={"User-Agent": "Mozilla\x00"}),
        client.post(
            "/ingresar",
            data=f"csrf_token={token}&username={user.dni}%00&password=x&captcha={CAPTCHA}",
            content_type="application/x-www-form-urlencoded",
        ),
    ):
        assert response.status_code == 400
        assert "Solicitud no válida" in response.get_data(as_text=True)


def test_an_oversized_body_gets_a_spanish_413(app: Flask, client: FlaskClient) -> None:
    size = app.config["MAX_CONTENT_LENGTH"] + 1
    response = client.post(
        "/ingresar",
        data=b"username=" + b"1" * size,
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 413
    assert "Datos demasiado grandes" in response.get_data(as_text=True)


def test_an_unknown_page_gets_a_spanish_404(client: FlaskClient) -> None:
    response = client.get("/no-existe")
    assert response.status_code == 404
    assert "Página no encontrada" in response.get_data(as_text=True)


def test_a_wrong_method_gets_a_spanish_405(client: FlaskClient) -> None:
    response = client.put("/ingresar")
    assert response.status_code == 405
    assert "Método no permitido" in response.get_data(as_text=True)
    assert "GET" in response.headers["Allow"]


def test_a_post_without_csrf_token_gets_a_spanish_400(client: FlaskClient) -> None:
    user = make_user()
    response = client.post("/ingresar", data={"username": user.dni, "password": DEFAULT_PASSWORD})
    assert response.status_code == 400
    assert "El formulario caducó" in response.get_data(as_text=True)


def test_json_endpoints_get_rfc_errors(fresh_app_factory) -> None:
    app = fresh_app_factory()

    @app.post("/test-json-endpoint")
    def json_endpoint() -> str:
        return "ok"

    app.extensions["passport.json_endpoints"].add("json_endpoint")
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    response = client.post("/test-json-endpoint?x=%ff")
    assert response.status_code == 400
    assert response.json == {"error": "invalid_request", "error_description": "malformed request"}
    assert client.get("/test-json-endpoint").json["error"] == "invalid_request"


def test_an_unexpected_error_gets_a_spanish_500_without_details(fresh_app_factory) -> None:
    app = fresh_app_factory()
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/test-boom")
    def boom() -> str:
        raise RuntimeError("secret internals")

    response = app.test_client().get("/test-boom")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "Error del sistema" in page
    assert "secret internals" not in page
