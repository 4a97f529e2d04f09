"""The audit log's hash chain: intact chains verify, edits and deletions are found."""

from __future__ import annotations

import itertools
import json
import os
import threading

import pytest
from flask import Flask
from sqlalchemy import delete
from sqlalchemy import select
from sqlalchemy import update

from passport.audit.chain import event_hash
from passport.audit.chain import verify_chain
from passport.audit.models import AuditEvent
from passport.audit.services import record_event
from passport.cli import cli
from passport.cli import register_groups
from passport.extensions import db


def write_events(count: int, *, per_commit: int = 1) -> list[int]:
    """Record ``count`` events, committing every ``per_commit``; their ids."""
    rows = []
    for index in range(count):
        rows.append(
            record_event(
                "test.event",
                subject_dni=f"{index:08d}",
                ip_address="203.0.113.7",
                details={"n": index, "texto": "Año académico"},
            )
        )
        if (index + 1) % per_commit == 0:
            db.session.commit()
    db.session.commit()
    return [row.id for row in rows]


def fields_of(row: AuditEvent, **changes: object) -> dict:
    """The hashed fields these tests write, with ``changes`` applied."""
    values = {
        name: getattr(row, name)
        for name in ("occurred_at", "event", "outcome", "subject_dni", "ip_address", "details")
    }
    values.update(changes)
    return values


def run_verify(app: Flask) -> tuple[int, dict]:
    register_groups()
    result = app.test_cli_runner().invoke(cli, ["audit", "verify", "--json"])
    return result.exit_code, json.loads(result.stdout)


def test_each_event_is_chained_to_the_previous_one(app: Flask) -> None:
    ids = write_events(5, per_commit=2)  # several events in one flush, and across commits
    rows = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [row.id for row in rows] == ids
    assert rows[0].prev_hash is None
    for before, after in itertools.pairwise(rows):
        assert after.prev_hash == before.hash
    for row in rows:
        values = {name: getattr(row, name) for name in ("occurred_at", "event", "outcome")}
        values.update(subject_dni=row.subject_dni, ip_address=row.ip_address, details=row.details)
        assert row.hash == event_hash(values, row.prev_hash)


def test_an_intact_chain_verifies(app: Flask) -> None:
    ids = write_events(7, per_commit=3)
    report = verify_chain(db.session, batch_size=3)  # crosses batch boundaries
    assert report.ok
    assert report.checked == 7
    assert report.last_id == ids[-1]
    code, body = run_verify(app)
    assert code == 0
    assert body["ok"] is True
    assert body["checked"] == 7
    assert body["broken_id"] is None


def test_an_edited_record_is_reported_at_its_id(app: Flask) -> None:
    ids = write_events(6)
    db.session.execute(update(AuditEvent).where(AuditEvent.id == ids[3]).values(details={"n": 999}))
    db.session.commit()
    report = verify_chain(db.session, batch_size=2)
    assert not report.ok
    assert report.broken_id == ids[3]
    assert report.checked == 3
    code, body = run_verify(app)
    assert code == 1
    assert body["broken_id"] == ids[3]
    assert "does not match its hash" in body["reason"]


def test_a_rehashed_edit_breaks_the_next_link(app: Flask) -> None:
    """An editor who recomputes the edited row's hash is caught by its successor."""
    ids = write_events(4)
    row = db.session.get(AuditEvent, ids[1])
    assert row is not None
    forged = event_hash(fields_of(row, event="test.forged"), row.prev_hash)
    db.session.execute(
        update(AuditEvent).where(AuditEvent.id == ids[1]).values(event="test.forged", hash=forged)
    )
    db.session.commit()
    report = verify_chain(db.session)
    assert report.broken_id == ids[2]
    assert "removed or altered" in (report.reason or "")


def test_a_deleted_record_is_reported_at_the_next_id(app: Flask) -> None:
    ids = write_events(5)
    db.session.execute(delete(AuditEvent).where(AuditEvent.id == ids[2]))
    db.session.commit()
    report = verify_chain(db.session)
    assert report.broken_id == ids[3]
    assert "removed or altered" in (report.reason or "")


def test_deleting_the_first_records_is_reported(app: Flask) -> None:
    ids = write_events(3)
    db.session.execute(delete(AuditEvent).where(AuditEvent.id == ids[0]))
    db.session.commit()
    assert verify_chain(db.session).broken_id == ids[1]


def test_events_older_than_the_chain_are_counted_not_checked(app: Flask) -> None:
    ids = write_events(4)
    # As after migration 0006: the first events have no hash, the chain starts later.
    db.session.execute(
        update(AuditEvent).where(AuditEvent.id.in_(ids[:2])).values(hash=None, prev_hash=None)
    )
    db.session.execute(update(AuditEvent).where(AuditEvent.id == ids[2]).values(prev_hash=None))
    first = db.session.get(AuditEvent, ids[2])
    assert first is not None
    db.session.refresh(first)
    first.hash = event_hash(fields_of(first), None)
    second = db.session.get(AuditEvent, ids[3])
    assert second is not None
    second.prev_hash = first.hash
    second.hash = event_hash(fields_of(second), first.hash)
    db.session.commit()
    report = verify_chain(db.session)
    assert report.ok
    assert (report.unchained, report.checked) == (2, 2)


def test_a_hash_removed_inside_the_chain_is_reported(app: Flask) -> None:
    ids = write_events(3)
    db.session.execute(update(AuditEvent).where(AuditEvent.id == ids[1]).values(hash=None))
    db.session.commit()
    report = verify_chain(db.session)
    assert report.broken_id == ids[1]


def test_an_empty_log_verifies(app: Flask) -> None:
    code, body = run_verify(app)
    assert code == 0
    assert body["checked"] == 0


@pytest.mark.postgres_only
@pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="concurrent writers need PostgreSQL",
)
def test_concurrent_appends_keep_one_valid_chain(app: Flask) -> None:
    threads_count, per_thread = 8, 15
    barrier = threading.Barrier(threads_count)
    errors: list[BaseException] = []

    def writer(number: int) -> None:
        try:
            with app.app_context():
                barrier.wait()
                for index in range(per_thread):
                    record_event("test.concurrent", details={"thread": number, "n": index})
                    db.session.commit()
                db.session.remove()
        except BaseException as error:  # reported by the assertion below
            errors.append(error)

    workers = [threading.Thread(target=writer, args=(n,)) for n in range(threads_count)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    report = verify_chain(db.session)
    assert report.ok, report
    assert report.checked == threads_count * per_thread


def test_an_event_of_a_rolled_back_transaction_is_never_written(app: Flask) -> None:
    record_event("test.rolled_back")
    db.session.rollback()
    record_event("test.closed")
    db.session.close()
    write_events(1)
    assert db.session.scalars(select(AuditEvent.event)).all() == ["test.event"]


def test_a_savepoint_rollback_keeps_the_outer_transaction_events(app: Flask) -> None:
    record_event("test.outer")
    with db.session.begin_nested() as savepoint:
        savepoint.rollback()
    db.session.commit()
    assert db.session.scalars(select(AuditEvent.event)).all() == ["test.outer"]
    assert verify_chain(db.session).ok
