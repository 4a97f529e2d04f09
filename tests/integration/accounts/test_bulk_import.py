"""The CSV import writes in bulk, and still applies every rule to every row.

A file of a few thousand rows (more than one write chunk) through ``import_users``: the rule of
every write path, the held path, the update path, name words, queued mails, the audit chain,
all or nothing on a failure mid-import, and a statement count that does not grow with the rows.
Run on SQLite and on PostgreSQL (``TEST_DATABASE_URL``), where the rows go through COPY.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event
from sqlalchemy import func
from sqlalchemy import select

from passport.accounts import importing
from passport.accounts.errors import InvalidImportError
from passport.accounts.models import HeldUserRequest
from passport.accounts.models import OutgoingMail
from passport.accounts.models import User
from passport.accounts.models import UserNameWord
from passport.accounts.models import UserStatus
from passport.accounts.territory import Refusal
from passport.admin.imports import row_error_message
from passport.audit.chain import verify_chain
from passport.audit.models import AuditEvent
from passport.audit.services import Actor
from passport.audit.services import record_event
from passport.extensions import db
from tests.factories import make_user

ROWS = 3000
GIVEN = ("Rosa Elena", "José", "Nélida", "Efraín", "Ana Lucía")
FAMILY = ("Quispe Huamán", "Ñaupari Núñez", "Mamani Cusi", "Zúñiga Ríos")
HEADER = "dni,email,given_name,family_name,dre,ugel\n"


def line(n: int, ugel: str = "UGEL 01", email: str | None = None) -> str:
    dni = 42_000_000 + n
    return (
        f"{dni},{email or f'd{dni}@example.edu.pe'},{GIVEN[n % len(GIVEN)]},"
        f"{FAMILY[n % len(FAMILY)]},DRE LIMA,{ugel}\n"
    )


def count(model: type, *where: Any) -> int:
    return int(db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


@pytest.fixture
def scoped_admin(app: Flask) -> User:
    return make_user(is_admin=True, admin_dre="DRE LIMA", admin_ugel="UGEL 01")


class Statements:
    """Counts the INSERT statements sent to the database (and COPY, on PostgreSQL)."""

    def __init__(self) -> None:
        self.inserts = 0
        self.total = 0


@pytest.fixture
def statements(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[Statements]:
    seen = Statements()

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.total += 1
        if statement.lstrip().upper().startswith("INSERT"):
            seen.inserts += 1

    engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    if engine.dialect.name == "postgresql":
        import psycopg

        copy = psycopg.Cursor.copy

        def counted_copy(self: Any, statement: Any, *args: Any, **kwargs: Any) -> Any:
            seen.total += 1
            seen.inserts += 1
            return copy(self, statement, *args, **kwargs)

        monkeypatch.setattr(psycopg.Cursor, "copy", counted_copy)
    yield seen
    event.remove(engine, "before_cursor_execute", before)


def test_a_large_file_applies_every_rule_per_row_in_few_statements(
    app: Flask, scoped_admin: User, statements: Statements
) -> None:
    outside = make_user(dni="42000005", ugel="UGEL 07", email="fuera@example.edu.pe")
    inside = make_user(dni="42000006", ugel="UGEL 01", dre="DRE LIMA", email_verified=True)
    inside_name = (inside.given_name, inside.family_name)
    source = HEADER + "".join(
        line(n, email="nuevo@example.edu.pe" if n == 6 else None) for n in range(ROWS)
    )
    actor = Actor(user_id=scoped_admin.id, reason="Padrón 2026")
    db.session.commit()
    statements.inserts = statements.total = 0

    report = importing.import_users(source.encode(), actor=actor, mail_batch="lote-1")

    # Bounded whatever the number of rows (a multi-row statement or a COPY per table).
    assert 5 <= statements.inserts < ROWS / 100  # users, words, held, mails, events (seen)
    assert statements.total < ROWS / 50
    assert len(report.created) == ROWS - 1  # the held DNI is answered as a new one
    assert report.held == ["42000005"]
    assert report.updated == ["42000006"]
    db.session.expire_all()
    # New people: pending, in the admin's territory, found by the name search's words.
    new = db.session.scalar(select(User).where(User.dni == "42000020"))
    assert new is not None
    assert (new.status, new.ugel, new.email_verified) == (UserStatus.PENDING, "UGEL 01", False)
    assert new.search_name == "rosa elena quispe huaman"
    words = set(db.session.scalars(select(UserNameWord.word).where(UserNameWord.user_id == new.id)))
    assert words == {"rosa", "elena", "quispe", "huaman", "42000020"}
    assert len(new.sub) >= 32
    # The person outside the territory is untouched; the row waits for a national admin.
    db.session.refresh(outside)
    assert (outside.ugel, outside.email) == ("UGEL 07", "fuera@example.edu.pe")
    held = db.session.scalars(select(HeldUserRequest)).one()
    assert (held.user_id, held.source, held.batch) == (outside.id, "import", "lote-1")
    assert held.reason == "Padrón 2026"
    # The person inside is updated; a changed address is no longer verified.
    db.session.refresh(inside)
    assert inside.email == "nuevo@example.edu.pe"
    assert not inside.email_verified
    assert (inside.given_name, inside.family_name) != inside_name
    assert inside.search_name == "jose mamani cusi"
    assert set(
        db.session.scalars(select(UserNameWord.word).where(UserNameWord.user_id == inside.id))
    ) == {"jose", "mamani", "cusi", "42000006"}
    # One activation mail per new person, none for the held or updated ones.
    assert count(OutgoingMail, OutgoingMail.batch == "lote-1") == ROWS - 2
    assert count(OutgoingMail, OutgoingMail.user_id == outside.id) == 0
    # One audit event per person, with the actor and its reason; the chain holds.
    created = count(AuditEvent, AuditEvent.event == "user.created")
    assert created == ROWS - 2
    event_row = db.session.scalar(
        select(AuditEvent).where(
            AuditEvent.event == "user.updated", AuditEvent.subject_user_id == inside.id
        )
    )
    assert event_row is not None
    assert event_row.actor_user_id == scoped_admin.id
    assert event_row.details == {
        "via": "import",
        "fields": ["email", "email_verified", "family_name", "given_name"],
        "reason": "Padrón 2026",
    }
    assert count(AuditEvent, AuditEvent.event == "user.change_held") == 1
    assert count(AuditEvent, AuditEvent.event == "users.imported") == 1
    chain = verify_chain(db.session())
    assert chain.ok
    assert chain.checked == count(AuditEvent)


def test_the_same_file_again_changes_nothing(app: Flask) -> None:
    source = (HEADER + "".join(line(n) for n in range(1200))).encode()
    importing.import_users(source, send_email=False)
    events = count(AuditEvent)
    report = importing.import_users(source, send_email=False)
    assert report.summary() == "0 created, 0 updated, 1200 unchanged"
    assert count(AuditEvent) == events + 1  # the import's summary only
    assert verify_chain(db.session()).ok


def test_a_row_outside_the_territory_refuses_the_whole_file(app: Flask, scoped_admin: User) -> None:
    source = HEADER + "".join(line(n) for n in range(1500)) + line(1500, ugel="UGEL 02")
    with pytest.raises(InvalidImportError) as caught:
        importing.import_users(source.encode(), actor=Actor(user_id=scoped_admin.id, reason="x"))
    [error] = caught.value.errors
    assert (error.line, error.reason) == (1502, Refusal.TERRITORY.value)
    assert row_error_message(error) == "La persona de esta fila no pertenece a su ámbito."
    assert count(User) == 1  # the admin alone


def test_invalid_rows_and_a_repeated_dni_are_reported_in_spanish(app: Flask) -> None:
    source = HEADER + "".join(line(n) for n in range(1500)) + line(3) + "4200X,x,A,B,,\n"
    with pytest.raises(InvalidImportError) as caught:
        importing.import_users(source.encode())
    messages = [(e.line, row_error_message(e)) for e in caught.value.errors]
    assert messages[0] == (1502, "El DNI se repite en el archivo.")
    assert [line for line, _ in messages[1:]] == [1503, 1503]
    assert all(message != "Revise esta fila." for _, message in messages)
    assert count(User) == 0


def test_a_failure_mid_import_writes_nothing(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """A DNI of the file created by someone else after the lookup: the bulk insert fails on
    the unique index half-way, and the whole import is rolled back (all or nothing)."""
    make_user(dni="42001400")
    db.session.commit()
    monkeypatch.setattr(importing, "_existing_users", lambda dnis: {})
    events = count(AuditEvent)
    source = HEADER + "".join(line(n) for n in range(1500))
    with pytest.raises(InvalidImportError) as caught:
        importing.import_users(source.encode(), mail_batch="lote-2")
    assert "created meanwhile" in caught.value.errors[0].reason
    assert count(User) == 1
    assert count(UserNameWord) == 5  # the existing person's words only
    assert count(OutgoingMail) == 0
    assert count(AuditEvent) == events
    assert verify_chain(db.session()).ok


def test_the_chain_holds_with_events_written_during_the_import(app: Flask) -> None:
    """Other requests record events while a bulk import appends its own (PostgreSQL: the
    advisory lock; SQLite: one writer at a time)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL")
    source = (HEADER + "".join(line(n) for n in range(2000))).encode()
    stop = threading.Event()
    written: list[int] = []

    def other_requests() -> None:
        with app.app_context():
            while not stop.is_set():
                record_event("login.success", subject_dni="12345678")
                db.session.commit()
                written.append(1)
            db.session.remove()

    thread = threading.Thread(target=other_requests)
    thread.start()
    try:
        importing.import_users(source, send_email=False)
        importing.import_users(source.replace(b"example.edu.pe", b"example.pe"), send_email=False)
    finally:
        stop.set()
        thread.join()
    assert written
    chain = verify_chain(db.session())
    assert chain.ok, chain.as_dict()
    assert chain.checked == count(AuditEvent)
