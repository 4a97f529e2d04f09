"""TOTP secrets have their own key; migration 0013 re-encrypts the stored ones to it."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest
import sqlalchemy as sa
from cryptography.fernet import InvalidToken
from flask import Flask
from flask_migrate import downgrade
from flask_migrate import upgrade

from passport.database import utcnow
from passport.extensions import db
from passport.mfa.totp import decrypt_secret
from passport.mfa.totp import encrypt_secret
from passport.mfa.totp import new_secret
from passport.security.crypto import SIGNING_KEYS
from passport.security.crypto import TOTP_SECRETS
from passport.security.crypto import fernet_for
from tests.factories import make_user


def _migration(app: Flask) -> ModuleType:
    folder = Path(app.extensions["migrate"].directory) / "versions"
    (path,) = folder.glob("*_totp_secrets_own_key.py")
    spec = importlib.util.spec_from_file_location("totp_key_migration", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _stored(user_id: int) -> str:
    return db.session.scalar(
        sa.text("SELECT secret_encrypted FROM totp_credentials WHERE user_id = :id"),
        {"id": user_id},
    )


def test_totp_secrets_and_signing_keys_have_different_keys(app: Flask) -> None:
    secret = new_secret()
    stored = encrypt_secret(secret)
    assert fernet_for(app, TOTP_SECRETS).decrypt(stored.encode()).decode() == secret
    with pytest.raises(InvalidToken):
        fernet_for(app, SIGNING_KEYS).decrypt(stored.encode())


def test_migration_reencrypts_stored_secrets_and_back(app: Flask) -> None:
    migration = _migration(app)
    user = make_user()
    user_id = user.id
    db.session.commit()
    db.session.remove()
    secret = new_secret()
    old_cipher = fernet_for(app, SIGNING_KEYS)
    try:
        downgrade(revision=migration.down_revision)
        with db.engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO totp_credentials (user_id, secret_encrypted, created_at) "
                    "VALUES (:user_id, :value, :now)"
                ),
                {
                    "user_id": user_id,
                    "value": old_cipher.encrypt(secret.encode()).decode(),
                    "now": utcnow(),
                },
            )
        upgrade(revision=migration.revision)
        moved = _stored(user_id)
        assert decrypt_secret(moved) == secret
        with pytest.raises(InvalidToken):
            old_cipher.decrypt(moved.encode())
        db.session.remove()

        downgrade(revision=migration.down_revision)
        assert old_cipher.decrypt(_stored(user_id).encode()).decode() == secret
        db.session.remove()
    finally:
        upgrade()
    assert decrypt_secret(_stored(user_id)) == secret


def test_migration_stops_on_a_secret_it_cannot_read(app: Flask) -> None:
    migration = _migration(app)
    readable, unreadable = make_user(), make_user()
    ids = (readable.id, unreadable.id)
    db.session.commit()
    db.session.remove()
    stored = fernet_for(app, SIGNING_KEYS).encrypt(new_secret().encode()).decode()
    try:
        downgrade(revision=migration.down_revision)
        with db.engine.begin() as connection:
            for user_id, value in zip(ids, (stored, "not-a-fernet-token"), strict=True):
                connection.execute(
                    sa.text(
                        "INSERT INTO totp_credentials (user_id, secret_encrypted, created_at) "
                        "VALUES (:user_id, :value, :now)"
                    ),
                    {"user_id": user_id, "value": value, "now": utcnow()},
                )
        with pytest.raises(SystemExit):  # Flask-Migrate logs the error and exits
            upgrade(revision=migration.revision)
        # Nothing was rewritten: the readable secret still has its old ciphertext.
        assert _stored(ids[0]) == stored
    finally:
        db.session.remove()
        with db.engine.begin() as connection:
            connection.execute(sa.text("DELETE FROM totp_credentials"))
        upgrade()
