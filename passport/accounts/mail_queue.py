"""The outgoing mail queue: link mails written in the transaction that needs them, sent later.

A bulk import adds one ``OutgoingMail`` row per new user in the import's own transaction (all
or nothing, mails included), and answers at once. The rows are sent, one commit each, by a
background thread started after the import's response, and by ``passport mail send-pending``
(cron). A row is *claimed* with a compare-and-set and a lease (``next_attempt_at`` moves
``LEASE`` ahead), so two senders never send the same row, and a row whose sender died
mid-way is picked up again once the lease runs out: no mail is lost on a restart. A failed
send is retried after ``MAIL_QUEUE_RETRY_SECONDS``, doubling, up to
``MAIL_QUEUE_MAX_ATTEMPTS``; then the row is ``failed`` and the person can still use
"Generar contraseña". Delivery is at least once: a crash between the SMTP hand-off and the
commit sends that one mail again (with a fresh link; the first link then no longer works).

"Generar contraseña" and "¿Olvidaste la contraseña?" queue a ``self_service`` row naming only
the typed DNI: the request makes the same insert for every DNI and answers, and the sender
decides whether an account exists and which mail (if any) it gets. Doing that in the request
made a known DNI measurably slower (the mail was built and handed to SMTP there).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field
from datetime import timedelta
from typing import cast

from flask import Flask
from flask import Response
from flask import after_this_request
from flask import current_app
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import update

from passport.accounts.links import LinkPurpose
from passport.accounts.models import OutgoingMail
from passport.accounts.models import User
from passport.accounts.models import UserStatus
from passport.accounts.notifications import send_link_mail
from passport.audit.services import record_event
from passport.database import utcnow
from passport.extensions import db
from passport.logs import bound_request_id
from passport.logs import carrying_request_id
from passport.logs import current_request_id
from passport.mail import MailDeliveryError

log = logging.getLogger(__name__)

PENDING = "pending"
SENDING = "sending"
SENT = "sent"
FAILED = "failed"
CANCELLED = "cancelled"  # the account left the state the mail was for (activated, disabled)
STATUSES = (PENDING, SENDING, SENT, FAILED, CANCELLED)
# How long a claimed row stays reserved for its sender before another may take it.
LEASE = timedelta(minutes=5)
# The kind of a self-service request: a typed DNI, resolved by the sender.
SELF_SERVICE = "self_service"


def enqueue_link_mails(
    users: Iterable[User],
    purpose: LinkPurpose,
    *,
    batch: str | None = None,
    actor_user_id: int | None = None,
) -> int:
    """Queue one link mail per user in the caller's transaction (no commit); how many."""
    request_id = current_request_id()
    rows = [
        OutgoingMail(
            user_id=user.id,
            kind=purpose.value,
            batch=batch,
            actor_user_id=actor_user_id,
            request_id=request_id,
        )
        for user in users
    ]
    db.session.add_all(rows)
    return len(rows)


def enqueue_self_service_request(dni: str) -> None:
    """Queue "mail the right link to this DNI" in the caller's transaction (no commit).

    The same insert whatever the DNI: no lookup here, so known and unknown DNIs take one path.
    """
    db.session.add(OutgoingMail(dni=dni, kind=SELF_SERVICE, request_id=current_request_id()))


@dataclass
class QueueRun:
    """What one pass over the queue did."""

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


def _claim() -> OutgoingMail | None:
    """Reserve the next due row for this sender (commits the reservation), or None."""
    now = utcnow()
    for _attempt in range(5):  # another sender may win a row; try the next one
        candidate = db.session.execute(
            select(OutgoingMail.id, OutgoingMail.attempts)
            .where(
                or_(OutgoingMail.status == PENDING, OutgoingMail.status == SENDING),
                OutgoingMail.next_attempt_at <= now,
            )
            .order_by(OutgoingMail.next_attempt_at, OutgoingMail.id)
            .limit(1)
        ).first()
        if candidate is None:
            return None
        claimed = db.session.execute(
            update(OutgoingMail)
            .where(OutgoingMail.id == candidate.id, OutgoingMail.attempts == candidate.attempts)
            .values(status=SENDING, attempts=candidate.attempts + 1, next_attempt_at=now + LEASE)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
        if claimed.rowcount == 1:  # type: ignore[attr-defined]
            return db.session.get(OutgoingMail, candidate.id, populate_existing=True)
    return None


def _retry_delay(attempts: int) -> timedelta:
    base = current_app.config["MAIL_QUEUE_RETRY_SECONDS"]
    return timedelta(seconds=base * 2 ** max(attempts - 1, 0))


def _self_service_recipient(row: OutgoingMail) -> tuple[User | None, LinkPurpose | None, str]:
    """Who a self-service request reaches: a pending user gets "Generar tu contraseña", an
    active one "Restablecer tu contraseña"; an unknown DNI or a disabled user nothing."""
    user = db.session.scalar(select(User).where(User.dni == row.dni))
    if user is None:
        return None, None, "unknown_dni"
    row.user_id = user.id
    if user.status is UserStatus.DISABLED:
        return user, None, "disabled"
    purpose = LinkPurpose.ACTIVATION if user.status is UserStatus.PENDING else LinkPurpose.RESET
    return user, purpose, f"sent_{purpose.value}"


def _record_self_service(row: OutgoingMail, user: User | None, result: str) -> None:
    """Audit what became of a self-service request (the request itself was audited)."""
    record_event(
        "password_link.processed",
        outcome="failure" if result in ("mail_failed", "admin_email_unverified") else "success",
        subject_user_id=user.id if user is not None else None,
        subject_dni=row.dni,
        details={"result": result},
    )


def _send(row: OutgoingMail, run: QueueRun) -> None:
    """Send one claimed row and record the outcome; commits."""
    self_service = row.kind == SELF_SERVICE
    user: User | None
    purpose: LinkPurpose | None
    if self_service:
        user, purpose, result = _self_service_recipient(row)
    else:
        purpose = LinkPurpose(row.kind)
        user = db.session.get(User, row.user_id)
        result = "sent"
    # An admin's link never goes to an unverified address (notifications.send_link_mail).
    admin_unverified = user is not None and user.is_admin and not user.email_verified
    if admin_unverified:
        result = "admin_email_unverified"
    if (
        user is None
        or purpose is None
        or user.status is not purpose.required_status
        or admin_unverified
    ):
        if self_service:
            _record_self_service(row, user, result)
        row.status = CANCELLED
        run.cancelled += 1
        db.session.commit()
        return
    try:
        via = "self_service" if self_service else "queue"
        send_link_mail(user, purpose, actor_user_id=row.actor_user_id, via=via)
    except MailDeliveryError as error:
        db.session.rollback()  # the link issued for this mail dies with the transaction
        row = cast(OutgoingMail, db.session.get(OutgoingMail, row.id))
        row.last_error = str(error)[:255] or type(error).__name__
        if row.attempts >= current_app.config["MAIL_QUEUE_MAX_ATTEMPTS"]:
            row.status = FAILED
            run.failed += 1
            if self_service:
                _record_self_service(row, user, "mail_failed")
        else:
            row.status = PENDING
            row.next_attempt_at = utcnow() + _retry_delay(row.attempts)
            run.retried += 1
        run.errors.append(row.last_error)
        log.warning("queued %s mail %s for user %s failed: %s", row.kind, row.id, user.id, error)
        db.session.commit()
        return
    if self_service:
        _record_self_service(row, user, result)
    row.status = SENT
    row.sent_at = utcnow()
    run.sent += 1
    db.session.commit()


def send_pending(limit: int | None = None) -> QueueRun:
    """Send the due mails, one commit each, until none is due (or ``limit`` were tried)."""
    run = QueueRun()
    while limit is None or run.tried < limit:
        row = _claim()
        if row is None:
            break
        # Logged and audited under the id of the request that queued the mail.
        with bound_request_id(row.request_id):
            _send(row, run)
    return run


def drain(app: Flask) -> None:
    """Send every due mail (what the background thread runs); never raises."""
    with app.app_context():
        try:
            send_pending()
        except Exception:  # a background sender must never take the worker down
            log.exception("the mail queue pass stopped; cron's send-pending will continue")
        finally:
            db.session.remove()


def start_drain(app: Flask) -> threading.Thread | None:
    """Drain the queue outside the request: a daemon thread, or inline when
    MAIL_QUEUE_IN_BACKGROUND is off (the tests; after the response all the same)."""
    if not app.config["MAIL_QUEUE_IN_BACKGROUND"]:
        drain(app)
        return None
    thread = threading.Thread(target=drain, args=(app,), name="passport-mail-queue", daemon=True)
    thread.start()
    return thread


def drain_after_response() -> None:
    """Send the queued mails once the response is out (a thread, see start_drain)."""
    app = cast(Flask, current_app._get_current_object())  # type: ignore[attr-defined]

    @after_this_request
    def schedule(response: Response) -> Response:
        response.call_on_close(carrying_request_id(lambda: start_drain(app)))
        return response


def batch_progress(batch: str) -> dict[str, int]:
    """How many mails of a batch are in each status (``sending`` counts as pending)."""
    counts = dict.fromkeys((PENDING, SENT, FAILED, CANCELLED), 0)
    query = (
        select(OutgoingMail.status, func.count())
        .where(OutgoingMail.batch == batch)
        .group_by(OutgoingMail.status)
    )
    for status, number in db.session.execute(query):
        counts[PENDING if status == SENDING else status] += number
    return counts
