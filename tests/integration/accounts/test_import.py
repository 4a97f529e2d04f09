"""Importing users from CSV: all or nothing, idempotent, dry run, encodings and delimiters."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import func
from sqlalchemy import select

from passport.accounts.errors import InvalidImportError
from passport.accounts.errors import RowError
from passport.accounts.importing import import_users
from passport.accounts.models import User
from passport.accounts.models import UserStatus
from passport.audit.models import AuditEvent
from passport.extensions import db
from tests.conftest import Outbox
from tests.factories import make_user

GOOD = (
    "dni,email,given_name,family_name,phone,dre,ugel\n"
    "41000001,ana@example.edu.pe,Ana María,Quispe Mamani,+51987654321,DRE Lambayeque,"
    "UGEL Lambayeque\n"
    "41000002,jose@example.edu.pe,José,Huamán Flores,,DRE Lambayeque,UGEL Chiclayo\n"
    "41000003,nilda@example.edu.pe,Nilda,Ñahui Cusi,,,\n"
)


def count_users() -> int:
    return db.session.scalar(select(func.count()).select_from(User)) or 0


def errors_of(source: bytes) -> list[RowError]:
    with pytest.raises(InvalidImportError) as caught:
        import_users(source)
    return caught.value.errors


def test_new_users_are_created_pending_and_mailed(app: Flask, outbox: Outbox) -> None:
    report = import_users(GOOD.encode())
    assert report.summary() == "3 created, 0 updated, 0 unchanged"
    assert report.mails_sent == 3
    users = db.session.scalars(select(User).order_by(User.dni)).all()
    assert [(u.dni, u.status) for u in users] == [
        ("41000001", UserStatus.PENDING),
        ("41000002", UserStatus.PENDING),
        ("41000003", UserStatus.PENDING),
    ]
    assert users[0].phone_number == "+51987654321"
    assert users[0].ugel == "UGEL Lambayeque"
    assert users[2].family_name == "Ñahui Cusi"
    assert sorted(m["To"] for m in outbox.messages()) == [
        "ana@example.edu.pe",
        "jose@example.edu.pe",
        "nilda@example.edu.pe",
    ]


def test_reimporting_the_same_file_changes_nothing(app: Flask, outbox: Outbox) -> None:
    import_users(GOOD.encode())
    mails = len(outbox.messages())
    events = db.session.scalar(select(func.count()).select_from(AuditEvent))
    report = import_users(GOOD.encode())
    assert report.summary() == "0 created, 0 updated, 3 unchanged"
    assert len(outbox.messages()) == mails
    # Only the import's own summary event is new.
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == (events or 0) + 1


def test_changed_rows_update_existing_users_but_never_their_status(app: Flask) -> None:
    active = make_user(dni="41000001", email="old@example.edu.pe", email_verified=True)
    changed = GOOD.replace("ana@example.edu.pe", "ana.nueva@example.edu.pe")
    report = import_users(changed.encode(), send_email=False)
    assert report.summary() == "2 created, 1 updated, 0 unchanged"
    db.session.refresh(active)
    assert active.email == "ana.nueva@example.edu.pe"
    assert not active.email_verified
    assert active.status is UserStatus.ACTIVE
    assert active.given_name == "Ana María"


def test_an_empty_optional_cell_keeps_the_stored_value(app: Flask) -> None:
    user = make_user(
        dni="41000002",
        email="jose@example.edu.pe",
        given_name="José",
        family_name="Huamán Flores",
        phone_number="+51911111111",
        dre="DRE Lambayeque",
        ugel="UGEL Chiclayo",
    )
    report = import_users(GOOD.encode(), send_email=False)
    assert "41000002" in report.unchanged
    db.session.refresh(user)
    assert user.phone_number == "+51911111111"


def test_one_bad_row_writes_nothing_and_every_error_has_line_and_field(
    app: Flask, outbox: Outbox
) -> None:
    bad = GOOD + "4100000X,no-es-correo,Pedro,,+51123,,\n" + "41000001,otra@example.pe,Ana,Q,,,\n"
    errors = errors_of(bad.encode())
    assert [(e.line, e.field) for e in errors] == [
        (5, "dni"),
        (5, "email"),
        (5, "family_name"),
        (5, "phone"),
        (6, "dni"),
    ]
    assert "also on line 2" in errors[-1].reason
    assert count_users() == 0
    assert outbox.messages() == []


def test_a_dry_run_reports_and_writes_nothing(app: Flask, outbox: Outbox) -> None:
    make_user(dni="41000001", email="old@example.edu.pe")
    report = import_users(GOOD.encode(), dry_run=True)
    assert report.dry_run
    assert report.summary() == "2 created, 1 updated, 0 unchanged"
    assert count_users() == 1
    assert db.session.scalar(select(User.email).where(User.dni == "41000001")) == (
        "old@example.edu.pe"
    )
    assert outbox.messages() == []


def test_a_byte_order_mark_and_semicolons_are_accepted(app: Flask) -> None:
    excel = "\ufeff" + GOOD.replace(",", ";")
    report = import_users(excel.encode("utf-8"), send_email=False)
    assert report.summary() == "3 created, 0 updated, 0 unchanged"


def test_quoted_fields_and_header_case_are_accepted(app: Flask) -> None:
    source = (
        "DNI,Email,Given_Name,Family_Name,Street_Address,Country\n"
        '41000001,a@example.pe,"Ana María",Quispe,"Av. Arequipa 123, Of. 4",PE\n'
    )
    import_users(source.encode(), send_email=False)
    user = db.session.scalars(select(User)).one()
    assert user.given_name == "Ana María"
    assert user.address == {"street_address": "Av. Arequipa 123, Of. 4", "country": "PE"}


def test_a_non_utf8_file_gets_a_clear_error(app: Flask) -> None:
    [error] = errors_of(GOOD.encode("latin-1"))
    assert error.line == 2  # "Ana María": the first byte that is not UTF-8
    assert "not UTF-8" in error.reason
    assert count_users() == 0


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("", [(1, None, "the file is empty: a header is expected")]),
        ("dni,email,given_name\n", [(1, "family_name", "required column is missing")]),
        (
            "dni,email,given_name,family_name,telefono\n",
            [(1, "telefono", "unknown column")],
        ),
        (
            "dni,email,given_name,family_name,email\n",
            [(1, "email", "column appears twice")],
        ),
        (
            "dni,email,given_name,family_name\n41000001,a@example.pe,Ana\n",
            [(2, None, "expected 4 fields, found 3")],
        ),
    ],
)
def test_malformed_files_are_refused(
    app: Flask, source: str, expected: list[tuple[int, str | None, str]]
) -> None:
    assert [(e.line, e.field, e.reason) for e in errors_of(source.encode())] == expected


def test_blank_lines_are_ignored(app: Flask) -> None:
    report = import_users((GOOD + "\n,,,,,,\n\n").encode(), send_email=False)
    assert len(report.created) == 3
