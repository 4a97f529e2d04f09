"""The outgoing mail queue: sent after the fact, retried, never lost, never sent twice."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask

from passport.accounts import mail_queue
from passport.accounts.links import LinkPurpose
from passport.accounts.models import OutgoingMail
from passport.accounts.models import User
from passport.accounts.models import UserStatus
from passport.database import utcnow
from passport.extensions import db
from passport.mail import MailDeliveryError
from tests.factories import make_user


def queue(*users: User, batch: str = "b1") -> list[OutgoingMail]:
    mail_queue.enqueue_link_mails(users, LinkPurpose.ACTIVATION, batch=batch)
    db.session.commit()
    return list(db.session.scalars(db.select(OutgoingMail).order_by(OutgoingMail.id)))


def reload(row: OutgoingMail) -> OutgoingMail:
    found = db.session.get(OutgoingMail, row.id, populate_existing=True)
    assert found is not None
    return found


@pytest.fixture
def failing_transport(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every send fails with MailDeliveryError; the list counts the attempts."""
    calls: list[int] = []

    def fail(*args: Any, **kwargs: Any) -> None:
        calls.append(1)
        raise MailDeliveryError("smtp down")

    monkeypatch.setattr(mail_queue, "send_link_mail", fail)
    return calls


def test_queued_mails_are_sent_with_a_fresh_link(app: Flask, outbox: Any) -> None:
    first, second = make_user(password=None), make_user(password=None)
    rows = queue(first, second)
    assert [row.status for row in rows] == ["pending", "pending"]
    assert outbox.messages() == []

    result = mail_queue.send_pending()

    assert result.as_dict() == {"sent": 2, "retried": 0, "failed": 0, "cancelled": 0}
    assert [reload(row).status for row in rows] == ["sent", "sent"]
    assert len(outbox.messages()) == 2
    assert "/verificacion/" in outbox.text_of(outbox.last())
    assert mail_queue.batch_progress("b1") == {"pending": 0, "sent": 2, "failed": 0, "cancelled": 0}


def test_the_queue_stores_no_link(app: Flask) -> None:
    row = queue(make_user(password=None))[0]
    columns = {c.name: getattr(row, c.name) for c in OutgoingMail.__table__.columns}
    assert not any("verificacion" in str(value) for value in columns.values())


def test_a_failed_mail_is_retried_later_then_sent(
    app: Flask, outbox: Any, failing_transport: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    user = make_user(password=None)
    row = queue(user)[0]
    generation = user.link_generation

    result = mail_queue.send_pending()

    row = reload(row)
    assert result.retried == 1
    assert (row.status, row.attempts, row.last_error) == ("pending", 1, "smtp down")
    assert row.next_attempt_at > utcnow() + timedelta(seconds=50)
    db.session.refresh(user)
    assert user.link_generation == generation  # the failed mail's link was rolled back
    # Not due yet: nothing is tried.
    assert mail_queue.send_pending().tried == 0
    assert len(failing_transport) == 1

    monkeypatch.undo()
    row.next_attempt_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert mail_queue.send_pending().sent == 1
    assert (reload(row).status, reload(row).attempts) == ("sent", 2)
    assert len(outbox.messages()) == 1


def test_the_retry_delay_doubles_and_a_mail_fails_for_good(
    app: Flask, failing_transport: list[int]
) -> None:
    row = queue(make_user(password=None))[0]
    delays = []
    for _ in range(app.config["MAIL_QUEUE_MAX_ATTEMPTS"]):
        before = utcnow()
        mail_queue.send_pending()
        row = reload(row)
        delays.append(round((row.next_attempt_at - before).total_seconds() / 60))
        row.next_attempt_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    assert delays[:4] == [1, 2, 4, 8]
    assert (row.status, row.attempts) == ("failed", 5)
    assert mail_queue.send_pending().tried == 0
    assert mail_queue.batch_progress("b1")["failed"] == 1


def test_a_mail_whose_sender_died_is_sent_after_its_lease(app: Flask, outbox: Any) -> None:
    row = queue(make_user(password=None))[0]
    # A sender claimed it, then the process was killed before sending.
    row.status, row.attempts = "sending", 1
    row.next_attempt_at = utcnow() + mail_queue.LEASE
    db.session.commit()
    assert mail_queue.send_pending().tried == 0
    assert mail_queue.batch_progress("b1")["pending"] == 1

    row.next_attempt_at = utcnow() - timedelta(seconds=1)  # the lease ran out
    db.session.commit()
    assert mail_queue.send_pending().sent == 1
    assert len(outbox.messages()) == 1


def test_two_senders_never_claim_the_same_mail(app: Flask) -> None:
    queue(make_user(password=None))
    first = mail_queue.MAILS.claim()
    assert len(first) == 1
    assert mail_queue.MAILS.claim() == []


def test_a_mail_no_longer_needed_is_cancelled(app: Flask, outbox: Any) -> None:
    user = make_user(password=None)
    row = queue(user)[0]
    user.status = UserStatus.ACTIVE  # activated through "Generar contraseña" meanwhile
    db.session.commit()
    assert mail_queue.send_pending().cancelled == 1
    assert reload(row).status == "cancelled"
    assert outbox.messages() == []


def test_send_pending_command(app: Flask, outbox: Any) -> None:
    from passport.accounts.cli import mail_group

    queue(make_user(password=None), make_user(password=None))

    runner = app.test_cli_runner()
    result = runner.invoke(mail_group, ["send-pending", "--limit", "1", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"sent": 1, "retried": 0, "failed": 0, "cancelled": 0}
    result = runner.invoke(mail_group, ["send-pending"])
    assert result.output.strip() == "1 sent, 0 to retry, 0 failed, 0 no longer needed"


def test_send_pending_exits_non_zero_when_a_mail_fails_for_good(
    app: Flask, failing_transport: list[int]
) -> None:
    from passport.accounts.cli import mail_group

    row = queue(make_user(password=None))[0]
    row.attempts = app.config["MAIL_QUEUE_MAX_ATTEMPTS"] - 1
    db.session.commit()
    result = app.test_cli_runner().invoke(mail_group, ["send-pending"])
    assert result.exit_code == 1


def test_the_background_drain_runs_in_a_thread(app: Flask, outbox: Any) -> None:
    queue(make_user(password=None))
    app.config["MAIL_QUEUE_IN_BACKGROUND"] = True
    try:
        thread = mail_queue.start_drain(app)
        assert thread is not None
        thread.join(timeout=30)
    finally:
        app.config["MAIL_QUEUE_IN_BACKGROUND"] = False
    assert len(outbox.messages()) == 1
    db.session.expire_all()
    assert mail_queue.batch_progress("b1")["sent"] == 1


def test_a_queued_mail_is_logged_and_audited_under_the_id_of_the_request_that_queued_it(
    app: Flask,
) -> None:
    import io
    import logging

    from passport.audit.models import AuditEvent
    from passport.logs import JsonFormatter
    from passport.logs import bound_request_id

    user = make_user(password=None)
    with bound_request_id("import-request-1"):  # the admin's import request
        [row] = queue(user)
    assert row.request_id == "import-request-1"

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("passport.accounts.notifications")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        assert mail_queue.send_pending().sent == 1  # later: cron or the background thread
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)

    sent = db.session.scalars(db.select(AuditEvent).where(AuditEvent.event == "mail.sent")).one()
    assert sent.request_id == "import-request-1"
    [line] = [json.loads(text) for text in stream.getvalue().splitlines()]
    assert line["message"] == f"activation mail sent to user {user.id}"
    assert line["request_id"] == "import-request-1"


def test_a_self_service_request_is_resolved_by_the_sender(app: Flask, outbox: Any) -> None:
    """The request queues only the typed DNI; the sender (here cron's send-pending) decides."""
    pending = make_user(password=None)
    active = make_user()
    disabled = make_user(status=UserStatus.DISABLED)
    for dni in (pending.dni, active.dni, disabled.dni, "49999999"):
        mail_queue.enqueue_self_service_request(dni)
    db.session.commit()
    rows = list(db.session.scalars(db.select(OutgoingMail).order_by(OutgoingMail.id)))
    assert {(row.kind, row.user_id) for row in rows} == {("self_service", None)}

    result = mail_queue.send_pending()

    assert result.as_dict() == {"sent": 2, "retried": 0, "failed": 0, "cancelled": 2}
    rows = [reload(row) for row in rows]
    assert [(row.status, row.user_id) for row in rows] == [
        ("sent", pending.id),
        ("sent", active.id),
        ("cancelled", disabled.id),
        ("cancelled", None),
    ]
    subjects = {message["To"]: message["Subject"] for message in outbox.messages()}
    assert subjects[pending.email].endswith("Generar tu contraseña")
    assert subjects[active.email].endswith("Restablecer tu contraseña")


def test_a_failed_self_service_mail_is_retried(
    app: Flask, outbox: Any, failing_transport: list[int]
) -> None:
    user = make_user()
    mail_queue.enqueue_self_service_request(user.dni)
    db.session.commit()

    result = mail_queue.send_pending()

    row = db.session.scalars(db.select(OutgoingMail)).one()
    assert result.retried == 1
    assert (row.status, row.attempts, row.user_id) == ("pending", 1, None)
