"""DPoP-bound tokens at resource endpoints (RFC 9449 §7): /userinfo and the admin API."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from passport.api.auth import READ_SCOPE
from passport.oidc import dpop
from tests.dpop_proofs import DPoPKey
from tests.integration.oidc.conftest import RP
from tests.integration.oidc.conftest import register_client
from tests.integration.oidc.conftest import sign_in
from tests.integration.oidc.test_dpop_token import new_code
from tests.integration.oidc.test_dpop_token import redeem_with
from tests.integration.oidc.test_dpop_token import token_request


@pytest.fixture
def key() -> DPoPKey:
    return DPoPKey()


@pytest.fixture
def bound_token(app: Flask, client: FlaskClient, rp: RP, user: Any, key: DPoPKey) -> str:
    """An access token bound to ``key``, from a code flow with a proof."""
    sign_in(app, client, user)
    code, verifier = new_code(client, rp, "openid profile")
    response = redeem_with(client, rp, code, verifier, key.proof("POST", "/token"))
    assert response.get_json()["token_type"] == "DPoP"
    return str(response.get_json()["access_token"])


def userinfo(client: FlaskClient, token: str, proof: str | None, scheme: str = "DPoP") -> Any:
    headers = {"Authorization": f"{scheme} {token}"}
    if proof is not None:
        headers["DPoP"] = proof
    return client.get("/userinfo", headers=headers)


def challenge(response: Any) -> str:
    return str(response.headers["WWW-Authenticate"])


def test_userinfo_accepts_a_bound_token_with_its_proof(
    client: FlaskClient, bound_token: str, key: DPoPKey, user: Any
) -> None:
    response = userinfo(
        client, bound_token, key.proof("GET", "/userinfo", access_token=bound_token)
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["sub"] == user.sub
    assert "DPoP-Nonce" not in response.headers  # nonces are not required by default
    # POST is a method of its own: its proof says POST.
    posted = client.post(
        "/userinfo",
        headers={
            "Authorization": f"DPoP {bound_token}",
            "DPoP": key.proof("POST", "/userinfo", access_token=bound_token),
        },
    )
    assert posted.status_code == 200, posted.get_json()


def test_a_bound_token_presented_as_bearer_is_refused(
    client: FlaskClient, bound_token: str, key: DPoPKey
) -> None:
    for proof in (None, key.proof("GET", "/userinfo", access_token=bound_token)):
        response = userinfo(client, bound_token, proof, scheme="Bearer")
        assert response.status_code == 401
        assert challenge(response).startswith("DPoP ")
        assert 'error="invalid_token"' in challenge(response)
    form = client.post("/userinfo", data={"access_token": bound_token})
    assert form.status_code == 401
    assert 'error="invalid_token"' in challenge(form)


def test_a_bearer_token_presented_as_dpop_is_refused(
    app: Flask, client: FlaskClient, rp: RP, user: Any, key: DPoPKey
) -> None:
    sign_in(app, client, user)
    code, verifier = new_code(client, rp)
    token = redeem_with(client, rp, code, verifier, None).get_json()["access_token"]
    response = userinfo(client, token, key.proof("GET", "/userinfo", access_token=token))
    assert response.status_code == 401
    assert challenge(response).startswith("DPoP ")
    assert 'error="invalid_token"' in challenge(response)
    assert userinfo(client, token, None, scheme="Bearer").status_code == 200


def refused_proofs(key: DPoPKey, token: str) -> dict[str, str | None]:
    return {
        "no proof": None,
        "another key": DPoPKey().proof("GET", "/userinfo", access_token=token),
        "no ath": key.proof("GET", "/userinfo"),
        "ath of another token": key.proof("GET", "/userinfo", access_token=token + "x"),
        "htu of /token": key.proof("GET", "/token", access_token=token),
        "htm POST": key.proof("POST", "/userinfo", access_token=token),
    }


@pytest.mark.parametrize(
    "case",
    ["no proof", "another key", "no ath", "ath of another token", "htu of /token", "htm POST"],
)
def test_a_wrong_proof_at_userinfo_is_refused(
    client: FlaskClient, bound_token: str, key: DPoPKey, case: str
) -> None:
    response = userinfo(client, bound_token, refused_proofs(key, bound_token)[case])
    assert response.status_code == 401
    assert challenge(response).startswith("DPoP ")
    assert 'error="invalid_dpop_proof"' in challenge(response)
    assert "ES256" in challenge(response)  # algs (RFC 9449 §7.1)


def test_a_replayed_proof_at_userinfo_is_refused(
    client: FlaskClient, bound_token: str, key: DPoPKey
) -> None:
    proof = key.proof("GET", "/userinfo", access_token=bound_token)
    assert userinfo(client, bound_token, proof).status_code == 200
    replay = userinfo(client, bound_token, proof)
    assert replay.status_code == 401
    assert 'error="invalid_dpop_proof"' in challenge(replay)


def test_a_required_nonce_at_userinfo_is_asked_for(
    app: Flask, client: FlaskClient, bound_token: str, key: DPoPKey
) -> None:
    app.config["DPOP_REQUIRE_NONCE"] = True
    try:
        first = userinfo(
            client, bound_token, key.proof("GET", "/userinfo", access_token=bound_token)
        )
        assert first.status_code == 401
        assert 'error="use_dpop_nonce"' in challenge(first)
        nonce = first.headers["DPoP-Nonce"]
        proof = key.proof("GET", "/userinfo", access_token=bound_token, nonce=nonce)
        assert userinfo(client, bound_token, proof).status_code == 200
    finally:
        app.config["DPOP_REQUIRE_NONCE"] = False


def test_a_successful_answer_hands_out_a_fresh_nonce(
    app: Flask, client: FlaskClient, bound_token: str, key: DPoPKey, monkeypatch: Any
) -> None:
    """RFC 9449 §9: a client holding the previous window's nonce (still accepted, about to
    go stale) gets the current one with its answer, and goes on with it: no 401 between."""
    monkeypatch.setitem(app.config, "DPOP_REQUIRE_NONCE", True)
    previous = dpop.nonce_for(int(time.time()) // dpop.NONCE_WINDOW_SECONDS - 1)
    proof = key.proof("GET", "/userinfo", access_token=bound_token, nonce=previous)
    answered = userinfo(client, bound_token, proof)
    assert answered.status_code == 200, answered.get_json()
    fresh = answered.headers["DPoP-Nonce"]
    assert fresh != previous
    assert dpop.nonce_is_fresh(fresh)
    proof = key.proof("GET", "/userinfo", access_token=bound_token, nonce=fresh)
    again = userinfo(client, bound_token, proof)
    assert again.status_code == 200, again.get_json()
    assert dpop.nonce_is_fresh(again.headers["DPoP-Nonce"])


def test_a_bearer_answer_carries_no_nonce(
    app: Flask, client: FlaskClient, rp: RP, user: Any, monkeypatch: Any
) -> None:
    monkeypatch.setitem(app.config, "DPOP_REQUIRE_NONCE", True)
    sign_in(app, client, user)
    code, verifier = new_code(client, rp)
    token = redeem_with(client, rp, code, verifier, None).get_json()["access_token"]
    answered = userinfo(client, token, None, scheme="Bearer")
    assert answered.status_code == 200, answered.get_json()
    assert "DPoP-Nonce" not in answered.headers


def test_the_same_proof_is_refused_by_a_second_instance(
    app: Flask,
    client: FlaskClient,
    bound_token: str,
    key: DPoPKey,
    database_url: str,
    outbox_dir: Path,
) -> None:
    """Two apps on one database (two instances behind the proxy): the jti is shared."""
    from tests.conftest import make_test_app

    other = make_test_app(database_url, outbox_dir).test_client()
    proof = key.proof("GET", "/userinfo", access_token=bound_token)
    assert userinfo(client, bound_token, proof).status_code == 200
    replay = userinfo(other, bound_token, proof)
    assert replay.status_code == 401
    assert 'error="invalid_dpop_proof"' in challenge(replay)
    fresh = key.proof("GET", "/userinfo", access_token=bound_token)
    assert userinfo(other, bound_token, fresh).status_code == 200


def test_the_same_token_proof_is_refused_by_a_second_instance(
    app: Flask, client: FlaskClient, rp: RP, user: Any, database_url: str, outbox_dir: Path
) -> None:
    """At /token too: a proof accepted by one instance is a replay at the other."""
    from tests.conftest import make_test_app

    other = make_test_app(database_url, outbox_dir).test_client()
    sign_in(app, client, user)
    key = DPoPKey()
    proof = key.proof("POST", "/token")
    code, verifier = new_code(client, rp)
    assert redeem_with(client, rp, code, verifier, proof).status_code == 200
    code, verifier = new_code(client, rp)
    replay = redeem_with(other, rp, code, verifier, proof)
    assert replay.status_code == 400
    assert replay.get_json()["error"] == "invalid_dpop_proof"
    accepted = redeem_with(other, rp, code, verifier, key.proof("POST", "/token"))
    assert accepted.status_code == 200, accepted.get_json()


# --- The admin API (passport/api) -------------------------------------------------------


@pytest.fixture
def api_rp(app: Flask) -> RP:
    return register_client(
        name="Sistema de evaluación docente",
        redirect_uris=[],
        post_logout_redirect_uris=[],
        grant_types=["client_credentials"],
        scopes=[READ_SCOPE],
    )


def test_the_admin_api_accepts_a_bound_token_with_its_proof_only(
    client: FlaskClient, api_rp: RP, user: Any, key: DPoPKey
) -> None:
    response = token_request(
        client, api_rp, {"grant_type": "client_credentials"}, key.proof("POST", "/token")
    )
    assert response.get_json()["token_type"] == "DPoP"
    token = response.get_json()["access_token"]
    path = f"/api/v1/users/{user.dni}"

    accepted = client.get(
        path,
        headers={
            "Authorization": f"DPoP {token}",
            "DPoP": key.proof("GET", path, access_token=token),
        },
    )
    assert accepted.status_code == 200, accepted.get_json()
    assert "DPoP-Nonce" not in accepted.headers

    as_bearer = client.get(path, headers={"Authorization": f"Bearer {token}"})
    assert as_bearer.status_code == 401
    assert 'error="invalid_token"' in challenge(as_bearer)
    assert challenge(as_bearer).startswith("DPoP ")

    wrong_key = client.get(
        path,
        headers={
            "Authorization": f"DPoP {token}",
            "DPoP": DPoPKey().proof("GET", path, access_token=token),
        },
    )
    assert wrong_key.status_code == 401
    assert 'error="invalid_dpop_proof"' in challenge(wrong_key)

    no_ath = client.get(
        path, headers={"Authorization": f"DPoP {token}", "DPoP": key.proof("GET", path)}
    )
    assert no_ath.status_code == 401
    assert 'error="invalid_dpop_proof"' in challenge(no_ath)


@pytest.mark.postgres_only
def test_one_proof_sent_to_many_workers_at_once_is_accepted_once(
    app: Flask, bound_token: str, key: DPoPKey
) -> None:
    """The unique constraint, not a read-then-write, decides: one of N racing requests wins."""
    import os

    from tests.integration.oidc.test_races import THREADS
    from tests.integration.oidc.test_races import in_parallel

    if not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"):
        pytest.skip("concurrent transactions need PostgreSQL")
    proof = key.proof("GET", "/userinfo", access_token=bound_token)
    statuses = in_parallel(app, lambda c: userinfo(c, bound_token, proof))
    assert statuses.count(200) == 1
    assert statuses.count(401) == THREADS - 1


def test_the_admin_api_hands_out_a_fresh_nonce(
    app: Flask, client: FlaskClient, api_rp: RP, user: Any, key: DPoPKey, monkeypatch: Any
) -> None:
    """RFC 9449 §9 at the other resource: its answers carry the next nonce too."""
    monkeypatch.setitem(app.config, "DPOP_REQUIRE_NONCE", True)
    nonce = dpop.current_nonce()
    form = {"grant_type": "client_credentials"}
    issued = token_request(client, api_rp, form, key.proof("POST", "/token", nonce=nonce))
    assert issued.status_code == 200, issued.get_json()
    token = issued.get_json()["access_token"]
    path = f"/api/v1/users/{user.dni}"
    proof = key.proof("GET", path, access_token=token, nonce=issued.headers["DPoP-Nonce"])
    answered = client.get(path, headers={"Authorization": f"DPoP {token}", "DPoP": proof})
    assert answered.status_code == 200, answered.get_json()
    assert dpop.nonce_is_fresh(answered.headers["DPoP-Nonce"])
