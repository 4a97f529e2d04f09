"""Protocol endpoints with valid requests where one parameter at a time turns hostile.

The route walk (tests/integration/test_hostile_input_walk.py) fills every field at once, so
most requests stop at the first check (an unknown client_id). Here each request is otherwise
valid — a registered client, a live session, real tokens and codes — so a hostile value in
one parameter reaches the code that parses that parameter. Nothing may answer 500.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.integration.api.conftest import NEW_USER
from tests.integration.api.conftest import bearer
from tests.integration.api.conftest import issue_token
from tests.integration.api.conftest import register_api_client
from tests.integration.oidc.conftest import RP
from tests.integration.oidc.conftest import full_flow
from tests.integration.oidc.conftest import get_code
from tests.integration.oidc.conftest import pkce_pair
from tests.integration.oidc.conftest import register_client
from tests.integration.test_hostile_input_walk import HOSTILE_VALUES

# Wrong JSON types for members of JSON bodies (registration metadata, the admin API).
HOSTILE_JSON: tuple[Any, ...] = (
    *HOSTILE_VALUES,
    "\u0000",
    None,
    True,
    -1,
    10**30,
    1.5e308,
    [],
    ["\u0000"],
    [["nested"]],
    {"a": {"b": "c"}},
)


def variants(baseline: dict[str, Any], values: tuple[Any, ...]) -> Iterator[dict[str, Any]]:
    """``baseline`` with one member replaced by each value, then with it removed."""
    for name in baseline:
        for value in values:
            yield {**baseline, name: value}
        yield {key: item for key, item in baseline.items() if key != name}


class Checker:
    """Sends requests and collects every answer of 500 or above."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.failures: list[str] = []
        self.sent = 0

    def send(self, method: str, path: str, **kwargs: Any) -> None:
        self.sent += 1
        response = self.client.open(path, method=method, **kwargs)
        if response.status_code >= 500:
            self.failures.append(f"{method} {path} {str(kwargs)[:200]} -> {response.status_code}")

    def verdict(self, minimum: int) -> None:
        assert self.sent >= minimum, "too few requests to mean anything"
        assert not self.failures, "\n".join(self.failures[:30])


API = "https://api.example.test/boletas/"


def register_api_resource() -> None:
    from passport.oidc.resources import ResourceInput
    from passport.oidc.resources import create_resource

    create_resource(ResourceInput(API, ["boletas:read"], "jwt"))


def test_authorization_endpoint(app: Flask, client: FlaskClient, user: Any) -> None:
    register_api_resource()
    rp = register_client(skip_consent=True, scopes=["openid", "profile", "boletas:read"])
    tokens = full_flow(app, client, rp, user, "openid profile")
    _verifier, challenge = pkce_pair()
    baseline = {
        "response_type": "code",
        "client_id": rp.client_id,
        "redirect_uri": rp.redirect_uri,
        "scope": "openid profile boletas:read",
        "state": "st",
        "nonce": "n",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "prompt": "none",
        "max_age": "3600",
        "id_token_hint": tokens["id_token"],
        "login_hint": user.dni,
        "ui_locales": "es",
        "claims_locales": "es",
        "acr_values": "urn:passport:acr:pwd",
        "display": "page",
        "claims": '{"userinfo": {"email": {"essential": true}}}',
        "response_mode": "query",
        "resource": API,
    }
    check = Checker(client)
    for params in variants(baseline, HOSTILE_VALUES):
        check.send("GET", "/authorize", query_string=params)
        check.send("POST", "/authorize", data=params)
        # The same parameters pushed (RFC 9126), the client authenticated.
        check.send("POST", "/par", data=params, headers=rp.basic_auth())
    check.verdict(600)


def test_token_endpoint(app: Flask, client: FlaskClient, user: Any) -> None:
    register_api_resource()
    rp = register_client(skip_consent=True, scopes=["openid", "offline_access", "boletas:read"])
    tokens = full_flow(app, client, rp, user, "openid offline_access boletas:read", resource=API)
    verifier, challenge = pkce_pair()
    code = get_code(
        client,
        rp,
        scope="openid boletas:read",
        code_challenge=challenge,
        code_challenge_method="S256",
        resource=API,
    )
    api = register_api_client()
    check = Checker(client)
    cases: list[tuple[RP, dict[str, str]]] = [
        (
            rp,
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": rp.redirect_uri,
                "code_verifier": verifier,
                "resource": API,
            },
        ),
        (
            rp,
            {
                "grant_type": "refresh_token",
                "refresh_token": tokens["refresh_token"],
                "resource": API,
            },
        ),
        (api, {"grant_type": "client_credentials", "scope": "passport.admin.users:read"}),
    ]
    for owner, baseline in cases:
        for form in variants(baseline, HOSTILE_VALUES):
            check.send("POST", "/token", data=form, headers=owner.basic_auth())
            # client_secret_post, with the credentials themselves hostile too
            posted = {**form, "client_id": owner.client_id, "client_secret": owner.client_secret}
            check.send("POST", "/token", data=posted)
        for value in HOSTILE_VALUES:
            for credentials in (
                {"client_id": value, "client_secret": owner.client_secret},
                {"client_id": owner.client_id, "client_secret": value},
                {
                    "client_id": owner.client_id,
                    "client_assertion_type": (
                        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
                    ),
                    "client_assertion": value,
                },
            ):
                check.send("POST", "/token", data={**baseline, **credentials})
            raw = f"{owner.client_id}:{value}".encode()
            basic = {"Authorization": "Basic " + base64.b64encode(raw).decode()}
            check.send("POST", "/token", data=baseline, headers=basic)
    check.verdict(300)


def test_userinfo_revocation_introspection_and_logout(
    app: Flask, client: FlaskClient, user: Any
) -> None:
    rp = register_client(skip_consent=True)
    tokens = full_flow(app, client, rp, user, "openid profile offline_access")
    check = Checker(client)
    for value in HOSTILE_VALUES:
        check.send("GET", "/userinfo", headers={"Authorization": f"Bearer {value}"})
        check.send("POST", "/userinfo", data={"access_token": value})
    for path in ("/revoke", "/introspect"):
        baseline = {"token": tokens["access_token"], "token_type_hint": "access_token"}
        for form in variants(baseline, HOSTILE_VALUES):
            check.send("POST", path, data=form, headers=rp.basic_auth())
    baseline = {
        "id_token_hint": tokens["id_token"],
        "client_id": rp.client_id,
        "post_logout_redirect_uri": "https://ayni.example.gob.pe/",
        "state": "st",
        "ui_locales": "es",
    }
    for params in variants(baseline, HOSTILE_VALUES):
        check.send("GET", "/end-session", query_string=params)
    check.verdict(120)


def test_dynamic_registration(app: Flask, client: FlaskClient) -> None:
    from passport.oidc.registration import create_initial_access_token

    initial, _ = create_initial_access_token(3600, 100_000)
    headers = {"Authorization": f"Bearer {initial}"}
    baseline = {
        "client_name": "Escalafón",
        "redirect_uris": ["https://escalafon.example.gob.pe/cb"],
        "post_logout_redirect_uris": ["https://escalafon.example.gob.pe/"],
        "backchannel_logout_uri": "https://escalafon.example.gob.pe/bcl",
        "token_endpoint_auth_method": "client_secret_basic",
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "scope": "openid profile email",
        "id_token_signed_response_alg": "RS256",
        "logo_uri": "https://escalafon.example.gob.pe/logo.png",
    }
    registered = client.post("/register", json=baseline, headers=headers)
    assert registered.status_code == 201, registered.get_json()
    management = registered.get_json()
    manage_path = "/register/" + management["client_id"]
    manage_headers = {"Authorization": f"Bearer {management['registration_access_token']}"}
    check = Checker(client)
    for body in variants(baseline, HOSTILE_JSON):
        check.send("POST", "/register", json=body, headers=headers)
        check.send(
            "PUT",
            manage_path,
            json={**body, "client_id": management["client_id"]},
            headers=manage_headers,
        )
    check.verdict(400)


def test_admin_api(app: Flask, client: FlaskClient) -> None:
    token = issue_token(client, register_api_client())
    check = Checker(client)
    for body in variants(dict(NEW_USER), HOSTILE_JSON):
        check.send("POST", "/api/v1/users", json=body, headers=bearer(token))
    for value in HOSTILE_VALUES:
        for suffix in ("", "/sessions"):
            check.send("GET", f"/api/v1/users/{value[:200]}{suffix}", headers=bearer(token))
        check.send("POST", "/api/v1/users", data=value, headers=bearer(token))
    check.verdict(150)
