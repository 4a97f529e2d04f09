"""Rows of the passkeys capability: credentials, the per-user handle, pending challenges."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy import LargeBinary
from sqlalchemy import String
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from passport.database import Base
from passport.database import utcnow

# The credential itself is a second factor's record, kept with the others in mfa (below login,
# which asks whether a person has one); re-exported here for this package's modules.
from passport.mfa.models import Passkey

__all__ = ["ChallengePurpose", "Passkey", "PasskeyChallenge", "PasskeyUserHandle"]


class PasskeyUserHandle(Base):
    """The opaque WebAuthn user handle of a person: random bytes, never the DNI; one per user.

    Authenticators keep it with the credential and return it with every discoverable
    assertion, so it must say nothing about the person (WebAuthn §14.6.1).
    """

    __tablename__ = "passkey_user_handles"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    handle: Mapped[bytes] = mapped_column(LargeBinary(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ChallengePurpose(enum.StrEnum):
    """What a WebAuthn challenge was issued for; a challenge serves only its purpose."""

    REGISTER = "register"
    SIGN_IN = "sign_in"
    STEP_UP = "step_up"


class PasskeyChallenge(Base):
    """A challenge handed to a browser, kept server-side so it can be used once only.

    Only its SHA-256 is stored: the row proves a challenge was ours without keeping it.
    """

    __tablename__ = "passkey_challenges"

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(16))
    # Set for registration and step-up (a signed-in person); None for the sign-in page.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
