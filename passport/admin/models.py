"""Tables of the admin console: the admin idle clock of each SSO session, staged imports."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import JSON
from sqlalchemy import ForeignKey
from sqlalchemy import LargeBinary
from sqlalchemy import String
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from passport.database import Base
from passport.database import utcnow


def new_import_token() -> str:
    """A random, unguessable name for an upload (it appears in URLs)."""
    return secrets.token_urlsafe(16)


class AdminActivity(Base):
    """When an SSO session last used the console (server-side: a client cannot reset it).

    The admin idle timeout (``ADMIN_IDLE_TIMEOUT_MINUTES``) is shorter than the SSO one; a
    session idle past it loses its second factor and must step up again.
    """

    __tablename__ = "admin_activity"

    sso_session_id: Mapped[int] = mapped_column(
        ForeignKey("sso_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    # None: the second factor was dropped here and must be proven again (see guard.py).
    last_seen_at: Mapped[datetime | None] = mapped_column(default=utcnow)


class UserImport(Base):
    """A CSV uploaded to the console: previewed, then confirmed (or forgotten).

    The file is kept only between the preview and the confirmation (at most
    ``ADMIN_IMPORT_TTL_MINUTES``), then ``content`` is cleared; ``report`` keeps the counts.
    Its ``token`` names the import in URLs and its queued mails (``OutgoingMail.batch``).
    """

    __tablename__ = "user_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(32), unique=True, default=new_import_token)
    actor_user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(255))
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    reason: Mapped[str | None] = mapped_column(String(500))
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    confirmed_at: Mapped[datetime | None]
