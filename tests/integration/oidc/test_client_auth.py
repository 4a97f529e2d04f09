"""Client authentication at the token endpoint (basic, post, none, private_key_jwt)."""

from __future__ import annotations

import time

import pytest
from joserfc import jwk
from joserfc import jwt

from tests.integration.oidc.conftest import ISSUER
from tests.integration.oidc.conftest import get_code
from tests.integration.oidc.conftest import register_client
from tests.integration.oidc.conftest import sign_in
from tests.served import Answer

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def code_form(rp, code):
    return {"grant_type": "authorization_code", "code": code, "redirect_uri": rp.redirect_uri}


def test_client_secret_basic_with_a_wrong_secret_is_401_with_challenge(
    app, client, rp, user
) -> None:
    sign_in(app, client, user)
    code = get_code(client, rp)
    rp.client_secret = "wrong"
    response = client.post("/token", data=code_form(rp, code), headers=rp.basic_auth())
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_client"
    assert "WWW-Authenticate" in response.headers


def test_basic_credentials_that_are_not_utf8_are_401_not_an_error(client, rp) -> None:
    # base64 of b"\xff\xfe:x": Authlib decodes it as UTF-8 without catching the failure.
    headers = {"Authorization": "Basic //46eA=="}
    for path in ("/token", "/revoke", "/introspect"):
        response = client.post(path, data=code_form(rp, "x") | {"token": "t"}, headers=headers)
        assert response.status_code == 401, path
        assert response.get_json()["error"] == "invalid_client"
        assert "WWW-Authenticate" in response.headers


def test_unknown_client_is_401(client, rp) -> None:
    rp.client_id = "unknown"
    response = client.post("/token", data=code_form(rp, "x"), headers=rp.basic_auth())
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_client"


def test_client_secret_post(app, client, user) -> None:
    rp = register_client(token_endpoint_auth_method="client_secret_post", skip_consent=True)
    sign_in(app, client, user)
    code = get_code(client, rp)
    form = {**code_form(rp, code), "client_id": rp.client_id, "client_secret": rp.client_secret}
    assert client.post("/token", data=form).status_code == 200
    # The method is fixed per client: basic is refused for a post client.
    code = get_code(client, rp)
    response = client.post("/token", data=code_form(rp, code), headers=rp.basic_auth())
    assert response.status_code == 401


def test_disabled_client_cannot_authenticate(app, client, rp, user) -> None:
    from passport.extensions import db
    from passport.oidc.clients import forget_client
    from passport.oidc.models import OAuthClient

    sign_in(app, client, user)
    code = get_code(client, rp)
    row = db.session.scalar(db.select(OAuthClient).where(OAuthClient.client_id == rp.client_id))
    row.is_disabled = True
    db.session.commit()
    forget_client(rp.client_id)
    response = client.post("/token", data=code_form(rp, code), headers=rp.basic_auth())
    assert response.status_code == 401


def test_rotated_secret_keeps_the_old_one_during_the_grace_period(app, client, rp, user) -> None:
    from passport.oidc.clients import rotate_client_secret

    old = rp.client_secret
    new = rotate_client_secret(rp.client_id, grace_seconds=3600)
    sign_in(app, client, user)
    for secret in (old, new):
        rp.client_secret = secret
        code = get_code(client, rp)
        assert (
            client.post("/token", data=code_form(rp, code), headers=rp.basic_auth()).status_code
            == 200
        )
    rotate_client_secret(rp.client_id)
    rp.client_secret = new
    code = get_code(client, rp)
    assert (
        client.post("/token", data=code_form(rp, code), headers=rp.basic_auth()).status_code == 401
    )


@pytest.fixture
def rp_key():
    return jwk.RSAKey.generate_key(2048, parameters={"kid": "rp-1"}, private=True)


def assertion(client_id: str, key, audience: str = ISSUER + "/token", jti: str = "j1", **extra):
    now = int(time.time())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "iat": now,
        "exp": now + 60,
        "jti": jti,
    }
    claims.update(extra)
    return jwt.encode({"alg": "RS256", "kid": "rp-1"}, claims, key)


def private_key_form(rp, code, token):
    return {
        **code_form(rp, code),
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": token,
    }


def test_private_key_jwt_with_inline_jwks_and_jti_replay(app, client, user, rp_key) -> None:
    rp = register_client(
        token_endpoint_auth_method="private_key_jwt",
        jwks={"keys": [rp_key.as_dict(private=False)]},
        skip_consent=True,
    )
    assert rp.client_secret is None
    sign_in(app, client, user)
    token = assertion(rp.client_id, rp_key, jti="once")
    response = client.post("/token", data=private_key_form(rp, get_code(client, rp), token))
    assert response.status_code == 200, response.get_json()
    replay = client.post("/token", data=private_key_form(rp, get_code(client, rp), token))
    assert replay.status_code == 401
    assert replay.get_json()["error"] == "invalid_client"


def test_private_key_jwt_accepts_the_issuer_as_audience(app, client, user, rp_key) -> None:
    rp = register_client(
        token_endpoint_auth_method="private_key_jwt",
        jwks={"keys": [rp_key.as_dict(private=False)]},
        skip_consent=True,
    )
    sign_in(app, client, user)
    token = assertion(rp.client_id, rp_key, audience=ISSUER, jti="aud-issuer")
    assert (
        client.post("/token", data=private_key_form(rp, get_code(client, rp), token)).status_code
        == 200
    )
    bad = assertion(rp.client_id, rp_key, audience="https://other.example", jti="aud-bad")
    assert (
        client.post("/token", data=private_key_form(rp, get_code(client, rp), bad)).status_code
        == 401
    )


def test_private_key_jwt_signed_by_another_key_is_refused(app, client, user, rp_key) -> None:
    rp = register_client(
        token_endpoint_auth_method="private_key_jwt",
        jwks={"keys": [rp_key.as_dict(private=False)]},
        skip_consent=True,
    )
    sign_in(app, client, user)
    stranger = jwk.RSAKey.generate_key(2048, parameters={"kid": "rp-1"}, private=True)
    token = assertion(rp.client_id, stranger, jti="stranger")
    assert (
        client.post("/token", data=private_key_form(rp, get_code(client, rp), token)).status_code
        == 401
    )


def test_private_key_jwt_with_jwks_uri_on_loopback(app, client, user, rp_key, canned) -> None:
    server = canned(Answer.json({"keys": [rp_key.as_dict(private=False)]}))
    uri = f"{server.url}/jwks.json"
    rp = register_client(
        token_endpoint_auth_method="private_key_jwt", jwks_uri=uri, skip_consent=True
    )
    sign_in(app, client, user)
    token = assertion(rp.client_id, rp_key, jti="via-uri")
    response = client.post("/token", data=private_key_form(rp, get_code(client, rp), token))
    assert response.status_code == 200, response.get_json()


def test_advertised_assertion_algorithms_are_all_accepted(app, client, user) -> None:
    """PS256 and EdDSA too (FAPI 2.0 §5.4.1's list), not only joserfc's defaults."""
    algs = client.get("/.well-known/openid-configuration").get_json()[
        "token_endpoint_auth_signing_alg_values_supported"
    ]
    assert {"PS256", "ES256", "EdDSA", "Ed25519", "RS256"} <= set(algs)
    sign_in(app, client, user)
    for alg in algs:
        if alg.startswith(("RS", "PS")):
            key = jwk.RSAKey.generate_key(2048, parameters={"kid": "k"}, private=True)
        elif alg in ("EdDSA", "Ed25519"):
            key = jwk.OKPKey.generate_key("Ed25519", parameters={"kid": "k"}, private=True)
        else:
            key = jwk.ECKey.generate_key("P-256", parameters={"kid": "k"}, private=True)
        response = redeem_with_assertion(client, key, alg)
        assert response.status_code == 200, (alg, response.get_json())


def redeem_with_assertion(client, key, alg: str):
    """A new private_key_jwt client holding ``key`` redeems a code with an ``alg`` assertion
    (the browser is signed in)."""
    rp = register_client(
        token_endpoint_auth_method="private_key_jwt",
        jwks={"keys": [key.as_dict(private=False)]},
        skip_consent=True,
    )
    now = int(time.time())
    claims = {
        "iss": rp.client_id,
        "sub": rp.client_id,
        "aud": ISSUER + "/token",
        "iat": now,
        "exp": now + 60,
        "jti": f"alg-{alg}",
    }
    token = jwt.encode({"alg": alg, "kid": "k"}, claims, key, algorithms=[alg])
    return client.post("/token", data=private_key_form(rp, get_code(client, rp), token))


@pytest.mark.parametrize("alg", ["RS384", "PS384", "ES384"])
def test_an_assertion_algorithm_not_advertised_is_refused(app, client, user, alg) -> None:
    """Discovery's token_endpoint_auth_signing_alg_values_supported is the whole list."""
    advertised = client.get("/.well-known/openid-configuration").get_json()[
        "token_endpoint_auth_signing_alg_values_supported"
    ]
    assert alg not in advertised
    if alg.startswith(("RS", "PS")):
        key = jwk.RSAKey.generate_key(2048, parameters={"kid": "k"}, private=True)
    elif alg == "EdDSA":
        key = jwk.OKPKey.generate_key("Ed25519", parameters={"kid": "k"}, private=True)
    else:
        key = jwk.ECKey.generate_key("P-384", parameters={"kid": "k"}, private=True)
    sign_in(app, client, user)
    response = redeem_with_assertion(client, key, alg)
    assert response.status_code == 401, (alg, response.get_json())
    assert response.get_json()["error"] == "invalid_client"


def assertion_form(signed: str, **extra: str) -> dict[str, str]:
    return {"client_assertion_type": ASSERTION_TYPE, "client_assertion": signed, **extra}


def post(client, path: str, data: dict[str, str]):
    """POST, then end the session as a real request's teardown does.

    The test's app context outlives the requests, so without this an uncommitted row of one
    request would still be visible to the next one and hide a lost write.
    """
    from passport.extensions import db

    response = client.post(path, data=data)
    db.session.remove()
    return response


@pytest.fixture
def key_rp(app, rp_key):
    return register_client(
        token_endpoint_auth_method="private_key_jwt",
        jwks={"keys": [rp_key.as_dict(private=False)]},
        skip_consent=True,
    )


@pytest.mark.parametrize(
    ("path", "form"),
    [
        ("/introspect", {"token": "no-such-token"}),  # never commits
        ("/revoke", {"token": "no-such-token"}),  # commits only for a known token
    ],
)
def test_an_assertion_is_used_once_even_where_nothing_is_committed(
    client, key_rp, rp_key, path, form
) -> None:
    token = assertion(key_rp.client_id, rp_key, jti=f"once-{path}")
    assert post(client, path, assertion_form(token, **form)).status_code == 200
    for _ in range(2):
        replay = post(client, path, assertion_form(token, **form))
        assert replay.status_code == 401
        assert replay.get_json()["error"] == "invalid_client"


def test_an_assertion_spent_on_a_failed_token_request_cannot_be_reused(
    app, client, user, key_rp, rp_key
) -> None:
    sign_in(app, client, user)
    token = assertion(key_rp.client_id, rp_key, jti="after-failure")
    failed = post(client, "/token", private_key_form(key_rp, "wrong-code", token))
    assert failed.get_json()["error"] == "invalid_grant"
    replay = post(client, "/token", private_key_form(key_rp, get_code(client, key_rp), token))
    assert replay.status_code == 401
    assert replay.get_json()["error"] == "invalid_client"


@pytest.mark.parametrize(
    "claims",
    [
        {"exp": 2**32},
        {"exp": 2**63},
        {"exp": float(int(time.time()) + 60)},
        {"exp": int(time.time()) + 3600},  # lives an hour
        {"iat": int(time.time()) - 280, "exp": int(time.time()) + 60},  # 340 s from iat
        {"iat": float(int(time.time())), "exp": int(time.time()) + 60},
    ],
    ids=["2^32", "2^63", "float", "an-hour", "long-since-iat", "float-iat"],
)
def test_assertions_living_too_long_or_with_odd_times_are_refused(
    client, key_rp, rp_key, claims
) -> None:
    token = assertion(key_rp.client_id, rp_key, jti="odd-times", **claims)
    response = client.post("/introspect", data=assertion_form(token, token="x"))
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_client"


def test_the_stored_expiry_is_the_assertions_exp(app, client, key_rp, rp_key) -> None:
    from datetime import UTC
    from datetime import datetime

    from passport.extensions import db
    from passport.oidc.models import ClientAssertionJti

    expires = int(time.time()) + 299
    token = assertion(key_rp.client_id, rp_key, jti="stored", exp=expires)
    assert client.post("/introspect", data=assertion_form(token, token="x")).status_code == 200
    row = db.session.scalars(db.select(ClientAssertionJti)).one()
    assert (row.client_id, row.jti) == (key_rp.client_id, "stored")
    assert row.expires_at == datetime.fromtimestamp(expires, UTC)
