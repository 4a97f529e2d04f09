"""TOTP enrolment and verification: window, replay, recovery codes, encryption at rest."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest
import time_machine
from flask import Flask
from sqlalchemy import select

from passport.accounts.models import User
from passport.audit.models import AuditEvent
from passport.audit.services import Actor
from passport.database import utcnow
from passport.extensions import db
from passport.mfa import services
from passport.mfa.errors import InvalidCode
from passport.mfa.errors import InvalidPassword
from passport.mfa.models import RecoveryCode
from passport.mfa.models import TOTPCredential
from passport.mfa.recovery import hash_recovery_code
from passport.mfa.totp import STEP_SECONDS
from tests.factories import DEFAULT_PASSWORD
from tests.factories import make_user

INFO = Actor(ip_address="203.0.113.5", user_agent="pytest")
STEP = timedelta(seconds=STEP_SECONDS)


def enrol(user: User) -> tuple[str, list[str]]:
    """Switch TOTP on for ``user``; return the secret and the recovery codes."""
    enrolment = services.start_enrolment(user)
    codes = services.confirm_enrolment(
        user, pyotp.TOTP(enrolment.secret).now(), INFO, password=DEFAULT_PASSWORD
    )
    return enrolment.secret, codes


def test_an_unconfirmed_enrolment_is_not_a_second_factor(app: Flask) -> None:
    user = make_user()
    enrolment = services.start_enrolment(user)
    assert enrolment.uri.startswith("otpauth://totp/")
    assert "secret=" + enrolment.secret in enrolment.uri
    assert services.user_has_totp(user.id) is False
    assert services.start_enrolment(user).secret == enrolment.secret  # reload keeps it


def test_the_secret_is_stored_encrypted(app: Flask) -> None:
    user = make_user()
    secret, _ = enrol(user)
    stored = db.session.scalar(select(TOTPCredential.secret_encrypted))
    assert stored is not None
    assert secret not in stored
    assert services.user_has_totp(user.id) is True


def test_a_wrong_first_code_does_not_switch_totp_on(app: Flask) -> None:
    user = make_user()
    services.start_enrolment(user)
    with pytest.raises(InvalidCode):
        services.confirm_enrolment(user, "000000x", INFO, password=DEFAULT_PASSWORD)
    assert services.user_has_totp(user.id) is False


def test_codes_one_step_either_side_are_accepted_and_two_are_not(app: Flask) -> None:
    user = make_user()
    secret, _ = enrol(user)
    totp = pyotp.TOTP(secret)
    later = utcnow() + timedelta(minutes=10)
    check = services.check_second_factor
    assert check(user, totp.at(later - STEP), INFO, later) == "otp"
    with pytest.raises(InvalidCode):
        check(user, totp.at(later - 3 * STEP), INFO, later)
    with pytest.raises(InvalidCode):
        check(user, totp.at(later + 3 * STEP), INFO, later)
    assert check(user, totp.at(later + STEP), INFO, later) == "otp"


def test_a_code_cannot_be_used_twice(app: Flask) -> None:
    user = make_user()
    secret, _ = enrol(user)
    later = utcnow() + timedelta(minutes=5)
    code = pyotp.TOTP(secret).at(later)
    assert services.check_second_factor(user, code, INFO, later) == "otp"
    db.session.commit()
    with pytest.raises(InvalidCode):
        services.check_second_factor(user, code, INFO, later)
    # Nor the code of an earlier step, once a later one was used.
    with pytest.raises(InvalidCode):
        services.check_second_factor(user, pyotp.TOTP(secret).at(later - STEP), INFO, later)


def test_the_enrolment_code_cannot_be_replayed(app: Flask) -> None:
    user = make_user()
    enrolment = services.start_enrolment(user)
    code = pyotp.TOTP(enrolment.secret).now()
    services.confirm_enrolment(user, code, INFO, password=DEFAULT_PASSWORD)
    with pytest.raises(InvalidCode):
        services.check_second_factor(user, code, INFO)


def test_recovery_codes_are_hashed_and_single_use(app: Flask) -> None:
    user = make_user()
    _, codes = enrol(user)
    assert len(codes) == 10
    assert len(set(codes)) == 10
    stored = set(db.session.scalars(select(RecoveryCode.code_hash)))
    assert stored == {hash_recovery_code(code) for code in codes}
    assert not any(code in stored for code in codes)
    assert services.check_second_factor(user, codes[0].lower(), INFO) == "recovery_code"
    db.session.commit()
    with pytest.raises(InvalidCode):
        services.check_second_factor(user, codes[0], INFO)
    assert services.check_second_factor(user, codes[1].replace("-", ""), INFO) == "recovery_code"
    db.session.commit()
    events = list(db.session.scalars(select(AuditEvent.event)))
    assert events.count("mfa.recovery_code_used") == 2


def test_regenerating_recovery_codes_kills_the_old_ones(app: Flask) -> None:
    user = make_user()
    secret, old = enrol(user)
    with time_machine.travel(utcnow() + timedelta(minutes=2), tick=False):
        new = services.regenerate_recovery_codes(user, pyotp.TOTP(secret).now(), INFO)
    assert set(new).isdisjoint(old)
    with pytest.raises(InvalidCode):
        services.check_second_factor(user, old[0], INFO)
    assert services.check_second_factor(user, new[0], INFO) == "recovery_code"


def test_disabling_needs_the_password_and_a_code(app: Flask) -> None:
    user = make_user()
    secret, _ = enrol(user)
    with time_machine.travel(utcnow() + timedelta(minutes=2), tick=False):
        with pytest.raises(InvalidPassword):
            services.disable_totp(user, "wrong password", pyotp.TOTP(secret).now(), INFO)
        with pytest.raises(InvalidCode):
            services.disable_totp(user, DEFAULT_PASSWORD, "123", INFO)
        assert services.user_has_totp(user.id)
        services.disable_totp(user, DEFAULT_PASSWORD, pyotp.TOTP(secret).now(), INFO)
    assert services.user_has_totp(user.id) is False
    assert db.session.scalar(select(RecoveryCode.id)) is None
    events = [
        (e.event, e.outcome) for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))
    ]
    assert ("mfa.totp_enabled", "success") in events
    assert ("mfa.totp_disabled", "failure") in events
    assert ("mfa.totp_disabled", "success") in events


def test_audit_details_never_hold_a_secret_or_code(app: Flask) -> None:
    user = make_user()
    secret, codes = enrol(user)
    services.check_second_factor(user, codes[0], INFO)
    db.session.commit()
    dumped = repr([(e.details, e.event) for e in db.session.scalars(select(AuditEvent))])
    assert secret not in dumped
    assert codes[0] not in dumped
    assert hash_recovery_code(codes[0]) not in dumped
