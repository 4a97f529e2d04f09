"""Audit events carry the id of the request that caused them, inside the hash chain.

The column came after the chain: it is hashed only when set, so events written before it
(and events written outside any request) keep the hash they had.
"""

from __future__ import annotations

from datetime import UTC
from datetime import datetime

from flask import Flask
from sqlalchemy import select
from sqlalchemy import update

from passport.audit.chain import event_hash
from passport.audit.chain import verify_chain
from passport.audit.models import AuditEvent
from passport.audit.services import record_event
from passport.extensions import db
from passport.logs import bound_request_id


def test_an_event_without_a_request_id_hashes_as_before_the_column() -> None:
    values = {"occurred_at": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), "event": "login"}
    assert event_hash({**values, "request_id": None}, None) == event_hash(values, None)
    assert event_hash({**values, "request_id": "r-1"}, None) != event_hash(values, None)


def test_the_request_id_is_stored_chained_and_tamper_evident(app: Flask) -> None:
    record_event("test.outside")  # CLI, cron: no request
    with bound_request_id("req-abc"):
        record_event("test.inside")
    db.session.commit()
    outside, inside = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert outside.request_id is None
    assert inside.request_id == "req-abc"
    assert verify_chain(db.session).ok

    db.session.execute(
        update(AuditEvent).where(AuditEvent.id == inside.id).values(request_id="req-other")
    )
    db.session.commit()
    report = verify_chain(db.session)
    assert report.broken_id == inside.id
    assert report.code == "content_mismatch"
