"""The SSO session: cookie, idle and absolute timeouts, throttled last-seen, logout, hooks."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from passport.accounts.models import UserStatus
from passport.audit.models import AuditEvent
from passport.database import utcnow
from passport.extensions import db
from passport.login.models import SSOSession
from passport.login.sessions import current_sso_session
from passport.login.sessions import end_user_sessions
from passport.login.sessions import start_sso_session
from passport.login.signals import session_ended
from tests.factories import DEFAULT_PASSWORD
from tests.factories import make_user
from tests.helpers import csrf_token
from tests.helpers import sign_in

SIGNED_IN = "Sesión iniciada como"


def is_signed_in(client: FlaskClient) -> bool:
    return SIGNED_IN in client.get("/").get_data(as_text=True)


def only_session() -> SSOSession:
    db.session.expire_all()
    return db.session.scalars(select(SSOSession)).one()


@pytest.fixture
def ended_hooks(app: Flask) -> Iterator[list[tuple[int, str]]]:
    """Record calls of the session end hooks during the test."""
    calls: list[tuple[int, str]] = []

    def hook(sender: Flask, *, session: SSOSession, reason: str) -> None:
        calls.append((session.id, reason))

    with session_ended.connected_to(hook, sender=app):
        yield calls


def test_current_sso_session_reads_the_cookie(app: Flask, client: FlaskClient) -> None:
    user = make_user()
    sign_in(client, user.dni, DEFAULT_PASSWORD)
    cookie = client.get_cookie(app.config["SSO_COOKIE_NAME"])
    assert cookie is not None
    with app.test_request_context("/", headers={"Cookie": f"passport_sso={cookie.value}"}):
        session = current_sso_session()
        assert session is not None
        assert session.user_id == user.id
        assert session.auth_time <= utcnow()


def test_a_tampered_cookie_is_no_session(app: Flask, client: FlaskClient) -> None:
    user = make_user()
    sign_in(client, user.dni, DEFAULT_PASSWORD)
    cookie = client.get_cookie("passport_sso")
    assert cookie is not None
    forged = cookie.value[:-2] + ("AA" if not cookie.value.endswith("AA") else "BB")
    with app.test_request_context("/", headers={"Cookie": f"passport_sso={forged}"}):
        assert current_sso_session() is None


def test_no_cookie_is_no_session(app: Flask) -> None:
    with app.test_request_context("/"):
        assert current_sso_session() is None


def test_the_session_ends_after_the_idle_timeout(app: Flask, client: FlaskClient) -> None:
    user = make_user()
    idle = timedelta(minutes=app.config["SSO_IDLE_TIMEOUT_MINUTES"])
    with time_machine.travel(utcnow(), tick=False) as traveller:
        sign_in(client, user.dni, DEFAULT_PASSWORD)
        traveller.shift(idle - timedelta(minutes=2))
        assert is_signed_in(client)  # activity moves the idle deadline
        traveller.shift(idle - timedelta(minutes=2))
        assert is_signed_in(client)
        traveller.shift(idle + timedelta(seconds=1))
        assert not is_signed_in(client)


def test_the_session_ends_at_the_absolute_timeout_despite_activity(
    app: Flask, client: FlaskClient
) -> None:
    user = make_user()
    absolute = timedelta(hours=app.config["SSO_ABSOLUTE_TIMEOUT_HOURS"])
    step = timedelta(minutes=app.config["SSO_IDLE_TIMEOUT_MINUTES"] - 5)
    with time_machine.travel(utcnow(), tick=False) as traveller:
        sign_in(client, user.dni, DEFAULT_PASSWORD)
        elapsed = timedelta()
        while elapsed + step < absolute:
            traveller.shift(step)
            elapsed += step
            assert is_signed_in(client)
        traveller.shift(absolute - elapsed)
        assert not is_signed_in(client)


def test_last_seen_is_written_at_most_once_a_minute(app: Flask, client: FlaskClient) -> None:
    user = make_user()
    with time_machine.travel(utcnow(), tick=False) as traveller:
        sign_in(client, user.dni, DEFAULT_PASSWORD)
        first_seen = only_session().last_seen_at
        traveller.shift(timedelta(seconds=30))
        assert is_signed_in(client)
        assert only_session().last_seen_at == first_seen
        traveller.shift(timedelta(seconds=31))
        assert is_signed_in(client)
        assert only_session().last_seen_at == first_seen + timedelta(seconds=61)


def test_logout_ends_the_session_and_forgets_the_cookie(
    client: FlaskClient, ended_hooks: list[tuple[int, str]]
) -> None:
    user = make_user()
    sign_in(client, user.dni, DEFAULT_PASSWORD)
    response = client.post("/salir", data={"csrf_token": csrf_token(client, "/")})
    assert response.status_code == 302
    assert any(
        "passport_sso=;" in c or 'passport_sso="";' in c
        for c in response.headers.getlist("Set-Cookie")
    )
    session = only_session()
    assert session.ended_at is not None
    assert session.end_reason == "logout"
    assert ended_hooks == [(session.id, "logout")]
    assert not is_signed_in(client)
    logouts = db.session.scalars(select(AuditEvent).where(AuditEvent.event == "logout")).all()
    assert [e.subject_user_id for e in logouts] == [user.id]


def test_an_old_cookie_is_dead_after_logout(app: Flask, client: FlaskClient) -> None:
    user = make_user()
    sign_in(client, user.dni, DEFAULT_PASSWORD)
    cookie = client.get_cookie("passport_sso")
    assert cookie is not None
    client.post("/salir", data={"csrf_token": csrf_token(client, "/")})
    client.set_cookie("passport_sso", cookie.value)
    assert not is_signed_in(client)


def test_logout_without_the_csrf_token_is_refused(client: FlaskClient) -> None:
    user = make_user()
    sign_in(client, user.dni, DEFAULT_PASSWORD)
    response = client.post("/salir", data={})
    assert response.status_code == 400
    assert is_signed_in(client)


def test_a_disabled_user_loses_the_session(client: FlaskClient) -> None:
    user = make_user()
    sign_in(client, user.dni, DEFAULT_PASSWORD)
    user.status = UserStatus.DISABLED
    db.session.commit()
    assert not is_signed_in(client)


def test_end_user_sessions_ends_all_but_the_kept_one(
    app: Flask, ended_hooks: list[tuple[int, str]]
) -> None:
    user = make_user()
    other = make_user()
    with app.test_request_context("/"):
        kept = start_sso_session(user, ["pwd"])
    with app.test_request_context("/"):
        ended = start_sso_session(user, ["pwd"])
    with app.test_request_context("/"):
        untouched = start_sso_session(other, ["pwd"])
    count = end_user_sessions(user.id, "password_reset", except_session_id=kept.id)
    assert count == 1
    db.session.expire_all()
    assert db.session.get(SSOSession, ended.id).ended_at is not None
    assert db.session.get(SSOSession, kept.id).ended_at is None
    assert db.session.get(SSOSession, untouched.id).ended_at is None
    assert ended_hooks == [(ended.id, "password_reset")]


def test_each_session_has_its_own_public_sid(app: Flask) -> None:
    user = make_user()
    with app.test_request_context("/"):
        first = start_sso_session(user, ["pwd"], acr="1")
    with app.test_request_context("/"):
        second = start_sso_session(user, ["pwd"])
    assert first.sid != second.sid
    assert first.acr == "1"
    assert len(first.token_hash) == 64
