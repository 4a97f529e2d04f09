"""What a relying party does for PAR (RFC 9126) and signed request objects (RFC 9101)."""

from __future__ import annotations

import time
import uuid
from typing import Any

from flask.testing import FlaskClient
from joserfc import jwk
from joserfc import jwt

from tests.integration.oidc.conftest import ISSUER
from tests.integration.oidc.conftest import RP
from tests.integration.oidc.conftest import pkce_pair
from tests.integration.oidc.conftest import register_client

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
PAR_URL = ISSUER + "/par"
REQUEST_URI_PREFIX = "urn:ietf:params:oauth:request_uri:"


def rsa_key(kid: str = "rp-1", alg: str | None = None) -> jwk.RSAKey:
    """An RSA key; with ``alg`` (a JWK member), the helpers below sign with it, else RS256."""
    parameters = {"kid": kid, **({"alg": alg} if alg else {})}
    return jwk.RSAKey.generate_key(2048, parameters=parameters, private=True)


def signing_alg(key: Any) -> str:
    """The key's own ``alg`` member, else RS256."""
    return str(getattr(key, "alg", None) or "RS256")


def without_alg(public: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in public.items() if name != "alg"}


def key_client(key: Any, **overrides: Any) -> RP:
    """A private_key_jwt client holding ``key``'s public half."""
    values: dict[str, Any] = {
        "token_endpoint_auth_method": "private_key_jwt",
        # Without the JWK's alg member: what the key may sign with is the server's rule.
        "jwks": {"keys": [without_alg(key.as_dict(private=False))]},
        "skip_consent": True,
    }
    values.update(overrides)
    return register_client(**values)


def client_assertion(rp: RP, key: Any, audience: str = PAR_URL, **extra: Any) -> str:
    now = int(time.time())
    claims = {
        "iss": rp.client_id,
        "sub": rp.client_id,
        "aud": audience,
        "iat": now,
        "exp": now + 60,
        "jti": uuid.uuid4().hex,
    }
    claims.update(extra)
    alg = signing_alg(key)
    return jwt.encode({"alg": alg, "kid": key.kid}, claims, key, algorithms=[alg])


def assertion_auth(rp: RP, key: Any, audience: str = PAR_URL) -> dict[str, str]:
    return {
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": client_assertion(rp, key, audience),
    }


def authorization_params(rp: RP, **params: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "response_type": "code",
        "client_id": rp.client_id,
        "redirect_uri": rp.redirect_uri,
        "scope": "openid",
        "state": "st-par",
        "nonce": "n-par",
    }
    values.update(params)
    return {k: v for k, v in values.items() if v is not None}


def push(
    client: FlaskClient,
    rp: RP,
    key: Any = None,
    *,
    auth: dict[str, str] | None = None,
    **params: Any,
) -> Any:
    """POST the authorization parameters to /par, authenticated as the client."""
    form = authorization_params(rp, **params)
    headers: dict[str, str] = {}
    if auth is not None:
        form.update(auth)
    elif key is not None:
        form.update(assertion_auth(rp, key))
    elif rp.client_secret is not None:
        headers = rp.basic_auth()
    return client.post("/par", data=form, headers=headers)


def pushed_with_pkce(
    client: FlaskClient, rp: RP, key: Any = None, **params: Any
) -> tuple[str, str]:
    """Push a request with PKCE S256; its request_uri and the verifier."""
    verifier, challenge = pkce_pair()
    response = push(
        client, rp, key, code_challenge=challenge, code_challenge_method="S256", **params
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()["request_uri"], verifier


def request_object(
    rp: RP,
    key: Any,
    *,
    alg: str | None = None,
    header: dict[str, Any] | None = None,
    drop: tuple[str, ...] = (),
    **claims: Any,
) -> str:
    """A request object signed with ``key`` (RFC 9101 §4), with the usual claims."""
    now = int(time.time())
    values: dict[str, Any] = {
        "iss": rp.client_id,
        "aud": ISSUER,
        "client_id": rp.client_id,
        "response_type": "code",
        "redirect_uri": rp.redirect_uri,
        "scope": "openid",
        "state": "st-object",
        "nonce": "n-object",
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        "jti": uuid.uuid4().hex,
    }
    values.update(claims)
    for name in drop:
        values.pop(name, None)
    alg = alg or signing_alg(key)
    protected = {"alg": alg, **({"kid": key.kid} if getattr(key, "kid", None) else {})}
    protected.update(header or {})
    return jwt.encode(protected, values, key, algorithms=[alg])
