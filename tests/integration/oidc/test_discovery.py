"""Discovery document: complete, truthful, cacheable."""

from __future__ import annotations

import re
from pathlib import Path

from tests.integration.oidc.conftest import ISSUER


def test_discovery_lists_every_endpoint_under_the_issuer(client) -> None:
    response = client.get("/.well-known/openid-configuration")
    assert response.status_code == 200
    doc = response.get_json()
    assert doc["issuer"] == ISSUER
    for name in (
        "authorization_endpoint",
        "token_endpoint",
        "userinfo_endpoint",
        "jwks_uri",
        "registration_endpoint",
        "revocation_endpoint",
        "introspection_endpoint",
        "end_session_endpoint",
        "pushed_authorization_request_endpoint",
    ):
        assert doc[name].startswith(ISSUER + "/"), name
        path = doc[name][len(ISSUER) :]
        assert client.open(path, method="OPTIONS").status_code != 404, name


def test_discovery_advertises_only_what_is_supported(client) -> None:
    doc = client.get("/.well-known/openid-configuration").get_json()
    assert doc["response_types_supported"] == ["code"]
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert doc["authorization_response_iss_parameter_supported"] is True
    # RFC 9101 by value; a request_uri only from /par (RFC 9126), never a URL.
    assert doc["request_parameter_supported"] is True
    assert set(doc["request_object_signing_alg_values_supported"]) == {"PS256", "ES256", "RS256"}
    assert doc["request_uri_parameter_supported"] is False
    assert doc["require_pushed_authorization_requests"] is False
    assert set(doc["pushed_authorization_request_endpoint_auth_methods_supported"]) == set(
        doc["token_endpoint_auth_methods_supported"]
    )
    assert doc["backchannel_logout_supported"] is True
    assert doc["backchannel_logout_session_supported"] is True
    assert doc["frontchannel_logout_supported"] is False
    assert "none" not in doc["id_token_signing_alg_values_supported"]
    assert set(doc["id_token_signing_alg_values_supported"]) == {"RS256", "ES256"}
    assert "dni" in doc["claims_supported"]
    assert "sid" in doc["claims_supported"]
    assert "dni" in doc["scopes_supported"]
    assert set(doc["token_endpoint_auth_methods_supported"]) == {
        "client_secret_basic",
        "client_secret_post",
        "private_key_jwt",
        "none",
    }


def test_discovery_is_cacheable(client) -> None:
    response = client.get("/.well-known/openid-configuration")
    assert "max-age=" in response.headers["Cache-Control"]
    assert "public" in response.headers["Cache-Control"]


def test_webfinger_names_the_issuer_for_any_account(client) -> None:
    response = client.get(
        "/.well-known/webfinger",
        query_string={
            "resource": "acct:12345678@minedu.gob.pe",
            "rel": "http://openid.net/specs/connect/1.0/issuer",
        },
    )
    assert response.status_code == 200
    body = response.get_json(force=True)
    assert body["subject"] == "acct:12345678@minedu.gob.pe"
    assert body["links"] == [{"rel": "http://openid.net/specs/connect/1.0/issuer", "href": ISSUER}]
    assert client.get("/.well-known/webfinger").status_code == 400


def test_discovery_says_when_every_client_must_push_its_requests(app, client) -> None:
    from passport.oidc.discovery import provider_metadata

    app.config["REQUIRE_PUSHED_AUTHORIZATION_REQUESTS"] = True
    try:
        assert provider_metadata(app)["require_pushed_authorization_requests"] is True
    finally:
        app.config["REQUIRE_PUSHED_AUTHORIZATION_REQUESTS"] = False


README = Path(__file__).resolve().parents[3] / "README.md"
# Discovery's lists that the README's provider summary spells out, value by value.
LISTED = (
    "response_types_supported",
    "response_modes_supported",
    "grant_types_supported",
    "prompt_values_supported",
    "code_challenge_methods_supported",
    "token_endpoint_auth_methods_supported",
    "token_endpoint_auth_signing_alg_values_supported",
    "id_token_signing_alg_values_supported",
    "request_object_signing_alg_values_supported",
    "dpop_signing_alg_values_supported",
)
# A setting (PASSPORT_REQUIRE_PUSHED_AUTHORIZATION_REQUESTS), named rather than valued.
CONFIGURED = ("require_pushed_authorization_requests",)


def provider_summary() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("Summary of the provider")
    return text[start : text.index("**The `claims` parameter**", start)]


def test_the_readme_summary_lists_what_discovery_advertises(client) -> None:
    doc = client.get("/.well-known/openid-configuration").get_json()
    summary = provider_summary()
    for name in LISTED:
        for value in doc[name]:
            assert re.search(rf"(?<![\w-]){re.escape(value)}(?![\w-])", summary), (name, value)
    flags = {name: value for name, value in doc.items() if isinstance(value, bool)}
    assert flags, "discovery states no flag"
    for name, value in flags.items():
        if name in CONFIGURED:
            assert f"`{name}`" in summary, name
        else:
            assert f"`{name}: {str(value).lower()}`" in summary, name
    assert doc["pushed_authorization_request_endpoint"].endswith("/par")
    assert "`POST /par`" in summary
