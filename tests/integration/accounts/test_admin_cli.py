"""``passport users grant-admin`` and ``revoke-admin``."""

from __future__ import annotations

import json

from flask import Flask

from passport.accounts.models import User
from passport.extensions import db
from tests.factories import make_user
from tests.integration.accounts.test_cli import run


def test_grant_a_ugel_admin_then_revoke(app: Flask) -> None:
    user = make_user(email_verified=True)
    result = run(app, "grant-admin", user.dni, "--ugel", "UGEL 03", "--reason", "RD 12", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {
        "dni": user.dni,
        "is_admin": True,
        "dre": None,
        "ugel": "UGEL 03",
    }
    db.session.expire_all()
    assert db.session.get(User, user.id).admin_ugel == "UGEL 03"  # type: ignore[union-attr]

    result = run(app, "revoke-admin", user.dni)
    assert result.exit_code == 0
    assert result.output.strip() == f"user {user.dni} is no longer an admin"
    result = run(app, "revoke-admin", user.dni, "--json")
    assert json.loads(result.output)["changed"] is False


def test_grant_national_admin_says_so(app: Flask) -> None:
    user = make_user(email_verified=True)
    result = run(app, "grant-admin", user.dni)
    assert result.output.strip() == f"user {user.dni} is now an admin (national)"


def test_grant_admin_to_an_unknown_dni_fails_in_one_line(app: Flask) -> None:
    result = run(app, "grant-admin", "99999999")
    assert result.exit_code == 1
    assert result.output.strip() == "passport: no user has DNI 99999999"


def test_grant_admin_with_a_bad_territory_fails_in_one_line(app: Flask) -> None:
    user = make_user(email_verified=True)
    result = run(app, "grant-admin", user.dni, "--dre", "x" * 200)
    assert result.exit_code == 1
    assert result.output.count("\n") == 1
    assert "invalid user data: dre" in result.output
