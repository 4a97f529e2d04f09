"""The tamper-evident audit log: each event's hash covers its fields and the previous hash.

``hash = SHA-256(canonical JSON of the event's fields + prev_hash)``, computed when the event
is flushed. ``record_event`` keeps events aside until the caller commits; they join the
session then (``before_commit``), so they are flushed by the commit itself. Appends are
serialised so two writers never chain onto the same predecessor: on PostgreSQL a
transaction-scoped advisory lock, taken in that last flush and released by the COMMIT right
after it (the next writer then reads the committed hash); SQLite serialises writers by itself.
The cost per committing transaction that carries events: the lock and one read of the newest
hash through the primary key.

Many events at once (a bulk import): ``append_events`` writes them in bulk in the caller's
transaction (COPY on PostgreSQL), chained in the same way under the same lock. It first writes the
events recorded earlier in the transaction (so the log keeps the order of recording), then takes
the lock, reads the newest hash, and gives the new events ids in chain order (on PostgreSQL
drawn from the sequence while holding the lock, so no other writer's event falls between them;
SQLite numbers rows in insertion order and lets one writer in at a time). The lock is then held
until the caller's commit: call it last, just before committing.

Events written before the chain existed (migration 0006) have no hash: the chain starts at the
first hashed event, whose ``prev_hash`` is empty. A chain cannot reveal events cut from its
end; ``verify_chain`` reports the newest hash so an operator can keep it elsewhere.

Events past their retention are removed from the start of the log only, leaving an
``AuditArchiveSegment`` with the hash of the last one removed: the walk starts after it, and
the first remaining event must chain onto that hash.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from typing import Any
from typing import cast

from sqlalchemy import Table
from sqlalchemy import event
from sqlalchemy import inspect
from sqlalchemy import select
from sqlalchemy import text
from sqlalchemy.orm import Session
from sqlalchemy.orm import SessionTransaction
from sqlalchemy.orm import UOWTransaction

from passport.audit.models import AuditArchiveSegment
from passport.audit.models import AuditEvent
from passport.audit.services import PENDING_KEY
from passport.database import bulk_insert
from passport.database import reserve_ids
from passport.database import utcnow

# The Core tables written in bulk.
EVENTS = cast(Table, AuditEvent.__table__)

# Any constant that no other part of Passport uses for an advisory lock.
CHAIN_LOCK_KEY = 0x5A55_A0D1
VERIFY_BATCH = 1000
# Why a link is broken: a stable code (the console words it) and the CLI's sentence.
BREAKS = {
    "missing_hash": "the record has no hash",
    "unexpected_predecessor": "the first chained record has a predecessor",
    "broken_link": "the record before it was removed or altered",
    "content_mismatch": "the record's content does not match its hash",
}
HASHED_FIELDS = (
    "occurred_at",
    "event",
    "outcome",
    "actor_user_id",
    "subject_user_id",
    "subject_dni",
    "client_id",
    "ip_address",
    "user_agent",
    "details",
)
# Columns added after the chain began: hashed only when set, so that the hash of an event
# written before they existed (all empty) is what it was.
OPTIONAL_HASHED_FIELDS = ("request_id",)


def event_hash(values: dict[str, Any], prev_hash: str | None) -> str:
    """The SHA-256 hex digest of an event's fields and its predecessor's hash."""
    payload = {name: values.get(name) for name in HASHED_FIELDS}
    for name in OPTIONAL_HASHED_FIELDS:
        if values.get(name) is not None:
            payload[name] = values[name]
    occurred_at: datetime = values["occurred_at"]
    payload["occurred_at"] = occurred_at.astimezone(UTC).isoformat(timespec="microseconds")
    payload["prev_hash"] = prev_hash
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def row_hash(row: AuditEvent, prev_hash: str | None) -> str:
    """``event_hash`` of a model instance."""
    names = HASHED_FIELDS + OPTIONAL_HASHED_FIELDS
    return event_hash({name: getattr(row, name) for name in names}, prev_hash)


def _lock_and_read_newest_hash(session: Session) -> str | None:
    """Serialise appends to the chain (PostgreSQL: until the commit); the newest hash."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK_KEY})
    with session.no_autoflush:
        return session.scalar(
            select(AuditEvent.hash)
            .where(AuditEvent.hash.is_not(None))
            .order_by(AuditEvent.id.desc())
            .limit(1)
        )


def _chain_new_events(session: Session, flush_context: UOWTransaction, instances: Any) -> None:
    """before_flush: give every new AuditEvent its prev_hash and hash, in insertion order."""
    new = [obj for obj in session.new if isinstance(obj, AuditEvent) and obj.hash is None]
    if not new:
        return
    prev = _lock_and_read_newest_hash(session)
    # Rows of one mapper are inserted in the order they were added to the session.
    new.sort(key=lambda obj: inspect(obj).insert_order or 0)
    for row in new:
        if row.occurred_at is None:
            row.occurred_at = utcnow()
        if row.outcome is None:
            row.outcome = "success"
        row.prev_hash = prev
        row.hash = prev = row_hash(row, prev)


def append_events(session: Session, events: Sequence[dict[str, Any]]) -> None:
    """Write many events (``services.event_values``) chained, in the caller's transaction
    (``database.bulk_insert``: COPY on PostgreSQL); no commit.

    The chain's lock is held from here until the caller commits: call it last.
    """
    pending = session.info.pop(PENDING_KEY, None)
    if pending:  # recorded earlier in this transaction: written first, in their order
        session.add_all(pending)
        session.flush()
    if not events:
        return
    prev = _lock_and_read_newest_hash(session)
    # Drawn under the lock on PostgreSQL: every other writer's events get later ids.
    ids = reserve_ids(session, EVENTS, len(events))
    now = utcnow()
    rows = []
    for index, values in enumerate(events):
        row = {name: values.get(name) for name in (*HASHED_FIELDS, *OPTIONAL_HASHED_FIELDS)}
        row["occurred_at"] = values.get("occurred_at") or now
        row["outcome"] = values.get("outcome") or "success"
        row["prev_hash"] = prev
        row["hash"] = prev = event_hash(row, prev)
        if ids is not None:
            row["id"] = ids[index]
        rows.append(row)
    bulk_insert(session, EVENTS, rows)  # SQLite numbers the rows in this order


def _add_pending_events(session: Session) -> None:
    """before_commit: the events recorded in this transaction join it now."""
    pending = session.info.pop(PENDING_KEY, None)
    if pending:
        session.add_all(pending)


def _drop_pending_events(session: Session, transaction: SessionTransaction) -> None:
    """after_transaction_end: events of a transaction rolled back or closed are never written.

    (A commit has already taken them.) A savepoint's end (``begin_nested``) keeps them: the
    outer transaction goes on.
    """
    if transaction.parent is None:
        session.info.pop(PENDING_KEY, None)


def install_chain_hook() -> None:
    """Hash audit events on every session's flush; write them at commit (idempotent)."""
    for name, hook in (
        ("before_flush", _chain_new_events),
        ("before_commit", _add_pending_events),
        ("after_transaction_end", _drop_pending_events),
    ):
        if not event.contains(Session, name, hook):
            event.listen(Session, name, hook)


@dataclass
class ChainReport:
    """What ``verify_chain`` found."""

    checked: int
    unchained: int
    broken_id: int | None = None
    reason: str | None = None
    code: str | None = None
    last_id: int | None = None
    last_hash: str | None = None
    # Events up to this id were removed past their retention (AuditArchiveSegment).
    archived_through: int | None = None

    @property
    def ok(self) -> bool:
        """True when no link is broken."""
        return self.broken_id is None

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        return {
            "ok": self.ok,
            "checked": self.checked,
            "unchained": self.unchained,
            "broken_id": self.broken_id,
            "reason": self.reason,
            "code": self.code,
            "last_id": self.last_id,
            "last_hash": self.last_hash,
            "archived_through": self.archived_through,
        }


def verify_chain(session: Session, batch_size: int = VERIFY_BATCH) -> ChainReport:
    """Walk every event in id order (after the newest archived segment), in batches; stop at
    the first broken link."""
    report = ChainReport(checked=0, unchained=0)
    started = False
    prev: str | None = None
    after = 0
    anchor = session.scalar(
        select(AuditArchiveSegment).order_by(AuditArchiveSegment.last_id.desc()).limit(1)
    )
    if anchor is not None:
        after = report.archived_through = anchor.last_id
        if anchor.last_hash is not None:  # else only unchained (pre-0006) events went
            started, prev = True, anchor.last_hash
    while True:
        batch = select(AuditEvent).where(AuditEvent.id > after).order_by(AuditEvent.id)
        rows = session.scalars(batch.limit(batch_size)).all()
        if not rows:
            return report
        for row in rows:
            after = row.id
            if row.hash is None:
                if started:
                    return _broken(report, row.id, "missing_hash")
                report.unchained += 1  # written before the chain existed
                continue
            if not started and row.prev_hash is not None:
                return _broken(report, row.id, "unexpected_predecessor")
            if started and row.prev_hash != prev:
                return _broken(report, row.id, "broken_link")
            if row_hash(row, row.prev_hash) != row.hash:
                return _broken(report, row.id, "content_mismatch")
            started = True
            prev = row.hash
            report.checked += 1
            report.last_id, report.last_hash = row.id, row.hash
        for row in rows:  # keep memory flat on a long log
            session.expunge(row)


def _broken(report: ChainReport, row_id: int, code: str) -> ChainReport:
    report.broken_id = row_id
    report.code = code
    report.reason = BREAKS[code]
    return report
