"""Mi cuenta: password change, sessions, connected apps, recent activity, CSRF, anonymity."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from passport.audit.models import AuditEvent
from passport.extensions import db
from passport.login.devices import describe_device
from passport.login.models import SSOSession
from passport.oidc.models import Consent
from passport.oidc.models import OAuthClient
from passport.oidc.models import OAuthToken
from passport.oidc.tokens import hash_secret
from passport.security.passwords import verify_password
from tests.factories import DEFAULT_PASSWORD
from tests.factories import make_user
from tests.helpers import csrf_token
from tests.integration.mfa.conftest import enrol
from tests.integration.mfa.conftest import password_step
from tests.integration.oidc.conftest import authorize
from tests.integration.oidc.conftest import code_flow
from tests.integration.oidc.conftest import pkce_pair
from tests.integration.oidc.conftest import register_client
from tests.integration.oidc.conftest import sign_in
from tests.integration.oidc.test_claims_parameter import claims
from tests.integration.oidc.test_consent import answer
from tests.integration.oidc.test_consent import consent_form

NEW_PASSWORD = "Lluvia7Tarde9x"
CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0 Safari/537.36"
)


def live_session_ids() -> set[int]:
    db.session.expire_all()
    return {
        s.id for s in db.session.scalars(select(SSOSession).where(SSOSession.ended_at.is_(None)))
    }


def test_anonymous_visitors_are_sent_to_sign_in_with_next(app: Flask, client: FlaskClient) -> None:
    response = client.get("/mi-cuenta")
    assert response.status_code == 302
    assert response.headers["Location"] == "/ingresar?next=/mi-cuenta"
    for path in (
        "/mi-cuenta/contrasena",
        "/mi-cuenta/sesiones/cerrar-otras",
        "/mi-cuenta/aplicaciones/revocar",
    ):
        assert client.post(path).status_code in (302, 400), path


def test_the_page_shows_every_section_and_is_not_cached(app: Flask, client: FlaskClient) -> None:
    user = make_user()
    client.environ_base["HTTP_USER_AGENT"] = CHROME_WINDOWS
    password_step(client, user.dni)
    page = client.get("/mi-cuenta")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    # The checklist's status names this page's button, not the activation page's "Grabar".
    assert "El botón Cambiar contraseña se habilitará" in body
    for title in (
        "Cambiar contraseña",
        "Sesiones activas",
        "Aplicaciones conectadas",
        "Actividad reciente",
        "Verificación en dos pasos",
    ):
        assert title in body
    assert "data-password-checklist" in body
    assert "Ingreso correcto" in body


def test_devices_are_named_roughly() -> None:
    assert describe_device(CHROME_WINDOWS) == "Chrome en Windows"
    assert (
        describe_device(
            "Mozilla/5.0 (Linux; Android 13) AppleWebKit/537.36 Chrome/120 Mobile Safari/537.36"
        )
        == "Chrome en Android"
    )
    assert (
        describe_device(
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
            "Version/17.0 Mobile/15E148 Safari/604.1"
        )
        == "Safari en iPhone"
    )
    assert describe_device("Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko Firefox/120.0") == (
        "Firefox en Linux"
    )
    assert describe_device(None) == "Dispositivo desconocido"


def test_changing_the_password_ends_other_sessions_and_their_refresh_tokens(
    app: Flask, client: FlaskClient
) -> None:
    rp = register_client(skip_consent=True)
    user = make_user()
    # Another browser, with a refresh token bound to its session, and an offline token.
    other = app.test_client()
    sign_in(app, other, user)
    other_tokens = code_flow(other, rp, "openid")
    offline = code_flow(other, rp, "openid offline_access", prompt="consent")
    # This browser, with its own refresh token.
    password_step(client, user.dni)
    mine = code_flow(client, rp, "openid")
    current = db.session.scalars(
        select(SSOSession).where(SSOSession.ended_at.is_(None)).order_by(SSOSession.id.desc())
    ).first()
    response = client.post(
        "/mi-cuenta/contrasena",
        data={
            "csrf_token": csrf_token(client, "/mi-cuenta"),
            "current_password": DEFAULT_PASSWORD,
            "password": NEW_PASSWORD,
            "password_confirmation": NEW_PASSWORD,
        },
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    assert live_session_ids() == {current.id}
    db.session.refresh(user)
    assert verify_password(user.password_hash, NEW_PASSWORD)
    revoked = {
        t.refresh_token_hash: t.revoked_at is not None
        for t in db.session.scalars(select(OAuthToken))
    }
    assert revoked[hash_secret(other_tokens["refresh_token"])] is True
    assert revoked[hash_secret(mine["refresh_token"])] is False
    # Offline grants obtained elsewhere end too (issue 9, item 11): the old password let them in.
    assert revoked[hash_secret(offline["refresh_token"])] is True
    assert "Su contraseña fue cambiada" in client.get("/mi-cuenta").get_data(as_text=True)


def test_a_wrong_current_password_or_a_weak_new_one_changes_nothing(
    app: Flask, client: FlaskClient
) -> None:
    user = make_user()
    password_step(client, user.dni)
    token = csrf_token(client, "/mi-cuenta")
    wrong = client.post(
        "/mi-cuenta/contrasena",
        data={
            "csrf_token": token,
            "current_password": "nope",
            "password": NEW_PASSWORD,
            "password_confirmation": NEW_PASSWORD,
        },
    )
    assert wrong.status_code == 400
    assert "La contraseña actual no es correcta" in wrong.get_data(as_text=True)
    weak = client.post(
        "/mi-cuenta/contrasena",
        data={
            "csrf_token": token,
            "current_password": DEFAULT_PASSWORD,
            "password": "abc",
            "password_confirmation": "abc",
        },
    )
    body = weak.get_data(as_text=True)
    assert weak.status_code == 400
    assert 'role="alert"' in body
    assert "data-problem=" in body
    no_csrf = client.post(
        "/mi-cuenta/contrasena",
        data={
            "current_password": DEFAULT_PASSWORD,
            "password": NEW_PASSWORD,
            "password_confirmation": NEW_PASSWORD,
        },
    )
    assert no_csrf.status_code == 400
    db.session.refresh(user)
    assert verify_password(user.password_hash, DEFAULT_PASSWORD)


def test_closing_all_other_sessions_keeps_this_one(app: Flask, client: FlaskClient) -> None:
    user = make_user()
    for _ in range(2):
        sign_in(app, app.test_client(), user)
    password_step(client, user.dni)
    body = client.get("/mi-cuenta").get_data(as_text=True)
    assert body.count("<tr>") >= 4  # header + three sessions
    assert "esta sesión" in body
    assert client.post("/mi-cuenta/sesiones/cerrar-otras").status_code == 400
    assert len(live_session_ids()) == 3
    response = client.post(
        "/mi-cuenta/sesiones/cerrar-otras", data={"csrf_token": csrf_token(client, "/mi-cuenta")}
    )
    assert response.status_code == 303
    assert len(live_session_ids()) == 1
    assert client.get("/mi-cuenta").status_code == 200


def test_revoking_an_app_deletes_the_consent_and_revokes_its_tokens(
    app: Flask, client: FlaskClient
) -> None:
    rp = register_client(name="Boletas en línea")
    user = make_user()
    password_step(client, user.dni)
    start = authorize(client, rp, scope="openid email offline_access", prompt="consent")
    consent_page = client.get(start.headers["Location"]) if start.status_code == 302 else start
    token = csrf_token(client, "/mi-cuenta")
    authz = consent_page.get_data(as_text=True).split('name="authz" value="', 1)[1].split('"')[0]
    client.post(
        "/authorize/consent", data={"csrf_token": token, "authz": authz, "decision": "allow"}
    )
    body = client.get("/mi-cuenta").get_data(as_text=True)
    assert "Boletas en línea" in body
    assert "Su correo electrónico" in body
    # Tokens of the app for this user.
    code_flow(client, rp, "openid email")
    assert (
        client.post("/mi-cuenta/aplicaciones/revocar", data={"client_id": rp.client_id}).status_code
        == 400
    )
    response = client.post(
        "/mi-cuenta/aplicaciones/revocar",
        data={"csrf_token": csrf_token(client, "/mi-cuenta"), "client_id": rp.client_id},
    )
    assert response.status_code == 303
    assert db.session.scalar(select(Consent.id)) is None
    db.session.expire_all()
    assert all(t.revoked_at is not None for t in db.session.scalars(select(OAuthToken)))
    assert (
        db.session.scalars(select(AuditEvent).where(AuditEvent.event == "consent.revoked"))
        .one()
        .client_id
        == rp.client_id
    )


def test_an_app_that_skips_consent_is_listed_from_its_tokens_and_can_be_revoked(
    app: Flask, client: FlaskClient
) -> None:
    """Issue 9, item 11: "Aplicaciones conectadas" lists live grants, not only consents."""
    first_party = register_client(name="SIAGIE", skip_consent=True)
    user = make_user()
    password_step(client, user.dni)
    offline = code_flow(client, first_party, "openid email offline_access")
    assert db.session.scalar(select(Consent.id)) is None  # no consent row to list
    body = client.get("/mi-cuenta").get_data(as_text=True)
    assert "SIAGIE" in body
    assert "Su correo electrónico" in body
    response = client.post(
        "/mi-cuenta/aplicaciones/revocar",
        data={"csrf_token": csrf_token(client, "/mi-cuenta"), "client_id": first_party.client_id},
    )
    assert response.status_code == 303
    body = client.get("/mi-cuenta").get_data(as_text=True)
    assert "SIAGIE ya no tiene acceso a sus datos." in body
    assert "Ninguna aplicación tiene acceso a sus datos." in body
    db.session.expire_all()
    row = db.session.scalar(
        select(OAuthToken).where(
            OAuthToken.refresh_token_hash == hash_secret(offline["refresh_token"])
        )
    )
    assert row is not None
    assert row.revoked_at is not None
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.event == "consent.revoked")
    ).one()
    assert event.client_id == first_party.client_id
    assert event.actor_user_id == user.id
    # Nothing left to revoke: a second attempt is the clear refusal.
    again = client.post(
        "/mi-cuenta/aplicaciones/revocar",
        data={"csrf_token": csrf_token(client, "/mi-cuenta"), "client_id": first_party.client_id},
    )
    assert "Esa aplicación no tiene acceso a su cuenta." in again.get_data(as_text=True)


def apps_section(client: FlaskClient, **headers: str) -> str:
    body = client.get("/mi-cuenta", headers=headers).get_data(as_text=True)
    return body.split('id="apps-title"', 1)[1].split("</section>", 1)[0]


def claims_list(section: str) -> list[str]:
    """The words listed under the app for the claims allowed one by one."""
    if 'class="consent-list app-claims"' not in section:
        return []
    items = section.split('class="consent-list app-claims"', 1)[1].split("</ul>", 1)[0]
    return [item.split("</li>", 1)[0] for item in items.split("<li>")[1:]]


def test_claims_allowed_one_by_one_are_listed_under_the_app_until_revoked(
    app: Flask, client: FlaskClient
) -> None:
    """OIDC Core §5.5: data consented through the `claims` parameter, in the consent page's
    words, in Spanish and English; "Revocar acceso" takes them away with the app."""
    rp = register_client(name="Escalafón", scopes=["openid", "profile", "email", "phone"])
    user = make_user(phone_number="+51987654321")
    sign_in(app, client, user)
    _, challenge = pkce_pair()
    requested = claims(userinfo={"email": None, "dni": None}, id_token={"phone_number": None})

    def ask() -> Any:
        pkce = {"code_challenge": challenge, "code_challenge_method": "S256"}
        return authorize(client, rp, scope="openid", claims=requested, **pkce)

    answer(client, consent_form(ask()), "allow")
    assert db.session.scalars(select(Consent)).one().claims == ["email", "phone_number"]

    section = apps_section(client)
    assert "Escalafón" in section
    assert "Además, estos datos que permitió uno por uno:" in section
    # dni is not the client's: never asked, never released, never listed.
    assert claims_list(section) == ["Su correo electrónico", "Su número de teléfono"]
    # The list is named by the sentence before it (screen readers announce both).
    assert 'id="app-claims-1"' in section
    assert 'aria-labelledby="app-claims-1"' in section
    english = apps_section(client, **{"Accept-Language": "en"})
    assert "Also, these data you allowed one by one:" in english
    assert "Your e-mail address" in claims_list(english)

    # A claim whose scope the client lost is released no more, so it is not listed either.
    row = db.session.scalars(select(OAuthClient).where(OAuthClient.client_id == rp.client_id)).one()
    row.scopes = ["openid", "profile", "email"]
    db.session.commit()
    assert claims_list(apps_section(client)) == ["Su correo electrónico"]

    revoked = client.post(
        "/mi-cuenta/aplicaciones/revocar",
        data={"csrf_token": csrf_token(client, "/mi-cuenta"), "client_id": rp.client_id},
    )
    assert revoked.status_code == 303
    assert db.session.scalar(select(Consent.id)) is None
    section = apps_section(client)
    assert claims_list(section) == []
    assert "Su correo electrónico" not in section
    assert "Ninguna aplicación tiene acceso a sus datos." in section
    # Asked again: the claims need a new consent.
    again = ask()
    assert "Su correo electrónico" in again.get_data(as_text=True)
    consent_form(again)


def test_revoking_an_unknown_app_is_a_clear_refusal(app: Flask, client: FlaskClient) -> None:
    user = make_user()
    password_step(client, user.dni)
    response = client.post(
        "/mi-cuenta/aplicaciones/revocar",
        data={"csrf_token": csrf_token(client, "/mi-cuenta"), "client_id": "x" * 64},
    )
    assert response.status_code == 400
    assert "no tiene acceso" in response.get_data(as_text=True)


def test_recent_activity_lists_the_last_ten_sign_ins_and_failures(
    app: Flask, client: FlaskClient
) -> None:
    user = make_user()
    other = make_user()
    for _ in range(3):
        password_step(app.test_client(), other.dni)  # someone else's activity is not shown
    for _ in range(3):  # below the lockout threshold each time
        for _ in range(3):
            password_step(app.test_client(), user.dni, password="incorrecta")
        password_step(app.test_client(), user.dni)
    password_step(client, user.dni)
    body = client.get("/mi-cuenta").get_data(as_text=True)
    activity = body.split('id="activity-title"', 1)[1].split("</table>", 1)[0]
    assert activity.count("<tr>") == 11  # header + ten
    assert "Ingreso correcto" in activity
    assert "Intento fallido" in activity


def test_the_two_step_section_shows_the_state_and_codes_left(
    app: Flask, client: FlaskClient
) -> None:
    user = make_user()
    sign_in(app, client, user)
    off = client.get("/mi-cuenta").get_data(as_text=True)
    assert "Desactivada" in off
    assert 'href="/mi-cuenta/doble-factor"' in off

    enrol(user)
    on = client.get("/mi-cuenta").get_data(as_text=True)
    assert "Activada" in on
    assert "Le quedan 10 códigos de recuperación." in on
    assert 'href="/mi-cuenta/doble-factor/desactivar"' in on
    assert 'href="/mi-cuenta/doble-factor/codigos"' in on
