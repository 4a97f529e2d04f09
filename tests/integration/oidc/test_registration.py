"""Dynamic Client Registration (RFC 7591) and management (RFC 7592)."""

from __future__ import annotations

import pytest

from passport.oidc.registration import create_initial_access_token
from tests.integration.oidc.conftest import RP

METADATA = {
    "client_name": "Escalafón",
    "redirect_uris": ["https://escalafon.minedu.gob.pe/callback"],
    "token_endpoint_auth_method": "client_secret_basic",
    "grant_types": ["authorization_code", "refresh_token"],
    "response_types": ["code"],
    "scope": "openid profile email",
    "post_logout_redirect_uris": ["https://escalafon.minedu.gob.pe/"],
    "backchannel_logout_uri": "https://escalafon.minedu.gob.pe/bcl",
}


@pytest.fixture
def initial_token(app) -> str:
    return create_initial_access_token(3600, 2)[0]


def register(client, token, body=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post("/register", json=body or METADATA, headers=headers)


def test_registration_with_an_initial_token_creates_a_working_client(
    app, client, user, initial_token
) -> None:
    response = register(client, initial_token)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["client_secret"]
    assert body["registration_access_token"]
    assert body["registration_client_uri"].endswith("/register/" + body["client_id"])
    assert body["redirect_uris"] == METADATA["redirect_uris"]
    rp = RP(body["client_id"], body["client_secret"], METADATA["redirect_uris"][0])
    # Dynamic clients always ask for consent: the flow stops at the consent page.
    from tests.integration.oidc.conftest import authorize
    from tests.integration.oidc.conftest import sign_in

    sign_in(app, client, user)
    assert authorize(client, rp).status_code == 200


def test_registration_without_or_with_a_bad_token_is_refused(client, initial_token) -> None:
    for token in (None, "garbage"):
        response = register(client, token)
        assert response.status_code == 401
        assert response.get_json()["error"] == "invalid_token"
        assert "Bearer" in response.headers["WWW-Authenticate"]


def test_initial_token_has_a_bounded_number_of_uses(client, initial_token) -> None:
    assert register(client, initial_token).status_code == 201
    assert register(client, initial_token).status_code == 201
    assert register(client, initial_token).status_code == 401


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"redirect_uris": ["http://escalafon.minedu.gob.pe/cb"]}, "invalid_redirect_uri"),
        ({"redirect_uris": ["https://escalafon.minedu.gob.pe/cb#frag"]}, "invalid_redirect_uri"),
        ({"redirect_uris": ["/relative"]}, "invalid_redirect_uri"),
        ({"token_endpoint_auth_method": "tls_client_auth"}, "invalid_client_metadata"),
        ({"grant_types": ["implicit"]}, "invalid_client_metadata"),
        ({"response_types": ["token"]}, "invalid_client_metadata"),
        ({"scope": "openid admin"}, "invalid_client_metadata"),
        ({"token_endpoint_auth_method": "private_key_jwt"}, "invalid_client_metadata"),
    ],
)
def test_invalid_metadata_is_refused_with_the_rfc_error(
    client, initial_token, change, error
) -> None:
    response = register(client, initial_token, {**METADATA, **change})
    assert response.status_code == 400
    assert response.get_json()["error"] == error


def test_invalid_metadata_does_not_use_up_the_initial_token(client, app) -> None:
    token = create_initial_access_token(3600, 1)[0]
    assert register(client, token, {**METADATA, "grant_types": ["implicit"]}).status_code == 400
    assert register(client, token).status_code == 201


def test_loopback_http_redirect_is_accepted(client, initial_token) -> None:
    body = {**METADATA, "redirect_uris": ["http://127.0.0.1:5001/auth/callback"]}
    assert register(client, initial_token, body).status_code == 201


def test_public_client_registration_has_no_secret(client, initial_token) -> None:
    body = register(client, initial_token, {**METADATA, "token_endpoint_auth_method": "none"})
    assert body.status_code == 201
    assert "client_secret" not in body.get_json()


def test_management_read_update_delete(app, client, user, initial_token) -> None:
    created = register(client, initial_token).get_json()
    uri = "/register/" + created["client_id"]
    auth = {"Authorization": "Bearer " + created["registration_access_token"]}
    read = client.get(uri, headers=auth)
    assert read.status_code == 200
    assert read.get_json()["client_name"] == "Escalafón"
    assert "client_secret" not in read.get_json()
    updated = client.put(
        uri,
        json={**METADATA, "client_id": created["client_id"], "client_name": "Escalafón 2"},
        headers=auth,
    )
    assert updated.status_code == 200, updated.get_json()
    assert updated.get_json()["client_name"] == "Escalafón 2"
    assert client.get(uri, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.delete(uri, headers=auth).status_code == 204
    assert client.get(uri, headers=auth).status_code == 401
    rp = RP(created["client_id"], created["client_secret"], METADATA["redirect_uris"][0])
    from tests.integration.oidc.conftest import authorize

    assert authorize(client, rp).status_code == 400  # deleted clients are unknown


def test_registration_cannot_grant_itself_skip_consent(app, client, user, initial_token) -> None:
    created = register(client, initial_token, {**METADATA, "skip_consent": True}).get_json()
    from passport.extensions import db
    from passport.oidc.models import OAuthClient

    row = db.session.scalar(
        db.select(OAuthClient).where(OAuthClient.client_id == created["client_id"])
    )
    assert row.skip_consent is False
    assert row.is_resource_server is False


# RFC 7592 updates: a client replaces its own metadata, never an administrator's settings, and
# may switch its protections (FAPI 2.0 profile, PAR, DPoP) on but never off.


def client_row(client_id: str):
    from passport.extensions import db
    from passport.oidc.models import OAuthClient

    db.session.expire_all()
    return db.session.scalar(db.select(OAuthClient).where(OAuthClient.client_id == client_id))


def put(client, created, body):
    return client.put(
        "/register/" + created["client_id"],
        json={**body, "client_id": created["client_id"]},
        headers={"Authorization": "Bearer " + created["registration_access_token"]},
    )


def key_metadata(**extra):
    from joserfc import jwk

    key = jwk.ECKey.generate_key("P-256", parameters={"kid": "k"}, private=True)
    return {
        **METADATA,
        "token_endpoint_auth_method": "private_key_jwt",
        "jwks": {"keys": [key.as_dict(private=False)]},
        **extra,
    }


def test_a_client_update_keeps_the_admin_only_settings(client, initial_token) -> None:
    from passport.extensions import db

    created = register(client, initial_token).get_json()
    row = client_row(created["client_id"])
    # What only an administrator sets (console or CLI).
    row.skip_consent = True
    row.is_resource_server = True
    row.access_token_format = "jwt"
    row.access_token_ttl_seconds = 300
    row.refresh_token_ttl_seconds = 3600
    row.description = "Legajo del docente"
    db.session.commit()
    body = {
        **METADATA,
        "client_name": "Escalafón 2",
        "skip_consent": False,
        "is_resource_server": False,
        "access_token_format": "opaque",
        "access_token_ttl_seconds": 60,
        "description": "otra",
    }
    response = put(client, created, body)
    assert response.status_code == 200, response.get_json()
    row = client_row(created["client_id"])
    assert row.name == "Escalafón 2"
    assert (row.skip_consent, row.is_resource_server) == (True, True)
    assert row.access_token_format == "jwt"
    assert (row.access_token_ttl_seconds, row.refresh_token_ttl_seconds) == (300, 3600)
    assert row.description == "Legajo del docente"


@pytest.mark.parametrize("dropped", [{}, {"fapi2_profile": False}])
def test_a_fapi_client_update_cannot_drop_its_protections(client, initial_token, dropped) -> None:
    body = key_metadata(fapi2_profile=True)
    created = register(client, initial_token, body).get_json()
    assert created["fapi2_profile"] is True
    del body["fapi2_profile"]
    off = {
        **body,
        **dropped,
        "require_pushed_authorization_requests": False,
        "dpop_bound_access_tokens": False,
    }
    response = put(client, created, off)
    assert response.status_code == 200, response.get_json()
    for name in ("fapi2_profile", "require_pushed_authorization_requests"):
        assert response.get_json()[name] is True, name
    row = client_row(created["client_id"])
    assert (
        row.fapi2_profile,
        row.require_pushed_authorization_requests,
        row.dpop_bound_access_tokens,
    ) == (True, True, True)


def test_a_client_update_cannot_drop_pushed_requests_or_dpop(client, initial_token) -> None:
    body = {**METADATA, "require_pushed_authorization_requests": True}
    created = register(client, initial_token, {**body, "dpop_bound_access_tokens": True}).get_json()
    assert put(client, created, METADATA).status_code == 200
    row = client_row(created["client_id"])
    assert (row.require_pushed_authorization_requests, row.dpop_bound_access_tokens) == (True, True)


def test_a_client_update_may_switch_the_fapi_profile_on(client, initial_token) -> None:
    body = key_metadata()
    created = register(client, initial_token, body).get_json()
    assert created["fapi2_profile"] is False
    response = put(client, created, {**body, "fapi2_profile": True})
    assert response.status_code == 200, response.get_json()
    row = client_row(created["client_id"])
    assert (
        row.fapi2_profile,
        row.require_pushed_authorization_requests,
        row.dpop_bound_access_tokens,
    ) == (True, True, True)


def test_a_fapi_client_update_is_validated_as_a_fapi_client(client, initial_token) -> None:
    body = key_metadata(fapi2_profile=True)
    created = register(client, initial_token, body).get_json()
    del body["fapi2_profile"]
    for change in ({"request_object_signing_alg": "RS256"}, {"fapi2_profile": "no"}):
        response = put(client, created, {**body, **change})
        assert response.status_code == 400, change
        assert response.get_json()["error"] == "invalid_client_metadata"
    assert client_row(created["client_id"]).fapi2_profile is True
