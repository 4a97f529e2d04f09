"""The one client-metadata validator (CLI, registration, admin console)."""

from __future__ import annotations

import pytest

from passport.oidc.client_validation import validate_client_metadata
from passport.oidc.errors import InvalidClientMetadata

BASE = {
    "name": "AYNI",
    "redirect_uris": ["https://ayni.minedu.gob.pe/auth/callback"],
    "token_endpoint_auth_method": "client_secret_basic",
}


def check(**changes):
    return validate_client_metadata({**BASE, **changes}, api_scopes=("boletas:read",))


@pytest.mark.parametrize(
    "uri",
    [
        "http://127.0.0.1/cb",
        "http://127.0.0.1:5001/auth/callback",
        "http://localhost:3000/cb",
        "http://[::1]:8080/cb",
        "https://app.gob.pe/cb?tenant=1",
    ],
)
def test_https_and_loopback_http_redirects_are_accepted(uri) -> None:
    assert check(redirect_uris=[uri]).redirect_uris == [uri]


@pytest.mark.parametrize(
    "uri",
    [
        "http://app.gob.pe/cb",
        "https://app.gob.pe/cb#fragment",
        "/relative/cb",
        "app.gob.pe/cb",
        "javascript:alert(1)",
        "https://user:pass@app.gob.pe/cb",
        "https://app.gob.pe/c b",
        "https://" + "a" * 2000 + ".pe/",
        "http://127.0.0.1.evil.example/cb",
    ],
)
def test_unsafe_redirects_are_refused(uri) -> None:
    with pytest.raises(InvalidClientMetadata):
        check(redirect_uris=[uri])


def test_any_http_is_allowed_only_when_asked_for_development() -> None:
    raw = {**BASE, "redirect_uris": ["http://intranet.local/cb"]}
    assert validate_client_metadata(raw, allow_any_http=True).redirect_uris
    with pytest.raises(InvalidClientMetadata):
        validate_client_metadata(raw)


@pytest.mark.parametrize(
    "changes",
    [
        {"token_endpoint_auth_method": "tls_client_auth"},
        {"grant_types": ["implicit"]},
        {"grant_types": ["refresh_token"]},
        {"grant_types": ["client_credentials"], "token_endpoint_auth_method": "none"},
        {"scopes": ["openid", "admin"]},
        {"token_endpoint_auth_method": "private_key_jwt"},
        {"id_token_signed_response_alg": "none"},
        {"id_token_signed_response_alg": "HS256"},
        {"access_token_format": "macaroon"},
        {"name": ""},
        {"name": "x" * 121},
        {"redirect_uris": []},
        {"jwks": {"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}},
    ],
)
def test_invalid_metadata_is_refused(changes) -> None:
    with pytest.raises(InvalidClientMetadata):
        check(**changes)


def test_api_scopes_are_known_only_when_configured() -> None:
    assert check(scopes=["openid", "boletas:read"]).scopes == ["openid", "boletas:read"]
    with pytest.raises(InvalidClientMetadata):
        validate_client_metadata({**BASE, "scopes": ["boletas:read"]})


def test_defaults() -> None:
    metadata = check()
    assert metadata.grant_types == ["authorization_code"]
    assert metadata.scopes == ["openid"]
    assert metadata.id_token_signed_response_alg == "RS256"
    assert metadata.access_token_format == "opaque"
    assert metadata.skip_consent is False


def refuse_all(uri: str) -> str:
    return "resolves to an internal address"


@pytest.mark.parametrize("field", ["backchannel_logout_uri", "jwks_uri"])
def test_server_called_uris_go_through_the_outbound_check(field) -> None:
    changes = {field: "http://127.0.0.1:6379/"}
    if field == "jwks_uri":
        changes["token_endpoint_auth_method"] = "private_key_jwt"
    with pytest.raises(InvalidClientMetadata, match="internal address"):
        validate_client_metadata({**BASE, **changes}, callback_check=refuse_all)
    assert validate_client_metadata({**BASE, **changes}, callback_check=lambda uri: None)


def test_redirects_are_not_judged_by_the_outbound_check() -> None:
    # The browser follows a redirect, not Passport: loopback stays allowed (CONTRACT.md).
    raw = {**BASE, "redirect_uris": ["http://127.0.0.1:8400/cb"]}
    assert validate_client_metadata(raw, callback_check=refuse_all).redirect_uris


ADMIN_CLIENT = {
    "name": "Sistema de evaluación docente",
    "token_endpoint_auth_method": "client_secret_basic",
    "grant_types": ["client_credentials"],
    "scopes": ["passport.admin.users:read", "passport.admin.users:write"],
}


def test_admin_scopes_are_accepted_for_a_client_credentials_client() -> None:
    metadata = validate_client_metadata(ADMIN_CLIENT)
    assert metadata.scopes == ["passport.admin.users:read", "passport.admin.users:write"]


@pytest.mark.parametrize(
    "grant_types",
    [["authorization_code"], ["authorization_code", "refresh_token", "client_credentials"]],
)
def test_admin_scopes_are_refused_with_a_browser_grant(grant_types) -> None:
    raw = {**ADMIN_CLIENT, **BASE, "grant_types": grant_types}
    with pytest.raises(InvalidClientMetadata, match="client_credentials alone"):
        validate_client_metadata(raw)


def test_admin_scopes_are_unknown_when_not_allowed() -> None:
    with pytest.raises(InvalidClientMetadata, match="unknown value"):
        validate_client_metadata(ADMIN_CLIENT, allow_admin_scopes=False)


def test_description_logo_and_lifetimes_are_kept() -> None:
    metadata = check(
        description="Boletas de pago.\nPara docentes.",
        logo_uri="https://ayni.minedu.gob.pe/logo.png",
        access_token_ttl_seconds="300",
        refresh_token_ttl_seconds=3600,
    )
    assert metadata.description == "Boletas de pago.\nPara docentes."
    assert metadata.logo_uri == "https://ayni.minedu.gob.pe/logo.png"
    assert (metadata.access_token_ttl_seconds, metadata.refresh_token_ttl_seconds) == (300, 3600)
    blank = check(description="  ", logo_uri="", access_token_ttl_seconds="")
    assert (blank.description, blank.logo_uri, blank.access_token_ttl_seconds) == (None, None, None)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("description", "x" * 501),
        ("description", "bell\x07"),
        ("description", 12),
        ("logo_uri", "http://cdn.example.pe/logo.png"),
        ("logo_uri", "javascript:alert(1)"),
        ("access_token_ttl_seconds", 59),
        ("access_token_ttl_seconds", 3601),
        ("access_token_ttl_seconds", "diez"),
        ("access_token_ttl_seconds", True),
        ("refresh_token_ttl_seconds", 299),
        ("refresh_token_ttl_seconds", 1.5),
    ],
)
def test_bad_description_logo_or_lifetime_is_refused(field, value) -> None:
    with pytest.raises(InvalidClientMetadata) as caught:
        check(**{field: value})
    assert caught.value.field == field
