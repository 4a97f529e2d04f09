"""Rows of the second factor: the TOTP credential, recovery codes, pending second steps."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy import LargeBinary
from sqlalchemy import String
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from passport.database import Base
from passport.database import utcnow


class TOTPCredential(Base):
    """A user's authenticator-app secret, encrypted at rest; one per user."""

    __tablename__ = "totp_credentials"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    # Fernet ciphertext of the base32 secret (passport.mfa.totp, own key: passport.security.crypto).
    secret_encrypted: Mapped[str] = mapped_column(String(255))
    # None while the enrolment waits for its first code: an unconfirmed secret is not a factor.
    confirmed_at: Mapped[datetime | None]
    # The last accepted 30-second step: a code of that step or an earlier one is refused.
    last_used_step: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RecoveryCode(Base):
    """A single-use code that stands in for a TOTP code; only its SHA-256 is kept."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None]


class SecondFactorChallenge(Base):
    """A sign-in whose password passed, waiting for the second factor (single use).

    The browser holds the secret (in Flask's signed session); the row keeps its SHA-256.
    The row is deleted when the second step succeeds, expires or runs out of attempts.
    """

    __tablename__ = "second_factor_challenges"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # Where to resume: a pending OIDC request (wins) or a local URL.
    authz_id: Mapped[str | None] = mapped_column(String(128))
    next_url: Mapped[str | None] = mapped_column(String(2000))
    client_id: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class EnrolmentLink(Base):
    """A one-time link an admin must open to enrol TOTP (only its SHA-256 is kept).

    Granting admin rights mails it to the admin's verified address: knowing the password is
    not enough to put the console's second factor on the account.
    """

    __tablename__ = "totp_enrolment_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None]


class Passkey(Base):
    """A registered WebAuthn credential (a passkey) and what we know of its use."""

    __tablename__ = "passkeys"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    credential_id: Mapped[bytes] = mapped_column(LargeBinary(1023), unique=True)
    # The COSE-encoded public key, as the authenticator gave it (verified by py_webauthn).
    public_key: Mapped[bytes] = mapped_column(LargeBinary(2048))
    sign_count: Mapped[int] = mapped_column(default=0)
    # The authenticator model's AAGUID (hex, 32 chars); all zeros when it does not say.
    aaguid: Mapped[str] = mapped_column(String(32), default="0" * 32)
    name: Mapped[str] = mapped_column(String(64))
    # The RP id it was made for: a passkey of another host cannot be used here.
    rp_id: Mapped[str] = mapped_column(String(253))
    backed_up: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
