"""Security headers: CSP without inline script, no framing, nosniff, referrer, no-store."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from passport.security.headers import origin_of


def csp_directives(client: FlaskClient, path: str) -> dict[str, str]:
    header = client.get(path).headers["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, _, value = part.strip().partition(" ")
        directives[name] = value
    return directives


def test_the_csp_allows_no_inline_script_or_style(client: FlaskClient) -> None:
    csp = csp_directives(client, "/ingresar")
    assert csp["default-src"] == "'self'"
    assert csp["script-src"] == "'self'"
    assert csp["style-src"] == "'self'"
    assert csp["img-src"] == "'self' data:"
    assert csp["frame-ancestors"] == "'none'"
    assert csp["object-src"] == "'none'"
    assert csp["form-action"] == "'self'"
    assert "unsafe-inline" not in str(csp)


def test_pages_carry_the_other_security_headers(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"


def test_the_sign_in_form_is_never_cached(client: FlaskClient) -> None:
    assert client.get("/ingresar").headers["Cache-Control"] == "no-store"


def test_static_files_may_be_cached(client: FlaskClient) -> None:
    response = client.get("/static/passport.css")
    assert response.status_code == 200
    assert response.headers.get("Cache-Control") != "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_error_pages_carry_the_headers_too(client: FlaskClient) -> None:
    response = client.get("/no-existe")
    assert response.status_code == 404
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_pages_contain_no_inline_script_or_style(app: Flask, client: FlaskClient) -> None:
    for path in ("/", "/ingresar", "/no-existe"):
        page = client.get(path).get_data(as_text=True)
        assert "<script>" not in page
        assert "style=" not in page
        assert "<style" not in page


def test_origin_of_keeps_scheme_host_and_port() -> None:
    assert origin_of("https://ayni.minedu.gob.pe/auth/callback?x=1") == (
        "https://ayni.minedu.gob.pe"
    )
    assert origin_of("http://127.0.0.1:5001/auth/callback") == "http://127.0.0.1:5001"
    assert origin_of("javascript:alert(1)") is None
    assert origin_of("https://user@evil.example/") is None
