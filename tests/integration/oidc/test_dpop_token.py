"""DPoP at the token endpoint (RFC 9449 §5): bound tokens, and every refused proof (§11)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from joserfc import jwk

from passport.oidc import dpop
from tests.dpop_proofs import DPoPKey
from tests.dpop_proofs import unsigned
from tests.integration.oidc.conftest import RP
from tests.integration.oidc.conftest import get_code
from tests.integration.oidc.conftest import pkce_pair
from tests.integration.oidc.conftest import register_client
from tests.integration.oidc.conftest import sign_in
from tests.integration.oidc.conftest import verify_jwt


def new_code(client: FlaskClient, rp: RP, scope: str = "openid") -> tuple[str, str]:
    verifier, challenge = pkce_pair()
    code = get_code(client, rp, scope=scope, code_challenge=challenge, code_challenge_method="S256")
    return code, verifier


def token_request(
    client: FlaskClient, rp: RP, form: dict[str, str], proof: str | list[str] | None
) -> Any:
    headers: list[tuple[str, str]] = []
    if rp.client_secret:
        headers.extend(rp.basic_auth().items())
    else:
        form = {**form, "client_id": rp.client_id}
    for value in [proof] if isinstance(proof, str) else proof or []:
        headers.append(("DPoP", value))
    return client.post("/token", data=form, headers=headers)


def redeem_with(client: FlaskClient, rp: RP, code: str, verifier: str, proof: Any) -> Any:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": rp.redirect_uri,
        "code_verifier": verifier,
    }
    return token_request(client, rp, form, proof)


def refresh_with(client: FlaskClient, rp: RP, refresh_token: str, proof: Any) -> Any:
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    return token_request(client, rp, form, proof)


@pytest.fixture
def signed_in(app: Flask, client: FlaskClient, user: Any) -> None:
    sign_in(app, client, user)


@pytest.fixture
def public_rp(app: Flask) -> RP:
    return register_client(name="App móvil", token_endpoint_auth_method="none", skip_consent=True)


@pytest.mark.usefixtures("signed_in")
def test_a_proof_binds_the_tokens_to_its_key(client: FlaskClient, rp: RP) -> None:
    key = DPoPKey()
    code, verifier = new_code(client, rp, "openid offline_access")
    response = redeem_with(client, rp, code, verifier, key.proof("POST", "/token"))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["token_type"] == "DPoP"
    assert "DPoP-Nonce" not in response.headers  # nonces are not required by default
    introspected = client.post(
        "/introspect", data={"token": body["access_token"]}, headers=rp.basic_auth()
    ).get_json()
    assert introspected["active"] is True
    assert introspected["token_type"] == "DPoP"
    assert introspected["cnf"] == {"jkt": key.jkt}


@pytest.mark.usefixtures("signed_in")
def test_without_a_proof_the_tokens_stay_bearer(client: FlaskClient, rp: RP) -> None:
    code, verifier = new_code(client, rp)
    body = redeem_with(client, rp, code, verifier, None).get_json()
    assert body["token_type"] == "Bearer"
    introspected = client.post(
        "/introspect", data={"token": body["access_token"]}, headers=rp.basic_auth()
    ).get_json()
    assert introspected["token_type"] == "Bearer"
    assert "cnf" not in introspected


@pytest.mark.usefixtures("signed_in")
@pytest.mark.parametrize("alg", ["ES256", "PS256", "RS256", "Ed25519"])
def test_every_advertised_algorithm_family_works(client: FlaskClient, rp: RP, alg: str) -> None:
    key = DPoPKey(alg)
    code, verifier = new_code(client, rp)
    response = redeem_with(client, rp, code, verifier, key.proof("POST", "/token"))
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["token_type"] == "DPoP"


@pytest.mark.usefixtures("signed_in")
def test_a_jwt_access_token_carries_cnf_jkt(app: Flask, client: FlaskClient) -> None:
    rp = register_client(skip_consent=True, access_token_format="jwt")
    key = DPoPKey()
    code, verifier = new_code(client, rp)
    body = redeem_with(client, rp, code, verifier, key.proof("POST", "/token")).get_json()
    claims = verify_jwt(client, body["access_token"]).claims
    assert claims["cnf"] == {"jkt": key.jkt}


def hostile_proofs() -> dict[str, Any]:
    """Proofs RFC 9449 §4.3 and §11 say to refuse, each made by the tests' DPoP key."""
    key = DPoPKey()
    other = DPoPKey()
    now = int(time.time())
    private = dict(key.key.as_dict(private=True))
    hmac_key = jwk.OctKey.generate_key(256)
    good = key.proof("POST", "/token")
    head, payload, _signature = good.split(".")
    forged = other.proof("POST", "/token").split(".")[2]
    return {
        "wrong htu": key.proof("POST", "/userinfo"),
        "wrong htu host": key.proof("POST", "/token", issuer="https://evil.example"),
        "htu with another scheme": key.proof("POST", "/token", issuer="https://127.0.0.1:5000"),
        "wrong htm": key.proof("GET", "/token"),
        "iat too old": key.proof("POST", "/token", claims={"iat": now - 120}),
        "iat in the future": key.proof("POST", "/token", claims={"iat": now + 120}),
        "iat as a string": key.proof("POST", "/token", claims={"iat": str(now)}),
        "iat beyond any float": key.proof("POST", "/token", claims={"iat": 10**400}),
        "iat missing": key.proof("POST", "/token", claims={"iat": None}),
        "jti missing": key.proof("POST", "/token", claims={"jti": None}),
        "jti not a string": key.proof("POST", "/token", claims={"jti": 12345}),
        "alg none": unsigned(
            {"typ": "dpop+jwt", "alg": "none", "jwk": key.public_jwk},
            {"jti": "x" * 22, "htm": "POST", "htu": "http://127.0.0.1:5000/token", "iat": now},
        ),
        "HS256": key.proof(
            "POST",
            "/token",
            header={"alg": "HS256", "jwk": hmac_key.as_dict()},
            signing_key=hmac_key,
        ),
        "private key in jwk": key.proof("POST", "/token", header={"jwk": private}),
        "no jwk": key.proof("POST", "/token", header={"jwk": None}),
        "jwk of another key": key.proof("POST", "/token", header={"jwk": other.public_jwk}),
        "bad signature": f"{head}.{payload}.{forged}",
        "wrong typ": key.proof("POST", "/token", header={"typ": "JWT"}),
        "not a JWS": "not-a-proof",
        "two proofs": [good, key.proof("POST", "/token")],
    }


# Names only: the proofs are made when each test runs, since one made at collection would go
# stale (its iat out of the window) before a long run reaches it, and be refused for that.
HOSTILE = sorted(hostile_proofs())


@pytest.mark.usefixtures("signed_in")
@pytest.mark.parametrize("case", HOSTILE)
def test_a_bad_proof_is_refused_and_the_code_survives(
    client: FlaskClient, rp: RP, case: str
) -> None:
    code, verifier = new_code(client, rp)
    response = redeem_with(client, rp, code, verifier, hostile_proofs()[case])
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["error"] == "invalid_dpop_proof"
    # Refused before the code was touched: the client can try again with a good proof.
    retry = redeem_with(client, rp, code, verifier, DPoPKey().proof("POST", "/token"))
    assert retry.status_code == 200, retry.get_json()


@pytest.mark.usefixtures("signed_in")
def test_a_replayed_proof_is_refused(client: FlaskClient, rp: RP) -> None:
    proof = DPoPKey().proof("POST", "/token")
    code, verifier = new_code(client, rp)
    assert redeem_with(client, rp, code, verifier, proof).status_code == 200
    code, verifier = new_code(client, rp)
    replay = redeem_with(client, rp, code, verifier, proof)
    assert replay.status_code == 400
    assert replay.get_json() == {
        "error": "invalid_dpop_proof",
        "error_description": "This DPoP proof was used before.",
    }


@pytest.mark.usefixtures("signed_in")
def test_a_dpop_bound_client_must_present_a_proof(app: Flask, client: FlaskClient) -> None:
    rp = register_client(skip_consent=True, dpop_bound_access_tokens=True)
    code, verifier = new_code(client, rp)
    refused = redeem_with(client, rp, code, verifier, None)
    assert refused.status_code == 400
    assert refused.get_json()["error"] == "invalid_dpop_proof"
    accepted = redeem_with(client, rp, code, verifier, DPoPKey().proof("POST", "/token"))
    assert accepted.status_code == 200, accepted.get_json()
    assert accepted.get_json()["token_type"] == "DPoP"


def test_client_credentials_tokens_are_bound_too(app: Flask, client: FlaskClient) -> None:
    rp = register_client(
        redirect_uris=[],
        post_logout_redirect_uris=[],
        grant_types=["client_credentials"],
        scopes=["boletas:read"],
        dpop_bound_access_tokens=True,
    )
    form = {"grant_type": "client_credentials"}
    assert token_request(client, rp, form, None).status_code == 400
    key = DPoPKey()
    response = token_request(client, rp, form, key.proof("POST", "/token"))
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["token_type"] == "DPoP"


# --- Refresh tokens (RFC 9449 §5) -------------------------------------------------------


@pytest.mark.usefixtures("signed_in")
def test_a_public_clients_refresh_token_is_bound_to_the_key(
    client: FlaskClient, public_rp: RP
) -> None:
    key = DPoPKey()
    code, verifier = new_code(client, public_rp, "openid offline_access")
    body = redeem_with(client, public_rp, code, verifier, key.proof("POST", "/token")).get_json()
    refresh_token = body["refresh_token"]

    other_key = refresh_with(client, public_rp, refresh_token, DPoPKey().proof("POST", "/token"))
    assert other_key.status_code == 400
    assert other_key.get_json()["error"] == "invalid_dpop_proof"
    no_proof = refresh_with(client, public_rp, refresh_token, None)
    assert no_proof.status_code == 400
    assert no_proof.get_json()["error"] == "invalid_dpop_proof"

    # The refusals rolled back: the holder of the key can still refresh, once.
    same_key = refresh_with(client, public_rp, refresh_token, key.proof("POST", "/token"))
    assert same_key.status_code == 200, same_key.get_json()
    assert same_key.get_json()["token_type"] == "DPoP"
    assert (
        refresh_with(client, public_rp, refresh_token, key.proof("POST", "/token")).status_code
        == 400
    )


@pytest.mark.usefixtures("signed_in")
def test_a_confidential_clients_refresh_token_is_not_bound_to_the_key(
    client: FlaskClient, rp: RP
) -> None:
    code, verifier = new_code(client, rp, "openid offline_access")
    body = redeem_with(client, rp, code, verifier, DPoPKey().proof("POST", "/token")).get_json()
    new_key = DPoPKey()
    refreshed = refresh_with(client, rp, body["refresh_token"], new_key.proof("POST", "/token"))
    assert refreshed.status_code == 200, refreshed.get_json()
    introspected = client.post(
        "/introspect", data={"token": refreshed.get_json()["access_token"]}, headers=rp.basic_auth()
    ).get_json()
    assert introspected["cnf"] == {"jkt": new_key.jkt}
    # A family once bound stays bound: no falling back to Bearer tokens.
    again = refresh_with(client, rp, refreshed.get_json()["refresh_token"], None)
    assert again.status_code == 400
    assert again.get_json()["error"] == "invalid_dpop_proof"


# --- Server nonces (RFC 9449 §8) --------------------------------------------------------


@pytest.fixture
def nonces_required(app: Flask) -> Any:
    app.config["DPOP_REQUIRE_NONCE"] = True
    yield
    app.config["DPOP_REQUIRE_NONCE"] = False


@pytest.mark.usefixtures("signed_in", "nonces_required")
def test_a_required_nonce_is_asked_for_then_accepted(client: FlaskClient, rp: RP) -> None:
    key = DPoPKey()
    code, verifier = new_code(client, rp)
    first = redeem_with(client, rp, code, verifier, key.proof("POST", "/token"))
    assert first.status_code == 400
    assert first.get_json()["error"] == "use_dpop_nonce"
    nonce = first.headers["DPoP-Nonce"]
    second = redeem_with(client, rp, code, verifier, key.proof("POST", "/token", nonce=nonce))
    assert second.status_code == 200, second.get_json()
    assert second.headers["DPoP-Nonce"]


@pytest.mark.usefixtures("signed_in", "nonces_required")
@pytest.mark.parametrize("nonce", ["0.forged", "12345", "", "x" * 100])
def test_a_stale_or_forged_nonce_is_refused(
    app: Flask, client: FlaskClient, rp: RP, nonce: str
) -> None:
    key = DPoPKey()
    code, verifier = new_code(client, rp)
    response = redeem_with(client, rp, code, verifier, key.proof("POST", "/token", nonce=nonce))
    assert response.status_code == 400
    assert response.get_json()["error"] == "use_dpop_nonce"


def non_ascii_digits(number: int) -> str:
    """The number in Arabic-Indic digits: str.isdigit() is True and int() reads them."""
    return "".join(chr(0x0660 + int(digit)) for digit in str(number))


@pytest.mark.usefixtures("signed_in", "nonces_required")
@pytest.mark.parametrize("case", ["superscript digit", "current window in non-ASCII digits"])
def test_a_nonce_with_non_ascii_digits_is_refused_not_a_500(
    app: Flask, client: FlaskClient, rp: RP, case: str
) -> None:
    window = int(time.time()) // dpop.NONCE_WINDOW_SECONDS
    forged = dpop.nonce_for(window).partition(".")[2]
    nonce = {
        "superscript digit": "\u00b2.x",
        "current window in non-ASCII digits": f"{non_ascii_digits(window)}.{forged}",
    }[case]
    code, verifier = new_code(client, rp)
    response = redeem_with(
        client, rp, code, verifier, DPoPKey().proof("POST", "/token", nonce=nonce)
    )
    assert response.status_code == 400
    assert response.get_json()["error"] == "use_dpop_nonce"


@pytest.mark.usefixtures("signed_in", "nonces_required")
def test_a_nonce_from_two_windows_ago_is_refused(app: Flask, client: FlaskClient, rp: RP) -> None:
    old = dpop.nonce_for(int(time.time()) // dpop.NONCE_WINDOW_SECONDS - 2)
    code, verifier = new_code(client, rp)
    response = redeem_with(client, rp, code, verifier, DPoPKey().proof("POST", "/token", nonce=old))
    assert response.get_json()["error"] == "use_dpop_nonce"
    previous = dpop.nonce_for(int(time.time()) // dpop.NONCE_WINDOW_SECONDS - 1)
    accepted = redeem_with(
        client, rp, code, verifier, DPoPKey().proof("POST", "/token", nonce=previous)
    )
    assert accepted.status_code == 200, accepted.get_json()


@pytest.mark.usefixtures("signed_in", "nonces_required")
def test_a_token_answer_hands_out_the_nonce_the_client_goes_on_with(
    client: FlaskClient, rp: RP
) -> None:
    """RFC 9449 §8: a client holding the previous window's nonce (still accepted, about to go
    stale) gets the current one with its tokens, and refreshes with it: no 400 between."""
    key = DPoPKey()
    previous = dpop.nonce_for(int(time.time()) // dpop.NONCE_WINDOW_SECONDS - 1)
    code, verifier = new_code(client, rp, "openid offline_access")
    issued = redeem_with(client, rp, code, verifier, key.proof("POST", "/token", nonce=previous))
    assert issued.status_code == 200, issued.get_json()
    fresh = issued.headers["DPoP-Nonce"]
    assert fresh != previous
    assert dpop.nonce_is_fresh(fresh)
    proof = key.proof("POST", "/token", nonce=fresh)
    refreshed = refresh_with(client, rp, issued.get_json()["refresh_token"], proof)
    assert refreshed.status_code == 200, refreshed.get_json()
    assert dpop.nonce_is_fresh(refreshed.headers["DPoP-Nonce"])


@pytest.mark.usefixtures("signed_in")
def test_a_proof_from_an_unauthenticated_client_is_not_recorded(
    client: FlaskClient, rp: RP
) -> None:
    from passport.extensions import db
    from passport.oidc.models import DPoPProofJti

    code, verifier = new_code(client, rp)
    impostor = RP(rp.client_id, "wrong-secret", rp.redirect_uri)
    response = redeem_with(client, impostor, code, verifier, DPoPKey().proof("POST", "/token"))
    assert response.status_code == 401
    assert db.session.scalar(db.select(db.func.count()).select_from(DPoPProofJti)) == 0


# --- dpop_jkt: a code bound to the key at /authorize (RFC 9449 §10) ----------------------


def bound_code(client: FlaskClient, rp: RP, key: DPoPKey) -> tuple[str, str]:
    verifier, challenge = pkce_pair()
    code = get_code(
        client,
        rp,
        scope="openid",
        code_challenge=challenge,
        code_challenge_method="S256",
        dpop_jkt=key.jkt,
    )
    return code, verifier


@pytest.mark.usefixtures("signed_in")
def test_a_code_bound_by_dpop_jkt_is_redeemed_only_with_that_key(
    client: FlaskClient, rp: RP
) -> None:
    key = DPoPKey()
    code, verifier = bound_code(client, rp, key)
    for proof in (None, DPoPKey().proof("POST", "/token")):
        refused = redeem_with(client, rp, code, verifier, proof)
        assert refused.status_code == 400
        assert refused.get_json()["error"] == "invalid_dpop_proof"
    accepted = redeem_with(client, rp, code, verifier, key.proof("POST", "/token"))
    assert accepted.status_code == 200, accepted.get_json()
    assert accepted.get_json()["token_type"] == "DPoP"


@pytest.mark.usefixtures("signed_in")
@pytest.mark.parametrize("value", ["short", "x" * 44, "a+b/" * 11, "é" * 43])
def test_a_malformed_dpop_jkt_is_refused_at_authorize(
    client: FlaskClient, rp: RP, value: str
) -> None:
    from tests.integration.oidc.conftest import authorize
    from tests.integration.oidc.conftest import query_of

    _, challenge = pkce_pair()
    response = authorize(
        client, rp, code_challenge=challenge, code_challenge_method="S256", dpop_jkt=value
    )
    assert response.status_code == 302
    assert query_of(response.headers["Location"])["error"] == "invalid_request"


def test_dpop_jkt_is_kept_by_a_pending_request(app: Flask, rp: RP) -> None:
    from werkzeug.datastructures import MultiDict

    from passport.oidc.authorization import parse_authorization_request

    key = DPoPKey()
    _, challenge = pkce_pair()
    params = MultiDict(
        {
            "client_id": rp.client_id,
            "redirect_uri": rp.redirect_uri,
            "response_type": "code",
            "scope": "openid",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "dpop_jkt": key.jkt,
        }
    )
    pending = parse_authorization_request(params).pending_params()
    assert pending["dpop_jkt"] == key.jkt
    assert parse_authorization_request(MultiDict(pending)).dpop_jkt == key.jkt


@pytest.mark.usefixtures("signed_in")
def test_htu_is_the_issuers_url_not_the_host_the_app_sees(client: FlaskClient, rp: RP) -> None:
    """Behind the proxy the request reaches the app as another host (here the test client's
    ``localhost``): the issuer's spelling is the one clients sign, normalised."""
    key = DPoPKey()
    code, verifier = new_code(client, rp)
    as_seen = redeem_with(
        client, rp, code, verifier, key.proof("POST", "/token", issuer="http://localhost")
    )
    assert as_seen.status_code == 400
    spelled = key.proof("POST", "/token?ignored=1", issuer="HTTP://127.0.0.1:5000")
    accepted = redeem_with(client, rp, code, verifier, spelled)
    assert accepted.status_code == 200, accepted.get_json()
