"""No secret reaches a log line: a whole journey is run with every logger at DEBUG.

Activation through the mailed link, sign-in (password + CAPTCHA), the code flow with PKCE,
userinfo, refresh, RP-initiated logout with a back-channel delivery, a password reset through
the mailed link and a sign-in with the new password. Every secret the journey used or was
given is then searched for in every captured record (message, arguments, exception text,
access fields) and in the JSON lines the formatter wrote. The access lines themselves are
checked too: one per request, with the route pattern and the id answered in X-Request-Id.
"""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from passport.accounts.services import NewUser
from passport.accounts.services import create_user
from passport.audit.models import AuditEvent
from passport.extensions import db
from passport.logs import ACCESS_LOGGER
from passport.logs import JsonFormatter
from passport.oidc.models import BackchannelDelivery
from passport.oidc.models import OAuthClient
from tests.conftest import Outbox
from tests.helpers import CAPTCHA
from tests.helpers import sign_in
from tests.integration.accounts.conftest import link_path
from tests.integration.accounts.conftest import request_link
from tests.integration.accounts.conftest import set_password
from tests.integration.accounts.conftest import verification_links
from tests.integration.oidc.conftest import pkce_pair
from tests.integration.oidc.conftest import query_of
from tests.integration.oidc.conftest import register_client

DNI = "41234567"
FIRST_PASSWORD = "Kusi8Wayra"
NEW_PASSWORD = "Nueva8Clave"
LANDING = "https://ayni.example.gob.pe/"


@pytest.fixture
def captured(
    app: Flask, known_captcha: str, caplog: pytest.LogCaptureFixture
) -> Iterator[io.StringIO]:
    """Every record of every logger at DEBUG, and the JSON lines the formatter makes of them."""
    from passport.caches import clear_all

    clear_all(app)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    root.addHandler(handler)
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger=ACCESS_LOGGER)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        clear_all(app)


def record_text(record: logging.LogRecord) -> str:
    """Everything a handler could write of a record."""
    parts = [str(record.msg), record.getMessage(), repr(record.args)]
    if record.exc_info:
        parts.append(logging.Formatter().formatException(record.exc_info))
    if record.exc_text:
        parts.append(record.exc_text)
    parts.append(repr(getattr(record, "access", "")))
    return "\n".join(parts)


def token_of(link: str) -> str:
    return link_path(link).rsplit("/", 1)[1]


def test_a_whole_journey_logs_no_secret(
    app: Flask,
    client: FlaskClient,
    outbox: Outbox,
    captured: io.StringIO,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from passport.oidc import backchannel

    secrets: dict[str, str] = {
        "dni": DNI,
        "captcha": CAPTCHA,
        "first password": FIRST_PASSWORD,
        "new password": NEW_PASSWORD,
    }
    logout_tokens: list[str] = []

    def refuse(uri: str, token: str, timeout_seconds: float, policy: object) -> str | None:
        logout_tokens.append(token)
        return "HTTP 503"  # a failed delivery: logged, retried later

    monkeypatch.setattr(backchannel, "post_logout_token", refuse)
    rp = register_client(
        skip_consent=True,
        backchannel_logout_uri="https://ayni.example.gob.pe/auth/backchannel-logout",
        post_logout_redirect_uris=[LANDING],
    )
    assert rp.client_secret is not None
    secrets["client secret"] = rp.client_secret
    stored = db.session.scalars(
        select(OAuthClient.secret_hash).where(OAuthClient.client_id == rp.client_id)
    ).one()
    assert stored is not None
    secrets["client secret hash"] = stored  # a verifier of the secret: no log needs it

    # Activation: "Generar contraseña" mails a link; the link sets the first password.
    create_user(
        NewUser(DNI, "rosa@example.edu.pe", "Rosa Elena", "Quispe Huamán"), send_email=False
    )
    assert request_link(client, "/generar-contrasena", DNI).status_code == 200
    [activation] = verification_links(outbox.links_in_last())
    secrets["activation link token"] = token_of(activation)
    opened = client.get(link_path(activation))
    assert opened.status_code == 200
    assert set_password(client, activation, FIRST_PASSWORD).status_code == 303

    # Sign-in with the password and the CAPTCHA; the SSO cookie is a secret too.
    assert sign_in(client, DNI, FIRST_PASSWORD).status_code == 302
    cookie = client.get_cookie(app.config["SSO_COOKIE_NAME"])
    assert cookie is not None
    secrets["sso cookie"] = cookie.value

    # The code flow with PKCE, userinfo, refresh.
    verifier, challenge = pkce_pair()
    secrets["code verifier"] = verifier
    authorized = client.get(
        "/authorize",
        query_string={
            "response_type": "code",
            "client_id": rp.client_id,
            "redirect_uri": rp.redirect_uri,
            "scope": "openid profile dni offline_access",
            "state": "st-secret-state",
            "nonce": "n-secret-nonce",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
    )
    assert authorized.status_code == 302, authorized.get_data(as_text=True)[:300]
    code = query_of(authorized.headers["Location"])["code"]
    secrets["code"] = code
    tokens = client.post(
        "/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": rp.redirect_uri,
            "code_verifier": verifier,
        },
        headers=rp.basic_auth(),
    ).get_json()
    for name in ("access_token", "refresh_token", "id_token"):
        secrets[name] = tokens[name]
    assert client.get(
        "/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    ).status_code == (200)
    refreshed = client.post(
        "/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        headers=rp.basic_auth(),
    ).get_json()
    for name in ("access_token", "refresh_token", "id_token"):
        secrets["refreshed " + name] = refreshed[name]
    # A replayed code is refused (and logged as such).
    assert client.post(
        "/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": rp.redirect_uri},
        headers=rp.basic_auth(),
    ).status_code == (400)

    # RP-initiated logout: the back-channel delivery fails and is logged.
    logout = client.get(
        "/end-session",
        query_string={
            "id_token_hint": refreshed["id_token"],
            "post_logout_redirect_uri": LANDING,
            "state": "bye-secret",
        },
    )
    assert logout.status_code == 302
    assert logout_tokens, "the back-channel delivery was not attempted"
    secrets["logout token"] = logout_tokens[0]
    delivery = db.session.scalars(select(BackchannelDelivery)).one()
    assert delivery.request_id == logout.headers["X-Request-Id"]

    # Password reset through the mailed link, then a sign-in with the new password.
    assert request_link(client, "/olvide-contrasena", DNI).status_code == 200
    [reset] = verification_links(outbox.links_in_last())
    secrets["reset link token"] = token_of(reset)
    assert set_password(client, reset, NEW_PASSWORD).status_code == 303
    assert sign_in(client, DNI, FIRST_PASSWORD).status_code != 302
    assert sign_in(client, DNI, NEW_PASSWORD).status_code == 302

    records = caplog.records
    assert records, "nothing was logged"
    written = captured.getvalue()
    for name, secret in secrets.items():
        assert len(secret) >= 5, name
        for record in records:
            assert secret not in record_text(record), f"{name} in a {record.name} record"
        assert secret not in written, f"{name} in a JSON log line"

    # The access lines: JSON, the route pattern, the request id the response carried.
    lines = [json.loads(line) for line in written.splitlines()]
    access = [line for line in lines if line["logger"] == ACCESS_LOGGER]
    routes = {(line["method"], line["route"]) for line in access}
    assert ("GET", "/verificacion/<token>") in routes
    assert ("POST", "/verificacion/<token>") in routes
    assert ("POST", "/token") in routes
    token_lines = [line for line in access if line["route"] == "/token"]
    assert all(line["client_id"] == rp.client_id for line in token_lines)
    opened_line = next(
        line for line in access if line["request_id"] == opened.headers["X-Request-Id"]
    )
    assert opened_line["route"] == "/verificacion/<token>"
    assert opened_line["status"] == 200
    assert opened_line["sub"] is None  # nobody signed in yet
    for line in access:
        assert re.fullmatch(r"[0-9a-f]{32}", line["request_id"])
        assert isinstance(line["duration_ms"], float | int)
        assert DNI not in json.dumps(line)
    [retry_line] = [line for line in lines if line["logger"] == "passport.oidc.backchannel"]
    assert retry_line["request_id"] == logout.headers["X-Request-Id"]
    signed_in = [line for line in access if line["sub"]]
    assert signed_in, "no access line names the signed-in person's sub"

    # The audit events of the sign-in carry the id of the request that caused them.
    login_lines = [line for line in access if line["route"] == "/ingresar"]
    login_ids = {line["request_id"] for line in login_lines}
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.event.like("login%"))).all()
    assert events
    assert all(event.request_id in login_ids for event in events)


def test_an_unexpected_error_logs_the_route_not_the_path(
    app: Flask,
    client: FlaskClient,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A crash on a link page names the route pattern; the token stays out of the log."""
    from passport.accounts import views

    def crash(token: str) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(views, "resolve_link", crash)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    caplog.set_level(logging.DEBUG)
    try:
        response = client.get("/verificacion/secret-link-token-123")
    finally:
        app.config["PROPAGATE_EXCEPTIONS"] = None
    assert response.status_code == 500
    assert response.headers["X-Request-Id"]
    messages = [record.getMessage() for record in caplog.records]
    assert "unhandled error on GET /verificacion/<token>" in messages
    assert not any("secret-link-token-123" in record_text(r) for r in caplog.records)


def test_a_database_error_does_not_quote_its_parameters(app: Flask) -> None:
    """A failed statement's message (logged with the traceback) omits the DNI it carried."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    with pytest.raises(DBAPIError) as failure:
        db.session.execute(text("SELECT * FROM no_such_table WHERE dni = :dni"), {"dni": DNI})
    db.session.rollback()
    assert DNI not in str(failure.value)
