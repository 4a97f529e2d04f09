"""Pushed authorization requests (RFC 9126): /par, the single-use request_uri, the requirement."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy import update

from passport.database import utcnow
from passport.extensions import db
from passport.oidc.models import OAuthClient
from passport.oidc.models import PushedAuthorization
from passport.oidc.tokens import hash_secret
from tests.helpers import sign_in as sign_in_with_form
from tests.integration.oidc.conftest import ISSUER
from tests.integration.oidc.conftest import query_of
from tests.integration.oidc.conftest import redeem
from tests.integration.oidc.conftest import register_client
from tests.integration.oidc.conftest import sign_in
from tests.integration.oidc.conftest import verify_jwt
from tests.integration.oidc.pushed import PAR_URL
from tests.integration.oidc.pushed import REQUEST_URI_PREFIX
from tests.integration.oidc.pushed import assertion_auth
from tests.integration.oidc.pushed import key_client
from tests.integration.oidc.pushed import push
from tests.integration.oidc.pushed import pushed_with_pkce
from tests.integration.oidc.pushed import rsa_key


def authorize_with(client, rp, request_uri, **outer):
    return client.get(
        "/authorize", query_string={"client_id": rp.client_id, "request_uri": request_uri, **outer}
    )


def code_of(response) -> dict[str, str]:
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    query = query_of(response.headers["Location"])
    assert "code" in query, query
    return query


def refused_page(response, code: str) -> None:
    """A page (never a redirect) naming the RFC code."""
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert code in response.get_data(as_text=True)


# --- The endpoint ----------------------------------------------------------------------


def test_push_then_authorize_then_token(app, client, rp, user) -> None:
    response = push(client, rp, scope="openid profile", code_challenge=None)
    assert response.status_code == 201, response.get_json()
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["request_uri"].startswith(REQUEST_URI_PREFIX)
    assert body["expires_in"] == 60
    # Only the hash of the request_uri is stored.
    stored = db.session.scalars(select(PushedAuthorization.request_uri_hash)).all()
    secret = body["request_uri"][len(REQUEST_URI_PREFIX) :]
    assert stored == [hash_secret(secret)]
    sign_in(app, client, user)
    query = code_of(authorize_with(client, rp, body["request_uri"]))
    assert query["state"] == "st-par"
    assert query["iss"] == ISSUER
    tokens = redeem(client, rp, query["code"])
    assert tokens.status_code == 200, tokens.get_json()
    assert tokens.get_json()["scope"] == "openid profile"
    assert verify_jwt(client, tokens.get_json()["id_token"]).claims["nonce"] == "n-par"


@pytest.mark.usefixtures("known_captcha")
def test_the_pushed_request_survives_the_sign_in_page(app, client, rp, user) -> None:
    request_uri, verifier = pushed_with_pkce(client, rp)
    start = authorize_with(client, rp, request_uri)
    assert start.status_code == 302
    login_path = start.headers["Location"]
    assert login_path.startswith("/ingresar?authz=")
    client.get(login_path)
    signed_in = sign_in_with_form(client, user, path=login_path)
    assert signed_in.status_code == 302
    query = code_of(signed_in)
    assert query["state"] == "st-par"
    assert redeem(client, rp, query["code"], code_verifier=verifier).status_code == 200
    # Read once, at the first /authorize: the same request_uri is spent now.
    refused_page(authorize_with(client, rp, request_uri), "invalid_request_uri")


def test_the_pushed_request_survives_the_consent_page(app, client, user) -> None:
    rp = register_client()  # asks for consent
    request_uri, verifier = pushed_with_pkce(client, rp)
    sign_in(app, client, user)
    page = authorize_with(client, rp, request_uri)
    assert page.status_code == 200
    authz_id = page.get_data(as_text=True).split('name="authz" value="')[1].split('"')[0]
    from tests.helpers import csrf_in

    answer = client.post(
        "/authorize/consent",
        data={
            "authz": authz_id,
            "decision": "allow",
            "csrf_token": csrf_in(page.get_data(as_text=True)),
        },
    )
    query = code_of(answer)
    assert redeem(client, rp, query["code"], code_verifier=verifier).status_code == 200


def test_a_reused_request_uri_is_refused(app, client, rp, user) -> None:
    request_uri, _ = pushed_with_pkce(client, rp)
    sign_in(app, client, user)
    code_of(authorize_with(client, rp, request_uri))
    refused_page(authorize_with(client, rp, request_uri), "invalid_request_uri")
    # With a registered redirect_uri beside it, the refusal goes back to the client.
    again = authorize_with(client, rp, request_uri, redirect_uri=rp.redirect_uri, state="s2")
    assert again.status_code == 302
    query = query_of(again.headers["Location"])
    assert query["error"] == "invalid_request_uri"
    assert query["state"] == "s2"
    assert query["iss"] == ISSUER


def test_an_expired_request_uri_is_refused(app, client, rp, user) -> None:
    request_uri, _ = pushed_with_pkce(client, rp)
    db.session.execute(
        update(PushedAuthorization).values(expires_at=utcnow() - timedelta(seconds=1))
    )
    db.session.commit()
    sign_in(app, client, user)
    refused_page(authorize_with(client, rp, request_uri), "invalid_request_uri")


def test_an_unknown_request_uri_is_refused(app, client, rp, user) -> None:
    sign_in(app, client, user)
    refused_page(authorize_with(client, rp, REQUEST_URI_PREFIX + "nope"), "invalid_request_uri")


def test_a_request_uri_of_another_client_is_refused_and_not_spent(app, client, rp, user) -> None:
    other = register_client(skip_consent=True)
    request_uri, verifier = pushed_with_pkce(client, rp)
    sign_in(app, client, user)
    refused_page(authorize_with(client, other, request_uri), "invalid_request_uri")
    query = code_of(authorize_with(client, rp, request_uri))
    assert redeem(client, rp, query["code"], code_verifier=verifier).status_code == 200


def test_a_request_uri_that_is_a_url_is_not_supported(app, client, rp, user) -> None:
    sign_in(app, client, user)
    refused_page(
        authorize_with(client, rp, "https://rp.example/request.jwt"), "request_uri_not_supported"
    )


def test_parameters_beside_the_request_uri_are_ignored(app, client, user) -> None:
    rp = register_client(
        skip_consent=True,
        redirect_uris=[
            "https://ayni.example.gob.pe/auth/callback",
            "https://ayni.example.gob.pe/b",
        ],
    )
    request_uri, verifier = pushed_with_pkce(client, rp, scope="openid")
    sign_in(app, client, user)
    response = authorize_with(
        client,
        rp,
        request_uri,
        redirect_uri="https://ayni.example.gob.pe/b",
        scope="openid email profile",
        state="outer",
        nonce="outer",
        code_challenge_method="plain",
    )
    assert response.headers["Location"].startswith(rp.redirect_uri + "?")
    query = code_of(response)
    assert query["state"] == "st-par"
    tokens = redeem(client, rp, query["code"], code_verifier=verifier).get_json()
    assert tokens["scope"] == "openid"
    assert verify_jwt(client, tokens["id_token"]).claims["nonce"] == "n-par"


# --- Client authentication at /par ------------------------------------------------------


def test_par_without_client_authentication_is_401(client, rp) -> None:
    response = client.post(
        "/par", data={"client_id": rp.client_id, "response_type": "code", "scope": "openid"}
    )
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_client"
    rp.client_secret = "wrong"
    response = push(client, rp)
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_client"
    assert db.session.scalar(select(PushedAuthorization.id)) is None


def test_par_with_private_key_jwt(app, client, user) -> None:
    key = rsa_key()
    rp = key_client(key)
    request_uri, verifier = pushed_with_pkce(client, rp, key)
    sign_in(app, client, user)
    query = code_of(authorize_with(client, rp, request_uri))
    token_auth = assertion_auth(rp, key, audience=ISSUER + "/token")
    response = client.post(
        "/token",
        data={
            "grant_type": "authorization_code",
            "code": query["code"],
            "redirect_uri": rp.redirect_uri,
            "code_verifier": verifier,
            **token_auth,
        },
    )
    assert response.status_code == 200, response.get_json()


def test_par_accepts_the_issuer_token_endpoint_or_par_url_as_audience(client) -> None:
    key = rsa_key()
    rp = key_client(key)
    for audience in (ISSUER, ISSUER + "/token", PAR_URL):
        response = push(client, rp, auth=assertion_auth(rp, key, audience), code_challenge=None)
        assert response.status_code == 201, (audience, response.get_json())


def test_par_with_a_bad_client_assertion_is_401(client) -> None:
    key = rsa_key()
    rp = key_client(key)
    stranger = rsa_key()
    cases = {
        "another key": assertion_auth(rp, stranger),
        "another audience": assertion_auth(rp, key, audience="https://elsewhere.example/par"),
    }
    replayed = assertion_auth(rp, key)
    assert push(client, rp, auth=replayed).status_code == 201
    cases["replayed jti"] = replayed
    for name, auth in cases.items():
        response = push(client, rp, auth=auth)
        assert response.status_code == 401, name
        assert response.get_json()["error"] == "invalid_client", name


# --- Validation at /par, as at /authorize -----------------------------------------------


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"redirect_uri": "https://evil.example/cb"}, "invalid_request"),
        ({"redirect_uri": None}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"response_type": None}, "invalid_request"),
        ({"scope": "boletas:read"}, "invalid_scope"),
        ({"code_challenge": "x" * 43, "code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge": "short", "code_challenge_method": "S256"}, "invalid_request"),
        ({"request_uri": REQUEST_URI_PREFIX + "x"}, "invalid_request"),
        ({"client_id": "someone-else"}, "invalid_request"),
        ({"prompt": "none login"}, "invalid_request"),
        ({"claims": "{not json"}, "invalid_request"),
    ],
)
def test_par_validates_the_request_as_authorize_does(client, rp, params, error) -> None:
    response = push(client, rp, **params)
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["error"] == error
    assert db.session.scalar(select(PushedAuthorization.id)) is None


def test_a_public_client_must_send_pkce_to_par(client) -> None:
    rp = register_client(token_endpoint_auth_method="none", skip_consent=True)
    response = push(client, rp, auth={"client_id": rp.client_id})
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_request"
    request_uri, _ = pushed_with_pkce(client, rp, auth={"client_id": rp.client_id})
    assert request_uri.startswith(REQUEST_URI_PREFIX)


def test_pushes_by_a_public_client_are_throttled_as_anonymous_authorize(
    app, client, rp, monkeypatch
) -> None:
    """A public client authenticates with its client_id alone: anyone can make Passport store
    a pushed request for it, as anyone can a pending one at /authorize, so pushes spend the
    same per-address budget (AUTHORIZE_RATE_LIMIT). A confidential client's do not."""
    from tests.integration.oidc.conftest import pkce_pair

    monkeypatch.setitem(app.config, "AUTHORIZE_RATE_LIMIT", "2 per minute")
    public = register_client(token_endpoint_auth_method="none", skip_consent=True)
    _verifier, challenge = pkce_pair()
    form = {
        "client_id": public.client_id,
        "response_type": "code",
        "redirect_uri": public.redirect_uri,
        "scope": "openid",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    statuses = [
        client.post("/par", data=form, environ_base={"REMOTE_ADDR": "198.51.100.20"}).status_code
        for _ in range(3)
    ]
    assert statuses == [201, 201, 429]
    assert len(db.session.scalars(select(PushedAuthorization.id)).all()) == 2
    confidential = client.post(
        "/par",
        data={**form, "client_id": rp.client_id},
        headers=rp.basic_auth(),
        environ_base={"REMOTE_ADDR": "198.51.100.20"},
    )
    assert confidential.status_code == 201, confidential.get_json()


def test_par_is_post_only(client, rp) -> None:
    assert client.get("/par").status_code == 405


# --- require_pushed_authorization_requests ----------------------------------------------


def test_a_client_that_requires_par_is_refused_without_it(app, client, user) -> None:
    rp = register_client(skip_consent=True, require_pushed_authorization_requests=True)
    sign_in(app, client, user)
    response = client.get(
        "/authorize",
        query_string={
            "client_id": rp.client_id,
            "redirect_uri": rp.redirect_uri,
            "response_type": "code",
            "scope": "openid",
            "state": "s",
        },
    )
    assert response.status_code == 302
    query = query_of(response.headers["Location"])
    assert query["error"] == "invalid_request"
    assert query["state"] == "s"
    # Without a redirect_uri to answer to, a page.
    page = client.get("/authorize", query_string={"client_id": rp.client_id, "scope": "openid"})
    assert page.status_code == 400
    request_uri, verifier = pushed_with_pkce(client, rp)
    query = code_of(authorize_with(client, rp, request_uri))
    assert redeem(client, rp, query["code"], code_verifier=verifier).status_code == 200


def test_the_global_setting_requires_par_of_every_client(app, client, rp, user) -> None:
    sign_in(app, client, user)
    app.config["REQUIRE_PUSHED_AUTHORIZATION_REQUESTS"] = True
    try:
        response = client.get(
            "/authorize",
            query_string={
                "client_id": rp.client_id,
                "redirect_uri": rp.redirect_uri,
                "response_type": "code",
                "scope": "openid",
            },
        )
        assert query_of(response.headers["Location"])["error"] == "invalid_request"
        request_uri, _ = pushed_with_pkce(client, rp)
        code_of(authorize_with(client, rp, request_uri))
    finally:
        app.config["REQUIRE_PUSHED_AUTHORIZATION_REQUESTS"] = False


def test_the_requirement_is_client_metadata_everywhere(app, client) -> None:
    from passport.cli import cli
    from passport.cli import register_groups
    from passport.oidc.registration import create_initial_access_token

    register_groups()
    result = app.test_cli_runner().invoke(
        cli,
        [
            "clients",
            "create",
            "--name",
            "Escalafón",
            "--redirect-uri",
            "https://escalafon.minedu.gob.pe/cb",
            "--auth-method",
            "client_secret_basic",
            "--require-pushed-authorization-requests",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    client_id = json.loads(result.output)["client_id"]
    row = db.session.scalar(select(OAuthClient).where(OAuthClient.client_id == client_id))
    assert row.require_pushed_authorization_requests is True
    shown = app.test_cli_runner().invoke(cli, ["clients", "show", client_id, "--json"])
    assert json.loads(shown.output)["require_pushed_authorization_requests"] is True
    # RFC 9126 §6: accepted and returned by dynamic registration.
    token = create_initial_access_token(3600, 2)[0]
    metadata = {
        "client_name": "Escalafón",
        "redirect_uris": ["https://escalafon.minedu.gob.pe/cb"],
        "require_pushed_authorization_requests": True,
    }
    registered = client.post(
        "/register", json=metadata, headers={"Authorization": f"Bearer {token}"}
    )
    assert registered.status_code == 201, registered.get_json()
    assert registered.get_json()["require_pushed_authorization_requests"] is True
    bad = client.post(
        "/register",
        json={**metadata, "require_pushed_authorization_requests": "yes"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert bad.status_code == 400
    assert bad.get_json()["error"] == "invalid_client_metadata"
