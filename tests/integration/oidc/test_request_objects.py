"""Signed request objects (RFC 9101): by value at /authorize and inside /par."""

from __future__ import annotations

import json
import time

import pytest
from joserfc import jwk
from joserfc import jwt

from tests.integration.oidc.conftest import ISSUER
from tests.integration.oidc.conftest import pkce_pair
from tests.integration.oidc.conftest import query_of
from tests.integration.oidc.conftest import redeem
from tests.integration.oidc.conftest import register_client
from tests.integration.oidc.conftest import sign_in
from tests.integration.oidc.conftest import verify_jwt
from tests.integration.oidc.pushed import assertion_auth
from tests.integration.oidc.pushed import key_client
from tests.integration.oidc.pushed import push
from tests.integration.oidc.pushed import request_object
from tests.integration.oidc.pushed import rsa_key


@pytest.fixture
def key():
    return rsa_key()


@pytest.fixture
def jar_rp(app, key):
    """A confidential client (client_secret_basic) that signs its requests with ``key``."""
    return register_client(skip_consent=True, jwks={"keys": [key.as_dict(private=False)]})


def by_value(client, rp, signed: str, **outer):
    return client.get(
        "/authorize", query_string={"client_id": rp.client_id, "request": signed, **outer}
    )


def refused(response, rp, code: str = "invalid_request_object") -> None:
    """Sent back to the registered redirect_uri beside the object, with the RFC code."""
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    assert response.headers["Location"].startswith(rp.redirect_uri + "?")
    query = query_of(response.headers["Location"])
    assert query["error"] == code, query
    assert "code" not in query


def test_a_signed_request_by_value_gives_a_code(app, client, jar_rp, key, user) -> None:
    sign_in(app, client, user)
    verifier, challenge = pkce_pair()
    signed = request_object(
        jar_rp,
        key,
        scope="openid email",
        code_challenge=challenge,
        code_challenge_method="S256",
        max_age=3600,
        claims={"id_token": {"email": None}},
    )
    response = by_value(client, jar_rp, signed)
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    query = query_of(response.headers["Location"])
    assert query["state"] == "st-object"
    assert query["iss"] == ISSUER
    tokens = redeem(client, jar_rp, query["code"], code_verifier=verifier)
    assert tokens.status_code == 200, tokens.get_json()
    assert tokens.get_json()["scope"] == "openid email"
    assert verify_jwt(client, tokens.get_json()["id_token"]).claims["nonce"] == "n-object"


@pytest.mark.parametrize("alg", ["PS256", "ES256", "RS256"])
def test_every_advertised_alg_is_accepted(app, client, user, alg) -> None:
    if alg == "ES256":
        key = jwk.ECKey.generate_key("P-256", parameters={"kid": "ec"}, private=True)
    else:
        key = rsa_key()
    rp = register_client(skip_consent=True, jwks={"keys": [key.as_dict(private=False)]})
    sign_in(app, client, user)
    response = by_value(client, rp, request_object(rp, key, alg=alg))
    assert "code" in query_of(response.headers["Location"]), response.headers["Location"]
    advertised = client.get("/.well-known/openid-configuration").get_json()
    assert alg in advertised["request_object_signing_alg_values_supported"]


def test_parameters_outside_the_object_are_not_used(app, client, jar_rp, key, user) -> None:
    sign_in(app, client, user)
    response = by_value(
        client,
        jar_rp,
        request_object(jar_rp, key, scope="openid"),
        scope="openid email profile",
        state="outer-state",
        nonce="outer-nonce",
        response_type="code",
    )
    query = query_of(response.headers["Location"])
    assert query["state"] == "st-object"
    tokens = redeem(client, jar_rp, query["code"]).get_json()
    assert tokens["scope"] == "openid"
    assert verify_jwt(client, tokens["id_token"]).claims["nonce"] == "n-object"


def test_the_object_is_needed_for_redirect_uri_too(app, client, jar_rp, key, user) -> None:
    # The object names no redirect_uri: the one beside it is not taken.
    sign_in(app, client, user)
    signed = request_object(jar_rp, key, drop=("redirect_uri",))
    response = by_value(client, jar_rp, signed, redirect_uri=jar_rp.redirect_uri)
    assert response.status_code == 400
    assert "Location" not in response.headers


def now() -> int:
    return int(time.time())


@pytest.mark.parametrize(
    ("case", "claims", "drop"),
    [
        ("wrong aud", {"aud": "https://other.example"}, ()),
        ("aud is the token endpoint", {"aud": ISSUER + "/token"}, ()),
        ("wrong iss", {"iss": "someone-else"}, ()),
        ("no iss", {}, ("iss",)),
        ("client_id claim differs", {"client_id": "someone-else"}, ()),
        ("expired", {"exp": "past"}, ()),
        ("missing exp", {}, ("exp",)),
        ("exp as a string", {"exp": "soon"}, ()),
        ("exp too far ahead", {"exp": "far"}, ()),
        ("nbf in the future", {"nbf": "future"}, ()),
        ("exp more than an hour after nbf", {"nbf": "old"}, ()),
        ("nested request_uri", {"request_uri": "urn:x"}, ()),
        ("a parameter of the wrong type", {"scope": ["openid"]}, ()),
    ],
)
def test_refused_claims(app, client, jar_rp, key, user, case, claims, drop) -> None:
    times = {
        "past": now() - 10,
        "far": now() + 7200,
        "future": now() + 600,
        "old": now() - 3000,
        "soon": "soon",
    }
    values = {k: times.get(v, v) if isinstance(v, str) else v for k, v in claims.items()}
    if case == "exp more than an hour after nbf":
        values["exp"] = now() + 900
    sign_in(app, client, user)
    signed = request_object(jar_rp, key, drop=drop, **values)
    refused(by_value(client, jar_rp, signed, redirect_uri=jar_rp.redirect_uri), jar_rp)


def test_alg_none_is_refused(app, client, jar_rp, user) -> None:
    sign_in(app, client, user)
    claims = {
        "iss": jar_rp.client_id,
        "aud": ISSUER,
        "client_id": jar_rp.client_id,
        "response_type": "code",
        "redirect_uri": jar_rp.redirect_uri,
        "scope": "openid",
        "exp": now() + 60,
    }
    unsigned = jwt.encode({"alg": "none"}, claims, None, algorithms=["none"])
    refused(by_value(client, jar_rp, unsigned, redirect_uri=jar_rp.redirect_uri), jar_rp)


def test_hs256_is_refused(app, client, jar_rp, key, user) -> None:
    # Signed with the public key's bytes as an HMAC secret (the RS/HS confusion), or any secret.
    sign_in(app, client, user)
    for secret in (json.dumps(key.as_dict(private=False)), "a shared secret of enough length"):
        oct_key = jwk.OctKey.import_key(secret)
        signed = request_object(jar_rp, oct_key, alg="HS256")
        refused(by_value(client, jar_rp, signed, redirect_uri=jar_rp.redirect_uri), jar_rp)


def test_a_bad_signature_is_refused(app, client, jar_rp, user) -> None:
    sign_in(app, client, user)
    stranger = rsa_key()  # same kid, another key
    refused(
        by_value(
            client, jar_rp, request_object(jar_rp, stranger), redirect_uri=jar_rp.redirect_uri
        ),
        jar_rp,
    )
    good = request_object(jar_rp, rsa_key())
    header, payload, signature = good.split(".")
    tampered = f"{header}.{payload}.{signature[:-4]}AAAA"
    refused(by_value(client, jar_rp, tampered, redirect_uri=jar_rp.redirect_uri), jar_rp)


def test_garbage_and_encrypted_objects_are_refused(app, client, jar_rp, user) -> None:
    sign_in(app, client, user)
    for value in ("not-a-jwt", "a.b.c", "a.b.c.d.e", "x" * 20_000):
        refused(by_value(client, jar_rp, value, redirect_uri=jar_rp.redirect_uri), jar_rp)


def test_without_a_registered_redirect_uri_beside_it_the_refusal_is_a_page(
    app, client, jar_rp, key, user
) -> None:
    sign_in(app, client, user)
    signed = request_object(jar_rp, key, aud="https://other.example")
    for outer in ({}, {"redirect_uri": "https://evil.example/cb"}):
        response = by_value(client, jar_rp, signed, **outer)
        assert response.status_code == 400
        assert "Location" not in response.headers
        assert "invalid_request_object" in response.get_data(as_text=True)


def test_a_jti_is_accepted_once(app, client, jar_rp, key, user) -> None:
    sign_in(app, client, user)
    signed = request_object(jar_rp, key, jti="only-once")
    assert "code" in query_of(by_value(client, jar_rp, signed).headers["Location"])
    refused(by_value(client, jar_rp, signed, redirect_uri=jar_rp.redirect_uri), jar_rp)


def test_a_client_without_keys_cannot_sign_requests(app, client, rp, key, user) -> None:
    sign_in(app, client, user)
    refused(by_value(client, rp, request_object(rp, key), redirect_uri=rp.redirect_uri), rp)


def test_the_registered_request_object_alg_is_honoured(app, client, key, user) -> None:
    rp = register_client(
        skip_consent=True,
        jwks={"keys": [key.as_dict(private=False)]},
        request_object_signing_alg="PS256",
    )
    sign_in(app, client, user)
    refused(
        by_value(client, rp, request_object(rp, key, alg="RS256"), redirect_uri=rp.redirect_uri),
        rp,
    )
    response = by_value(client, rp, request_object(rp, key, alg="PS256"))
    assert "code" in query_of(response.headers["Location"])


def test_an_unknown_request_object_alg_cannot_be_registered(app) -> None:
    from passport.oidc.errors import InvalidClientMetadata

    for alg in ("none", "HS256"):
        with pytest.raises(InvalidClientMetadata):
            register_client(request_object_signing_alg=alg)


def test_request_and_request_uri_together_are_refused(app, client, jar_rp, key, user) -> None:
    sign_in(app, client, user)
    response = by_value(
        client,
        jar_rp,
        request_object(jar_rp, key),
        request_uri="urn:ietf:params:oauth:request_uri:x",
        redirect_uri=jar_rp.redirect_uri,
    )
    refused(response, jar_rp, "invalid_request")


# --- Inside a pushed request ------------------------------------------------------------


def test_a_signed_request_pushed_to_par(app, client, key, user) -> None:
    rp = key_client(key)
    verifier, challenge = pkce_pair()
    signed = request_object(
        rp, key, code_challenge=challenge, code_challenge_method="S256", scope="openid profile"
    )
    # Only client_id and the object are read (the outer scope and state are not).
    response = client.post(
        "/par",
        data={
            "client_id": rp.client_id,
            "request": signed,
            "scope": "openid email",
            "state": "outer",
            **assertion_auth(rp, key),
        },
    )
    assert response.status_code == 201, response.get_json()
    sign_in(app, client, user)
    answer = client.get(
        "/authorize",
        query_string={"client_id": rp.client_id, "request_uri": response.get_json()["request_uri"]},
    )
    query = query_of(answer.headers["Location"])
    assert query["state"] == "st-object"
    tokens = client.post(
        "/token",
        data={
            "grant_type": "authorization_code",
            "code": query["code"],
            "redirect_uri": rp.redirect_uri,
            "code_verifier": verifier,
            **assertion_auth(rp, key, audience=ISSUER + "/token"),
        },
    )
    assert tokens.status_code == 200, tokens.get_json()
    assert tokens.get_json()["scope"] == "openid profile"


def test_a_bad_object_pushed_to_par_is_400(client, key) -> None:
    rp = key_client(key)
    for signed in (
        request_object(rp, key, aud="https://other.example"),
        request_object(rp, rsa_key()),
        request_object(rp, key, exp=now() - 5),
    ):
        response = push(client, rp, key, request=signed)
        assert response.status_code == 400
        assert response.get_json()["error"] == "invalid_request_object"
