"""``dpop_bound_access_tokens`` (RFC 9449 §5.2) everywhere a client is described, and discovery."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from passport.cli import cli
from passport.cli import register_groups
from passport.oidc.clients import get_client_row
from passport.oidc.registration import create_initial_access_token

REGISTRATION = {
    "client_name": "App móvil de boletas",
    "redirect_uris": ["https://boletas.minedu.gob.pe/callback"],
    "token_endpoint_auth_method": "none",
    "grant_types": ["authorization_code", "refresh_token"],
    "response_types": ["code"],
    "scope": "openid",
}


def test_discovery_lists_the_asymmetric_proof_algorithms(client: FlaskClient) -> None:
    metadata = client.get("/.well-known/openid-configuration").get_json()
    algs = metadata["dpop_signing_alg_values_supported"]
    assert {"ES256", "RS256", "PS256", "Ed25519"} <= set(algs)
    assert not [alg for alg in algs if alg == "none" or alg.startswith("HS")]


def register(client: FlaskClient, body: dict[str, Any]) -> Any:
    token = create_initial_access_token(3600, 5)[0]
    return client.post("/register", json=body, headers={"Authorization": f"Bearer {token}"})


def test_dynamic_registration_accepts_and_returns_the_flag(app: Flask, client: FlaskClient) -> None:
    response = register(client, {**REGISTRATION, "dpop_bound_access_tokens": True})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["dpop_bound_access_tokens"] is True
    assert get_client_row(body["client_id"]).dpop_bound_access_tokens is True
    read = client.get(
        f"/register/{body['client_id']}",
        headers={"Authorization": f"Bearer {body['registration_access_token']}"},
    )
    assert read.get_json()["dpop_bound_access_tokens"] is True
    plain = register(client, REGISTRATION).get_json()
    assert plain["dpop_bound_access_tokens"] is False


@pytest.mark.parametrize("value", ["true", 1, [], {"x": 1}])
def test_dynamic_registration_refuses_a_flag_that_is_not_a_boolean(
    app: Flask, client: FlaskClient, value: Any
) -> None:
    response = register(client, {**REGISTRATION, "dpop_bound_access_tokens": value})
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_client_metadata"


def test_the_cli_flag_sets_it(app: Flask) -> None:
    register_groups()
    runner = app.test_cli_runner()
    args = [
        "clients",
        "create",
        "--name",
        "App móvil",
        "--redirect-uri",
        "http://127.0.0.1:5001/auth/callback",
        "--auth-method",
        "none",
        "--dpop-bound-access-tokens",
        "--json",
    ]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    client_id = json.loads(result.output)["client_id"]
    shown = json.loads(runner.invoke(cli, ["clients", "show", client_id, "--json"]).output)
    assert shown["dpop_bound_access_tokens"] is True
    plain = runner.invoke(cli, [a for a in args if a != "--dpop-bound-access-tokens"])
    shown = json.loads(
        runner.invoke(
            cli, ["clients", "show", json.loads(plain.output)["client_id"], "--json"]
        ).output
    )
    assert shown["dpop_bound_access_tokens"] is False
