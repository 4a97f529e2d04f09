"""Who may call the admin API: client_credentials tokens with an admin scope, nothing else."""

from __future__ import annotations

import json
from datetime import timedelta

import time_machine
from sqlalchemy import select

from passport.api.auth import READ_SCOPE
from passport.api.auth import WRITE_SCOPE
from passport.cli import cli
from passport.cli import register_groups
from passport.database import utcnow
from passport.extensions import db
from passport.oidc.clients import forget_client
from passport.oidc.models import OAuthClient
from passport.oidc.registration import create_initial_access_token
from tests.factories import make_user
from tests.integration.api.conftest import NEW_USER
from tests.integration.api.conftest import bearer
from tests.integration.api.conftest import issue_token
from tests.integration.api.conftest import register_api_client
from tests.integration.oidc.conftest import RP
from tests.integration.oidc.conftest import full_flow
from tests.integration.oidc.conftest import register_client
from tests.integration.oidc.conftest import sign_in


def get_user(client, token: str | None, dni: str = "40000000"):
    headers = bearer(token) if token is not None else {}
    return client.get(f"/api/v1/users/{dni}", headers=headers)


def assert_refused(response, status: int, error: str | None) -> None:
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["status"] == status
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer realm="passport"')
    if error is None:
        assert "error=" not in challenge  # RFC 6750 §3.1: no code when no token was sent
    else:
        assert f'error="{error}"' in challenge


def test_a_request_without_a_token_is_refused(client) -> None:
    response = get_user(client, None)
    assert_refused(response, 401, None)
    # RFC 9449 §7.1: the admin API takes DPoP too.
    assert ', DPoP realm="passport", algs="' in response.headers["WWW-Authenticate"]


def test_other_authorization_schemes_are_not_tokens(client, api_rp) -> None:
    response = client.get("/api/v1/users/40000000", headers=api_rp.basic_auth())
    assert_refused(response, 401, None)


def test_an_unknown_or_overlong_token_is_invalid(client) -> None:
    assert_refused(get_user(client, "not-a-token"), 401, "invalid_token")
    assert_refused(get_user(client, "x" * 5000), 401, "invalid_token")


def test_a_read_token_may_read_and_may_not_write(client, read_token) -> None:
    user = make_user()
    assert get_user(client, read_token, user.dni).status_code == 200
    response = client.post(f"/api/v1/users/{user.dni}/disable", headers=bearer(read_token))
    assert_refused(response, 403, "insufficient_scope")
    response = client.post("/api/v1/users", json=NEW_USER, headers=bearer(read_token))
    assert_refused(response, 403, "insufficient_scope")


def test_a_write_only_token_may_not_read(client, api_rp) -> None:
    token = issue_token(client, api_rp, WRITE_SCOPE)
    assert_refused(get_user(client, token), 403, "insufficient_scope")


def test_a_client_without_admin_scopes_gets_no_access(client) -> None:
    rp = register_client(
        name="Boletas",
        redirect_uris=[],
        post_logout_redirect_uris=[],
        grant_types=["client_credentials"],
        scopes=["boletas:read"],
    )
    assert_refused(get_user(client, issue_token(client, rp)), 403, "insufficient_scope")


def test_an_expired_token_is_invalid(app, client, read_token) -> None:
    later = utcnow() + timedelta(seconds=app.config["ACCESS_TOKEN_TTL_SECONDS"] + 1)
    with time_machine.travel(later):
        assert_refused(get_user(client, read_token), 401, "invalid_token")


def test_a_revoked_token_is_invalid(client, api_rp, read_token) -> None:
    response = client.post("/revoke", data={"token": read_token}, headers=api_rp.basic_auth())
    assert response.status_code == 200
    assert_refused(get_user(client, read_token), 401, "invalid_token")


def test_tokens_of_a_disabled_client_are_invalid(client, api_rp, read_token) -> None:
    row = db.session.scalar(select(OAuthClient).where(OAuthClient.client_id == api_rp.client_id))
    row.is_disabled = True
    db.session.commit()
    forget_client(api_rp.client_id)
    assert_refused(get_user(client, read_token), 401, "invalid_token")


def test_withdrawing_a_scope_from_the_client_takes_effect_at_once(client, api_rp) -> None:
    token = issue_token(client, api_rp)
    row = db.session.scalar(select(OAuthClient).where(OAuthClient.client_id == api_rp.client_id))
    row.scopes = [READ_SCOPE]
    db.session.commit()
    forget_client(api_rp.client_id)
    response = client.post("/api/v1/users", json=NEW_USER, headers=bearer(token))
    assert_refused(response, 403, "insufficient_scope")


def test_a_token_issued_to_a_person_never_reaches_the_api(app, client) -> None:
    # Even an admin's own browser token: the API serves machine clients only.
    person = make_user(is_admin=True)
    rp = register_client(skip_consent=True)
    tokens = full_flow(app, client, rp, person, scope="openid profile")
    assert_refused(get_user(client, tokens["access_token"], person.dni), 401, "invalid_token")


def test_cookies_are_ignored(app, client) -> None:
    # A signed-in admin's SSO cookie is no credential here (and no CSRF token is needed).
    sign_in(app, client, make_user(is_admin=True))
    assert_refused(get_user(client, None), 401, None)


def test_admin_scopes_cannot_be_requested_by_a_browser(client) -> None:
    rp = register_api_client()
    response = client.get(
        "/authorize",
        query_string={
            "response_type": "code",
            "client_id": rp.client_id,
            "redirect_uri": "https://ayni.example.gob.pe/auth/callback",
            "scope": f"openid {WRITE_SCOPE}",
        },
    )
    assert response.status_code == 400  # no redirect URI, no code flow: an error page


def test_dynamic_registration_cannot_ask_for_admin_scopes(client) -> None:
    token = create_initial_access_token(3600, 1)[0]
    response = client.post(
        "/register",
        json={
            "client_name": "Intruso",
            "grant_types": ["client_credentials"],
            "token_endpoint_auth_method": "client_secret_basic",
            "scope": WRITE_SCOPE,
        },
        headers=bearer(token),
    )
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_client_metadata"
    assert db.session.scalar(select(OAuthClient).where(OAuthClient.name == "Intruso")) is None


def create_client_with_cli(app, name: str, *options: str):
    """``passport clients create --name NAME --auth-method client_secret_basic OPTIONS``."""
    register_groups()
    command = ["clients", "create", "--name", name, "--auth-method", "client_secret_basic"]
    return app.test_cli_runner().invoke(cli, [*command, *options])


def test_the_cli_creates_a_client_that_can_call_the_api(app, client) -> None:
    result = create_client_with_cli(
        app,
        "Sistema de evaluación docente",
        "--grant-type",
        "client_credentials",
        "--scope",
        f"{READ_SCOPE} {WRITE_SCOPE}",
        "--json",
    )
    assert result.exit_code == 0, result.output
    created = json.loads(result.output)
    rp = RP(created["client_id"], created["client_secret"], "")
    user = make_user()
    assert get_user(client, issue_token(client, rp), user.dni).status_code == 200


def test_the_cli_refuses_admin_scopes_with_a_browser_grant(app) -> None:
    result = create_client_with_cli(
        app,
        "Mezcla",
        "--redirect-uri",
        "https://app.example.gob.pe/cb",
        "--scope",
        f"openid {WRITE_SCOPE}",
    )
    assert result.exit_code == 1
    assert "client_credentials alone" in result.output


def test_a_token_narrowed_to_another_resource_does_not_reach_the_api(client) -> None:
    """RFC 8707: a token whose audience is another API carries only that API's scopes; the
    API that receives it cannot replay it here with the admin scope the grant also held."""
    from passport.oidc.resources import ResourceInput
    from passport.oidc.resources import create_resource

    boletas = "https://api.example.test/boletas/"
    create_resource(ResourceInput(boletas, ["boletas:read"]))
    rp = register_api_client(f"{READ_SCOPE} boletas:read")
    response = client.post(
        "/token",
        data={
            "grant_type": "client_credentials",
            "scope": f"{READ_SCOPE} boletas:read",
            "resource": boletas,
        },
        headers=rp.basic_auth(),
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["scope"] == "boletas:read"
    user = make_user()
    assert_refused(get_user(client, body["access_token"], user.dni), 403, "insufficient_scope")
