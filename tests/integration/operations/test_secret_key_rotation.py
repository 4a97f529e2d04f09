"""Rotating SECRET_KEY with SECRET_KEY_FALLBACKS: what the old value signed still verifies."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from flask import Flask
from flask import Response
from flask_wtf.csrf import generate_csrf
from flask_wtf.csrf import validate_csrf
from wtforms.validators import ValidationError

from passport.accounts.errors import InvalidLinkError
from passport.accounts.links import LinkPurpose
from passport.accounts.links import issue_link
from passport.accounts.links import resolve_link
from passport.captcha.providers import ImageCaptchaProvider
from passport.extensions import db
from passport.login.sessions import _cookie_secret
from passport.login.sessions import start_sso_session
from passport.mfa.models import TOTPCredential
from passport.mfa.totp import decrypt_secret
from passport.mfa.totp import encrypt_secret
from passport.security.app_secret import init_app_secret
from passport.security.app_secret import secret_keys
from passport.security.crypto import key_materials
from tests.factories import make_user

OLD = "old-secret-key-" + "o" * 32
NEW = "new-secret-key-" + "n" * 32


@pytest.fixture
def rotation(app: Flask) -> Iterator[None]:
    """Start under OLD; restore the shared app's settings afterwards."""
    names = ("SECRET_KEY", "SECRET_KEY_FALLBACKS", "WTF_CSRF_SECRET_KEY", "KEY_ENCRYPTION_KEY")
    saved = {name: app.config[name] for name in names if name in app.config}
    app.config.update(SECRET_KEY=OLD, SECRET_KEY_FALLBACKS=(), KEY_ENCRYPTION_KEY=None)
    yield
    for name in names:
        app.config.pop(name, None)
    app.config.update(saved)


def _rotate(app: Flask, *, keep_old: bool) -> None:
    app.config.update(SECRET_KEY=NEW, SECRET_KEY_FALLBACKS=(OLD,) if keep_old else ())


def test_secret_keys_order_and_materials(app: Flask, rotation: None) -> None:
    _rotate(app, keep_old=True)
    assert secret_keys(app) == [OLD, NEW]  # itsdangerous: the last one signs
    assert key_materials(app) == [NEW, OLD]  # Fernet: the first one encrypts
    app.config["KEY_ENCRYPTION_KEY"] = "kek"
    assert key_materials(app) == ["kek"]  # an explicit value ignores the app secret


@pytest.mark.parametrize("keep_old", [True, False])
def test_sso_cookie_signed_by_the_old_secret(app: Flask, rotation: None, keep_old: bool) -> None:
    name = app.config["SSO_COOKIE_NAME"]
    with app.test_request_context("/"):
        start_sso_session(make_user(), ["pwd"])
        response = app.process_response(Response())
    db.session.commit()
    cookie = next(
        c.split(";")[0] for c in response.headers.getlist("Set-Cookie") if c.startswith(name + "=")
    )
    _rotate(app, keep_old=keep_old)
    with app.test_request_context("/", headers={"Cookie": cookie}):
        assert (_cookie_secret() is not None) is keep_old


@pytest.mark.parametrize("keep_old", [True, False])
def test_password_link_signed_by_the_old_secret(app: Flask, rotation: None, keep_old: bool) -> None:
    user = make_user(password=None)
    with app.test_request_context("/"):
        token = issue_link(user, LinkPurpose.ACTIVATION).rsplit("/", 1)[1]
    db.session.commit()
    _rotate(app, keep_old=keep_old)
    if keep_old:
        assert resolve_link(token) == (user, LinkPurpose.ACTIVATION)
    else:
        with pytest.raises(InvalidLinkError):
            resolve_link(token)


@pytest.mark.parametrize("keep_old", [True, False])
def test_captcha_drawn_under_the_old_secret(app: Flask, rotation: None, keep_old: bool) -> None:
    provider = ImageCaptchaProvider(
        alphabet="ABCD", length=4, ttl_seconds=300, width=160, height=60, test_answer="ABCD"
    )
    with app.test_request_context("/"):
        provider._store("ABCD")
        db.session.commit()
        _rotate(app, keep_old=keep_old)
        assert provider.check("ABCD") is keep_old


@pytest.mark.parametrize("keep_old", [True, False])
def test_csrf_token_made_under_the_old_secret(app: Flask, rotation: None, keep_old: bool) -> None:
    with app.test_request_context("/"):
        app.config.pop("WTF_CSRF_SECRET_KEY", None)  # Flask-WTF then signs with SECRET_KEY
        token = generate_csrf()
        _rotate(app, keep_old=keep_old)
        init_app_secret(app)  # what create_app does with the rotated settings
        if keep_old:
            assert app.config["WTF_CSRF_SECRET_KEY"] == [OLD, NEW]
            validate_csrf(token)
        else:
            with pytest.raises(ValidationError):
                validate_csrf(token)


def test_keys_at_rest_follow_the_secret_and_reencrypt_to_the_new_one(
    app: Flask, rotation: None
) -> None:
    from passport.cli import cli
    from passport.cli import register_groups

    user = make_user()
    db.session.add(TOTPCredential(user_id=user.id, secret_encrypted=encrypt_secret("A" * 32)))
    db.session.commit()
    _rotate(app, keep_old=True)
    stored = db.session.scalar(db.select(TOTPCredential.secret_encrypted))
    assert decrypt_secret(stored) == "A" * 32
    register_groups()
    db.session.remove()
    result = app.test_cli_runner().invoke(cli, ["keys", "reencrypt", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["totp_secrets"]["reencrypted"] == 1
    _rotate(app, keep_old=False)
    stored = db.session.scalar(db.select(TOTPCredential.secret_encrypted))
    assert decrypt_secret(stored) == "A" * 32
