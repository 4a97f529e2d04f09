"""Who may enter /admin: signed in, admin, TOTP enrolled, second factor proven, not idle."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs
from urllib.parse import urlsplit

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from passport.accounts.models import User
from passport.admin.models import AdminActivity
from passport.audit.models import AuditEvent
from passport.extensions import db
from passport.login.models import SSOSession
from tests.factories import make_user
from tests.integration.admin.conftest import sign_in


def location(response) -> tuple[str, dict[str, list[str]]]:  # type: ignore[no-untyped-def]
    parts = urlsplit(response.headers["Location"])
    return parts.path, parse_qs(parts.query)


def test_anonymous_is_sent_to_sign_in_and_back(client: FlaskClient) -> None:
    response = client.get("/admin/?q=1")
    assert response.status_code == 302
    path, query = location(response)
    assert path == "/ingresar"
    assert query["next"] == ["/admin/?q=1"]
    assert response.headers["Cache-Control"] == "no-store"


def test_a_plain_user_does_not_learn_the_console_exists(app: Flask, client: FlaskClient) -> None:
    sign_in(app, client, make_user(), ["pwd", "otp"])
    response = client.get("/admin/")
    assert response.status_code == 404
    assert "Administración" not in response.get_data(as_text=True)


def test_an_admin_without_totp_is_sent_to_enrol(app: Flask, client: FlaskClient) -> None:
    sign_in(app, client, make_user(is_admin=True), ["pwd"])
    response = client.get("/admin/")
    assert response.status_code == 302
    path, query = location(response)
    assert path == "/mi-cuenta/doble-factor"
    assert query["next"] == ["/admin/"]


def test_an_admin_with_totp_but_only_a_password_must_step_up(
    app: Flask, client: FlaskClient, admin: User
) -> None:
    sign_in(app, client, admin, ["pwd"])
    response = client.get("/admin/")
    assert response.status_code == 302
    path, query = location(response)
    assert path == "/mi-cuenta/verificar"
    assert query["next"] == ["/admin/"]


def test_an_admin_with_the_second_factor_sees_the_console(admin_client: FlaskClient) -> None:
    response = admin_client.get("/admin/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Administración de Passport" in page
    assert "Ana María Torres Ríos" in page
    assert "Ámbito: nacional." in page
    for path in ("/admin/usuarios", "/admin/aplicaciones", "/admin/claves", "/admin/auditoria"):
        assert f'href="{path}"' in page
    assert response.headers["Cache-Control"] == "no-store"


def test_a_disabled_admin_is_signed_out(admin_client: FlaskClient, admin: User) -> None:
    from passport.accounts.services import disable_user

    disable_user(admin.dni)
    response = admin_client.get("/admin/")
    assert response.status_code == 302
    assert location(response)[0] == "/ingresar"


def _age_activity(session_id: int, minutes: int) -> None:
    activity = db.session.get(AdminActivity, session_id)
    assert activity is not None
    activity.last_seen_at -= timedelta(minutes=minutes)
    db.session.commit()


def test_activity_within_the_admin_idle_limit_keeps_the_session(
    app: Flask, client: FlaskClient, admin: User
) -> None:
    session_id = sign_in(app, client, admin, ["pwd", "otp"])
    assert client.get("/admin/").status_code == 200
    _age_activity(session_id, 14)
    assert client.get("/admin/").status_code == 200
    activity = db.session.get(AdminActivity, session_id)
    db.session.refresh(activity)
    assert activity is not None
    from passport.database import utcnow

    assert utcnow() - activity.last_seen_at < timedelta(minutes=1)


def test_an_idle_admin_session_loses_its_second_factor(
    app: Flask, client: FlaskClient, admin: User
) -> None:
    session_id = sign_in(app, client, admin, ["pwd", "otp"])
    assert client.get("/admin/").status_code == 200
    _age_activity(session_id, 16)

    response = client.get("/admin/")
    assert response.status_code == 302
    assert location(response)[0] == "/mi-cuenta/verificar"
    session = db.session.get(SSOSession, session_id)
    db.session.refresh(session)
    assert session is not None
    assert session.amr == ["pwd"]
    assert session.ended_at is None  # still signed in to Passport, just not to the console
    # Coming back without stepping up is refused again.
    assert client.get("/admin/").status_code == 302
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.event == "admin.second_factor_expired")
    )
    assert event is not None
    assert event.actor_user_id == admin.id
    assert event.details is not None
    assert event.details["why"] == "idle"
    # A step-up puts the factor back: the console opens again, and stays open.
    from passport.mfa.services import add_second_factor_to_session

    add_second_factor_to_session(session)
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/").status_code == 200


def test_the_first_visit_of_a_session_signed_in_long_ago_must_step_up(
    app: Flask, client: FlaskClient, admin: User
) -> None:
    from passport.mfa.services import add_second_factor_to_session

    session_id = sign_in(app, client, admin, ["pwd", "otp"])
    session = db.session.get(SSOSession, session_id)
    assert session is not None
    session.auth_time -= timedelta(minutes=40)
    db.session.commit()

    response = client.get("/admin/usuarios")
    assert response.status_code == 302
    assert location(response)[0] == "/mi-cuenta/verificar"
    db.session.refresh(session)
    assert "otp" not in session.amr
    add_second_factor_to_session(session)  # what the step-up page does
    assert client.get("/admin/usuarios").status_code == 200


def test_the_idle_limit_is_a_setting(app: Flask, client: FlaskClient, admin: User) -> None:
    session_id = sign_in(app, client, admin, ["pwd", "otp"])
    assert client.get("/admin/").status_code == 200
    _age_activity(session_id, 3)
    app.config["ADMIN_IDLE_TIMEOUT_MINUTES"] = 2
    try:
        assert client.get("/admin/").status_code == 302
    finally:
        app.config["ADMIN_IDLE_TIMEOUT_MINUTES"] = 15


def test_the_admin_idle_limit_is_shorter_than_the_sso_one(app: Flask) -> None:
    assert app.config["ADMIN_IDLE_TIMEOUT_MINUTES"] < app.config["SSO_IDLE_TIMEOUT_MINUTES"]
