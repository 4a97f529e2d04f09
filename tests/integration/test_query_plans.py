"""The hot statements read growing tables through an index (PostgreSQL; skipped on SQLite).

The statements are captured from the real code paths (a SQLAlchemy listener while a person
signs in, an app runs the code flow, refreshes, introspects and reads userinfo, an admin
searches and pages the audit log, and the purge runs), then EXPLAINed with the same
parameters under ``enable_seqscan = off``: the planner then takes a sequential scan only when
no index can answer, so a ``Seq Scan`` on a table that grows with users, tokens, sessions or
audit events is a missing index whatever the size of the test database. A full pass over an
index (no condition) is not caught here; benchmarks/scale.py measures those at size.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event

from passport.extensions import db
from tests.factories import DEFAULT_PASSWORD
from tests.factories import make_user
from tests.helpers import CAPTCHA
from tests.helpers import csrf_token
from tests.integration.admin.conftest import enrol_totp
from tests.integration.admin.conftest import sign_in as admin_sign_in
from tests.integration.oidc.conftest import full_flow
from tests.integration.oidc.conftest import refresh
from tests.integration.oidc.conftest import register_client

GROWING = {
    "users",
    "oauth_tokens",
    "oauth_authorization_codes",
    "oauth_consents",
    "sso_sessions",
    "audit_events",
    "outgoing_mails",
    "second_factor_challenges",
    "captcha_challenges",
    "oauth_pending_authorizations",
    "recovery_codes",
    "totp_credentials",
    "admin_activity",
    "held_user_requests",
    "audit_archive_segments",
}


@contextmanager
def captured(label: str, into: list[tuple[str, str, Any]]) -> Iterator[None]:
    """Record every SELECT, UPDATE and DELETE the engine runs inside the block."""

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "UPDATE", "DELETE", "WITH")):
            into.append((label, statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def seq_scans(plan: dict[str, Any]) -> Iterator[str]:
    if plan.get("Node Type") == "Seq Scan" and plan.get("Relation Name") in GROWING:
        yield plan["Relation Name"]
    for child in plan.get("Plans", []):
        yield from seq_scans(child)


def limited_scan(plan: dict[str, Any], index: str, under_limit: bool = False) -> bool:
    """Whether ``index`` is scanned directly below a Limit (no Sort in between)."""
    if plan.get("Index Name") == index and under_limit:
        return True
    limit = plan.get("Node Type") == "Limit"
    return any(limited_scan(child, index, limit) for child in plan.get("Plans", []))


def explain(statement: str, parameters: Any) -> dict[str, Any]:
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("BEGIN")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN (FORMAT JSON) " + statement, parameters)
        (document,) = cursor.fetchone()
        cursor.execute("ROLLBACK")
    finally:
        raw.close()
    plan = document if isinstance(document, list) else json.loads(document)
    return dict(plan[0]["Plan"])


def test_no_hot_statement_scans_a_growing_table(app: Flask, known_captcha: str) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("query plans: PostgreSQL")
    from passport.maintenance.purge import purge

    statements: list[tuple[str, str, Any]] = []
    rp = register_client(skip_consent=True)
    person = make_user(given_name="José Ángel", family_name="Ñaupari Núñez")
    admin = make_user(is_admin=True)
    enrol_totp(admin)
    browser = app.test_client()
    token = csrf_token(browser)  # the page's own statements are not the sign-in's
    with captured("password sign-in", statements):
        answer = browser.post(
            "/ingresar",
            data={
                "csrf_token": token,
                "username": person.dni,
                "password": DEFAULT_PASSWORD,
                "captcha": CAPTCHA,
            },
        )
    assert answer.status_code == 302, answer.get_data(as_text=True)[:300]
    app_browser = app.test_client()
    with captured("code flow", statements):
        tokens = full_flow(app, app_browser, rp, person, scope="openid offline_access")
    with captured("refresh", statements):
        rotated = refresh(app_browser, rp, tokens["refresh_token"])
        assert rotated.status_code == 200
    access = rotated.get_json()["access_token"]
    with captured("introspection", statements):
        answer = app_browser.post("/introspect", data={"token": access}, headers=rp.basic_auth())
        assert answer.get_json()["active"] is True
    with captured("userinfo", statements):
        answer = app_browser.get("/userinfo", headers={"Authorization": "Bearer " + access})
        assert answer.status_code == 200
    console = app.test_client()
    admin_sign_in(app, console, admin, ["pwd", "otp"])
    for path in (
        f"/admin/usuarios?q={person.dni[:5]}",
        f"/admin/usuarios?q={person.dni}",
        "/admin/usuarios?q=naupari",
        "/admin/usuarios?q=NÚÑEZ",
        "/admin/usuarios?q=nau",
        "/admin/usuarios?q=ángel nuñez",
        "/admin/auditoria",
    ):
        with captured(path, statements):
            assert console.get(path).status_code == 200
    last_id = max(db.session.scalars(db.text("SELECT id FROM audit_events")).all())
    with captured("audit keyset page", statements):
        assert console.get(f"/admin/auditoria?page=2&antes={last_id}").status_code == 200
    with captured("purge", statements):
        purge()

    # The name search reads each matching word's first people in list order from the
    # (word, family_name, given_name, user_id) index, under a LIMIT: never all the matches.
    name_search = [
        explain(statement, parameters)
        for label, statement, parameters in statements
        if label == "/admin/usuarios?q=nau" and "user_name_words" in statement
    ]
    assert name_search, "the name search did not read user_name_words"
    assert "ix_user_name_words_order" in json.dumps(name_search[0])
    assert limited_scan(name_search[0], "ix_user_name_words_order")

    labels = {label for label, _, _ in statements}
    assert {"password sign-in", "code flow", "refresh", "purge", "audit keyset page"} <= labels
    found = []
    for label, statement, parameters in statements:
        scanned = sorted(set(seq_scans(explain(statement, parameters))))
        if scanned:
            found.append(f"{label}: {scanned} in {' '.join(statement.split())[:300]}")
    assert not found, "\n".join(found)
