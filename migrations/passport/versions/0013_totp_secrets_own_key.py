"""TOTP secrets get their own encryption key

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 13:00:00

TOTP secrets were encrypted with the key of the oidc signing keys (HKDF info "passport
signing keys v1"); each purpose now derives its own (passport/security/crypto.py). Every
stored secret is decrypted with the old key and encrypted with the new one ("passport totp
secrets v1"); the downgrade does the reverse. Both keys come from KEY_ENCRYPTION_KEY, or
SECRET_KEY when unset, as the running app reads them: run it with the deployment's settings.

The derivation is written out here, not imported: a migration must keep doing what it did
when it was written, whatever the code becomes.
"""

import base64

import sqlalchemy as sa
from alembic import op
from cryptography.fernet import Fernet
from cryptography.fernet import InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

# revision identifiers, used by Alembic.
revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

OLD_INFO = b"passport signing keys v1"
NEW_INFO = b"passport totp secrets v1"


def _cipher(info):
    material = current_app.config.get("KEY_ENCRYPTION_KEY") or current_app.config["SECRET_KEY"]
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(
        str(material).encode("utf-8")
    )
    return Fernet(base64.urlsafe_b64encode(derived))


def _reencrypt(source_info, target_info):
    source, target = _cipher(source_info), _cipher(target_info)
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, secret_encrypted FROM totp_credentials")).all()
    secrets = {}
    # Every secret is read before any is written: one that does not decrypt stops the
    # migration with nothing changed (SQLite runs it outside a transaction).
    for row_id, encrypted in rows:
        try:
            secrets[row_id] = source.decrypt(encrypted.encode("ascii"))
        except InvalidToken:
            raise RuntimeError(
                f"TOTP secret {row_id} does not decrypt with KEY_ENCRYPTION_KEY/SECRET_KEY: "
                "run the migration with the deployment's settings"
            ) from None
    for row_id, secret in secrets.items():
        bind.execute(
            sa.text("UPDATE totp_credentials SET secret_encrypted = :value WHERE id = :id"),
            {"value": target.encrypt(secret).decode("ascii"), "id": row_id},
        )


def upgrade():
    _reencrypt(OLD_INFO, NEW_INFO)


def downgrade():
    _reencrypt(NEW_INFO, OLD_INFO)
