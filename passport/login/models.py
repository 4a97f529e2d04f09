"""The browser's single sign-on session: one server-side row per signed-in browser."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import JSON
from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from passport.accounts.models import User
from passport.database import Base
from passport.database import utcnow


def new_sid() -> str:
    """A random public session id (the OIDC ``sid`` claim); never the cookie secret."""
    return secrets.token_urlsafe(24)


class SSOSession(Base):
    """A signed-in browser. The cookie holds a secret whose SHA-256 is ``token_hash``."""

    __tablename__ = "sso_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    sid: Mapped[str] = mapped_column(String(64), unique=True, default=new_sid)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    user: Mapped[User] = relationship(lazy="joined")
    auth_time: Mapped[datetime] = mapped_column(default=utcnow)
    amr: Mapped[list[str]] = mapped_column(JSON, default=list)
    acr: Mapped[str | None] = mapped_column(String(64))
    ip_address: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Absolute end (SSO_ABSOLUTE_TIMEOUT_HOURS after sign-in); idle expiry is computed.
    expires_at: Mapped[datetime] = mapped_column(index=True)  # indexed for the purge
    ended_at: Mapped[datetime | None] = mapped_column(index=True)
    end_reason: Mapped[str | None] = mapped_column(String(32))

    def __repr__(self) -> str:
        return f"<SSOSession {self.id} user={self.user_id}>"
