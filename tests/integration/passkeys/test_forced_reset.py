"""A forced password reset (a suspected compromise) removes every passkey, all or nothing with
the rest of the reset; the reset the person asks for keeps them."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func
from sqlalchemy import select
from webauthn.helpers import bytes_to_base64url

import passport
from passport.accounts import administration
from passport.accounts.models import User
from passport.audit.models import AuditEvent
from passport.audit.services import Actor
from passport.extensions import db
from passport.mail import MailDeliveryError
from passport.mail.transports import OutboxTransport
from passport.mfa.models import TOTPCredential
from passport.passkeys.models import Passkey
from passport.security.passwords import verify_password
from tests.conftest import Outbox
from tests.factories import DEFAULT_PASSWORD
from tests.factories import make_user
from tests.helpers import csrf_token
from tests.integration.accounts.conftest import request_link
from tests.integration.accounts.conftest import set_password
from tests.integration.accounts.conftest import verification_links
from tests.integration.admin.conftest import enrol_totp
from tests.integration.admin.conftest import sign_in
from tests.integration.passkeys.conftest import passkey_sign_in
from tests.integration.passkeys.conftest import register
from tests.soft_authenticator import SoftAuthenticator

REASON = "Cuenta comprometida"
NEW_PASSWORD = "Kusi8Wayra"


@pytest.fixture
def national(app: Flask) -> User:
    return make_user(is_admin=True, given_name="Jorge", family_name="Salas")


def with_passkeys(
    client: FlaskClient, count: int, **user: Any
) -> tuple[User, list[SoftAuthenticator]]:
    """A person who registered ``count`` passkeys (through the pages, as anyone would)."""
    person = make_user(**user)
    keys = []
    for number in range(count):
        key = SoftAuthenticator("127.0.0.1", "http://127.0.0.1:5000")
        answer = register(client, person, key, name=f"Llave {number + 1}")
        assert answer.status_code == 200, answer.get_json()
        keys.append(key)
    return person, keys


def passkeys_left(user: User) -> int:
    return int(
        db.session.scalar(select(func.count(Passkey.id)).where(Passkey.user_id == user.id)) or 0
    )


def events(name: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.event == name)))


def assert_kept(app: Flask, person: User, keys: list[SoftAuthenticator], password: str) -> None:
    """``password`` works and every passkey of ``person`` is still there and signs in."""
    db.session.expire_all()
    stored = db.session.get(User, person.id)
    assert stored is not None
    assert verify_password(stored.password_hash, password)
    assert passkeys_left(person) == len(keys)
    assert events("passkey.removed") == []
    for key in keys:
        assert passkey_sign_in(app.test_client(), key).status_code == 200


def force(user: User, national: User) -> int:
    return administration.force_password_reset(
        user, actor=Actor(user_id=national.id, reason=REASON)
    )


def test_a_forced_reset_removes_every_passkey_audits_the_count_and_says_so_in_the_mail(
    app: Flask, client: FlaskClient, national: User, outbox: Outbox
) -> None:
    person, keys = with_passkeys(client, 2)
    enrol_totp(person)
    before = len(outbox.messages())

    assert force(person, national) == 2

    db.session.expire_all()
    assert passkeys_left(person) == 0
    # TOTP stays: a second factor, useless without the password.
    assert db.session.scalar(select(TOTPCredential).where(TOTPCredential.user_id == person.id))
    for key in keys:  # the intruder's passkey no longer signs in
        answer = passkey_sign_in(app.test_client(), key)
        assert answer.status_code == 400
        assert answer.get_json()["error"] == "unknown_credential"
    (reset,) = events("user.password_reset_forced")
    assert reset.details == {"passkeys_removed": 2, "reason": REASON}
    removed = events("passkey.removed")
    assert len(removed) == 2
    for event in removed:
        assert event.actor_user_id == national.id
        assert event.subject_user_id == person.id
        assert event.details is not None
        assert event.details["cause"] == "password_reset_forced"
        assert event.details["reason"] == REASON
        assert set(event.details) == {"passkey_id", "name", "cause", "reason"}
    written = json.dumps([event.details for event in [*events("passkey.removed"), reset]])
    for key in keys:  # no credential id, in any spelling
        assert bytes_to_base64url(key.credential_id) not in written
        assert key.credential_id.hex() not in written
    # One mail, the reset link, which tells the person (no separate removal notice).
    assert len(outbox.messages()) == before + 1
    mail = outbox.last()
    assert "Restablecer tu contraseña" in str(mail["Subject"])
    for body in (outbox.text_of(mail), outbox.html_of(mail)):
        assert "también se quitaron las 2 llaves de acceso" in body
        assert "puede registrarlas de nuevo en Mi cuenta" in body
        assert "su contraseña actual sigue vigente" not in body


def test_the_mail_says_it_in_english_and_in_the_singular(
    client: FlaskClient, national: User, outbox: Outbox
) -> None:
    person, _ = with_passkeys(client, 1, locale="en")
    assert force(person, national) == 1
    text = outbox.text_of(outbox.last())
    assert "the passkey of your account was removed as well" in text
    assert "you can register it again in My account" in text


def test_without_passkeys_the_mail_says_nothing_of_them(national: User, outbox: Outbox) -> None:
    person = make_user()
    assert force(person, national) == 0
    (reset,) = events("user.password_reset_forced")
    assert reset.details == {"passkeys_removed": 0, "reason": REASON}
    assert events("passkey.removed") == []
    mail = outbox.last()
    for body in (outbox.text_of(mail), outbox.html_of(mail)):
        assert "llave" not in body.lower()
        # Forced, not asked for: the mail never says the password still works.
        assert "un administrador desactivó la contraseña" in body
        assert "ya no sirve para ingresar" in body
        assert "Recibimos una solicitud" not in body
        assert "su contraseña actual sigue vigente" not in body


def test_the_forced_reset_mail_in_english(national: User, outbox: Outbox) -> None:
    person = make_user(locale="en")
    force(person, national)
    text = outbox.text_of(outbox.last())
    assert "an administrator switched off the password" in text
    assert "your current password still works" not in text.lower()


def test_a_failed_mail_leaves_the_passkeys_and_everything_else(
    app: Flask, client: FlaskClient, national: User
) -> None:
    person, keys = with_passkeys(client, 2)
    transport = app.extensions["passport.mail_transport"]
    app.extensions["passport.mail_transport"] = OutboxTransport("/proc/cannot-write-here")
    try:
        with pytest.raises(MailDeliveryError):
            force(person, national)
    finally:
        app.extensions["passport.mail_transport"] = transport
    assert_kept(app, person, keys, DEFAULT_PASSWORD)
    assert events("user.password_reset_forced") == []


def test_the_reset_the_person_asks_for_keeps_the_passkeys(
    app: Flask, client: FlaskClient, outbox: Outbox
) -> None:
    person, keys = with_passkeys(client, 1)
    browser = app.test_client()
    request_link(browser, "/olvide-contrasena", person.dni)
    mail = outbox.last()
    assert "Restablecer tu contraseña" in str(mail["Subject"])
    assert "llave" not in outbox.text_of(mail).lower()
    (link,) = verification_links(outbox.links_in_last())
    assert set_password(browser, link, NEW_PASSWORD).status_code == 303
    assert_kept(app, person, keys, NEW_PASSWORD)


def test_the_console_reset_removes_the_passkeys_and_says_so(
    app: Flask, client: FlaskClient, outbox: Outbox
) -> None:
    person, keys = with_passkeys(client, 2)
    admin = make_user(is_admin=True)
    enrol_totp(admin)
    console = app.test_client()
    sign_in(app, console, admin, ["pwd", "otp"])
    page = f"/admin/usuarios/{person.dni}"
    assert "se quitarán sus llaves de acceso" in console.get(page).get_data(as_text=True)
    done = console.post(
        f"{page}/restablecer",
        data={"csrf_token": csrf_token(console, page), "reason": REASON},
        follow_redirects=True,
    )
    assert "se quitaron 2 llaves de acceso" in done.get_data(as_text=True)
    db.session.expire_all()
    assert passkeys_left(person) == 0
    assert passkey_sign_in(app.test_client(), keys[0]).status_code == 400
    (reset,) = events("user.password_reset_forced")
    assert reset.actor_user_id == admin.id
    assert reset.details == {"passkeys_removed": 2, "reason": REASON}
    assert "también se quitaron las 2 llaves de acceso" in outbox.text_of(outbox.last())


def references(path: Path, name: str) -> bool:
    """Whether the code of ``path`` (not its comments or strings) names ``name``."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and node.attr == name:
            return True
        if isinstance(node, ast.Name | ast.alias) and name in {
            getattr(node, "id", None),
            getattr(node, "name", None),
        }:
            return True
    return False


def test_every_path_that_forces_a_reset_calls_the_one_service() -> None:
    """Only the console forces a reset today (the API and the CLI offer none); a path added
    there must call ``administration.force_password_reset`` and get a test here."""
    root = Path(passport.__file__).parent
    callers = sorted(
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if references(path, "force_password_reset")
    )
    assert callers == ["admin/users.py"]
