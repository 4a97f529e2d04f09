"""One TOTP code or one recovery code used in parallel on PostgreSQL: exactly one succeeds."""

from __future__ import annotations

import os
from datetime import timedelta

import pyotp
import pytest
from flask import Flask

from passport.accounts.models import User
from passport.audit.services import Actor
from passport.database import utcnow
from passport.extensions import db
from passport.mfa.challenges import complete_challenge
from passport.mfa.challenges import start_challenge
from passport.mfa.errors import ChallengeExpired
from passport.mfa.errors import InvalidCode
from passport.mfa.services import check_second_factor
from tests.factories import make_user
from tests.integration.accounts.test_races import in_parallel
from tests.integration.mfa.conftest import enrol

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(
        not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
        reason="row locks and concurrent transactions need PostgreSQL",
    ),
]
INFO = Actor(ip_address="127.0.0.1")


def test_one_totp_code_used_in_parallel_is_accepted_once(app: Flask) -> None:
    user = make_user()
    secret, _ = enrol(user)
    later = utcnow() + timedelta(minutes=2)
    code = pyotp.TOTP(secret).at(later)
    user_id = user.id

    def use(index: int) -> str:
        try:
            check_second_factor(db.session.get(User, user_id), code, INFO, later)
            db.session.commit()
        except InvalidCode:
            db.session.rollback()
            return "refused"
        finally:
            db.session.remove()
        return "accepted"

    assert sorted(in_parallel(app, use)) == ["accepted"] + ["refused"] * 5


def test_one_second_step_used_in_parallel_signs_in_once(app: Flask) -> None:
    user = make_user()
    _, codes = enrol(user)
    token = start_challenge(user, None, None, None)

    def use(index: int) -> str:
        try:
            complete_challenge(token, codes[index], INFO)
        except (ChallengeExpired, InvalidCode):
            db.session.rollback()
            return "refused"
        finally:
            db.session.remove()
        return "signed in"

    assert sorted(in_parallel(app, use)) == ["refused"] * 5 + ["signed in"]
