"""Requeuing rows given up (``Outbox.requeue_failed``): ``passport mail requeue-failed`` and
``passport clients requeue-logouts``."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import Result
from flask import Flask

from passport import outbox
from passport.accounts import mail_queue
from passport.accounts.cli import mail_group
from passport.accounts.links import LinkPurpose
from passport.accounts.models import OutgoingMail
from passport.audit.models import AuditEvent
from passport.database import utcnow
from passport.extensions import db
from passport.mail import MailDeliveryError
from passport.maintenance.purge import purge
from passport.oidc import backchannel
from passport.oidc.cli import clients_group
from passport.oidc.models import BackchannelDelivery
from tests.factories import make_user
from tests.integration.test_outbox import queue_delivery


def requeue(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(mail_group, ["requeue-failed", *args])


def queued_mail(*, kind: str = LinkPurpose.ACTIVATION.value) -> OutgoingMail:
    """A pending mail for a new pending person (or a self-service request for their DNI)."""
    user = make_user(password=None)
    if kind == mail_queue.SELF_SERVICE:
        mail_queue.enqueue_self_service_request(user.dni)
    else:
        mail_queue.enqueue_link_mails([user], LinkPurpose(kind))
    db.session.commit()
    row = db.session.scalars(sa.select(OutgoingMail).order_by(OutgoingMail.id.desc())).first()
    assert row is not None
    return row


def given_up(row: OutgoingMail, at: datetime | None = None) -> OutgoingMail:
    """The row as the sender leaves it after its last failed attempt ``at``."""
    at = at or utcnow()
    row.attempts = 5
    row.last_error = "smtp down"
    row.gave_up_at = at
    row.next_attempt_at = at + outbox.LEASE
    db.session.commit()
    return row


def failed_mail(at: datetime | None = None, *, kind: str = LinkPurpose.ACTIVATION.value) -> int:
    return given_up(queued_mail(kind=kind), at).id


def state(model: Any, row_id: int) -> tuple[Any, ...]:
    row = db.session.get(model, row_id, populate_existing=True)
    assert row is not None
    return (row.status, row.attempts, row.next_attempt_at, row.last_error, row.gave_up_at)


def test_mails_given_up_are_requeued_then_sent_by_send_pending(
    app: Flask, outbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def smtp_down(*args: object, **kwargs: object) -> None:
        raise MailDeliveryError("smtp down")

    monkeypatch.setattr(mail_queue, "send_link_mail", smtp_down)
    row = queued_mail()
    row.attempts = app.config["MAIL_QUEUE_MAX_ATTEMPTS"] - 1
    db.session.commit()
    assert mail_queue.send_pending().failed == 1
    monkeypatch.undo()  # the mail server is back

    before = utcnow()
    result = requeue(app, "--json", "--reason", "SMTP caído el domingo")

    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"requeued": 1, "skipped": 0}
    status, attempts, due, last_error, gave_up_at = state(OutgoingMail, row.id)
    assert (status, attempts, last_error, gave_up_at) == ("pending", 0, "smtp down", None)
    assert before <= due <= utcnow()
    event = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.event == "mail.requeued")
    ).one()
    assert event.actor_user_id is None  # the operator on the server (the CLI's actor)
    assert event.details == {
        "requeued": 1,
        "skipped": 0,
        "ids": None,
        "since": None,
        "limit": None,
        "reason": "SMTP caído el domingo",
    }

    sent = app.test_cli_runner().invoke(mail_group, ["send-pending", "--json"])
    assert json.loads(sent.output) == {"sent": 1, "retried": 0, "failed": 0, "cancelled": 0}
    assert state(OutgoingMail, row.id)[:2] == ("sent", 1)
    assert len(outbox.messages()) == 1
    assert "/verificacion/" in outbox.text_of(outbox.last())  # a fresh, working link


def test_only_failed_rows_move(app: Flask) -> None:
    pending = queued_mail().id
    sending = queued_mail()
    sending.status, sending.attempts = outbox.SENDING, 1
    sending.next_attempt_at = utcnow() + outbox.LEASE
    sent = queued_mail()
    sent.attempts, sent.sent_at = 1, utcnow()
    cancelled = queued_mail()
    cancelled.attempts, cancelled.status = 1, outbox.CANCELLED
    db.session.commit()
    others = [pending, sending.id, sent.id, cancelled.id]
    before = {row_id: state(OutgoingMail, row_id) for row_id in others}
    failed = failed_mail()

    result = requeue(app)

    assert result.exit_code == 0, result.output
    assert result.output.strip() == "1 mails requeued, 0 past use skipped"
    assert {row_id: state(OutgoingMail, row_id) for row_id in others} == before
    assert state(OutgoingMail, failed)[:2] == ("pending", 0)
    # Asked for by id, a row in another status is not touched either.
    assert json.loads(requeue(app, "--id", str(sent.id), "--json").output)["requeued"] == 0
    assert state(OutgoingMail, sent.id) == before[sent.id]


def test_the_id_since_and_limit_filters(app: Flask) -> None:
    now = utcnow()
    first, second, third = (failed_mail(now - timedelta(hours=h)) for h in (3, 2, 1))

    def counts(*args: str) -> dict[str, int]:
        result = requeue(app, "--json", *args)
        assert result.exit_code == 0, result.output
        return dict(json.loads(result.output))

    def statuses() -> list[str]:
        return [state(OutgoingMail, row_id)[0] for row_id in (first, second, third)]

    # Given up before the time asked for: not taken, even by id.
    since = (now - timedelta(minutes=90)).isoformat()
    assert counts("--id", str(first), "--since", since)["requeued"] == 0
    assert counts("--since", since) == {"requeued": 1, "skipped": 0}
    assert statuses() == ["failed", "failed", "pending"]
    assert counts("--id", str(second), "--id", str(third)) == {"requeued": 1, "skipped": 0}
    assert statuses() == ["failed", "pending", "pending"]
    # An offset is honoured; without one the time is UTC.
    naive = (now - timedelta(hours=4)).replace(tzinfo=None).isoformat()
    assert counts("--since", naive, "--limit", "1")["requeued"] == 1
    assert statuses() == ["pending", "pending", "pending"]


def test_the_limit_takes_the_oldest_first(app: Flask) -> None:
    rows = [failed_mail() for _ in range(3)]
    result = requeue(app, "--limit", "2", "--json")
    assert json.loads(result.output) == {"requeued": 2, "skipped": 0}
    assert [state(OutgoingMail, row_id)[0] for row_id in rows] == ["pending", "pending", "failed"]


def test_rows_past_use_are_skipped_counted_and_left_to_the_purge(app: Flask) -> None:
    now = utcnow()
    days = app.config["MAIL_RETENTION_DAYS"]
    old_mail = failed_mail(now - timedelta(days=days + 1))
    old_request = failed_mail(now - timedelta(days=2), kind=mail_queue.SELF_SERVICE)
    recent_request = failed_mail(now - timedelta(hours=1), kind=mail_queue.SELF_SERVICE)
    week_old_mail = failed_mail(now - timedelta(days=7))

    result = requeue(app, "--json")

    assert json.loads(result.output) == {"requeued": 2, "skipped": 2}
    assert state(OutgoingMail, old_mail)[0] == state(OutgoingMail, old_request)[0] == "failed"
    assert state(OutgoingMail, recent_request)[0] == state(OutgoingMail, week_old_mail)[0]
    assert state(OutgoingMail, week_old_mail)[0] == "pending"
    # Requeue and purge agree: what was skipped is exactly what the purge deletes.
    assert purge()["outgoing_mails"] == 2
    left = set(db.session.scalars(sa.select(OutgoingMail.id)))
    assert left == {recent_request, week_old_mail}


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["--since", "notadate"], "'notadate' is not an ISO-8601 date and time"),
        (["--since", ""], "is not an ISO-8601 date and time"),
        (["--id", "-1"], "-1 is not in the range"),
        (["--id", "0"], "0 is not in the range"),
        (["--id", "99999999999"], "is not in the range"),
        (["--id", "abc"], "'abc' is not a valid integer"),
        (["--limit", "0"], "0 is not in the range"),
    ],
)
def test_bad_input_is_a_clear_usage_error(app: Flask, args: list[str], complaint: str) -> None:
    failed = failed_mail()
    result = requeue(app, *args)
    assert result.exit_code == 2
    assert isinstance(result.exception, SystemExit)  # no traceback
    assert "Traceback" not in result.output
    assert "Error: Invalid value for" in result.stderr
    assert complaint in result.stderr
    assert state(OutgoingMail, failed)[0] == "failed"
    assert db.session.scalars(sa.select(AuditEvent.event)).all().count("mail.requeued") == 0


def test_the_log_names_counts_never_a_person(app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    failed_mail()
    with caplog.at_level(logging.DEBUG):
        assert requeue(app).exit_code == 0
    lines = [record.getMessage() for record in caplog.records]
    assert "queued mail: 1 requeued, 0 past use skipped" in lines
    dnis = set(db.session.scalars(sa.text("SELECT dni FROM users")))
    emails = set(db.session.scalars(sa.text("SELECT email FROM users")))
    assert not any(value in line for line in lines for value in dnis | emails)


def test_logout_deliveries_given_up_are_requeued_then_delivered(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    delivered = queue_delivery()
    delivered.delivered_at = utcnow()
    failed = queue_delivery()
    failed.attempts, failed.last_error = 5, "HTTP 503"
    failed.gave_up_at = failed.next_attempt_at = utcnow()
    db.session.commit()
    sent_before = state(BackchannelDelivery, delivered.id)

    result = app.test_cli_runner().invoke(clients_group, ["requeue-logouts", "--json"])

    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"requeued": 1, "skipped": 0}
    assert state(BackchannelDelivery, failed.id)[:2] == ("pending", 0)
    assert state(BackchannelDelivery, delivered.id) == sent_before
    codes = set(db.session.scalars(sa.select(AuditEvent.event)))
    assert "backchannel_logout.requeued" in codes
    monkeypatch.setattr(backchannel, "post_logout_token", lambda *args: None)
    assert backchannel.deliver_due_logouts() == (1, 0)
    assert state(BackchannelDelivery, failed.id)[0] == "sent"
