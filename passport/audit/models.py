"""Security events: who did what, when, from where, with what outcome. Never secrets."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON
from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from passport.database import Base
from passport.database import utcnow


class AuditEvent(Base):
    """One security event. ``details`` holds non-secret context (client id, reason...)."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    event: Mapped[str] = mapped_column(String(64), index=True)
    outcome: Mapped[str] = mapped_column(String(16), default="success")
    actor_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    subject_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    # The DNI typed at a failed login may match no account: kept as typed (8 digits at most).
    subject_dni: Mapped[str | None] = mapped_column(String(8))
    client_id: Mapped[str | None] = mapped_column(String(64))
    ip_address: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(255))
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Tamper evidence (passport/audit/chain.py): SHA-256 of this event chained to the previous
    # one. Empty on events written before migration 0006.
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))
    # The request that caused the event (passport/logs.py), to find its log lines. Hashed
    # when set; empty on events written before migration 0007 and outside requests.
    request_id: Mapped[str | None] = mapped_column(String(64))


class AuditArchiveSegment(Base):
    """The oldest events removed past their retention (passport/maintenance/purge.py).

    Ids ``first_id``..``last_id`` are gone; ``last_hash`` is the hash of the last of them, so
    the first remaining event's ``prev_hash`` must equal it (``verify_chain`` starts there).
    """

    __tablename__ = "audit_archive_segments"

    id: Mapped[int] = mapped_column(primary_key=True)
    first_id: Mapped[int]
    last_id: Mapped[int] = mapped_column(index=True)
    last_hash: Mapped[str | None] = mapped_column(String(64))
    events: Mapped[int]
    oldest_at: Mapped[datetime]
    newest_at: Mapped[datetime]
    archived_at: Mapped[datetime] = mapped_column(default=utcnow)
