"""Tables of the admin console: the admin idle clock of each SSO session."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from passport.database import Base
from passport.database import utcnow


class AdminActivity(Base):
    """When an SSO session last used the console (server-side: a client cannot reset it).

    The admin idle timeout (``ADMIN_IDLE_TIMEOUT_MINUTES``) is shorter than the SSO one; a
    session idle past it loses its second factor and must step up again.
    """

    __tablename__ = "admin_activity"

    sso_session_id: Mapped[int] = mapped_column(
        ForeignKey("sso_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
