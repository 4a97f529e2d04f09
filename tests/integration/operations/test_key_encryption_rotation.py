"""Rotating KEY_ENCRYPTION_KEY: the ``NEW,OLD`` list and ``passport keys reencrypt``."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from click.testing import Result
from cryptography.fernet import InvalidToken
from flask import Flask

from passport.extensions import db
from passport.mfa.models import TOTPCredential
from passport.mfa.totp import decrypt_secret
from passport.mfa.totp import encrypt_secret
from passport.oidc.errors import KeyDecryptionError
from passport.oidc.keys import ensure_keys
from passport.oidc.keys import invalidate_key_ring
from passport.oidc.keys import key_ring
from passport.oidc.models import SigningKey
from passport.operations.health import check_signing_key
from passport.security.crypto import TOTP_SECRETS
from passport.security.crypto import derive_fernet
from passport.security.crypto import key_materials
from tests.factories import make_user

OLD = "old-key-encryption-key-" + "o" * 24
NEW = "new-key-encryption-key-" + "n" * 24
STRANGER = "nobody-configured-this-" + "s" * 24
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
# Made by the single-key code before lists existed (main at c238e18), under this material.
PINNED_MATERIAL = "pinned-key-encryption-key-made-before-lists"
PINNED_TOTP_CIPHERTEXT = (
    "gAAAAABrFWHPRW479IspKIkIK9ZCzrBDAPWumMX_yaMPHjK40aMToUf7BonjOY88tvdoKtdmyAiUh7kG_WVGMJGHWWf"
    "JuD-KdjBDcbz5UnUdAoQ-Wqc-342aTqAvSttspr7T-fB1TKLY"
)


@pytest.fixture
def kek(app: Flask) -> Iterator[None]:
    """Restore KEY_ENCRYPTION_KEY (the app is shared by the session) and the key ring."""
    previous = app.config.get("KEY_ENCRYPTION_KEY")
    yield
    app.config["KEY_ENCRYPTION_KEY"] = previous
    invalidate_key_ring()


def _use(app: Flask, value: str | None) -> None:
    app.config["KEY_ENCRYPTION_KEY"] = value
    invalidate_key_ring()


def _reencrypt(app: Flask, *args: str) -> Result:
    from passport.cli import cli
    from passport.cli import register_groups

    register_groups()
    db.session.remove()  # the command's own session sees committed rows only
    return app.test_cli_runner().invoke(cli, ["keys", "reencrypt", *args])


def _stored() -> dict[str, list[str]]:
    with db.engine.connect() as connection:
        return {
            "signing_keys": list(
                connection.scalars(
                    sa.select(SigningKey.private_key_encrypted).order_by(SigningKey.id)
                )
            ),
            "totp_secrets": list(
                connection.scalars(
                    sa.select(TOTPCredential.secret_encrypted).order_by(TOTPCredential.id)
                )
            ),
        }


def _with_totp(app: Flask, material: str) -> int:
    """A user whose TOTP secret is encrypted under ``material`` alone (committed)."""
    _use(app, material)
    user = make_user()
    credential = TOTPCredential(user_id=user.id, secret_encrypted=encrypt_secret(SECRET))
    db.session.add(credential)
    db.session.commit()
    return credential.id


def test_a_ciphertext_made_before_lists_still_decrypts(app: Flask, kek: None) -> None:
    _use(app, PINNED_MATERIAL)
    assert decrypt_secret(PINNED_TOTP_CIPHERTEXT) == SECRET
    _use(app, f"{NEW},{PINNED_MATERIAL}")
    assert decrypt_secret(PINNED_TOTP_CIPHERTEXT) == SECRET


def test_key_materials_single_values_are_used_exactly(app: Flask, kek: None) -> None:
    _use(app, None)
    assert key_materials(app) == [app.config["SECRET_KEY"]]
    _use(app, "")
    assert key_materials(app) == [app.config["SECRET_KEY"]]
    _use(app, " spaced value ")  # no comma: exactly as before lists existed
    assert key_materials(app) == [" spaced value "]
    _use(app, f" {NEW} , {OLD} ,")
    assert key_materials(app) == [NEW, OLD]


def test_the_first_value_encrypts_and_every_value_decrypts(app: Flask, kek: None) -> None:
    _use(app, OLD)
    under_old = encrypt_secret(SECRET)
    _use(app, f"{NEW},{OLD}")
    assert decrypt_secret(under_old) == SECRET
    under_new = encrypt_secret(SECRET)
    _use(app, NEW)
    assert decrypt_secret(under_new) == SECRET
    with pytest.raises(InvalidToken):
        decrypt_secret(under_old)


def test_old_signing_keys_sign_after_the_list_change(app: Flask, kek: None) -> None:
    _use(app, OLD)
    ensure_keys()
    db.session.commit()
    _use(app, NEW)
    with pytest.raises(KeyDecryptionError):
        key_ring()
    assert check_signing_key(app) == "unreadable"
    _use(app, f"{NEW},{OLD}")
    assert key_ring().signing
    assert check_signing_key(app) == "ok"


def test_reencrypt_moves_everything_to_the_new_key_and_is_idempotent(app: Flask, kek: None) -> None:
    credential_id = _with_totp(app, OLD)
    ensure_keys()  # the first keys, under OLD
    db.session.commit()
    before = _stored()
    assert len(before["signing_keys"]) == 2

    _use(app, f"{NEW},{OLD}")
    result = _reencrypt(app, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "signing_keys": {"reencrypted": 2, "current": 0, "unreadable": 0},
        "totp_secrets": {"reencrypted": 1, "current": 0, "unreadable": 0},
    }
    after = _stored()
    assert all(a != b for a, b in zip(after["signing_keys"], before["signing_keys"], strict=True))

    # NEW alone now reads every row: signing, readiness and the second factor.
    _use(app, NEW)
    assert key_ring().signing
    assert check_signing_key(app) == "ok"
    credential = db.session.get(TOTPCredential, credential_id)
    assert credential is not None
    assert decrypt_secret(credential.secret_encrypted) == SECRET
    with pytest.raises(InvalidToken):
        derive_fernet(OLD, TOTP_SECRETS).decrypt(credential.secret_encrypted.encode())

    # A second run (with or without OLD still listed) changes nothing.
    for value in (f"{NEW},{OLD}", NEW):
        _use(app, value)
        again = _reencrypt(app, "--json")
        assert again.exit_code == 0, again.output
        assert json.loads(again.stdout) == {
            "signing_keys": {"reencrypted": 0, "current": 2, "unreadable": 0},
            "totp_secrets": {"reencrypted": 0, "current": 1, "unreadable": 0},
        }
        assert _stored() == after


def test_reencrypt_prints_counts_without_json(app: Flask, kek: None) -> None:
    _with_totp(app, OLD)
    _use(app, f"{NEW},{OLD}")
    result = _reencrypt(app)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "signing_keys: 0 re-encrypted, 0 already current",
        "totp_secrets: 1 re-encrypted, 0 already current",
    ]


def test_a_value_no_key_opens_fails_and_leaves_its_table_unchanged(app: Flask, kek: None) -> None:
    _with_totp(app, OLD)  # readable, yet left as it was
    lost = _with_totp(app, STRANGER)
    _use(app, OLD)
    ensure_keys()
    db.session.commit()
    before = _stored()

    _use(app, f"{NEW},{OLD}")
    result = _reencrypt(app, "--json")
    assert result.exit_code == 1
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("passport: ")
    assert line.endswith(f"totp_secrets id {lost} (table unchanged)")  # only the lost row
    assert "signing_keys" not in line
    after = _stored()
    # The TOTP table is untouched, even its readable row; the signing keys moved.
    assert after["totp_secrets"] == before["totp_secrets"]
    assert all(a != b for a, b in zip(after["signing_keys"], before["signing_keys"], strict=True))
    _use(app, NEW)
    assert key_ring().signing
