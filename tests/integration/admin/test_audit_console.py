"""The console's audit log: filters, pages, and a CSV export that is audited and inert."""

from __future__ import annotations

import csv
import io
from datetime import UTC
from datetime import datetime

import time_machine
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy import update

from passport.accounts.models import User
from passport.audit.chain import verify_chain
from passport.audit.models import AuditEvent
from passport.audit.queries import PAGE_SIZE
from passport.audit.queries import safe_cell
from passport.audit.services import record_event
from passport.caches import clear_all
from passport.extensions import db
from tests.factories import make_user
from tests.helpers import csrf_token

PAGE = "/admin/auditoria"


def text(response) -> str:  # type: ignore[no-untyped-def]
    return str(response.get_data(as_text=True))


def rows_of(response) -> str:  # type: ignore[no-untyped-def]
    """The table body of an audit page (the event list above it names every type)."""
    page = text(response)
    assert response.status_code == 200
    return page.split("<tbody>")[1].split("</tbody>")[0] if "<tbody>" in page else ""


def seed(admin: User) -> tuple[User, User]:
    """Two teachers; events on each, by the admin and by nobody, on two days."""
    rosa, juan = make_user(given_name="Rosa"), make_user(given_name="Juan")
    with time_machine.travel(datetime(2026, 3, 2, 15, 0, tzinfo=UTC)):  # 10:00 in Lima
        record_event("user.unlocked", actor_user_id=admin.id, subject_user_id=rosa.id)
        record_event(
            "login.failed", subject_dni=juan.dni, outcome="failure", client_id="ayni-client"
        )
        db.session.commit()
    with time_machine.travel(datetime(2026, 3, 5, 4, 0, tzinfo=UTC)):  # 23:00 on the 4th in Lima
        record_event(
            "user.disabled",
            actor_user_id=admin.id,
            subject_user_id=juan.id,
            subject_dni=juan.dni,
            user_agent='=HYPERLINK("http://evil")',
            details={"reason": "+51 llamada"},
        )
        db.session.commit()
    return rosa, juan


def test_filters_by_actor_subject_event_and_lima_dates(
    admin_client: FlaskClient, admin: User
) -> None:
    _rosa, juan = seed(admin)
    by_actor = rows_of(admin_client.get(PAGE, query_string={"actor": admin.dni}))
    assert "user.unlocked" in by_actor
    assert "user.disabled" in by_actor
    assert "login.failed" not in by_actor
    by_subject = rows_of(admin_client.get(PAGE, query_string={"subject": juan.dni}))
    assert "login.failed" in by_subject
    assert "user.disabled" in by_subject
    assert "user.unlocked" not in by_subject
    by_event = rows_of(admin_client.get(PAGE, query_string={"event": "login.failed"}))
    assert "login.failed" in by_event
    assert "user.disabled" not in by_event
    # 2026-03-05 04:00 UTC is still the 4th in Lima.
    day = rows_of(admin_client.get(PAGE, query_string={"from": "2026-03-04", "to": "2026-03-04"}))
    assert "user.disabled" in day
    assert "user.unlocked" not in day
    by_client = rows_of(admin_client.get(PAGE, query_string={"client": "ayni-client"}))
    assert "login.failed" in by_client
    assert "user.disabled" not in by_client
    empty = text(admin_client.get(PAGE, query_string={"from": "2027-01-01"}))
    assert "Ningún registro cumple los filtros." in empty


def test_bad_filters_are_refused_in_words(admin_client: FlaskClient) -> None:
    for query, message in (
        ({"actor": "12"}, "El DNI debe tener exactamente 8 dígitos."),
        ({"subject": "abcdefgh"}, "El DNI debe tener exactamente 8 dígitos."),
        ({"from": "2026-13-01"}, "Escriba la fecha como aaaa-mm-dd."),
        ({"event": "<script>"}, "Elija un tipo de evento de la lista."),
        ({"client": "a b"}, "Escriba el identificador (client_id)"),
        ({"from": "2026-03-05", "to": "2026-03-01"}, "La fecha final no puede ser anterior"),
    ):
        response = admin_client.get(PAGE, query_string=query)
        assert response.status_code == 400
        assert message in text(response)
    assert admin_client.get(PAGE, query_string={"page": "x" * 300}).status_code == 200
    assert admin_client.get(PAGE, query_string={"actor": "1" * 5000}).status_code == 400


def test_pages_of_fifty_newest_first(admin_client: FlaskClient) -> None:
    for index in range(PAGE_SIZE + 3):
        record_event("test.event", details={"n": index})
    db.session.commit()
    first = text(admin_client.get(PAGE, query_string={"event": "test.event"}))
    assert '"n": 52' in first or "&#34;n&#34;: 52" in first
    assert 'rel="next"' in first
    second_page = admin_client.get(PAGE, query_string={"event": "test.event", "page": 2})
    second = text(second_page)
    assert 'rel="prev"' in second
    assert rows_of(second_page).count("<tr>") == 3


def test_export_is_filtered_audited_and_safe_in_a_spreadsheet(
    admin_client: FlaskClient, admin: User
) -> None:
    _rosa, juan = seed(admin)
    token = csrf_token(admin_client, PAGE)
    response = admin_client.post(
        f"{PAGE}/exportar",
        data={"csrf_token": token, "subject": juan.dni, "reason": "Pedido de Contraloría"},
    )
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    rows = list(csv.DictReader(io.StringIO(text(response))))
    assert [row["event"] for row in rows] == ["login.failed", "user.disabled"]
    assert all(row["subject_dni"] == juan.dni for row in rows)
    disabled = rows[1]
    assert disabled["actor_dni"] == admin.dni
    assert disabled["user_agent"] == '\'=HYPERLINK("http://evil")'
    assert disabled["hash"]
    exported = db.session.scalar(
        select(AuditEvent).where(AuditEvent.event == "admin.audit_exported")
    )
    assert exported is not None
    assert exported.actor_user_id == admin.id
    assert exported.ip_address
    assert exported.details == {
        "filters": {"subject": juan.dni},
        "reason": "Pedido de Contraloría",
    }
    assert verify_chain(db.session).ok


def test_export_with_bad_filters_exports_nothing(admin_client: FlaskClient) -> None:
    token = csrf_token(admin_client, PAGE)
    response = admin_client.post(f"{PAGE}/exportar", data={"csrf_token": token, "actor": "1"})
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert (
        db.session.scalar(select(AuditEvent).where(AuditEvent.event == "admin.audit_exported"))
        is None
    )


def test_safe_cell_defuses_formulas() -> None:
    for raw in ("=1+1", "+51", "-2", "@SUM(A1)", "\tx", "\rx", "\nx", "\x00x", "\x1bx"):
        assert safe_cell(raw) == "'" + raw
    assert safe_cell("user.created") == "user.created"
    assert safe_cell(None) == ""
    assert safe_cell(12) == "12"


def test_the_console_verifies_the_chain_and_audits_the_check(
    admin_client: FlaskClient, admin: User
) -> None:
    seed(admin)
    token = csrf_token(admin_client, PAGE)
    response = admin_client.post(f"{PAGE}/verificar", data={"csrf_token": token})
    assert response.status_code == 302
    assert "La cadena de auditoría está íntegra" in text(admin_client.get(PAGE))
    check = db.session.scalar(select(AuditEvent).where(AuditEvent.event == "admin.audit_verified"))
    assert check is not None
    assert check.actor_user_id == admin.id
    assert check.details["ok"] is True
    first = db.session.scalar(select(AuditEvent).order_by(AuditEvent.id))
    assert first is not None
    db.session.execute(
        update(AuditEvent).where(AuditEvent.id == first.id).values(outcome="failure")
    )
    db.session.commit()
    admin_client.post(f"{PAGE}/verificar", data={"csrf_token": token})
    page = text(admin_client.get(PAGE))
    assert f"rota en el registro {first.id}" in page
    assert "no coincide con su huella" in page
    assert admin_client.post(f"{PAGE}/verificar").status_code == 400


def test_events_are_named_in_spanish_with_their_code(
    admin_client: FlaskClient, admin: User
) -> None:
    seed(admin)
    body = rows_of(admin_client.get(PAGE, query_string={"actor": admin.dni}))
    assert 'Usuario deshabilitado <code class="event-code">user.disabled</code>' in body
    assert "Usuario desbloqueado" in body
    assert "<td>correcto</td>" in body
    failures = rows_of(admin_client.get(PAGE, query_string={"event": "login.failed"}))
    # A code without a name (an old or foreign event) still shows, as its code.
    assert "login.failed <code" in failures
    assert "<td>fallido</td>" in failures
    clear_all(admin_client.application)  # the filter's list is cached per app for a minute
    page = text(admin_client.get(PAGE))
    assert '<option value="user.disabled">Usuario deshabilitado (user.disabled)</option>' in page
