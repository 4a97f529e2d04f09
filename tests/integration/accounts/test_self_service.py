"""Generar contraseña and ¿Olvidaste la contraseña?: DNI + CAPTCHA, no account enumeration."""

from __future__ import annotations

import re
import statistics
import time

import pytest
from flask import Flask
from flask import has_request_context
from flask import request
from flask.testing import FlaskClient
from sqlalchemy import event
from sqlalchemy import select
from werkzeug.test import TestResponse

from passport.accounts.models import UserStatus
from passport.audit.models import AuditEvent
from passport.extensions import db
from tests.conftest import Outbox
from tests.factories import make_user
from tests.helpers import CAPTCHA
from tests.helpers import CSRF_FIELD
from tests.helpers import csrf_token
from tests.integration.accounts.conftest import request_link

SUBJECT_PREFIX = "MINEDU - Plataforma de Servicios para el Servidor Público"
PATHS = ["/generar-contrasena", "/olvide-contrasena"]


def comparable(response: TestResponse) -> str:
    """The body minus what differs between two renders for the same person anyway."""
    return CSRF_FIELD.sub("", response.get_data(as_text=True))


@pytest.mark.parametrize(
    ("path", "title"),
    [
        ("/generar-contrasena", "Generar contraseña"),
        ("/olvide-contrasena", "¿Olvidaste la contraseña?"),
    ],
)
def test_the_form_asks_for_the_dni_and_the_captcha(
    client: FlaskClient, path: str, title: str
) -> None:
    page = client.get(path)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'<h1 id="page-title">{title}</h1>' in html
    assert 'name="dni"' in html
    assert 'name="captcha"' in html
    assert 'name="csrf_token"' in html


@pytest.mark.parametrize("path", PATHS)
def test_existing_and_unknown_dnis_get_identical_answers(
    app: Flask, client: FlaskClient, outbox: Outbox, path: str
) -> None:
    pending = make_user(password=None)
    active = make_user()
    disabled = make_user(status=UserStatus.DISABLED)
    answers = [
        request_link(client, path, dni)
        for dni in (pending.dni, active.dni, disabled.dni, "49999999")
    ]
    assert {a.status_code for a in answers} == {200}
    bodies = {comparable(a) for a in answers}
    assert len(bodies) == 1
    body = bodies.pop()
    assert "Revise su correo electrónico" in body
    assert "Si el DNI ingresado corresponde a un usuario de la plataforma" in body
    # No masked address, no name, no DNI: nothing that tells whether the account exists.
    assert "@example.edu.pe" not in body
    assert "Rosa" not in body
    for user in (pending, active, disabled):
        assert user.dni not in body
    # Only the two live accounts got mail: the pending one to generate, the active to reset.
    subjects = {m["To"]: m["Subject"] for m in outbox.messages()}
    assert subjects == {
        pending.email: f"{SUBJECT_PREFIX} – Generar tu contraseña",
        active.email: f"{SUBJECT_PREFIX} – Restablecer tu contraseña",
    }


def test_the_request_is_audited_without_telling_the_visitor(
    app: Flask, client: FlaskClient, outbox: Outbox
) -> None:
    user = make_user(password=None)
    request_link(client, "/generar-contrasena", user.dni)
    request_link(client, "/generar-contrasena", "49999999")

    def audited(event: str) -> list[tuple[str | None, int | None, object]]:
        rows = db.session.scalars(
            select(AuditEvent).where(AuditEvent.event == event).order_by(AuditEvent.id)
        ).all()
        return [(e.subject_dni, e.subject_user_id, e.details) for e in rows]

    # The request records the same thing for every DNI; the sender records what became of it.
    assert audited("password_link.requested") == [
        (user.dni, None, {"result": "queued"}),
        ("49999999", None, {"result": "queued"}),
    ]
    assert audited("password_link.processed") == [
        (user.dni, user.id, {"result": "sent_activation"}),
        ("49999999", None, {"result": "unknown_dni"}),
    ]
    requested = db.session.scalars(
        select(AuditEvent).where(AuditEvent.event == "password_link.requested")
    ).first()
    assert requested is not None
    assert requested.ip_address == "127.0.0.1"


@pytest.mark.parametrize("path", PATHS)
def test_known_and_unknown_dnis_take_the_same_path_in_the_request(
    app: Flask, client: FlaskClient, outbox: Outbox, path: str
) -> None:
    """The request runs the same SQL for every DNI and never builds or sends a mail: a known
    DNI used to answer ~18 ms slower (the mail was rendered and handed to SMTP in the request)."""
    pending = make_user(password=None)
    active = make_user()
    disabled = make_user(status=UserStatus.DISABLED)
    statements: list[str] = []
    sends: list[bool] = []  # per mail handed to the transport: was a request being served?

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if has_request_context() and request.method == "POST":
            statements.append(statement)

    transport = app.extensions["passport.mail_transport"]
    original_send = transport.send

    def send(message: object) -> None:
        sends.append(has_request_context())
        original_send(message)

    paths = {}
    event.listen(db.engine, "before_cursor_execute", record)
    transport.send = send
    try:
        for dni in (pending.dni, active.dni, disabled.dni, "49999999"):
            statements.clear()
            assert request_link(client, path, dni).status_code == 200
            paths[dni] = list(statements)
    finally:
        transport.send = original_send
        event.remove(db.engine, "before_cursor_execute", record)
    assert paths[pending.dni]  # the listener saw the request's statements
    assert paths[pending.dni] == paths[active.dni] == paths[disabled.dni] == paths["49999999"]
    assert not any("FROM users" in statement for statement in paths["49999999"])
    # Both live accounts got their mail, sent after the response.
    assert sends == [False, False]
    assert len(outbox.messages()) == 2


def test_known_and_unknown_dnis_answer_in_comparable_time(
    app: Flask, client: FlaskClient, outbox: Outbox
) -> None:
    """A loose check of the timing itself (the statement test above is the precise one), with
    a transport as slow as an SMTP round trip."""
    known = make_user()
    timings: dict[str, list[float]] = {known.dni: [], "49999999": []}
    transport = app.extensions["passport.mail_transport"]
    original_send = transport.send

    def slow_send(message: object) -> None:
        time.sleep(0.03)
        original_send(message)

    transport.send = slow_send
    try:
        measure(client, timings)
    finally:
        transport.send = original_send
    known_median = statistics.median(timings[known.dni])
    unknown_median = statistics.median(timings["49999999"])
    # Generous bounds for a loaded test machine; a mail sent in the request costs 30 ms.
    assert known_median <= unknown_median * 1.5 + 0.01
    assert len(outbox.messages()) == 12


def measure(client: FlaskClient, timings: dict[str, list[float]]) -> None:
    """Post each DNI in turn, 12 times, recording how long the answer took."""
    for round_number in range(12):
        for number, dni in enumerate(timings):
            data = {"csrf_token": csrf_token(client, "/olvide-contrasena"), "dni": dni}
            data["captcha"] = CAPTCHA
            # One address per request: the per-address limit is not what is measured here.
            address = {"REMOTE_ADDR": f"10.9.{round_number}.{number + 1}"}
            started = time.perf_counter()
            response = client.post("/olvide-contrasena", data=data, environ_overrides=address)
            timings[dni].append(time.perf_counter() - started)
            response.close()  # the sender's work happens here, outside the measured answer
            assert response.status_code == 200


def test_the_reset_mail_has_a_working_link_and_the_help_desk(
    app: Flask, client: FlaskClient, outbox: Outbox
) -> None:
    user = make_user()
    request_link(client, "/olvide-contrasena", user.dni)
    text = Outbox.text_of(outbox.last())
    assert "Estimado(a) Rosa Elena Quispe Huamán:" in text
    assert "Recibimos una solicitud para restablecer la contraseña" in text
    assert f"Su usuario es: {user.dni}" in text
    assert "Si usted no pidió este cambio, ignore este mensaje" in text
    assert "mesadeayuda@minedu.gob.pe" in text
    [link] = [link for link in outbox.links_in_last() if "/verificacion/" in link]
    assert client.get(link.replace("http://127.0.0.1:5000", "")).status_code == 200


@pytest.mark.parametrize("path", PATHS)
def test_a_wrong_captcha_is_refused_and_sends_nothing(
    app: Flask, client: FlaskClient, outbox: Outbox, path: str
) -> None:
    user = make_user(password=None)
    response = request_link(client, path, user.dni, captcha="WRONG")
    assert response.status_code == 400
    assert "El código de la imagen no es correcto." in response.get_data(as_text=True)
    assert outbox.messages() == []


def test_a_missing_captcha_is_refused(app: Flask, client: FlaskClient, outbox: Outbox) -> None:
    user = make_user(password=None)
    response = request_link(client, "/generar-contrasena", user.dni, captcha=None)
    assert response.status_code == 400
    assert outbox.messages() == []


def test_the_captcha_is_single_use(app: Flask, client: FlaskClient, outbox: Outbox) -> None:
    user = make_user(password=None)
    token = csrf_token(client, "/generar-contrasena")
    data = {"csrf_token": token, "dni": user.dni, "captcha": CAPTCHA}
    first = client.post("/generar-contrasena", data=data)
    first.close()  # the mail is sent after the response, as a server does
    assert first.status_code == 200
    again = client.post("/generar-contrasena", data=data)
    again.close()
    assert again.status_code == 400
    assert len(outbox.messages()) == 1


@pytest.mark.parametrize("dni", ["1234567", "1234567a", "", "１２３４５６７８", "12 34567"])
def test_a_malformed_dni_gets_a_spanish_message(
    app: Flask, client: FlaskClient, outbox: Outbox, dni: str
) -> None:
    response = request_link(client, "/olvide-contrasena", dni)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert re.search(r"El DNI debe tener exactamente 8 dígitos|Ingrese su DNI\.", html)
    assert 'aria-invalid="true"' in html
    assert outbox.messages() == []


@pytest.mark.parametrize("dni", ["123456789", "12 345678"])
def test_a_dni_longer_than_the_input_allows_gets_the_short_400(
    app: Flask, client: FlaskClient, outbox: Outbox, dni: str
) -> None:
    response = request_link(client, "/olvide-contrasena", dni)
    assert response.status_code == 400
    assert "Los datos enviados son demasiado largos" in response.get_data(as_text=True)
    assert outbox.messages() == []


def test_a_post_without_the_csrf_token_is_refused(
    app: Flask, client: FlaskClient, outbox: Outbox
) -> None:
    user = make_user(password=None)
    client.get("/generar-contrasena")
    response = client.post("/generar-contrasena", data={"dni": user.dni, "captcha": CAPTCHA})
    assert response.status_code == 400
    assert outbox.messages() == []


def test_too_many_requests_from_one_address_get_429(
    app: Flask, client: FlaskClient, outbox: Outbox
) -> None:
    limit = int(app.config["ACCOUNT_RATE_LIMIT"].split()[0])
    statuses = [
        request_link(client, "/generar-contrasena", "49999999").status_code for _ in range(limit)
    ]
    assert statuses == [200] * limit
    # The budget is shared by both forms.
    assert request_link(client, "/olvide-contrasena", "49999999").status_code == 429


def test_a_mail_failure_gives_the_same_answer(
    app: Flask, client: FlaskClient, outbox: Outbox
) -> None:
    from passport.mail.transports import OutboxTransport

    user = make_user(password=None)
    transport = app.extensions["passport.mail_transport"]
    app.extensions["passport.mail_transport"] = OutboxTransport("/proc/cannot-write-here")
    try:
        failed = request_link(client, "/generar-contrasena", user.dni)
    finally:
        app.extensions["passport.mail_transport"] = transport
    unknown = request_link(client, "/generar-contrasena", "49999999")
    assert failed.status_code == unknown.status_code == 200
    assert comparable(failed) == comparable(unknown)
    db.session.refresh(user)
    assert user.link_generation == 0  # nothing was written for the failed mail
