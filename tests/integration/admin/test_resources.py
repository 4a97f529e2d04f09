"""The console's resource pages (RFC 8707): list, register, edit, disable; national admins only."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from passport.audit.models import AuditEvent
from passport.extensions import db
from passport.oidc.models import Resource
from passport.oidc.resources import ResourceInput
from passport.oidc.resources import create_resource
from tests.helpers import csrf_token
from tests.integration.admin.conftest import sign_in
from tests.integration.oidc.conftest import register_client

NEW = "/admin/recursos/nuevo"
FORM = {
    "identifier": "https://api.minedu.gob.pe/boletas/",
    "name": "Boletas",
    "scopes": ["boletas:read"],
    "access_token_format": "jwt",
    "client_id": "",
    "reason": "Ticket 77",
}


def text(response: Any) -> str:
    return str(response.get_data(as_text=True))


def create(client: FlaskClient, **changes: Any) -> Any:
    return client.post(NEW, data={"csrf_token": csrf_token(client, NEW), **FORM, **changes})


def test_list_and_create_a_resource(admin_client: FlaskClient, admin: Any) -> None:
    empty = admin_client.get("/admin/recursos")
    assert empty.status_code == 200
    assert empty.headers["Cache-Control"] == "no-store"
    assert "Aún no hay recursos registrados." in text(empty)
    server = register_client(
        redirect_uris=[],
        grant_types=["client_credentials"],
        scopes=["boletas:read"],
        is_resource_server=True,
    )
    response = create(admin_client, client_id=server.client_id)
    assert response.status_code == 302
    row = db.session.scalar(select(Resource))
    assert row is not None
    assert (row.identifier, row.name, row.scopes) == (
        FORM["identifier"],
        "Boletas",
        ["boletas:read"],
    )
    assert row.access_token_format == "jwt"
    assert row.client_pk is not None
    listed = text(admin_client.get("/admin/recursos"))
    assert FORM["identifier"] in listed
    assert server.client_id in listed
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.event == "resource.created"))
    assert event is not None
    assert event.actor_user_id == admin.id
    assert event.details["reason"] == "Ticket 77"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"identifier": ""}, "Escriba el identificador."),
        ({"identifier": "/boletas/"}, "El identificador debe ser una URI absoluta https"),
        ({"identifier": "https://api.minedu.gob.pe/#x"}, "sin # ni ? ni credenciales"),
        ({"identifier": "http://api.minedu.gob.pe/"}, "El identificador debe ser una URI"),
        ({"scopes": []}, "Elija al menos un alcance de la lista."),
        ({"scopes": ["openid"]}, "no es una opción válida"),
        ({"client_id": "no-existe"}, "Indique el client_id de una aplicación marcada"),
    ],
)
def test_bad_input_is_refused_in_spanish_and_writes_nothing(
    admin_client: FlaskClient, changes: dict[str, Any], message: str
) -> None:
    response = create(admin_client, **changes)
    assert response.status_code == 200
    page = text(response)
    assert "Revise los datos marcados" in page
    assert message in page
    assert 'class="error"' in page  # tied to its field for screen readers (_field.html)
    assert db.session.scalar(select(Resource)) is None


def test_a_client_that_is_no_resource_server_is_refused(
    admin_client: FlaskClient, app: Flask
) -> None:
    plain = register_client()
    page = text(create(admin_client, client_id=plain.client_id))
    assert "Indique el client_id de una aplicación marcada como servidor de recursos" in page
    assert db.session.scalar(select(Resource)) is None


def test_a_duplicate_identifier_is_refused(admin_client: FlaskClient) -> None:
    assert create(admin_client).status_code == 302
    page = text(create(admin_client, scopes=["legajos:read"]))
    assert "distinta de las ya registradas" in page


def test_edit_and_disable_then_enable(admin_client: FlaskClient, app: Flask) -> None:
    row = create_resource(ResourceInput(FORM["identifier"], ["boletas:read"]))
    path = f"/admin/recursos/{row.id}/editar"
    page = admin_client.get(path)
    assert page.status_code == 200
    assert FORM["identifier"] in text(page)
    response = admin_client.post(
        path,
        data={
            "csrf_token": csrf_token(admin_client, path),
            "scopes": ["boletas:read", "legajos:read"],
            "access_token_format": "opaque",
            "name": "Boletas y legajos",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    stored = db.session.get(Resource, row.id)
    assert stored is not None
    assert stored.scopes == ["boletas:read", "legajos:read"]
    assert stored.identifier == FORM["identifier"]  # fixed once registered
    token = csrf_token(admin_client, path)
    no_reason = admin_client.post(
        f"/admin/recursos/{row.id}/deshabilitar", data={"csrf_token": token}
    )
    assert no_reason.status_code == 302
    db.session.expire_all()
    assert db.session.get(Resource, row.id).is_disabled is False
    admin_client.post(
        f"/admin/recursos/{row.id}/deshabilitar", data={"csrf_token": token, "reason": "baja"}
    )
    db.session.expire_all()
    assert db.session.get(Resource, row.id).is_disabled is True
    assert "Deshabilitado" in text(admin_client.get("/admin/recursos"))
    admin_client.post(
        f"/admin/recursos/{row.id}/habilitar", data={"csrf_token": token, "reason": "alta"}
    )
    db.session.expire_all()
    assert db.session.get(Resource, row.id).is_disabled is False


def test_unknown_or_absurd_ids_are_404(admin_client: FlaskClient) -> None:
    assert admin_client.get("/admin/recursos/999/editar").status_code == 404
    assert admin_client.get(f"/admin/recursos/{10**30}/editar").status_code == 404


def test_the_pages_speak_english_too(admin_client: FlaskClient) -> None:
    page = text(admin_client.get("/admin/recursos", headers={"Accept-Language": "en"}))
    assert "Resources (APIs)" in page
    assert "Register resource" in page


def test_a_scoped_admin_is_refused(app: Flask, make_admin: Any) -> None:
    row = create_resource(ResourceInput(FORM["identifier"], ["boletas:read"]))
    browser = app.test_client()
    sign_in(app, browser, make_admin(admin_ugel="UGEL 01"), ["pwd", "otp"])
    for path in ("/admin/recursos", NEW, f"/admin/recursos/{row.id}/editar"):
        assert browser.get(path).status_code == 403, path
    token = csrf_token(browser, "/admin/")
    for path in (NEW, f"/admin/recursos/{row.id}/deshabilitar"):
        response = browser.post(path, data={"csrf_token": token, **FORM, "reason": "x"})
        assert response.status_code == 403, path
    db.session.expire_all()
    assert db.session.get(Resource, row.id).is_disabled is False
    assert db.session.scalar(select(Resource).where(Resource.id != row.id)) is None
    assert "/admin/recursos" not in str(browser.get("/admin/").get_data(as_text=True))
