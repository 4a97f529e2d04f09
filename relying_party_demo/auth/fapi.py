"""The FAPI 2.0 client flow (``AYNI_CLIENT_PROFILE=fapi2``): what Authlib's client lacks.

Authlib still makes the state, nonce and PKCE S256 verifier, keeps them in the session,
signs the client assertions (``client.IssuerAudienceAssertion``), posts the token requests
and validates the ID token. This module adds:

- the pushed authorization request (RFC 9126): the parameters go to Passport over the
  authenticated back channel, and the browser carries only ``client_id`` and ``request_uri``;
  ``dpop_jkt`` binds the code to AYNI's key (RFC 9449 §10);
- a DPoP proof on every token request and on userinfo (``Authorization: DPoP``, with ``ath``),
  retried once when Passport answers ``use_dpop_nonce`` with a new ``DPoP-Nonce`` (§8, §9);
- the refusal of a token that is not DPoP-bound.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl
from urllib.parse import urlsplit

import requests
from authlib.common.urls import add_params_to_uri
from authlib.integrations.base_client import MismatchingStateError
from authlib.integrations.base_client import OAuthError
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from flask import current_app
from flask import request
from flask import session
from joserfc.jwk import ECKey

from relying_party_demo.auth.client import client_assertion
from relying_party_demo.auth.client import client_key
from relying_party_demo.auth.client import is_fapi2
from relying_party_demo.auth.client import provider
from relying_party_demo.auth.client import provider_metadata
from relying_party_demo.auth.client_key import ALGORITHM
from relying_party_demo.auth.dpop import NONCE_HEADER
from relying_party_demo.auth.dpop import USE_DPOP_NONCE
from relying_party_demo.auth.dpop import NonceCache
from relying_party_demo.auth.dpop import make_proof
from relying_party_demo.auth.errors import SignInFailed

TOKEN_HEADERS = {
    "Accept": "application/json",
    "Content-Type": "application/x-www-form-urlencoded;charset=UTF-8",
}
MAX_REQUEST_URI_LENGTH = 2048


def signing_key() -> ECKey:
    """AYNI's key; views check ``is_configured`` first, so it is there."""
    key = client_key()
    if key is None:
        raise SignInFailed("not_configured")
    return key


def nonces() -> NonceCache:
    """The app's cache of DPoP nonces."""
    cache: NonceCache = current_app.extensions["ayni.dpop_nonces"]
    return cache


def endpoint(name: str) -> str:
    """An endpoint from discovery; a Passport without it cannot serve this profile."""
    url = provider_metadata().get(name)
    if not isinstance(url, str) or not url:
        raise SignInFailed("provider_error", f"discovery lacks {name}")
    return url


def start_authorization(redirect_uri: str) -> str:
    """Push the authorization request; return the URL to send the browser to."""
    key = signing_key()
    algorithms = provider_metadata().get("dpop_signing_alg_values_supported")
    if isinstance(algorithms, list) and ALGORITHM not in algorithms:
        raise SignInFailed("provider_error", f"DPoP {ALGORITHM} not supported")
    par_endpoint = endpoint("pushed_authorization_request_endpoint")
    authorization_endpoint = endpoint("authorization_endpoint")
    client = provider()
    prepared = client.create_authorization_url(redirect_uri)
    parameters = dict(parse_qsl(urlsplit(prepared["url"]).query))
    parameters["dpop_jkt"] = key.thumbprint()
    request_uri = push_authorization_request(par_endpoint, parameters, key)
    client.save_authorize_data(redirect_uri=redirect_uri, **prepared)
    url: str = add_params_to_uri(
        authorization_endpoint,
        {"client_id": current_app.config["CLIENT_ID"], "request_uri": request_uri},
    )
    return url


def push_authorization_request(url: str, parameters: dict[str, str], key: ECKey) -> str:
    """POST the parameters with a client assertion (RFC 9126 §2); return the request_uri."""
    body = {
        **parameters,
        "client_assertion_type": JWTBearerClientAssertion.CLIENT_ASSERTION_TYPE,
        "client_assertion": client_assertion(
            key, current_app.config["CLIENT_ID"], current_app.config["ISSUER"]
        ),
    }
    response = requests.post(
        url,
        data=body,
        headers={"Accept": "application/json"},
        timeout=current_app.config["HTTP_TIMEOUT_SECONDS"],
        allow_redirects=False,
    )
    if response.status_code >= 500:
        response.raise_for_status()
    answer = response.json()
    if not isinstance(answer, dict):
        raise ValueError("PAR response is not a JSON object")
    if response.status_code not in (200, 201):
        error = answer.get("error")
        raise SignInFailed("provider_error", f"PAR {str(error)[:60]}")
    request_uri = answer.get("request_uri")
    if not isinstance(request_uri, str) or not 0 < len(request_uri) <= MAX_REQUEST_URI_LENGTH:
        raise SignInFailed("provider_error", "PAR response lacks request_uri")
    return request_uri


def finish_authorization(leeway: int) -> dict[str, Any]:
    """Redeem the callback's code (state from the session); return the checked token."""
    client = provider()
    state = request.args.get("state")
    saved = client.framework.get_state_data(session, state) if state else None
    if state:
        client.framework.clear_state_data(session, state)
    if not saved or not saved.get("code_verifier") or not saved.get("nonce"):
        raise MismatchingStateError()
    code = request.args.get("code")
    if not code:
        raise SignInFailed("provider_error", "code missing")
    token = token_request(
        grant_type="authorization_code",
        code=code,
        code_verifier=saved["code_verifier"],
        redirect_uri=saved["redirect_uri"],
    )
    if "id_token" in token:
        token["userinfo"] = client.parse_id_token(token, nonce=saved["nonce"], leeway=leeway)
    return token


def token_request(**parameters: Any) -> dict[str, Any]:
    """A token request with a DPoP proof (fapi2), else Authlib's plain one."""
    client = provider()
    if not is_fapi2():
        plain: dict[str, Any] = client.fetch_access_token(**parameters)
        return plain
    key = signing_key()
    url = endpoint("token_endpoint")
    cache = nonces()
    fresh: list[bool] = []

    def remember_nonce(response: requests.Response, *args: Any, **kwargs: Any) -> None:
        fresh.append(cache.remember(url, response.headers.get(NONCE_HEADER)))

    def attempt() -> dict[str, Any]:
        headers = {**TOKEN_HEADERS, "DPoP": make_proof(key, "POST", url, nonce=cache.get(url))}
        token: dict[str, Any] = client.fetch_access_token(
            headers=headers, hooks={"response": [remember_nonce]}, **parameters
        )
        return token

    try:
        token = attempt()
    except OAuthError as error:
        # §8: one retry with the nonce the refusal carried; the assertion is signed anew.
        if error.error != USE_DPOP_NONCE or not any(fresh):
            raise
        token = attempt()
    if str(token.get("token_type", "")).lower() != "dpop":
        raise OAuthError(error="invalid_token_type", description="the token is not DPoP-bound")
    return token


def fetch_userinfo(access_token: str) -> dict[str, Any]:
    """GET userinfo with ``Authorization: DPoP`` and a proof bound to the token (§7)."""
    key = signing_key()
    url = endpoint("userinfo_endpoint")
    cache = nonces()
    for _ in range(2):
        proof = make_proof(key, "GET", url, access_token=access_token, nonce=cache.get(url))
        response = requests.get(
            url,
            headers={
                "Authorization": f"DPoP {access_token}",
                "DPoP": proof,
                "Accept": "application/json",
            },
            timeout=current_app.config["HTTP_TIMEOUT_SECONDS"],
            allow_redirects=False,
        )
        new_nonce = cache.remember(url, response.headers.get(NONCE_HEADER))
        challenge = response.headers.get("WWW-Authenticate", "")
        # §9: a resource server asks for a nonce with 401 and error="use_dpop_nonce".
        if not (response.status_code == 401 and USE_DPOP_NONCE in challenge and new_nonce):
            break
    if response.status_code >= 500:
        response.raise_for_status()
    if response.status_code != 200:
        raise SignInFailed("provider_error", f"userinfo answered {response.status_code}")
    claims = response.json()
    if not isinstance(claims, dict):
        raise ValueError("userinfo is not a JSON object")
    return claims
