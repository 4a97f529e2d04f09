"""Account services: creation, lock state, status changes, and their audit trail."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func
from sqlalchemy import select

from passport.accounts import services
from passport.accounts.errors import DuplicateDniError
from passport.accounts.errors import InvalidUserDataError
from passport.accounts.errors import PasswordRejectedError
from passport.accounts.errors import UnverifiedEmailError
from passport.accounts.errors import UserNotFoundError
from passport.accounts.models import User
from passport.accounts.models import UserStatus
from passport.accounts.services import NewUser
from passport.audit.models import AuditEvent
from passport.database import utcnow
from passport.extensions import db
from passport.login.models import SSOSession
from passport.login.sessions import start_sso_session
from passport.mail import MailDeliveryError
from passport.mail.transports import OutboxTransport
from passport.security.passwords import verify_password
from tests.conftest import Outbox
from tests.factories import make_user
from tests.integration.accounts.conftest import set_password
from tests.integration.accounts.conftest import verification_links


def count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def events(name: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.event == name)))


def live_sessions(user: User) -> int:
    return len(
        db.session.scalars(
            select(SSOSession).where(SSOSession.user_id == user.id, SSOSession.ended_at.is_(None))
        ).all()
    )


def test_create_user_stores_normalised_data(app: Flask, outbox: Outbox) -> None:
    user = services.create_user(
        NewUser(
            " 41234567 ",
            "Rosa.Quispe@Example.EDU.pe",
            "  Rosa   Elena ",
            "Quispe Huamán",
            phone="+51 987-654-321",
            address={"street_address": "Av. Arequipa 123", "locality": "Lima", "country": "PE"},
            dre="DRE Lima Metropolitana",
            ugel="UGEL 03",
        )
    )
    assert (user.dni, user.email, user.given_name, user.phone_number) == (
        "41234567",
        "Rosa.Quispe@example.edu.pe",
        "Rosa Elena",
        "+51987654321",
    )
    assert user.address == {
        "street_address": "Av. Arequipa 123",
        "locality": "Lima",
        "country": "PE",
    }
    assert user.sub
    assert user.dni not in user.sub
    [event] = events("user.created")
    assert event.subject_user_id == user.id
    assert len(outbox.messages()) == 1


def test_create_user_reports_every_invalid_field_and_writes_nothing(
    app: Flask, outbox: Outbox
) -> None:
    with pytest.raises(InvalidUserDataError) as caught:
        services.create_user(
            NewUser(
                "1234567",
                "not-an-address",
                "",
                "Quispe<script>",
                phone="987654321",
                address={"street": "x"},
            )
        )
    fields = [error.field for error in caught.value.errors]
    assert fields == ["dni", "email", "given_name", "family_name", "phone", "address"]
    assert count(User) == 0
    assert outbox.messages() == []


@pytest.mark.parametrize("name", ["x" * 101, "Rosa\x00", "R0sa"])
def test_names_are_length_limited_and_letters_only(app: Flask, name: str) -> None:
    with pytest.raises(InvalidUserDataError):
        services.create_user(NewUser("41234567", "r@example.pe", name, "Quispe"))


def test_a_duplicate_dni_is_a_domain_error(app: Flask) -> None:
    make_user(dni="41234567")
    with pytest.raises(DuplicateDniError):
        services.create_user(NewUser("41234567", "otra@example.pe", "Otra", "Persona"))
    assert count(User) == 1


def test_create_user_with_a_password_is_active_and_sends_no_mail(
    app: Flask, outbox: Outbox
) -> None:
    user = services.create_user(
        NewUser("41234567", "r@example.pe", "Rosa", "Quispe", password="Kusi8Wayra")
    )
    assert user.status is UserStatus.ACTIVE
    assert verify_password(user.password_hash, "Kusi8Wayra")
    assert outbox.messages() == []


def test_creating_an_admin_needs_a_verified_email_and_mails_the_enrolment_link(
    app: Flask, outbox: Outbox
) -> None:
    with pytest.raises(UnverifiedEmailError):
        services.create_user(
            NewUser(
                "41234567", "r@example.pe", "Rosa", "Quispe", password="Kusi8Wayra", is_admin=True
            )
        )
    assert count(User) == 0
    user = services.create_user(
        NewUser(
            "41234567",
            "r@example.pe",
            "Rosa",
            "Quispe",
            password="Kusi8Wayra",
            is_admin=True,
            email_verified=True,
        ),
        send_email=False,
    )
    assert user.is_admin
    [mail] = outbox.messages()
    assert mail["To"] == "r@example.pe"
    assert str(mail["Subject"]).endswith("Activar la verificación en dos pasos")
    assert "/mi-cuenta/doble-factor/alta/" in outbox.text_of(mail)


def test_create_user_refuses_a_password_against_the_policy(app: Flask) -> None:
    with pytest.raises(PasswordRejectedError) as caught:
        services.create_user(
            NewUser("41234567", "r@example.pe", "Rosa", "Quispe", password="Minedu2024")
        )
    assert [p.code for p in caught.value.problems] == ["common"]
    assert count(User) == 0


def test_phone_verified_needs_a_phone(app: Flask) -> None:
    with pytest.raises(InvalidUserDataError):
        services.create_user(
            NewUser("41234567", "r@example.pe", "Rosa", "Quispe", phone_verified=True)
        )


def test_a_failed_activation_mail_creates_no_user(app: Flask) -> None:
    transport = app.extensions["passport.mail_transport"]
    app.extensions["passport.mail_transport"] = OutboxTransport("/proc/cannot-write-here")
    try:
        with pytest.raises(MailDeliveryError):
            services.create_user(NewUser("41234567", "r@example.pe", "Rosa", "Quispe"))
    finally:
        app.extensions["passport.mail_transport"] = transport
    assert count(User) == 0
    assert count(AuditEvent) == 0


def test_setting_a_password_clears_the_lockout_and_ends_every_session(
    app: Flask, client: FlaskClient, outbox: Outbox
) -> None:
    user = make_user()
    start_sso_session(user, ["pwd"])
    start_sso_session(user, ["pwd"])
    user.failed_logins, user.lockouts = 7, 2
    user.locked_until = utcnow() + timedelta(minutes=10)
    db.session.commit()
    services.send_reset_mail(user)
    [link] = verification_links(outbox.links_in_last())
    assert set_password(client, link, "Nueva8Clave").status_code == 303
    db.session.refresh(user)
    assert (user.failed_logins, user.lockouts, user.locked_until) == (0, 0, None)
    assert live_sessions(user) == 0
    assert verify_password(user.password_hash, "Nueva8Clave")
    assert len(events("password.reset")) == 1


def test_clear_lockout_resets_every_counter_without_committing(app: Flask) -> None:
    user = make_user(failed_logins=4, lockouts=3, locked_until=utcnow() + timedelta(hours=1))
    services.clear_lockout(user)
    assert (user.failed_logins, user.lockouts, user.locked_until) == (0, 0, None)
    db.session.rollback()
    assert user.failed_logins == 4


def test_the_lockout_notice_gives_the_lima_time_and_what_to_do(app: Flask, outbox: Outbox) -> None:
    user = make_user()
    services.send_lockout_notice(user, datetime(2026, 11, 26, 20, 5, tzinfo=UTC))
    message = outbox.last()
    assert message["To"] == user.email
    assert message["Subject"] == (
        "MINEDU - Plataforma de Servicios para el Servidor Público – Cuenta bloqueada temporalmente"
    )
    text = Outbox.text_of(message)
    # 20:05 UTC is 15:05 in Lima (UTC-5).
    assert "Podrá volver a intentarlo desde las 15:05 del 26/11/2026 (hora de Lima)." in text
    assert "http://127.0.0.1:5000/olvide-contrasena" in text
    assert "mesadeayuda@minedu.gob.pe" in text
    assert "Cuenta bloqueada temporalmente" in Outbox.html_of(message)
    [event] = events("mail.sent")
    assert event.details["kind"] == "lockout_notice"


def test_a_failed_lockout_notice_is_audited_not_raised(app: Flask) -> None:
    user = make_user()
    transport = app.extensions["passport.mail_transport"]
    app.extensions["passport.mail_transport"] = OutboxTransport("/proc/cannot-write-here")
    try:
        services.send_lockout_notice(user, utcnow() + timedelta(minutes=5))
    finally:
        app.extensions["passport.mail_transport"] = transport
    [event] = events("mail.sent")
    assert event.outcome == "failure"


def test_unlock_clears_the_lockout(app: Flask) -> None:
    user = make_user(failed_logins=5, lockouts=1, locked_until=utcnow() + timedelta(minutes=5))
    assert services.unlock_user(user.dni) is True
    db.session.refresh(user)
    assert (user.failed_logins, user.lockouts, user.locked_until) == (0, 0, None)
    assert len(events("user.unlocked")) == 1
    assert services.unlock_user(user.dni) is False


def test_disable_ends_sessions_and_kills_links_and_enable_restores(
    app: Flask, outbox: Outbox
) -> None:
    from passport.accounts.errors import InvalidLinkError
    from passport.accounts.links import resolve_link

    user = make_user()
    start_sso_session(user, ["pwd"])
    services.send_reset_mail(user)
    [link] = verification_links(outbox.links_in_last())
    assert services.disable_user(user.dni) is True
    db.session.refresh(user)
    assert user.status is UserStatus.DISABLED
    assert live_sessions(user) == 0
    with pytest.raises(InvalidLinkError):
        resolve_link(link.rsplit("/", 1)[1])
    assert services.disable_user(user.dni) is False
    assert services.enable_user(user.dni) is True
    db.session.refresh(user)
    assert user.status is UserStatus.ACTIVE
    assert services.enable_user(user.dni) is False
    assert [len(events(n)) for n in ("user.disabled", "user.enabled")] == [1, 1]


def test_enabling_a_user_without_password_makes_it_pending_again(app: Flask) -> None:
    user = make_user(password=None, status=UserStatus.DISABLED)
    services.enable_user(user.dni)
    db.session.refresh(user)
    assert user.status is UserStatus.PENDING


@pytest.mark.parametrize("dni", ["49999999", "abc"])
def test_status_changes_of_an_unknown_dni_fail(app: Flask, dni: str) -> None:
    for change in (services.unlock_user, services.disable_user, services.enable_user):
        with pytest.raises(UserNotFoundError):
            change(dni)
