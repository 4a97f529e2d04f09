"""A DPoP proof at /par (RFC 9449 §10.1): it binds the pushed request to its key.

The proof is checked by the one rule (``passport.oidc.dpop.verify_proof``) with /par's URL;
the code the pushed request yields is redeemed only with a proof signed by the same key.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func
from sqlalchemy import select

from passport.extensions import db
from passport.oidc.models import DPoPProofJti
from passport.oidc.models import PushedAuthorization
from tests.dpop_proofs import DPoPKey
from tests.integration.oidc.conftest import RP
from tests.integration.oidc.conftest import pkce_pair
from tests.integration.oidc.conftest import query_of
from tests.integration.oidc.conftest import sign_in
from tests.integration.oidc.pushed import authorization_params


def push_with_proof(
    client: FlaskClient,
    rp: RP,
    proof: str | None,
    *,
    auth: dict[str, str] | None = None,
    **params: Any,
) -> tuple[Any, str]:
    """POST a PKCE request to /par with a ``DPoP`` header; the response and the verifier."""
    verifier, challenge = pkce_pair()
    form = authorization_params(
        rp, code_challenge=challenge, code_challenge_method="S256", **params
    )
    headers = dict(auth if auth is not None else rp.basic_auth())
    if proof is not None:
        headers["DPoP"] = proof
    return client.post("/par", data=form, headers=headers), verifier


def code_from(client: FlaskClient, rp: RP, request_uri: str) -> str:
    response = client.get(
        "/authorize", query_string={"client_id": rp.client_id, "request_uri": request_uri}
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return query_of(response.headers["Location"])["code"]


def redeem(client: FlaskClient, rp: RP, code: str, verifier: str, proof: str | None) -> Any:
    headers = rp.basic_auth()
    if proof is not None:
        headers["DPoP"] = proof
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": rp.redirect_uri,
        "code_verifier": verifier,
    }
    return client.post("/token", data=form, headers=headers)


def stored_requests() -> int:
    return int(db.session.scalar(select(func.count()).select_from(PushedAuthorization)) or 0)


def recorded_proofs() -> int:
    return int(db.session.scalar(select(func.count()).select_from(DPoPProofJti)) or 0)


@pytest.fixture
def signed_in(app: Flask, client: FlaskClient, user: Any) -> None:
    sign_in(app, client, user)


@pytest.mark.usefixtures("signed_in")
@pytest.mark.parametrize("with_dpop_jkt", [False, True])
def test_a_proof_at_par_binds_the_code_to_its_key(
    client: FlaskClient, rp: RP, with_dpop_jkt: bool
) -> None:
    key = DPoPKey()
    extra = {"dpop_jkt": key.jkt} if with_dpop_jkt else {}
    pushed, verifier = push_with_proof(client, rp, key.proof("POST", "/par"), **extra)
    assert pushed.status_code == 201, pushed.get_json()
    assert recorded_proofs() == 1  # the proof's jti is on record
    code = code_from(client, rp, pushed.get_json()["request_uri"])
    for wrong in (None, DPoPKey().proof("POST", "/token")):
        refused = redeem(client, rp, code, verifier, wrong)
        assert refused.status_code == 400
        assert refused.get_json()["error"] == "invalid_dpop_proof"
    accepted = redeem(client, rp, code, verifier, key.proof("POST", "/token"))
    assert accepted.status_code == 200, accepted.get_json()
    assert accepted.get_json()["token_type"] == "DPoP"


@pytest.mark.usefixtures("signed_in")
def test_without_a_proof_the_pushed_code_stays_unbound(client: FlaskClient, rp: RP) -> None:
    pushed, verifier = push_with_proof(client, rp, None)
    assert pushed.status_code == 201, pushed.get_json()
    code = code_from(client, rp, pushed.get_json()["request_uri"])
    accepted = redeem(client, rp, code, verifier, None)
    assert accepted.status_code == 200, accepted.get_json()
    assert accepted.get_json()["token_type"] == "Bearer"


def test_a_dpop_jkt_that_names_another_key_is_refused(client: FlaskClient, rp: RP) -> None:
    key = DPoPKey()
    response, _ = push_with_proof(client, rp, key.proof("POST", "/par"), dpop_jkt=DPoPKey().jkt)
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_dpop_proof"
    assert stored_requests() == 0


def bad_proofs() -> dict[str, str]:
    key = DPoPKey()
    return {
        "htu of another endpoint": key.proof("POST", "/token"),
        "wrong htm": key.proof("GET", "/par"),
        "stale iat": key.proof("POST", "/par", claims={"iat": 1_000_000}),
        "alg none": key.proof("POST", "/par", header={"alg": "none"}),
        "not a JWS": "not.a.proof",
    }


# Made when each test runs: a proof made at collection would be stale (refused for its iat
# alone) by the time a long run reaches it.
@pytest.mark.parametrize("case", sorted(bad_proofs()))
def test_a_bad_proof_at_par_is_refused_and_nothing_is_stored(
    client: FlaskClient, rp: RP, case: str
) -> None:
    response, _ = push_with_proof(client, rp, bad_proofs()[case])
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_dpop_proof"
    assert stored_requests() == 0


def test_a_replayed_proof_at_par_is_refused(client: FlaskClient, rp: RP) -> None:
    proof = DPoPKey().proof("POST", "/par")
    first, _ = push_with_proof(client, rp, proof)
    assert first.status_code == 201, first.get_json()
    again, _ = push_with_proof(client, rp, proof)
    assert again.status_code == 400
    assert again.get_json()["error"] == "invalid_dpop_proof"
    assert stored_requests() == 1


def test_two_dpop_headers_at_par_are_refused(client: FlaskClient, rp: RP) -> None:
    key = DPoPKey()
    _, challenge = pkce_pair()
    form = authorization_params(rp, code_challenge=challenge, code_challenge_method="S256")
    headers = [*rp.basic_auth().items(), ("DPoP", key.proof("POST", "/par"))]
    headers.append(("DPoP", key.proof("POST", "/par")))
    response = client.post("/par", data=form, headers=headers)
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_dpop_proof"


@pytest.fixture
def nonces_required(app: Flask) -> Any:
    app.config["DPOP_REQUIRE_NONCE"] = True
    yield
    app.config["DPOP_REQUIRE_NONCE"] = False


@pytest.mark.usefixtures("nonces_required")
def test_a_required_nonce_is_asked_for_at_par(client: FlaskClient, rp: RP) -> None:
    key = DPoPKey()
    first, _ = push_with_proof(client, rp, key.proof("POST", "/par"))
    assert first.status_code == 400
    assert first.get_json()["error"] == "use_dpop_nonce"
    nonce = first.headers["DPoP-Nonce"]
    second, _ = push_with_proof(client, rp, key.proof("POST", "/par", nonce=nonce))
    assert second.status_code == 201, second.get_json()


def test_a_proof_from_an_unauthenticated_client_is_not_recorded(
    client: FlaskClient, rp: RP
) -> None:
    impostor = RP(rp.client_id, "wrong-secret", rp.redirect_uri)
    response, _ = push_with_proof(
        client, rp, DPoPKey().proof("POST", "/par"), auth=impostor.basic_auth()
    )
    assert response.status_code == 401
    assert recorded_proofs() == 0
    assert stored_requests() == 0
