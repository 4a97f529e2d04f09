"""Writing audit events. Callers commit: an event belongs to the action it records."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from typing import TypedDict
from typing import Unpack

from passport.audit.models import AuditEvent
from passport.extensions import db
from passport.logs import current_request_id

PENDING_KEY = "passport.audit.pending"


class EventFields(TypedDict, total=False):
    """An audit event's columns besides its name (``record_event``, ``event_values``)."""

    outcome: str
    actor_user_id: int | None
    subject_user_id: int | None
    subject_dni: str | None
    client_id: str | None
    ip_address: str | None
    user_agent: str | None
    details: dict[str, Any] | None
    request_id: str | None


def event_values(event: str, **fields: Unpack[EventFields]) -> dict[str, Any]:
    """The column values of an audit event, cut to their columns' lengths (no hash yet)."""
    subject_dni = fields.get("subject_dni")
    ip_address = fields.get("ip_address")
    user_agent = fields.get("user_agent")
    return {
        "event": event,
        "outcome": fields.get("outcome", "success"),
        "actor_user_id": fields.get("actor_user_id"),
        "subject_user_id": fields.get("subject_user_id"),
        "subject_dni": (subject_dni or None) and subject_dni[:8],
        "client_id": fields.get("client_id"),
        "ip_address": (ip_address or None) and ip_address[:45],
        "user_agent": (user_agent or None) and user_agent[:255],
        "details": fields.get("details"),
        "request_id": fields.get("request_id") or current_request_id(),
    }


def record_event(event: str, **fields: Unpack[EventFields]) -> AuditEvent:
    """Add an audit event to the current transaction, written by the caller's commit.

    The event joins the session only at commit (passport/audit/chain.py), so the lock that
    orders the hash chain is held for the commit alone, never while the caller works (a
    slow mail server, say). A rollback drops it with the rest of the transaction. (Many
    events at once: ``event_values`` and ``chain.append_events``.)
    """
    return _join_transaction(event_values(event, **fields))


def _join_transaction(values: dict[str, Any]) -> AuditEvent:
    """The event of ``values`` (``event_values``), pending until the session commits."""
    entry = AuditEvent(**values)
    session = db.session()
    if not session.in_transaction():
        session.begin()  # so that its rollback or close can drop the event (no SQL yet)
    session.info.setdefault(PENDING_KEY, []).append(entry)
    return entry


@dataclass(frozen=True)
class Actor:
    """Who acts, through which client, from where and why: what every state change carries
    into the audit log.

    ``user_id`` is the person acting (an admin, or the person themself); ``client_id`` the
    client acting or being signed in to (the admin API's machine client, the relying party of
    a sign-in); ``reason`` is kept in the event's details; ``request_id`` defaults to the
    current request's (passport/logs.py). ``Actor()`` is the system itself (the CLI on the
    server, dynamic registration, queued work).
    """

    user_id: int | None = None
    client_id: str | None = None
    ip_address: str | None = None
    user_agent: str | None = None
    reason: str | None = None
    request_id: str | None = None

    def audit_values(
        self, event: str, *, details: dict[str, Any] | None = None, **fields: Any
    ) -> dict[str, Any]:
        """``event_values`` with this actor (``fields`` may name another ``client_id``, the
        client an event is about): one event of a bulk write (``chain.append_events``)."""
        merged = {**(details or {}), **({"reason": self.reason} if self.reason else {})}
        fields.setdefault("client_id", self.client_id)
        return event_values(
            event,
            actor_user_id=self.user_id,
            ip_address=self.ip_address,
            user_agent=self.user_agent,
            details=merged or None,
            request_id=self.request_id,
            **fields,
        )

    def record(
        self, event: str, *, details: dict[str, Any] | None = None, **fields: Any
    ) -> AuditEvent:
        """``record_event`` with this actor (``fields`` as in ``audit_values``)."""
        return _join_transaction(self.audit_values(event, details=details, **fields))


#: The system itself as the actor (the CLI on the server, dynamic registration, queued work).
SYSTEM = Actor()
