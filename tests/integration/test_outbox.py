"""The one outbox (passport/outbox.py) under mails and back-channel logouts."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask

from passport import outbox
from passport.accounts import mail_queue
from passport.accounts.links import LinkPurpose
from passport.accounts.models import OutgoingMail
from passport.database import utcnow
from passport.extensions import db
from passport.mail import MailDeliveryError
from passport.oidc import backchannel
from passport.oidc.models import BackchannelDelivery
from passport.oidc.models import OAuthClient
from tests.factories import make_user
from tests.integration.oidc.conftest import register_client

ON_POSTGRESQL = os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql")


def queue_delivery() -> BackchannelDelivery:
    rp = register_client(backchannel_logout_uri="https://ayni.example.gob.pe/bc")
    client_pk = db.session.scalar(
        sa.select(OAuthClient.id).where(OAuthClient.client_id == rp.client_id)
    )
    delivery = BackchannelDelivery(client_pk=client_pk, uri="https://x", sub="s", sid="x")
    db.session.add(delivery)
    db.session.commit()
    return delivery


def test_a_claimed_logout_delivery_is_not_posted_by_a_second_run(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    posted: list[str] = []
    monkeypatch.setattr(
        backchannel, "post_logout_token", lambda uri, token, timeout, policy: posted.append(token)
    )
    delivery = queue_delivery()
    [claimed] = backchannel.DELIVERIES.claim()  # another run holds it, under lease
    assert claimed.id == delivery.id
    assert claimed.status == outbox.SENDING
    assert backchannel.deliver_due_logouts() == (0, 0)
    assert posted == []


def test_a_run_is_bounded_by_its_limit(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backchannel, "post_logout_token", lambda *args: None)
    queue_delivery()
    queue_delivery()
    assert backchannel.deliver_due_logouts(limit=1) == (1, 0)
    assert backchannel.deliver_due_logouts(limit=1) == (1, 0)
    statuses = set(db.session.scalars(sa.select(BackchannelDelivery.status)))
    assert statuses == {outbox.SENT}


def test_a_mail_given_up_records_when(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise MailDeliveryError("smtp down")

    monkeypatch.setattr(mail_queue, "send_link_mail", fail)
    mail_queue.enqueue_link_mails([make_user(password=None)], LinkPurpose.ACTIVATION)
    db.session.commit()
    row = db.session.scalars(sa.select(OutgoingMail)).one()
    row.attempts = app.config["MAIL_QUEUE_MAX_ATTEMPTS"] - 1
    db.session.commit()
    before = utcnow()
    assert mail_queue.send_pending().failed == 1
    reloaded = db.session.get(OutgoingMail, row.id, populate_existing=True)
    assert reloaded is not None
    row = reloaded
    assert (row.status, row.last_error) == ("failed", "smtp down")
    assert row.gave_up_at is not None
    assert row.gave_up_at >= before


def test_a_stamp_sets_the_status(app: Flask) -> None:
    now = utcnow()
    assert BackchannelDelivery(delivered_at=now).status == outbox.SENT
    assert BackchannelDelivery(gave_up_at=now).status == outbox.FAILED
    assert OutgoingMail(sent_at=now).status == outbox.SENT


@pytest.mark.skipif(not ON_POSTGRESQL, reason="row locks need PostgreSQL")
def test_a_row_locked_by_another_sender_is_skipped_not_waited_for(app: Flask) -> None:
    mail_queue.enqueue_link_mails([make_user(password=None)], LinkPurpose.ACTIVATION)
    db.session.commit()
    with db.engine.connect() as other:
        other.execute(sa.select(OutgoingMail.id).with_for_update())  # a sender mid-claim
        # Without SKIP LOCKED the claim would wait for the other sender: make that an error.
        db.session.execute(sa.text("SET lock_timeout = '2s'"))
        assert mail_queue.MAILS.claim() == []
        other.rollback()
    assert len(mail_queue.MAILS.claim()) == 1


def test_the_migration_keeps_every_row_and_its_state(app: Flask) -> None:
    from flask_migrate import downgrade
    from flask_migrate import upgrade

    user_id = make_user(password=None).id
    rp = register_client(backchannel_logout_uri="https://ayni.example.gob.pe/bc")
    client_pk = db.session.scalar(
        sa.select(OAuthClient.id).where(OAuthClient.client_id == rp.client_id)
    )
    db.session.commit()
    db.session.remove()
    downgrade(revision="0010")
    now = utcnow()
    lease_end = now + timedelta(minutes=5)
    try:
        with db.engine.begin() as connection:
            deliveries = sa.table(
                "oauth_backchannel_deliveries",
                *(sa.column(name) for name in ("client_pk", "uri", "attempts", "next_attempt_at")),
                sa.column("delivered_at"),
                sa.column("gave_up_at"),
                sa.column("created_at"),
            )
            for delivered, gave_up in ((None, None), (now, None), (None, now)):
                connection.execute(
                    deliveries.insert().values(
                        client_pk=client_pk,
                        uri="https://x",
                        attempts=1,
                        next_attempt_at=now,
                        delivered_at=delivered,
                        gave_up_at=gave_up,
                        created_at=now,
                    )
                )
            mails = sa.table(
                "outgoing_mails",
                *(sa.column(name) for name in ("user_id", "kind", "status", "attempts")),
                sa.column("next_attempt_at"),
                sa.column("created_at"),
            )
            for status in ("pending", "failed"):
                connection.execute(
                    mails.insert().values(
                        user_id=user_id,
                        kind="activation",
                        status=status,
                        attempts=1,
                        next_attempt_at=lease_end,
                        created_at=now,
                    )
                )
    finally:
        upgrade()
    rows = db.session.scalars(sa.select(BackchannelDelivery).order_by(BackchannelDelivery.id))
    assert [(row.status, row.sent_at is not None, row.gave_up_at is not None) for row in rows] == [
        ("pending", False, False),
        ("sent", True, False),
        ("failed", False, True),
    ]
    mail_rows = db.session.scalars(sa.select(OutgoingMail).order_by(OutgoingMail.id))
    assert [(row.status, row.gave_up_at) for row in mail_rows] == [
        ("pending", None),
        ("failed", lease_end),
    ]
