"""Per-account lockout through the sign-in form: grows, mails the owner, and is cleared."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from passport.accounts.services import clear_lockout
from passport.audit.models import AuditEvent
from passport.database import utcnow
from passport.extensions import db
from passport.login.models import SSOSession
from tests.conftest import Outbox
from tests.factories import DEFAULT_PASSWORD
from tests.factories import make_user
from tests.helpers import sign_in

GENERIC = "Usuario o contraseña incorrectos."


def fail_times(client: FlaskClient, dni: str, times: int) -> None:
    for _ in range(times):
        response = sign_in(client, dni, "WrongPass1")
        assert GENERIC in response.get_data(as_text=True)
        response.close()  # what the WSGI server does once the body is sent


def test_the_account_locks_after_the_configured_failures(app: Flask, client: FlaskClient) -> None:
    user = make_user()
    factor = app.config["LOCKOUT_FAILURES"]
    fail_times(client, user.dni, factor - 1)
    db.session.refresh(user)
    assert user.locked_until is None
    fail_times(client, user.dni, 1)
    db.session.refresh(user)
    assert user.locked_until is not None
    assert user.lockouts == 1
    locked = db.session.scalars(select(AuditEvent).where(AuditEvent.event == "account_locked"))
    assert [e.subject_user_id for e in locked] == [user.id]


def test_the_owner_is_mailed_when_the_account_locks(
    app: Flask, client: FlaskClient, outbox: Outbox
) -> None:
    user = make_user()
    fail_times(client, user.dni, app.config["LOCKOUT_FAILURES"])
    message = outbox.last()
    assert message["To"] == user.email
    assert "bloqueada" in str(message["Subject"]).lower()


def test_the_lockout_mail_leaves_only_after_the_response(
    app: Flask, client: FlaskClient, outbox: Outbox
) -> None:
    user = make_user()
    for _ in range(app.config["LOCKOUT_FAILURES"]):
        response = sign_in(client, user.dni, "WrongPass1")
    assert outbox.messages() == []
    response.close()
    assert len(outbox.messages()) == 1


def test_a_locked_account_refuses_the_right_password(app: Flask, client: FlaskClient) -> None:
    user = make_user()
    fail_times(client, user.dni, app.config["LOCKOUT_FAILURES"])
    response = sign_in(client, user.dni, DEFAULT_PASSWORD)
    assert GENERIC in response.get_data(as_text=True)
    assert db.session.scalars(select(SSOSession)).all() == []


def test_attempts_while_locked_do_not_lengthen_the_lock(app: Flask, client: FlaskClient) -> None:
    user = make_user()
    fail_times(client, user.dni, app.config["LOCKOUT_FAILURES"])
    db.session.refresh(user)
    locked_until = user.locked_until
    fail_times(client, user.dni, app.config["LOCKOUT_FAILURES"] + 2)
    db.session.refresh(user)
    assert user.locked_until == locked_until
    assert user.lockouts == 1


def test_the_second_lockout_lasts_longer_than_the_first(app: Flask, client: FlaskClient) -> None:
    user = make_user()
    factor = app.config["LOCKOUT_FAILURES"]
    increment = timedelta(seconds=app.config["LOCKOUT_BASE_SECONDS"])
    with time_machine.travel(utcnow(), tick=False) as traveller:
        start = utcnow()
        fail_times(client, user.dni, factor)
        db.session.refresh(user)
        assert user.locked_until == start + increment
        traveller.shift(increment + timedelta(seconds=1))
        second_start = utcnow()
        fail_times(client, user.dni, factor)
        db.session.refresh(user)
        assert user.lockouts == 2
        assert user.locked_until == second_start + 2 * increment


def test_the_lock_ends_by_itself(app: Flask, client: FlaskClient) -> None:
    user = make_user()
    with time_machine.travel(utcnow(), tick=False) as traveller:
        fail_times(client, user.dni, app.config["LOCKOUT_FAILURES"])
        traveller.shift(timedelta(seconds=app.config["LOCKOUT_BASE_SECONDS"] + 1))
        assert sign_in(client, user.dni, DEFAULT_PASSWORD).status_code == 302


def test_clearing_the_lockout_lets_the_owner_in(app: Flask, client: FlaskClient) -> None:
    user = make_user()
    fail_times(client, user.dni, app.config["LOCKOUT_FAILURES"])
    db.session.refresh(user)
    clear_lockout(user)
    db.session.commit()
    assert sign_in(client, user.dni, DEFAULT_PASSWORD).status_code == 302


def test_a_success_forgets_earlier_failures(app: Flask, client: FlaskClient) -> None:
    user = make_user()
    fail_times(client, user.dni, app.config["LOCKOUT_FAILURES"] - 1)
    assert sign_in(client, user.dni, DEFAULT_PASSWORD).status_code == 302
    db.session.refresh(user)
    assert user.failed_logins == 0
