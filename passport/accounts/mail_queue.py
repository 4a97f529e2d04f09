"""The outgoing mail queue: link mails written in the transaction that needs them, sent later.

A bulk import adds one ``OutgoingMail`` row per new user in the import's own transaction (all
or nothing, mails included), and answers at once. The rows are sent, one commit each, by a
background thread started after the import's response, and by ``passport mail send-pending``
(cron). Claiming (lease, SKIP LOCKED), retries and giving up are passport/outbox.py's: a
failed send is retried after ``MAIL_QUEUE_RETRY_SECONDS``, doubling, up to
``MAIL_QUEUE_MAX_ATTEMPTS``; then the row is ``failed`` and the person can still use
"Generar contraseña", or an operator requeues it (``passport mail requeue-failed``, see
``requeue_failed``). Delivery is at least once: a crash between the SMTP hand-off and the
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
from collections.abc import Sequence
from datetime import datetime
from datetime import timedelta
from typing import cast

from flask import Flask
from flask import Response
from flask import after_this_request
from flask import current_app
from sqlalchemy import ColumnElement
from sqlalchemy import Table
from sqlalchemy import and_
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select

from passport import outbox
from passport.accounts.links import LinkPurpose
from passport.accounts.models import OutgoingMail
from passport.accounts.models import User
from passport.accounts.models import UserStatus
from passport.accounts.notifications import send_link_mail
from passport.audit.services import record_event
from passport.database import bulk_insert
from passport.database import utcnow
from passport.extensions import db
from passport.logs import carrying_request_id
from passport.logs import current_request_id
from passport.mail import MailDeliveryError

# The Core tables written in bulk.
MAIL_TABLE = cast(Table, OutgoingMail.__table__)

log = logging.getLogger(__name__)

# The statuses and the lease are the outbox's; named here too for this module's callers.
PENDING = outbox.PENDING
SENDING = outbox.SENDING
SENT = outbox.SENT
FAILED = outbox.FAILED
CANCELLED = outbox.CANCELLED  # the account left the state the mail was for (activated, disabled)
STATUSES = outbox.STATUSES
LEASE = outbox.LEASE
# The kind of a self-service request: a typed DNI, resolved by the sender.
SELF_SERVICE = "self_service"


def past_use(now: datetime) -> ColumnElement[bool]:
    """A settled mail that ``maintenance purge`` deletes and a requeue skips: any after
    ``MAIL_RETENTION_DAYS``, a self-service request after ``outbox.SHORT_RETENTION``.

    The mail itself never goes stale (it holds no link: a requeued mail carries a fresh one,
    and the sender cancels it when the account left the state it was for). A self-service
    request does: the person asked for a link at a moment, can ask again, and a reset mail
    days after anyone remembers asking teaches people to trust unexpected reset mails.
    """
    days = int(current_app.config["MAIL_RETENTION_DAYS"])
    return or_(
        OutgoingMail.next_attempt_at < now - timedelta(days=days),
        and_(
            OutgoingMail.kind == SELF_SERVICE,
            OutgoingMail.next_attempt_at < now - outbox.SHORT_RETENTION,
        ),
    )


MAILS = outbox.Outbox(
    OutgoingMail,
    max_attempts=outbox.setting("MAIL_QUEUE_MAX_ATTEMPTS"),
    retry_seconds=outbox.setting("MAIL_QUEUE_RETRY_SECONDS"),
    name="queued mail",
    log=log,
    past_use=past_use,
)
# What one pass over the queue did.
QueueRun = outbox.Tally


def enqueue_link_mails(
    users: Iterable[User | int],
    purpose: LinkPurpose,
    *,
    batch: str | None = None,
    actor_user_id: int | None = None,
) -> int:
    """Queue one link mail per user (or user id) in the caller's transaction (no commit), in
    bulk (``database.bulk_insert``); how many."""
    request_id = current_request_id()
    now = utcnow()
    rows = [
        {
            "user_id": user_id,
            "kind": purpose.value,
            "batch": batch,
            "actor_user_id": actor_user_id,
            "request_id": request_id,
            "status": PENDING,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for user_id in (user if isinstance(user, int) else user.id for user in users)
    ]
    bulk_insert(db.session(), MAIL_TABLE, rows)
    return len(rows)


def enqueue_self_service_request(dni: str) -> None:
    """Queue "mail the right link to this DNI" in the caller's transaction (no commit).

    The same insert whatever the DNI: no lookup here, so known and unknown DNIs take one path.
    """
    db.session.add(OutgoingMail(dni=dni, kind=SELF_SERVICE, request_id=current_request_id()))


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


def _send(rows: Sequence[OutgoingMail]) -> list[outbox.Outcome]:
    """Send one claimed row (the outbox settles and commits it)."""
    (row,) = rows
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
        return [outbox.CANCEL]
    try:
        via = "self_service" if self_service else "queue"
        send_link_mail(user, purpose, actor_user_id=row.actor_user_id, via=via)
    except MailDeliveryError as error:
        db.session.rollback()  # the link issued for this mail dies with the transaction
        log.warning("queued %s mail %s for user %s failed: %s", row.kind, row.id, user.id, error)
        return [outbox.Failure(str(error) or type(error).__name__)]
    if self_service:
        _record_self_service(row, user, result)
    return [None]


def _settled(row: OutgoingMail, outcome: outbox.Outcome) -> None:
    """A self-service request that failed for good is audited as such."""
    if row.kind == SELF_SERVICE and row.status == FAILED:
        user = db.session.scalar(select(User).where(User.dni == row.dni))
        _record_self_service(row, user, "mail_failed")


def send_pending(limit: int | None = None) -> QueueRun:
    """Send the due mails, one commit each, until none is due (or ``limit`` were tried)."""
    return MAILS.run(_send, limit=limit, on_settled=_settled)


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
