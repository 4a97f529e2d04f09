"""Issue 9, item 1: an admin account's links go only to a verified address, and granting
admin rights mails a one-time link to enrol the second factor (the password is not enough).
"""

from __future__ import annotations

import hashlib
import re

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from passport.accounts import administration
from passport.accounts.errors import UnverifiedEmailError
from passport.accounts.models import User
from passport.audit.models import AuditEvent
from passport.audit.services import Actor
from passport.extensions import db
from passport.mfa.models import EnrolmentLink
from passport.mfa.services import user_has_totp
from passport.security.passwords import verify_password
from tests.conftest import Outbox
from tests.factories import DEFAULT_PASSWORD
from tests.factories import make_user
from tests.helpers import CSRF_FIELD
from tests.helpers import csrf_in
from tests.integration.accounts.conftest import request_link
from tests.integration.accounts.test_cli import run
from tests.integration.oidc.conftest import sign_in

FORGOT = "/olvide-contrasena"
SECRET_TEXT = re.compile(r'<p class="secret"[^>]*><code>([A-Z2-7 ]+)</code>')


def comparable(body: str) -> str:
    return CSRF_FIELD.sub("", body)


def test_no_reset_link_for_an_admin_whose_email_is_unverified(
    app: Flask, client: FlaskClient, outbox: Outbox
) -> None:
    """The takeover: the admin's address was replaced (so unverified); "¿Olvidaste la
    contraseña?" must send it nothing, and answer as for an unknown DNI."""
    victim = make_user(is_admin=True, email_verified=True)
    administration.update_user(
        victim,
        email="atacante@example.pe",
        given_name=victim.given_name,
        family_name=victim.family_name,
        phone=None,
        actor=Actor(),
    )
    unknown = request_link(client, FORGOT, "49999999")
    answer = request_link(client, FORGOT, victim.dni)
    assert comparable(answer.get_data(as_text=True)) == comparable(unknown.get_data(as_text=True))
    assert outbox.messages() == []
    event = db.session.scalar(
        select(AuditEvent)
        .where(AuditEvent.event == "password_link.processed")
        .order_by(AuditEvent.id.desc())
    )
    assert event is not None
    assert event.details == {"result": "admin_email_unverified"}
    # A verified admin, and a plain user with an unverified address, still get their link.
    for user in (make_user(is_admin=True, email_verified=True), make_user()):
        request_link(client, FORGOT, user.dni)
        assert outbox.last()["To"] == user.email


def test_console_reset_and_activation_refuse_an_unverified_admin_address(
    app: Flask, outbox: Outbox
) -> None:
    active = make_user(is_admin=True)
    with pytest.raises(UnverifiedEmailError):
        administration.force_password_reset(active, actor=Actor())
    db.session.expire_all()
    assert verify_password(db.session.get(User, active.id).password_hash, DEFAULT_PASSWORD)  # type: ignore[union-attr]
    pending = make_user(password=None, is_admin=True)
    with pytest.raises(UnverifiedEmailError):
        administration.resend_activation(pending, actor=Actor())
    assert outbox.messages() == []


def test_grant_admin_mails_a_one_time_enrolment_link(app: Flask, outbox: Outbox) -> None:
    user = make_user(email_verified=True)
    result = run(app, "grant-admin", user.dni, "--dre", "DRE Cusco")
    assert result.exit_code == 0, result.output
    mail = outbox.last()
    assert mail["To"] == user.email
    assert str(mail["Subject"]).endswith("Activar la verificación en dos pasos")
    [link] = [u for u in outbox.links_in_last() if "/doble-factor/alta/" in u]
    token = link.rsplit("/", 1)[1]
    stored = db.session.scalar(select(EnrolmentLink).where(EnrolmentLink.user_id == user.id))
    assert stored is not None
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in result.output


def test_grant_admin_to_an_unverified_address_is_refused(app: Flask, outbox: Outbox) -> None:
    user = make_user()
    result = run(app, "grant-admin", user.dni)
    assert result.exit_code != 0
    assert "not verified" in result.stderr
    db.session.expire_all()
    assert db.session.get(User, user.id).is_admin is False  # type: ignore[union-attr]
    assert outbox.messages() == []


def _enrol_page(client: FlaskClient, path: str) -> tuple[str, str]:
    body = client.get(path).get_data(as_text=True)
    secret = SECRET_TEXT.search(body)
    return (secret.group(1).replace(" ", "") if secret else ""), (csrf_in(body) or "")


def test_an_admin_enrols_totp_only_through_the_mailed_link(
    app: Flask, client: FlaskClient, outbox: Outbox
) -> None:
    """Knowing the password (and holding a session) is not enough to put the console's
    second factor on an admin account: the one-time link mailed to the admin is needed."""
    user = make_user(email_verified=True)
    administration.grant_admin(user, actor=Actor())
    [link] = [u for u in outbox.links_in_last() if "/doble-factor/alta/" in u]
    path = re.sub(r"^https?://[^/]+", "", link)
    sign_in(app, client, user, ["pwd"])

    secret, _ = _enrol_page(client, "/mi-cuenta/doble-factor")
    assert secret == ""  # no secret without the link
    page = client.get("/mi-cuenta/doble-factor").get_data(as_text=True)
    assert "enlace de un solo uso" in page
    other = make_user(email_verified=True)
    administration.grant_admin(other, actor=Actor())
    [foreign] = [u for u in outbox.links_in_last() if "/doble-factor/alta/" in u]
    assert _enrol_page(client, re.sub(r"^https?://[^/]+", "", foreign))[0] == ""

    secret, csrf = _enrol_page(client, path)
    assert secret
    # The plain enrolment URL cannot confirm it either (the link is what counts).
    refused = client.post(
        "/mi-cuenta/doble-factor",
        data={"csrf_token": csrf, "code": pyotp.TOTP(secret).now(), "password": DEFAULT_PASSWORD},
    )
    assert refused.status_code == 200
    assert not user_has_totp(user.id)
    done = client.post(
        path,
        data={"csrf_token": csrf, "code": pyotp.TOTP(secret).now(), "password": DEFAULT_PASSWORD},
    )
    assert done.status_code == 200
    assert user_has_totp(user.id)
    spent = db.session.scalar(select(EnrolmentLink).where(EnrolmentLink.user_id == user.id))
    assert spent is not None
    assert spent.used_at is not None


def test_a_plain_user_enrols_without_a_link(app: Flask, client: FlaskClient) -> None:
    user = make_user()
    sign_in(app, client, user, ["pwd"])
    assert _enrol_page(client, "/mi-cuenta/doble-factor")[0]


def test_a_queued_link_for_an_admin_with_an_unverified_address_is_cancelled(
    app: Flask, outbox: Outbox
) -> None:
    from passport.accounts.links import LinkPurpose
    from passport.accounts.mail_queue import enqueue_link_mails
    from passport.accounts.mail_queue import send_pending

    # Queued while a plain user, then made an admin (a national edit changed the address).
    pending = make_user(password=None, is_admin=True)
    enqueue_link_mails([pending], LinkPurpose.ACTIVATION)
    db.session.commit()
    run_result = send_pending()
    assert (run_result.sent, run_result.cancelled) == (0, 1)
    assert outbox.messages() == []
