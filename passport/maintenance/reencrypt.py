"""``passport keys reencrypt``: move every ciphertext at rest to the first key material.

After ``KEY_ENCRYPTION_KEY=NEW,OLD`` is on every host, this re-encrypts each stored value that
the first (NEW) key cannot read yet (``MultiFernet.rotate``), so OLD can then be removed. One
transaction per table; a value that no key opens leaves its whole table untouched. A value
already under NEW is skipped, so a second run changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from typing import Any

from cryptography.fernet import InvalidToken
from flask import current_app
from sqlalchemy import select
from sqlalchemy import update

from passport.extensions import db
from passport.mfa.models import TOTPCredential
from passport.oidc.models import SigningKey
from passport.security.crypto import SIGNING_KEYS
from passport.security.crypto import TOTP_SECRETS
from passport.security.crypto import fernet_for
from passport.security.crypto import is_current

# Every column encrypted with passport.security.crypto: (report name, model, column, purpose).
ENCRYPTED_COLUMNS: tuple[tuple[str, type[Any], str, bytes], ...] = (
    ("signing_keys", SigningKey, "private_key_encrypted", SIGNING_KEYS),
    ("totp_secrets", TOTPCredential, "secret_encrypted", TOTP_SECRETS),
)


@dataclass
class TableResult:
    """What happened to one table's ciphertexts."""

    reencrypted: int = 0  # moved to the first key
    current: int = 0  # already under the first key, left alone
    unreadable: list[Any] = field(default_factory=list)  # ids no key opens (table unchanged)

    def as_dict(self) -> dict[str, int]:
        return {
            "reencrypted": self.reencrypted,
            "current": self.current,
            "unreadable": len(self.unreadable),
        }


def reencrypt_table(model: type[Any], column_name: str, purpose: bytes) -> TableResult:
    """Re-encrypt one table's column under the first key, all or nothing (commits)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    id_column, column = model.id, getattr(model, column_name)
    cipher = fernet_for(app, purpose)
    result = TableResult()
    try:
        rows = db.session.execute(select(id_column, column).order_by(id_column)).all()
        for row_id, token in rows:
            if is_current(app, purpose, token):
                result.current += 1
                continue
            try:
                rotated = cipher.rotate(token.encode("ascii")).decode("ascii")
            except (InvalidToken, ValueError):
                result.unreadable.append(row_id)
                continue
            # Compare-and-set: a value replaced meanwhile (a new enrolment, written by an
            # instance already on NEW,OLD) is left alone and counted as current.
            changed = db.session.execute(
                update(model)
                .where(id_column == row_id, column == token)
                .values({column_name: rotated})
                .execution_options(synchronize_session=False)
            )
            if getattr(changed, "rowcount", 1) == 1:
                result.reencrypted += 1
            else:
                result.current += 1
        if result.unreadable:
            db.session.rollback()
            result.reencrypted = 0
        else:
            db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return result


def reencrypt_all() -> dict[str, TableResult]:
    """Every encrypted table, each in its own transaction."""
    return {
        name: reencrypt_table(model, column_name, purpose)
        for name, model, column_name, purpose in ENCRYPTED_COLUMNS
    }
