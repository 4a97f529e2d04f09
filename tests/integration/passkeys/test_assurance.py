"""What a passkey proves: the ID token's amr/acr, the phishing-resistant acr request, the
admin console's second factor, and the help desk's removal."""

from __future__ import annotations

import json

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from passport.accounts.models import User
from passport.audit.models import AuditEvent
from passport.extensions import db
from passport.login.models import SSOSession
from passport.mfa.assurance import ACR_MFA
from passport.mfa.assurance import ACR_PHISHING_RESISTANT
from passport.passkeys.models import Passkey
from tests.factories import make_user
from tests.helpers import csrf_token
from tests.integration.admin.conftest import enrol_totp
from tests.integration.mfa.conftest import password_step
from tests.integration.oidc.conftest import authorize
from tests.integration.oidc.conftest import query_of
from tests.integration.oidc.conftest import redeem
from tests.integration.oidc.conftest import register_client
from tests.integration.oidc.conftest import sign_in
from tests.integration.oidc.conftest import verify_jwt
from tests.integration.passkeys.conftest import csrf
from tests.integration.passkeys.conftest import passkey_sign_in
from tests.integration.passkeys.conftest import post_json
from tests.integration.passkeys.conftest import register
from tests.soft_authenticator import SoftAuthenticator

PR = ACR_PHISHING_RESISTANT


def claims_of(client: FlaskClient, rp, location: str) -> dict:  # type: ignore[no-untyped-def]
    query = query_of(location)
    assert "code" in query, query
    tokens = redeem(client, rp, query["code"]).get_json()
    return dict(verify_jwt(client, tokens["id_token"]).claims)


def step_up_with_passkey(
    client: FlaskClient, authenticator: SoftAuthenticator, location: str
) -> str:
    """Follow a redirect to the passkey step-up page and pass it; return where it sends."""
    assert location.startswith("/mi-cuenta/llaves-de-acceso/verificar?next=")
    token = csrf(client, location)
    options = post_json(client, "/mi-cuenta/llaves-de-acceso/verificar/opciones", token)
    credential = authenticator.get(options.get_json())
    done = post_json(client, location, token, {"credential": credential})
    assert done.status_code == 200, done.get_json()
    return str(done.get_json()["redirect"])


def test_the_id_token_says_a_passkey_signed_in(
    app: Flask, client: FlaskClient, authenticator: SoftAuthenticator
) -> None:
    rp = register_client(skip_consent=True)
    register(client, make_user(), authenticator)
    browser = app.test_client()
    start = authorize(browser, rp)
    assert start.headers["Location"].startswith("/ingresar?authz=")
    authz = query_of(start.headers["Location"])["authz"]
    answer = passkey_sign_in(browser, authenticator, query=f"?authz={authz}")
    resumed = browser.get(answer.get_json()["redirect"])
    claims = claims_of(browser, rp, resumed.headers["Location"])
    assert claims["amr"] == ["swk", "user", "mfa"]
    assert claims["acr"] == PR


def test_phishing_resistant_request_steps_a_password_session_up_to_the_passkey(
    app: Flask, client: FlaskClient, authenticator: SoftAuthenticator
) -> None:
    rp = register_client(skip_consent=True)
    register(client, make_user(), authenticator)  # signed in with the password
    start = authorize(client, rp, acr_values=PR)
    back = step_up_with_passkey(client, authenticator, start.headers["Location"])
    claims = claims_of(client, rp, client.get(back).headers["Location"])
    assert claims["acr"] == PR
    assert claims["amr"] == ["pwd", "swk", "user", "mfa"]


def test_phishing_resistant_request_refuses_totp_sessions_without_a_passkey(
    app: Flask, client: FlaskClient
) -> None:
    rp = register_client(skip_consent=True)
    user = make_user()
    enrol_totp(user)
    sign_in(app, client, user, ["pwd", "otp"])
    response = authorize(client, rp, acr_values=PR)
    assert query_of(response.headers["Location"])["error"] == "access_denied"


def test_phishing_resistant_then_mfa_falls_back_to_totp(app: Flask, client: FlaskClient) -> None:
    rp = register_client(skip_consent=True)
    user = make_user()
    enrol_totp(user)
    sign_in(app, client, user, ["pwd"])
    response = authorize(client, rp, acr_values=f"{PR} {ACR_MFA}")
    assert response.headers["Location"].startswith("/mi-cuenta/verificar?next=")


def test_prompt_none_cannot_step_up_to_a_passkey(
    app: Flask, client: FlaskClient, authenticator: SoftAuthenticator
) -> None:
    rp = register_client(skip_consent=True)
    register(client, make_user(), authenticator)
    response = authorize(client, rp, acr_values=PR, prompt="none")
    assert query_of(response.headers["Location"])["error"] == "interaction_required"


def test_a_passkey_is_the_admin_second_factor(
    app: Flask, client: FlaskClient, authenticator: SoftAuthenticator
) -> None:
    admin = make_user(is_admin=True)  # no TOTP at all
    register(client, admin, authenticator)
    console = client.get("/admin/")
    assert console.headers["Location"].startswith("/mi-cuenta/llaves-de-acceso/verificar")
    back = step_up_with_passkey(client, authenticator, console.headers["Location"])
    assert client.get(back).status_code == 200
    # Signing in with the passkey alone opens the console too.
    browser = app.test_client()
    passkey_sign_in(browser, authenticator)
    assert browser.get("/admin/").status_code == 200


def test_an_admin_without_totp_or_passkey_still_enrols(app: Flask, client: FlaskClient) -> None:
    admin = make_user(is_admin=True)
    sign_in(app, client, admin, ["pwd"])
    assert client.get("/admin/").headers["Location"].startswith("/mi-cuenta/doble-factor")


def teacher_with_passkey(
    client: FlaskClient, authenticator: SoftAuthenticator
) -> tuple[User, Passkey]:
    teacher = make_user(dre="DRE CUSCO", ugel="UGEL CUSCO")
    register(client, teacher, authenticator)
    passkey = db.session.scalar(select(Passkey).where(Passkey.user_id == teacher.id))
    assert passkey is not None
    return teacher, passkey


def console_of(app: Flask, **scope: str) -> tuple[User, FlaskClient]:
    """A scoped admin and a browser signed in to the console as that admin."""
    admin = make_user(is_admin=True, **scope)
    enrol_totp(admin)
    console = app.test_client()
    sign_in(app, console, admin, ["pwd", "otp"])
    return admin, console


def test_a_scoped_admin_removes_a_passkey_with_a_reason(
    app: Flask, client: FlaskClient, authenticator: SoftAuthenticator, outbox
) -> None:  # type: ignore[no-untyped-def]
    teacher, passkey = teacher_with_passkey(client, authenticator)
    admin, console = console_of(app, admin_dre="DRE CUSCO")
    page = console.get(f"/admin/usuarios/{teacher.dni}").get_data(as_text=True)
    assert "Mi celular" in page
    token = csrf_token(console, f"/admin/usuarios/{teacher.dni}")
    url = f"/admin/usuarios/{teacher.dni}/llaves-de-acceso/{passkey.id}/quitar"
    console.post(url, data={"csrf_token": token, "reason": ""})
    assert db.session.get(Passkey, passkey.id) is not None  # a scoped admin must say why
    console.post(url, data={"csrf_token": token, "reason": "Perdió su celular"})
    db.session.expire_all()
    assert db.session.get(Passkey, passkey.id) is None
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.event == "passkey.removed"))
    assert event is not None
    assert event.actor_user_id == admin.id
    assert event.details["reason"] == "Perdió su celular"
    assert "llave de acceso" in str(outbox.last()["Subject"])
    # The password path still works for the teacher.
    assert password_step(app.test_client(), teacher.dni).status_code == 302


def test_an_admin_of_another_territory_cannot_remove_it(
    app: Flask, client: FlaskClient, authenticator: SoftAuthenticator
) -> None:
    teacher, passkey = teacher_with_passkey(client, authenticator)
    _, console = console_of(app, admin_dre="DRE PUNO")
    token = csrf_token(console, "/admin/")
    url = f"/admin/usuarios/{teacher.dni}/llaves-de-acceso/{passkey.id}/quitar"
    response = console.post(url, data={"csrf_token": token, "reason": "x"})
    assert response.status_code == 404
    assert db.session.get(Passkey, passkey.id) is not None


def test_a_totp_user_may_use_a_passkey_as_the_second_step(
    app: Flask, client: FlaskClient, authenticator: SoftAuthenticator
) -> None:
    user = make_user()
    register(client, user, authenticator)
    enrol_totp(user)
    browser = app.test_client()
    first = password_step(browser, user.dni)
    assert first.headers["Location"] == "/ingresar/verificacion"
    token = csrf(browser, "/ingresar/verificacion")
    options = post_json(browser, "/ingresar/verificacion/llave/opciones", token).get_json()
    done = post_json(
        browser, "/ingresar/verificacion/llave", token, {"credential": authenticator.get(options)}
    )
    assert done.status_code == 200, done.get_json()
    session = db.session.scalar(
        select(SSOSession).where(SSOSession.user_id == user.id).order_by(SSOSession.id.desc())
    )
    assert session is not None
    assert session.amr == ["pwd", "swk", "user", "mfa"]
    assert session.acr == PR
    # The pending second step is spent: the same answer cannot be replayed.
    again = post_json(browser, "/ingresar/verificacion/llave", token, {"credential": {}})
    assert again.get_json()["error"] == "expired"


def test_the_second_step_without_a_password_is_refused(app: Flask, client: FlaskClient) -> None:
    token = csrf(client, "/ingresar")
    answer = post_json(client, "/ingresar/verificacion/llave/opciones", token)
    assert answer.status_code == 400


def test_an_essential_claim_accepting_mfa_too_takes_a_totp_session(
    app: Flask, client: FlaskClient
) -> None:
    rp = register_client(skip_consent=True)
    user = make_user()
    enrol_totp(user)
    sign_in(app, client, user, ["pwd", "otp"])
    claims = json.dumps({"id_token": {"acr": {"essential": True, "values": [PR, ACR_MFA]}}})
    response = authorize(client, rp, claims=claims)
    assert "code" in query_of(response.headers["Location"])


def test_an_essential_phishing_resistant_claim_refuses_totp(
    app: Flask, client: FlaskClient
) -> None:
    rp = register_client(skip_consent=True)
    user = make_user()
    enrol_totp(user)
    sign_in(app, client, user, ["pwd", "otp"])
    claims = json.dumps({"id_token": {"acr": {"essential": True, "values": [PR]}}})
    response = authorize(client, rp, claims=claims)
    assert query_of(response.headers["Location"])["error"] == "access_denied"
