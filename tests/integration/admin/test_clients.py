"""The console's client pages: create, edit, rotate, disable, delete, scope approval, tokens."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from joserfc import jwk
from sqlalchemy import func
from sqlalchemy import select

from passport.accounts.models import User
from passport.audit.models import AuditEvent
from passport.extensions import db
from passport.oidc.clients import get_client_row
from passport.oidc.models import InitialAccessToken
from passport.oidc.models import OAuthClient
from passport.oidc.tokens import hash_secret
from tests.helpers import csrf_token
from tests.integration.admin.conftest import sign_in
from tests.integration.oidc.conftest import full_flow
from tests.integration.oidc.conftest import register_client

NEW = "/admin/aplicaciones/nueva"
FORM = {
    "name": "Escalafón",
    "description": "Legajo del docente",
    "logo_uri": "https://escalafon.minedu.gob.pe/logo.png",
    "redirect_uris": "https://escalafon.minedu.gob.pe/cb\r\nhttps://escalafon.minedu.gob.pe/cb2",
    "post_logout_redirect_uris": "https://escalafon.minedu.gob.pe/",
    "backchannel_logout_uri": "https://escalafon.minedu.gob.pe/bcl",
    "token_endpoint_auth_method": "client_secret_basic",
    "grant_types": ["authorization_code", "refresh_token"],
    "scopes": ["openid", "profile", "email"],
    "skip_consent": "y",
    "access_token_ttl_seconds": "300",
    "refresh_token_ttl_seconds": "",
    "id_token_signed_response_alg": "ES256",
    "access_token_format": "jwt",
    "reason": "Ticket 4521",
}


def text(response: Any) -> str:
    return str(response.get_data(as_text=True))


def post(client: FlaskClient, path: str, page: str, **data: Any) -> Any:
    return client.post(path, data={"csrf_token": csrf_token(client, page), **data})


def create(client: FlaskClient, **changes: Any) -> Any:
    return post(client, NEW, NEW, **{**FORM, **changes})


def secret_on(response: Any) -> str:
    found = re.search(r'<code id="client-secret">([^<]+)</code>', text(response))
    assert found, text(response)[:2000]
    return found.group(1)


def audit_text() -> str:
    """Every audit row, all columns, as one string (to look for leaked secrets)."""
    rows = db.session.scalars(select(AuditEvent)).all()
    return " ".join(str(vars(row)) for row in rows)


def test_create_shows_the_secret_once_and_stores_its_hash(
    admin_client: FlaskClient, admin: User
) -> None:
    response = create(admin_client)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    secret = secret_on(response)
    row = db.session.scalar(select(OAuthClient).where(OAuthClient.name == "Escalafón"))
    assert row is not None
    assert row.secret_hash == hash_secret(secret)
    assert row.redirect_uris == [
        "https://escalafon.minedu.gob.pe/cb",
        "https://escalafon.minedu.gob.pe/cb2",
    ]
    assert (row.description, row.logo_uri) == ("Legajo del docente", FORM["logo_uri"])
    assert row.scopes == ["openid", "profile", "email"]
    assert row.skip_consent is True
    assert (row.access_token_ttl_seconds, row.refresh_token_ttl_seconds) == (300, None)
    assert (row.id_token_signed_response_alg, row.access_token_format) == ("ES256", "jwt")
    # The client's page never shows the secret again.
    assert secret not in text(admin_client.get(f"/admin/aplicaciones/{row.client_id}"))
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.event == "client.created"))
    assert event is not None
    assert (event.actor_user_id, event.client_id) == (admin.id, row.client_id)
    assert event.ip_address
    assert event.details["reason"] == "Ticket 4521"
    assert secret not in audit_text()


def short_rsa_jwks() -> str:
    """A JWK Set whose only key is a 1024-bit RSA key (RFC 7518 asks for 2048 or more)."""
    import warnings

    from joserfc import jwk

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        key = jwk.RSAKey.generate_key(1024, private=True)
    return json.dumps({"keys": [key.as_dict(private=False)]})


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"redirect_uris": "http://escalafon.minedu.gob.pe/cb"}, "Revise las URI de redirección"),
        ({"redirect_uris": ""}, "Revise las URI de redirección"),
        ({"redirect_uris": "https://x.pe/cb#frag"}, "Revise las URI de redirección"),
        ({"name": ""}, "Escriba el nombre."),
        ({"scopes": []}, "Elija al menos un alcance"),
        ({"scopes": ["openid", "root"]}, "Not a valid choice"),
        ({"grant_types": ["refresh_token"]}, "Revise los tipos de concesión"),
        ({"access_token_ttl_seconds": "999999"}, "Indique entre 60 y 600 segundos"),
        ({"access_token_ttl_seconds": "diez"}, "Indique entre 60 y 600 segundos"),
        ({"token_endpoint_auth_method": "private_key_jwt", "jwks": "{no json"}, "JWK Set"),
        (
            {"token_endpoint_auth_method": "private_key_jwt", "jwks": short_rsa_jwks()},
            "Las claves RSA deben tener al menos 2048 bits",
        ),
        ({"logo_uri": "javascript:alert(1)"}, "El logo debe ser una URL https"),
        ({"backchannel_logout_uri": "https://a.pe/x#y"}, "Revise la URI de cierre de sesión"),
    ],
)
def test_bad_input_is_refused_in_words_and_writes_nothing(
    admin_client: FlaskClient, changes: dict[str, Any], message: str
) -> None:
    response = create(admin_client, **changes)
    assert response.status_code == 200
    assert "Revise los datos marcados" in text(response)
    if not message.startswith(("Not a valid", "Field cannot")):
        assert message in text(response)
    assert db.session.scalar(select(func.count()).select_from(OAuthClient)) == 0


def test_a_value_longer_than_its_input_allows_is_a_short_400(admin_client: FlaskClient) -> None:
    response = create(admin_client, description="x" * 501)
    assert response.status_code == 400
    assert "Los datos enviados son demasiado largos" in text(response)
    assert "x" * 501 not in text(response)
    assert db.session.scalar(select(func.count()).select_from(OAuthClient)) == 0


def test_line_breaks_count_once_as_in_the_browser(admin_client: FlaskClient) -> None:
    # 500 characters typed, 19 of them line breaks: the browser sends 519.
    description = "\r\n".join(["x" * 24] * 20) + "x"
    assert len(description.replace("\r\n", "\n")) == 500
    response = create(admin_client, description=description)
    assert response.status_code != 400
    assert db.session.scalar(select(func.count()).select_from(OAuthClient)) == 1


def test_a_form_without_csrf_token_is_refused(admin_client: FlaskClient) -> None:
    response = admin_client.post(NEW, data=FORM)
    assert response.status_code in (400, 200)
    assert db.session.scalar(select(func.count()).select_from(OAuthClient)) == 0


def test_edit_changes_metadata_and_audits_added_scopes(
    admin_client: FlaskClient, admin: User
) -> None:
    rp = register_client(scopes=["openid"])
    page = f"/admin/aplicaciones/{rp.client_id}/editar"
    form = text(admin_client.get(page))
    assert "https://ayni.example.gob.pe/auth/callback" in form
    response = post(
        admin_client,
        page,
        page,
        **{**FORM, "name": "AYNI 2", "redirect_uris": rp.redirect_uri, "scopes": ["openid", "dni"]},
    )
    assert response.status_code == 302
    row = get_client_row(rp.client_id)
    assert row.name == "AYNI 2"
    assert row.scopes == ["openid", "dni"]
    # The authentication method is not editable (it would orphan or fake a secret).
    assert row.token_endpoint_auth_method == "client_secret_basic"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.event == "client.updated"))
    assert event is not None
    assert event.actor_user_id == admin.id
    assert event.details == {"scopes_added": ["dni"], "reason": "Ticket 4521"}


def test_rotation_needs_a_reason_and_shows_a_new_secret_once(admin_client: FlaskClient) -> None:
    rp = register_client()
    detail = f"/admin/aplicaciones/{rp.client_id}"
    refused = post(admin_client, f"{detail}/rotar-secreto", detail, reason="  ")
    assert refused.status_code == 302
    assert get_client_row(rp.client_id).secret_hash == hash_secret(rp.client_secret or "")
    response = post(admin_client, f"{detail}/rotar-secreto", detail, reason="Filtración")
    secret = secret_on(response)
    assert secret != rp.client_secret
    assert get_client_row(rp.client_id).secret_hash == hash_secret(secret)
    assert secret not in audit_text()
    assert rp.client_secret not in audit_text()


def test_disable_revokes_tokens_and_enable_restores(app: Flask, admin_client: FlaskClient) -> None:
    from tests.factories import make_user

    rp = register_client(skip_consent=True)
    teacher_browser = app.test_client()
    tokens = full_flow(app, teacher_browser, rp, make_user())
    detail = f"/admin/aplicaciones/{rp.client_id}"
    response = post(admin_client, f"{detail}/deshabilitar", detail, reason="Convenio vencido")
    assert response.status_code == 302
    assert get_client_row(rp.client_id).is_disabled
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert teacher_browser.get("/userinfo", headers=bearer).status_code == 401
    assert "Deshabilitada" in text(admin_client.get(detail))
    post(admin_client, f"{detail}/habilitar", detail, reason="Convenio renovado")
    assert not get_client_row(rp.client_id).is_disabled
    events = db.session.scalars(
        select(AuditEvent.event)
        .where(AuditEvent.event.like("client.%abled"))
        .order_by(AuditEvent.id)
    ).all()
    assert events == ["client.disabled", "client.enabled"]


def test_delete_needs_the_confirmation_reason(app: Flask, admin_client: FlaskClient) -> None:
    from passport.oidc.models import Consent
    from passport.oidc.models import OAuthToken
    from tests.factories import make_user

    rp = register_client(skip_consent=True)
    full_flow(app, app.test_client(), rp, make_user())
    pk = get_client_row(rp.client_id).id
    detail = f"/admin/aplicaciones/{rp.client_id}"
    assert 'id="delete"' in text(admin_client.get(detail))
    post(admin_client, f"{detail}/eliminar", detail)
    assert get_client_row(rp.client_id)  # still there
    response = post(admin_client, f"{detail}/eliminar", detail, reason="Sistema dado de baja")
    assert response.status_code == 302
    assert db.session.get(OAuthClient, pk) is None
    for child in (OAuthToken, Consent):  # no orphans, on SQLite too
        assert db.session.scalar(select(func.count()).where(child.client_pk == pk)) == 0
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.event == "client.deleted"))
    assert event is not None
    assert event.details["reason"] == "Sistema dado de baja"
    assert event.details["tokens_revoked"] == 1  # through the shared path (oidc.revocation)
    assert admin_client.get(detail).status_code == 404


def test_pending_scopes_are_approved_with_a_reason(
    app: Flask, admin_client: FlaskClient, admin: User
) -> None:
    from passport.oidc.registration import create_initial_access_token

    token = create_initial_access_token(600, 1)[0]
    body = (
        app.test_client()
        .post(
            "/register",
            json={
                "client_name": "Escalafón",
                "redirect_uris": ["https://escalafon.minedu.gob.pe/cb"],
                "scope": "openid profile email dni",
            },
            headers={"Authorization": f"Bearer {token}"},
        )
        .get_json()
    )
    listing = text(admin_client.get("/admin/aplicaciones"))
    assert "espera la aprobación de alcances" in listing
    detail = f"/admin/aplicaciones/{body['client_id']}"
    page = text(admin_client.get(detail))
    assert 'value="email"' in page
    assert 'value="dni"' in page
    missing_reason = post(
        admin_client, f"{detail}/alcances", detail, scopes="email", decision="approve"
    )
    assert missing_reason.status_code == 302
    assert get_client_row(body["client_id"]).pending_scopes == ["email", "dni"]
    post(
        admin_client,
        f"{detail}/alcances",
        detail,
        scopes="email",
        decision="approve",
        reason="Convenio 12-2026",
    )
    row = get_client_row(body["client_id"])
    assert row.scopes == ["openid", "profile", "email"]
    assert row.pending_scopes == ["dni"]
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.event == "client.scopes_approved")
    )
    assert event is not None
    assert event.actor_user_id == admin.id
    assert event.details == {"scopes": ["email"], "reason": "Convenio 12-2026"}
    post(admin_client, f"{detail}/alcances", detail, scopes="dni", decision="reject", reason="No")
    assert get_client_row(body["client_id"]).pending_scopes is None
    assert token not in audit_text()
    assert body["client_secret"] not in audit_text()
    assert body["registration_access_token"] not in audit_text()


def test_initial_tokens_are_created_listed_with_uses_and_revoked(
    app: Flask, admin_client: FlaskClient
) -> None:
    page = "/admin/aplicaciones/tokens-de-registro"
    response = post(
        admin_client, page, page, label="Escalafón", expires_in_hours="48", max_uses="2"
    )
    assert response.status_code == 200
    found = re.search(r'<code id="initial-token">([^<]+)</code>', text(response))
    assert found
    token = found.group(1)
    row = db.session.scalar(select(InitialAccessToken))
    assert row is not None
    assert row.token_hash == hash_secret(token)
    assert (row.max_uses, row.label) == (2, "Escalafón")
    registered = app.test_client().post(
        "/register",
        json={"client_name": "X", "redirect_uris": ["https://x.minedu.gob.pe/cb"]},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert registered.status_code == 201
    listing = text(admin_client.get(page))
    assert token not in listing
    assert "1 / 2" in listing
    post(admin_client, f"{page}/{row.id}/revocar", page, reason="Ya no se necesita")
    assert "Revocado" in text(admin_client.get(page))
    again = app.test_client().post(
        "/register",
        json={"client_name": "Y", "redirect_uris": ["https://y.minedu.gob.pe/cb"]},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert again.status_code == 401
    assert token not in audit_text()
    bad = post(admin_client, page, page, expires_in_hours="0", max_uses="abc")
    assert bad.status_code == 200
    assert "Entre 1 hora y 90 días." in text(bad)
    assert db.session.scalar(select(func.count()).select_from(InitialAccessToken)) == 1
    assert post(admin_client, f"{page}/999999/revocar", page, reason="x").status_code == 404


def test_a_scoped_admin_cannot_use_the_client_pages(app: Flask, make_admin: Any) -> None:
    rp = register_client()
    browser = app.test_client()
    sign_in(app, browser, make_admin(admin_ugel="UGEL 01"), ["pwd", "otp"])
    for path in (
        "/admin/aplicaciones",
        NEW,
        f"/admin/aplicaciones/{rp.client_id}",
        "/admin/aplicaciones/tokens-de-registro",
        "/admin/claves",
        "/admin/auditoria",
    ):
        assert browser.get(path).status_code == 403, path
    token = csrf_token(browser, "/admin/")
    for path in (
        f"/admin/aplicaciones/{rp.client_id}/eliminar",
        f"/admin/aplicaciones/{rp.client_id}/rotar-secreto",
        "/admin/claves/rotar",
        "/admin/auditoria/exportar",
    ):
        response = browser.post(path, data={"csrf_token": token, "reason": "x"})
        assert response.status_code == 403, path
    assert get_client_row(rp.client_id).secret_hash == hash_secret(rp.client_secret or "")


def test_unknown_client_is_404(admin_client: FlaskClient) -> None:
    assert admin_client.get("/admin/aplicaciones/nope").status_code == 404
    assert admin_client.get("/admin/aplicaciones/" + "x" * 500).status_code == 404


def test_the_console_sets_pushed_requests_and_the_fapi_profile(
    admin_client: FlaskClient, admin: User
) -> None:
    page = text(admin_client.get(NEW))
    assert 'name="require_pushed_authorization_requests"' in page
    assert 'name="fapi2_profile"' in page
    create(admin_client, name="Con PAR", require_pushed_authorization_requests="y")
    row = db.session.scalar(select(OAuthClient).where(OAuthClient.name == "Con PAR"))
    assert row is not None
    assert (row.require_pushed_authorization_requests, row.fapi2_profile) == (True, False)
    # FAPI 2.0 needs private_key_jwt: refused on the form with a secret...
    refused = create(admin_client, name="Planillas", fapi2_profile="y")
    assert "perfil FAPI 2.0 exige private_key_jwt" in text(refused)
    assert db.session.scalar(select(OAuthClient).where(OAuthClient.name == "Planillas")) is None
    # ...and accepted with a key, which turns PAR on.
    key = jwk.RSAKey.generate_key(2048, parameters={"kid": "k"}, private=True)
    create(
        admin_client,
        name="Planillas",
        fapi2_profile="y",
        token_endpoint_auth_method="private_key_jwt",
        jwks=json.dumps({"keys": [key.as_dict(private=False)]}),
    )
    row = db.session.scalar(select(OAuthClient).where(OAuthClient.name == "Planillas"))
    assert row is not None
    assert (row.fapi2_profile, row.require_pushed_authorization_requests) == (True, True)


def test_a_console_edit_keeps_the_request_object_alg(admin_client: FlaskClient) -> None:
    """The console has no field for request_object_signing_alg (RFC 9101 §10.5, set by the
    CLI or registration): saving the form must not widen the pinned alg to every alg."""
    rp = register_client(scopes=["openid"], request_object_signing_alg="ES256")
    page = f"/admin/aplicaciones/{rp.client_id}/editar"
    form = {**FORM, "redirect_uris": rp.redirect_uri}
    assert post(admin_client, page, page, **form).status_code == 302
    assert get_client_row(rp.client_id).request_object_signing_alg == "ES256"


def test_only_an_admin_edit_switches_the_fapi_profile_off(admin_client: FlaskClient) -> None:
    """A client's own RFC 7592 update keeps FAPI 2.0, PAR and DPoP on; the console may not."""
    key = jwk.ECKey.generate_key("P-256", parameters={"kid": "k"}, private=True)
    jwks = {"keys": [key.as_dict(private=False)]}
    rp = register_client(
        scopes=["openid"],
        token_endpoint_auth_method="private_key_jwt",
        jwks=jwks,
        fapi2_profile=True,
    )
    assert get_client_row(rp.client_id).fapi2_profile is True
    page = f"/admin/aplicaciones/{rp.client_id}/editar"
    form = {
        **FORM,
        "redirect_uris": rp.redirect_uri,
        "token_endpoint_auth_method": "private_key_jwt",
        "jwks": json.dumps(jwks),
    }
    assert post(admin_client, page, page, **form).status_code == 302
    db.session.expire_all()
    row = get_client_row(rp.client_id)
    assert (
        row.fapi2_profile,
        row.require_pushed_authorization_requests,
        row.dpop_bound_access_tokens,
    ) == (False, False, False)
