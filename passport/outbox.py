"""One durable outbox for work that leaves Passport after a commit: mails and logout tokens.

A row is written in the transaction that needs the work (all or nothing) and delivered later.
``OutboxMixin`` gives a table the delivery columns; an ``Outbox`` names the table and its two
settings and runs the life of a row, so each user (passport/accounts/mail_queue.py,
passport/oidc/backchannel.py) supplies only its payload columns and its send function:

- **claim**: the due rows are read ``FOR UPDATE SKIP LOCKED`` on PostgreSQL (SQLite has no row
  locks and ignores it), then taken with a compare-and-set on ``attempts`` that moves
  ``next_attempt_at`` one ``LEASE`` ahead and commits. Two senders never send one row, and a row
  whose sender died is taken again once its lease runs out: nothing is lost on a restart.
- **settle**: sent; failed and retried after ``base * 2 ** (attempts - 1)`` seconds; failed
  for good after ``max_attempts`` (``gave_up_at``); or cancelled (no longer needed).
- **gauges**: depth, oldest waiting row and rows given up, read by
  passport/operations/metrics.py at scrape time.
- **requeue_failed**: an operator puts rows given up back in the queue once what they
  waited for is back (``passport mail requeue-failed``, ``passport clients requeue-logouts``):
  one UPDATE of ``failed`` rows only, to ``pending``, due now, with a fresh retry schedule. A
  row ``past_use`` (the rows ``passport maintenance purge`` deletes) is skipped and counted.

Delivery is at least once: a crash between the hand-off and the commit repeats that one row.

Why not a library: the outbox packages on PyPI (txoutbox, pactix, omni-box, omnixys-outbox,
alchemiq) are asyncio relays to a message broker, most with a table of their own holding an
opaque JSON payload. Passport is synchronous Flask-SQLAlchemy, sends SMTP mail and HTTP POSTs,
keeps a foreign key and typed columns per payload, and needs the row in the caller's ORM
transaction; what is left for a library is the claim and the backoff below.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from datetime import timedelta
from typing import Any
from typing import Generic
from typing import TypeVar

from flask import current_app
from sqlalchemy import ColumnElement
from sqlalchemy import Index
from sqlalchemy import String
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import declared_attr
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import validates

from passport.database import utcnow
from passport.extensions import db
from passport.logs import bound_request_id

PENDING = "pending"
SENDING = "sending"  # claimed by a sender, under lease
SENT = "sent"
FAILED = "failed"  # given up after every attempt
CANCELLED = "cancelled"  # no longer needed (the sender decided)
STATUSES = (PENDING, SENDING, SENT, FAILED, CANCELLED)
WAITING = (PENDING, SENDING)
SETTLED = (SENT, FAILED, CANCELLED)
# How long a settled row of no lasting interest (a logout delivery, a self-service mail
# request) is kept before the purge deletes it; a failed one may be requeued until then.
SHORT_RETENTION = timedelta(days=1)
# How long a claimed row stays reserved for its sender before another may take it.
LEASE = timedelta(minutes=5)
# How often a claim retries when other senders took every row it saw.
CLAIM_TRIES = 5


class OutboxMixin:
    """The delivery columns of an outbox table; the table adds its payload columns."""

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    gave_up_at: Mapped[datetime | None]
    # The request that queued the row: its delivery is logged and audited under that id.
    request_id: Mapped[str | None] = mapped_column(String(64))

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Index, ...]:  # noqa: N805 (a class attribute)
        name = cls.__tablename__  # type: ignore[attr-defined]
        return (Index(f"ix_{name}_status_next_attempt_at", "status", "next_attempt_at"),)

    @validates("sent_at", "gave_up_at")
    def _stamp_status(self, key: str, value: datetime | None) -> datetime | None:
        """A row stamped sent or given up is in that status (one source of truth)."""
        if value is not None:
            self.status = SENT if key == "sent_at" else FAILED
        return value


Row = TypeVar("Row", bound=OutboxMixin)


@dataclass(frozen=True)
class Failure:
    """A failed attempt: why (kept in ``last_error``), and whether retrying is pointless."""

    error: str
    final: bool = False


class Cancel:
    """The row is no longer needed: do not send it, do not retry it."""


CANCEL = Cancel()
# What a send function answers for one row: None when it was delivered.
Outcome = Failure | Cancel | None


@dataclass
class Tally:
    """What one pass over an outbox did."""

    sent: int = 0
    retried: int = 0  # failed this time, will be tried again
    failed: int = 0  # failed for the last time
    cancelled: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def tried(self) -> int:
        return self.sent + self.retried + self.failed + self.cancelled

    def as_dict(self) -> dict[str, int]:
        return {
            "sent": self.sent,
            "retried": self.retried,
            "failed": self.failed,
            "cancelled": self.cancelled,
        }


@dataclass(frozen=True)
class Requeued:
    """What one requeue did (rows back in the queue, failed rows left alone as past use),
    and the filters it was given."""

    requeued: int
    skipped: int
    ids: tuple[int, ...] | None = None
    since: datetime | None = None
    limit: int | None = None

    def as_dict(self) -> dict[str, int]:
        return {"requeued": self.requeued, "skipped": self.skipped}

    def details(self) -> dict[str, Any]:
        """The counts and the filters, for the audit event (nothing of any row's payload)."""
        return {
            **self.as_dict(),
            "ids": list(self.ids) if self.ids is not None else None,
            "since": self.since.isoformat() if self.since is not None else None,
            "limit": self.limit,
        }


@dataclass(frozen=True)
class Gauges:
    """An outbox's state for the metrics scrape."""

    waiting: int
    oldest_waiting: datetime | None
    failed: int


def setting(key: str) -> Callable[[], Any]:
    """A retry setting read from the app's config when it is needed."""
    return lambda: current_app.config[key]


@dataclass(frozen=True)
class Outbox(Generic[Row]):
    """An outbox table, its retry settings, and its name and logger for log lines."""

    model: type[Row]
    max_attempts: Callable[[], int]
    retry_seconds: Callable[[], float]
    name: str
    log: logging.Logger
    # A settled row past its use at this time: the purge deletes it, a requeue skips it.
    past_use: Callable[[datetime], ColumnElement[bool]]

    def _due(self, now: datetime) -> ColumnElement[bool]:
        model = self.model
        return model.status.in_(WAITING) & (model.next_attempt_at <= now)

    def claim(self, limit: int = 1) -> list[Row]:
        """Reserve up to ``limit`` due rows for this sender (commits the reservation)."""
        model = self.model
        for _try in range(CLAIM_TRIES):
            now = utcnow()
            candidates = db.session.execute(
                select(model.id, model.attempts)
                .where(self._due(now))
                .order_by(model.next_attempt_at, model.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            ).all()
            if not candidates:
                db.session.commit()
                return []
            taken: list[int] = []
            for row_id, attempts in candidates:
                result = db.session.execute(
                    update(model)
                    .where(model.id == row_id, model.attempts == attempts)
                    .values(status=SENDING, attempts=attempts + 1, next_attempt_at=now + LEASE)
                    .execution_options(synchronize_session=False)
                )
                if result.rowcount == 1:  # type: ignore[attr-defined]
                    taken.append(row_id)
            db.session.commit()
            if taken:
                return [
                    row
                    for row_id in taken
                    if (row := db.session.get(model, row_id, populate_existing=True)) is not None
                ]
        return []

    def retry_delay(self, attempts: int) -> timedelta:
        """Exponential backoff: the base after the first attempt, doubling after each."""
        base = self.retry_seconds()
        return timedelta(seconds=base * 2 ** max(attempts - 1, 0))

    def settle(self, row: Row, outcome: Outcome, tally: Tally) -> None:
        """Record what became of one claimed row (the caller commits)."""
        now = utcnow()
        if outcome is None:
            row.sent_at = now
            row.last_error = None
            tally.sent += 1
            return
        if isinstance(outcome, Cancel):
            row.status = CANCELLED
            tally.cancelled += 1
            return
        row.last_error = outcome.error[:255] or "error"
        tally.errors.append(row.last_error)
        if outcome.final or row.attempts >= self.max_attempts():
            row.gave_up_at = now
            tally.failed += 1
            self.log.warning("%s %s given up: %s", self.name, row.id, outcome.error)
            return
        row.status = PENDING
        row.next_attempt_at = now + self.retry_delay(row.attempts)
        tally.retried += 1
        self.log.info("%s %s failed (%s); will retry", self.name, row.id, outcome.error)

    def run(
        self,
        send: Callable[[Sequence[Row]], Sequence[Outcome]],
        *,
        limit: int | None = None,
        batch: int = 1,
        on_settled: Callable[[Row, Outcome], None] | None = None,
    ) -> Tally:
        """Claim due rows ``batch`` at a time, send them, settle each; until none is due.

        ``send`` gets the claimed rows and answers one outcome per row; ``on_settled`` runs
        for each row after it is settled, before the commit, under the row's request id.
        """
        tally = Tally()
        while limit is None or tally.tried < limit:
            size = batch if limit is None else min(batch, limit - tally.tried)
            rows = self.claim(size)
            if not rows:
                break
            # Sent under the id of the request that queued the rows, when they share one.
            request_ids = {row.request_id for row in rows}
            with bound_request_id(request_ids.pop() if len(request_ids) == 1 else None):
                outcomes = send(rows)
            for row, outcome in zip(rows, outcomes, strict=True):
                # Logged (and audited) under the id of the request that queued the row.
                with bound_request_id(row.request_id):
                    self.settle(row, outcome, tally)
                    if on_settled is not None:
                        on_settled(row, outcome)
            db.session.commit()
        return tally

    def requeue_failed(
        self,
        ids: Sequence[int] | None = None,
        since: datetime | None = None,
        limit: int | None = None,
    ) -> Requeued:
        """Put rows given up back in the queue, due now (the caller commits).

        Only ``failed`` rows move, in one UPDATE: to ``pending`` with ``attempts`` 0 (the whole
        retry schedule again), ``gave_up_at`` cleared; ``last_error`` is kept as the evidence
        of the outage until the next attempt overwrites (or a delivery clears) it. ``ids`` and
        ``since`` (given up at or after) narrow the rows; ``limit`` takes the oldest first. A
        row ``past_use`` is not requeued but counted as skipped (not counted against
        ``limit``): requeuing it would resend what nobody waits for any more.
        """
        model = self.model
        now = utcnow()
        chosen = model.status == FAILED
        if ids is not None:
            chosen &= model.id.in_(list(ids))
        if since is not None:
            chosen &= model.gave_up_at >= since
        past_use = self.past_use(now)
        skipped = db.session.scalar(select(func.count()).select_from(model).where(chosen, past_use))
        targets = select(model.id).where(chosen, ~past_use).order_by(model.id)
        if limit is not None:
            targets = targets.limit(limit)
        result = db.session.execute(
            update(model)
            # The status again: a row another requeue took meanwhile is not taken twice.
            .where(model.status == FAILED, model.id.in_(targets.scalar_subquery()))
            .values(status=PENDING, attempts=0, next_attempt_at=now, gave_up_at=None)
            .execution_options(synchronize_session=False)
        )
        done = Requeued(
            requeued=result.rowcount,  # type: ignore[attr-defined]
            skipped=skipped or 0,
            ids=tuple(ids) if ids is not None else None,
            since=since,
            limit=limit,
        )
        self.log.info(
            "%s: %d requeued, %d past use skipped", self.name, done.requeued, done.skipped
        )
        return done

    def gauges(self, connection: Any) -> Gauges:
        """Rows waiting, the oldest one's creation, rows given up (metrics scrape)."""
        model = self.model
        waiting, oldest = connection.execute(
            select(func.count(), func.min(model.created_at))
            .select_from(model)
            .where(model.status.in_(WAITING))
        ).one()
        failed = connection.scalar(
            select(func.count()).select_from(model).where(model.status == FAILED)
        )
        return Gauges(waiting=waiting, oldest_waiting=oldest, failed=failed)
