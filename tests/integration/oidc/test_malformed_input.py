"""Malformed protocol input gets a clear 4xx, never a 500."""

from __future__ import annotations

import pytest

from passport.oidc.registration import create_initial_access_token

GARBAGE_REGISTRATIONS = [
    {"redirect_uris": "https://a.gob.pe/cb"},
    {"redirect_uris": [1, 2]},
    {"redirect_uris": ["https://a.gob.pe/cb"], "client_name": 5},
    {"redirect_uris": ["https://a.gob.pe/cb"], "grant_types": "authorization_code"},
    {"redirect_uris": ["https://a.gob.pe/cb"], "scope": ["openid"]},
    {"redirect_uris": ["https://a.gob.pe/cb"], "jwks": "nope"},
    {"redirect_uris": ["https://a.gob.pe/cb"], "jwks": {"keys": [{"kty": "RSA"}]}},
    {"redirect_uris": ["https://a.gob.pe/cb"], "jwks_uri": 7},
    {"redirect_uris": ["https://a.gob.pe/cb"], "id_token_signed_response_alg": ["RS256"]},
    {"redirect_uris": ["https://a.gob.pe/cb"], "backchannel_logout_uri": {"x": 1}},
]


@pytest.mark.parametrize("body", GARBAGE_REGISTRATIONS)
def test_garbage_registration_is_a_400(app, client, body) -> None:
    token = create_initial_access_token(600, 5)[0]
    response = client.post("/register", json=body, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["error"] in ("invalid_client_metadata", "invalid_redirect_uri")


def test_non_json_registration_is_a_400(app, client) -> None:
    token = create_initial_access_token(600, 5)[0]
    response = client.post(
        "/register",
        data="{not json",
        headers={"Authorization": f"Bearer {token}"},
        content_type="application/json",
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    "form",
    [
        {"grant_type": "authorization_code", "code": "x" * 5000, "redirect_uri": "y"},
        {"grant_type": "refresh_token", "refresh_token": "x" * 5000},
        {
            "grant_type": "authorization_code",
            "code": "c",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": "not.a.jwt",
        },
        {
            "grant_type": "authorization_code",
            "code": "c",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": "eyJhbGciOiJub25lIn0.eyJzdWIiOlsxXX0.",
        },
        {"grant_type": "client_credentials", "client_id": "x", "client_secret": "y"},
    ],
)
def test_garbage_token_requests_are_4xx(client, rp, form) -> None:
    response = client.post("/token", data=form)
    assert 400 <= response.status_code < 500
    assert response.get_json()["error"]


def test_garbage_introspection_and_revocation_are_handled(client, rp) -> None:
    for path in ("/introspect", "/revoke"):
        response = client.post(path, data={"token": "x" * 5000}, headers=rp.basic_auth())
        assert response.status_code == 200
        # An unknown hint is advice to ignore, not an error (RFC 7009 §2.1, RFC 7662 §2.1).
        response = client.post(
            path, data={"token": "t", "token_type_hint": "weird"}, headers=rp.basic_auth()
        )
        assert response.status_code == 200
        response = client.post(path, data={"token": ""}, headers=rp.basic_auth())
        assert response.status_code == 400
        assert response.get_json()["error"] == "invalid_request"


@pytest.mark.parametrize(
    "params",
    [
        {"id_token_hint": "x" * 5000},
        {"id_token_hint": "a.b.c"},
        {"client_id": "nope"},
        {"post_logout_redirect_uri": "https://evil.example/"},
        {"ui_locales": "zz " * 100},
    ],
)
def test_garbage_logout_requests_never_fail_or_redirect(client, params) -> None:
    response = client.get("/end-session", query_string=params)
    assert response.status_code in (200, 400)
    assert "Location" not in response.headers


def test_garbage_authorization_parameters_never_fail(client, rp) -> None:
    from tests.integration.oidc.conftest import authorize

    for params in (
        {"claims": '{"id_token": {"email": {"essential": "yes"}}}'},
        {"max_age": "99999999999999"},
        {"prompt": "x" * 100},
        {"ui_locales": "\u00e9\u00e8"},
        {"scope": "openid " * 500},
    ):
        response = authorize(client, rp, **params)
        assert response.status_code in (200, 302, 400), params
