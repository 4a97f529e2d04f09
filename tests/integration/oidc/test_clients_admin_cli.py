"""`passport clients ...` administration commands: the same services as the console."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from passport.audit.models import AuditEvent
from passport.cli import cli
from passport.cli import register_groups
from passport.extensions import db
from passport.oidc.clients import get_client_row
from tests.integration.oidc.conftest import register_client


@pytest.fixture
def run(app):
    register_groups()
    runner = app.test_cli_runner()

    def invoke(*args: str):
        return runner.invoke(cli, list(args))

    return invoke


def test_disable_and_enable(run) -> None:
    rp = register_client()
    result = run("clients", "disable", rp.client_id, "--reason", "Convenio vencido")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "disabled"
    assert get_client_row(rp.client_id).is_disabled
    assert run("clients", "disable", rp.client_id).output.strip() == "already disabled"
    assert run("clients", "enable", rp.client_id).output.strip() == "enabled"
    missing = run("clients", "disable", "nope")
    assert missing.exit_code == 1
    assert "no client nope" in missing.stderr
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.event == "client.disabled"))
    assert event is not None
    assert event.details["reason"] == "Convenio vencido"


def test_initial_tokens_create_list_revoke(run, client) -> None:
    created = json.loads(
        run("clients", "initial-token", "--label", "Escalafón", "--max-uses", "3", "--json").output
    )
    listed = json.loads(run("clients", "initial-tokens", "--json").output)["initial_tokens"]
    assert [(t["label"], t["state"], t["uses"], t["max_uses"]) for t in listed] == [
        ("Escalafón", "usable", 0, 3)
    ]
    assert created["initial_access_token"] not in json.dumps(listed)
    result = run("clients", "revoke-initial-token", str(listed[0]["id"]), "--reason", "Fin")
    assert result.output.strip() == "revoked"
    assert run("clients", "revoke-initial-token", "99999").exit_code == 1
    response = client.post(
        "/register",
        json={"client_name": "X", "redirect_uris": ["https://x.minedu.gob.pe/cb"]},
        headers={"Authorization": f"Bearer {created['initial_access_token']}"},
    )
    assert response.status_code == 401


def test_approve_scopes(run, client) -> None:
    token = json.loads(run("clients", "initial-token", "--json").output)["initial_access_token"]
    body = client.post(
        "/register",
        json={
            "client_name": "X",
            "redirect_uris": ["https://x.minedu.gob.pe/cb"],
            "scope": "openid email phone",
        },
        headers={"Authorization": f"Bearer {token}"},
    ).get_json()
    client_id = body["client_id"]
    shown = json.loads(run("clients", "show", client_id, "--json").output)
    assert (shown["scope"], shown["pending_scope"]) == ("openid", "email phone")
    result = run("clients", "approve-scopes", client_id, "--scope", "email", "--reason", "Ok")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "approved: email"
    rejected = run(
        "clients", "approve-scopes", client_id, "--scope", "phone", "--reason", "No", "--reject"
    )
    assert rejected.output.strip() == "rejected: phone"
    assert get_client_row(client_id).scopes == ["openid", "email"]
    again = run("clients", "approve-scopes", client_id, "--scope", "phone", "--reason", "x")
    assert again.exit_code == 1
    assert "none of these scopes pending" in again.stderr
    assert run("clients", "approve-scopes", client_id, "--scope", "email").exit_code == 2
