"""`passport clients ...` exactly as CONTRACT.md."""

from __future__ import annotations

import json

import pytest

from passport.cli import cli
from passport.cli import register_groups


@pytest.fixture
def run(app):
    register_groups()
    runner = app.test_cli_runner()

    def invoke(*args: str):
        return runner.invoke(cli, list(args))

    return invoke


def test_create_prints_the_secret_once_as_json(run) -> None:
    result = run(
        "clients",
        "create",
        "--name",
        "AYNI_SERVIDOR",
        "--redirect-uri",
        "http://127.0.0.1:5001/auth/callback",
        "--post-logout-redirect-uri",
        "http://127.0.0.1:5001/",
        "--backchannel-logout-uri",
        "http://127.0.0.1:5001/auth/backchannel-logout",
        "--auth-method",
        "client_secret_basic",
        "--scope",
        "openid profile email phone address dni offline_access",
        "--grant-type",
        "authorization_code",
        "--grant-type",
        "refresh_token",
        "--skip-consent",
        "--json",
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["client_id"]
    assert body["client_secret"]
    shown = json.loads(run("clients", "show", body["client_id"], "--json").output)
    assert shown["skip_consent"] is True
    assert body["client_secret"] not in json.dumps(shown)
    listed = json.loads(run("clients", "list", "--json").output)
    assert [c["client_id"] for c in listed["clients"]] == [body["client_id"]]
    rotated = json.loads(run("clients", "rotate-secret", body["client_id"], "--json").output)
    assert rotated["client_secret"] != body["client_secret"]


def test_public_client_secret_is_null(run) -> None:
    result = run(
        "clients",
        "create",
        "--name",
        "SPA",
        "--redirect-uri",
        "https://app.gob.pe/cb",
        "--auth-method",
        "none",
        "--scope",
        "openid",
        "--json",
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["client_secret"] is None


@pytest.mark.parametrize(
    "args",
    [
        ["--redirect-uri", "http://app.gob.pe/cb"],
        ["--redirect-uri", "https://app.gob.pe/cb#x"],
        ["--redirect-uri", "app.gob.pe/cb"],
        ["--redirect-uri", "https://app.gob.pe/cb", "--auth-method", "magic"],
        ["--redirect-uri", "https://app.gob.pe/cb", "--grant-type", "password"],
        ["--redirect-uri", "https://app.gob.pe/cb", "--scope", "openid everything"],
        ["--auth-method", "client_secret_basic"],
    ],
)
def test_invalid_clients_exit_non_zero_with_one_line(run, args) -> None:
    base = ["clients", "create", "--name", "X"]
    if "--auth-method" not in args:
        args = [*args, "--auth-method", "client_secret_basic"]
    result = run(*base, *args)
    assert result.exit_code != 0
    assert len(result.output.strip().splitlines()) == 1


def test_loopback_uris_of_any_port_are_accepted(run) -> None:
    for uri in ("http://127.0.0.1:8080/cb", "http://localhost:3000/cb", "http://[::1]:9/cb"):
        result = run(
            "clients",
            "create",
            "--name",
            "Dev",
            "--redirect-uri",
            uri,
            "--auth-method",
            "client_secret_basic",
            "--json",
        )
        assert result.exit_code == 0, (uri, result.output)


def test_show_and_rotate_unknown_client_fail(run) -> None:
    assert run("clients", "show", "nope").exit_code != 0
    assert run("clients", "rotate-secret", "nope").exit_code != 0


def test_initial_token_command(run) -> None:
    result = run("clients", "initial-token", "--expires-in", "600", "--max-uses", "3", "--json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["initial_access_token"]
    assert body["max_uses"] == 3


def test_prune_expired_removes_old_codes_and_tokens_but_keeps_offline_ones(app, run) -> None:
    from datetime import timedelta

    import time_machine

    from passport.database import utcnow
    from passport.extensions import db
    from passport.oidc.models import AuthorizationCode
    from passport.oidc.models import OAuthToken
    from tests.factories import make_user
    from tests.integration.oidc.conftest import full_flow
    from tests.integration.oidc.conftest import register_client

    rp = register_client(skip_consent=True)
    full_flow(app, app.test_client(), rp, make_user())
    full_flow(app, app.test_client(), rp, make_user(), scope="openid offline_access")
    first = json.loads(run("clients", "prune-expired", "--json").output)
    assert first["authorization_codes"] == 0
    assert first["tokens"] == 0
    with time_machine.travel(utcnow() + timedelta(days=2)):
        counts = json.loads(run("clients", "prune-expired", "--json").output)
    assert counts["authorization_codes"] == 2
    assert counts["tokens"] == 1  # the offline refresh token lives 30 days
    assert db.session.scalar(db.select(db.func.count()).select_from(AuthorizationCode)) == 0
    assert db.session.scalar(db.select(db.func.count()).select_from(OAuthToken)) == 1
