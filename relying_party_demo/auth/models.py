"""The local browser session: server-side, found by the hash of the cookie's random id."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from relying_party_demo.auth.sealing import seal
from relying_party_demo.auth.sealing import unseal
from relying_party_demo.database import Base
from relying_party_demo.database import utcnow


class LocalSession(Base):
    """One browser's session; signed in once ``subject`` is set.

    The cookie carries only a random id; the row is found by its SHA-256, so a database
    leak does not hand out live cookies. Tokens stay here, never in the browser, and only
    sealed (sealing.py): ``id_token`` and ``refresh_token`` read and write the sealed columns.
    """

    __tablename__ = "local_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Flask's session dict (Authlib's state/nonce/PKCE verifier, the CSRF token).
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    subject: Mapped[str | None] = mapped_column(String(255), index=True)
    dni: Mapped[str | None] = mapped_column(String(8), index=True)
    given_name: Mapped[str | None] = mapped_column(String(120))
    family_name: Mapped[str | None] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(254))
    # Passport's session id (OIDC Front/Back-Channel Logout "sid" claim).
    sid: Mapped[str | None] = mapped_column(String(255), index=True)
    sealed_id_token: Mapped[str | None] = mapped_column(Text)
    sealed_refresh_token: Mapped[str | None] = mapped_column(Text)
    # The access token itself is not kept (AYNI calls no API with it); its expiry says when
    # to refresh, which is how AYNI learns that the Passport session ended.
    access_token_expires_at: Mapped[datetime | None]
    authenticated_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)

    @property
    def id_token(self) -> str | None:
        """The ID token (for ``id_token_hint`` at logout)."""
        return unseal(self.sealed_id_token)

    @id_token.setter
    def id_token(self, token: str | None) -> None:
        self.sealed_id_token = seal(token)

    @property
    def refresh_token(self) -> str | None:
        """The refresh token."""
        return unseal(self.sealed_refresh_token)

    @refresh_token.setter
    def refresh_token(self, token: str | None) -> None:
        self.sealed_refresh_token = seal(token)

    @property
    def is_signed_in(self) -> bool:
        """True once Passport has authenticated this browser."""
        return self.subject is not None and self.dni is not None

    @property
    def display_name(self) -> str:
        """Names as Passport gave them, for the header."""
        return " ".join(part for part in (self.given_name, self.family_name) if part)
