"""Helpers for the console tests: sign a browser in as an admin (with or without TOTP)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from passport.accounts.models import User
from tests.factories import make_user
from tests.helpers import csrf_in
from tests.helpers import start_session


def sign_in(app: Flask, client: FlaskClient, user: User, amr: list[str]) -> int:
    """Start an SSO session for ``user`` with ``amr``, give ``client`` its cookie; its id."""
    from sqlalchemy import select

    from passport.extensions import db
    from passport.login.models import SSOSession

    sid = start_session(app, client, user, amr)
    session_id = db.session.scalar(select(SSOSession.id).where(SSOSession.sid == sid))
    assert session_id is not None
    return session_id


def enrol_totp(user: User) -> None:
    """Give ``user`` a confirmed TOTP credential (the secret is irrelevant to the console)."""
    from passport.database import utcnow
    from passport.extensions import db
    from passport.mfa.models import TOTPCredential
    from passport.mfa.totp import encrypt_secret
    from passport.mfa.totp import new_secret

    db.session.add(
        TOTPCredential(
            user_id=user.id, secret_encrypted=encrypt_secret(new_secret()), confirmed_at=utcnow()
        )
    )
    db.session.commit()


def confirm_import(client: FlaskClient, preview: TestResponse) -> TestResponse:
    """Post the confirmation form of a CSV import's preview page."""
    page = preview.get_data(as_text=True)
    action = re.search(r'action="(/admin/usuarios/importar/[^"]+/confirmar)"', page)
    assert action, "no confirmation form"
    response = client.post(action.group(1), data={"csrf_token": csrf_in(page)})
    response.close()  # runs the after-response mail drain, as a server does
    return response


@pytest.fixture
def make_admin(app: Flask) -> Callable[..., User]:
    """An active admin with TOTP switched on (national unless scope columns are given)."""

    def build(**overrides: Any) -> User:
        user = make_user(is_admin=True, **overrides)
        enrol_totp(user)
        return user

    return build


@pytest.fixture
def admin(make_admin: Callable[..., User]) -> User:
    return make_admin(given_name="Ana María", family_name="Torres Ríos")


@pytest.fixture
def admin_client(app: Flask, admin: User) -> FlaskClient:
    """A browser signed in as ``admin`` with the second factor proven."""
    client = app.test_client()
    sign_in(app, client, admin, ["pwd", "otp"])
    return client
