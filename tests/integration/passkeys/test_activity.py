"""Mi cuenta's "Actividad reciente" shows the refused passkeys that were the person's."""

from __future__ import annotations

import json
from base64 import urlsafe_b64encode

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from passport.audit.models import AuditEvent
from passport.extensions import db
from passport.passkeys.models import Passkey
from tests.factories import make_user
from tests.integration.mfa.conftest import password_step
from tests.integration.passkeys.conftest import PAGE
from tests.integration.passkeys.conftest import csrf
from tests.integration.passkeys.conftest import passkey_sign_in
from tests.integration.passkeys.conftest import register
from tests.soft_authenticator import SoftAuthenticator

PASSKEY_FAILED = "Intento fallido con llave de acceso"


def activity(client: FlaskClient, **headers: str) -> str:
    body = client.get("/mi-cuenta", headers=headers).get_data(as_text=True)
    return body.split('id="activity-title"', 1)[1].split("</section>", 1)[0]


def refusals() -> list[AuditEvent]:
    db.session.expire_all()
    # In the order they were written: without ORDER BY, PostgreSQL may return any order.
    query = select(AuditEvent).where(AuditEvent.event == "passkey.failed").order_by(AuditEvent.id)
    return list(db.session.scalars(query))


def test_a_refused_passkey_of_the_person_is_listed_in_their_activity(
    app: Flask, client: FlaskClient, authenticator: SoftAuthenticator
) -> None:
    user = make_user()
    other = make_user()
    register(client, user, authenticator)
    assert PASSKEY_FAILED not in activity(client)

    # Someone with the person's passkey but from another site (or without the PIN): refused.
    refused = passkey_sign_in(app.test_client(), authenticator, origin="https://evil.example")
    assert refused.status_code == 400
    [event] = refusals()
    assert event.subject_user_id == user.id
    assert event.outcome == "failure"
    # Only a reason and Passport's own row number: no credential id, signature or challenge.
    recorded = json.dumps(event.details)
    credential_id = urlsafe_b64encode(authenticator.credential_id).rstrip(b"=").decode()
    assert credential_id not in recorded
    assert set(event.details or {}) <= {"reason", "passkey_id"}

    rows = activity(client)
    assert PASSKEY_FAILED in rows
    assert rows.count("<tr>") == 3  # header, the password sign-in, the refused passkey
    english = activity(client, **{"Accept-Language": "en"})
    assert "Failed attempt with a passkey" in english

    # Another person sees nothing of it.
    stranger = app.test_client()
    password_step(stranger, other.dni)
    assert PASSKEY_FAILED not in activity(stranger)


def test_refusals_until_the_lockout_and_while_locked_are_all_listed(
    app: Flask, client: FlaskClient, authenticator: SoftAuthenticator
) -> None:
    user = make_user()
    register(client, user, authenticator)
    failures = int(app.config["LOCKOUT_FAILURES"])
    for _ in range(failures):
        passkey_sign_in(app.test_client(), authenticator, uv=False)
    locked = passkey_sign_in(app.test_client(), authenticator)
    assert locked.get_json()["error"] == "locked"
    assert [event.details["reason"] for event in refusals() if event.details][-1] == "locked"
    assert all(event.subject_user_id == user.id for event in refusals())
    rows = activity(client)
    # The password sign-in, the refusals, the lock and the attempt while locked: all ten fit.
    assert rows.count("<tr>") == 1 + failures + 3
    assert rows.count(PASSKEY_FAILED) == failures + 1
    assert "Cuenta bloqueada por intentos fallidos" in rows


def test_a_passkey_no_longer_registered_is_nobody_s_activity(
    app: Flask, client: FlaskClient, authenticator: SoftAuthenticator
) -> None:
    """The sign-in page names no one: a credential Passport does not know is not counted
    against any account, so the page tells nothing about who it was."""
    user = make_user()
    register(client, user, authenticator)
    passkey = db.session.scalar(select(Passkey).where(Passkey.user_id == user.id))
    assert passkey is not None
    client.post(f"{PAGE}/{passkey.id}/quitar", data={"csrf_token": csrf(client, PAGE)})
    answer = passkey_sign_in(app.test_client(), authenticator)
    assert answer.get_json()["error"] == "unknown_credential"
    assert [event.subject_user_id for event in refusals()] == [None]
    assert PASSKEY_FAILED not in activity(client)
