"""A FAPI 2.0 client's refresh token is not rotated (FAPI 2.0 Security Profile §5.3.2.1 item 10).

A refresh answers new access (and ID) tokens without a ``refresh_token``: the client goes on using
the one it has, so a response it never received costs nothing and a retry with the same token
succeeds. The token is sender-constrained (private_key_jwt and DPoP) and still dies with its
family's life, its revocation and its session, and ``maintenance purge`` removes it after that.
Every other client keeps rotation with reuse detection (test_refresh.py).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy import update

from passport.database import utcnow
from passport.extensions import db
from passport.login.models import SSOSession
from passport.login.sessions import end_sso_session
from passport.maintenance.purge import purge
from passport.oidc.models import OAuthToken
from passport.oidc.tokens import hash_secret
from tests.dpop_proofs import DPoPKey
from tests.integration.oidc.conftest import ISSUER
from tests.integration.oidc.pushed import assertion_auth
from tests.integration.oidc.pushed import key_client
from tests.integration.oidc.pushed import rsa_key
from tests.integration.oidc.test_fapi_profile import fapi_tokens


@pytest.fixture
def key():
    return rsa_key(alg="PS256")


@pytest.fixture
def fapi_rp(app, key):
    return key_client(key, fapi2_profile=True)


@pytest.fixture
def dpop_key():
    return DPoPKey()


@pytest.fixture
def tokens(app, client, fapi_rp, key, user, dpop_key):
    body = fapi_tokens(app, client, fapi_rp, key, user, dpop_key)
    assert body["refresh_token"]
    return body


def refresh(client, rp, key, dpop_key, refresh_token, *, proof=True):
    """The refresh request, then the session ended as a real request's teardown does (the
    test's app context outlives the request: an open transaction would hold SQLite's lock)."""
    response = client.post(
        "/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            **assertion_auth(rp, key, audience=ISSUER + "/token"),
        },
        headers={"DPoP": dpop_key.proof("POST", "/token")} if proof else {},
    )
    db.session.remove()
    return response


def userinfo_status(client, dpop_key, access_token: str) -> int:
    headers = {
        "Authorization": f"DPoP {access_token}",
        "DPoP": dpop_key.proof("GET", "/userinfo", access_token=access_token),
    }
    return client.get("/userinfo", headers=headers).status_code


def refresh_row(refresh_token: str) -> OAuthToken:
    db.session.expire_all()
    row = db.session.scalar(
        select(OAuthToken).where(OAuthToken.refresh_token_hash == hash_secret(refresh_token))
    )
    assert row is not None
    return row


def test_a_fapi_refresh_keeps_the_refresh_token_and_a_retry_succeeds(
    client, fapi_rp, key, dpop_key, tokens
) -> None:
    life = refresh_row(tokens["refresh_token"]).refresh_expires_at
    first = refresh(client, fapi_rp, key, dpop_key, tokens["refresh_token"])
    assert first.status_code == 200, first.get_json()
    body = first.get_json()
    assert "refresh_token" not in body  # keep using the one you have (RFC 6749 §6)
    assert body["token_type"] == "DPoP"
    assert body["access_token"] != tokens["access_token"]
    # The response was lost: the retry with the same token succeeds, no family is revoked.
    retry = refresh(client, fapi_rp, key, dpop_key, tokens["refresh_token"])
    assert retry.status_code == 200, retry.get_json()
    for access_token in (tokens["access_token"], body["access_token"]):
        assert userinfo_status(client, dpop_key, access_token) == 200
    row = refresh_row(tokens["refresh_token"])
    assert row.refresh_used_at is None
    assert row.refresh_expires_at == life  # the family's life is not extended


def test_a_fapi_refresh_still_needs_the_client_and_its_dpop_proof(
    client, fapi_rp, key, dpop_key, tokens
) -> None:
    other = key_client(key, fapi2_profile=True)
    stolen = refresh(client, other, key, dpop_key, tokens["refresh_token"])
    assert stolen.get_json()["error"] == "invalid_grant"
    no_proof = refresh(client, fapi_rp, key, dpop_key, tokens["refresh_token"], proof=False)
    assert no_proof.get_json()["error"] == "invalid_dpop_proof"
    assert refresh(client, fapi_rp, key, dpop_key, tokens["refresh_token"]).status_code == 200


def test_revoking_a_kept_refresh_token_ends_it_and_what_it_gave(
    client, fapi_rp, key, dpop_key, tokens
) -> None:
    later = refresh(client, fapi_rp, key, dpop_key, tokens["refresh_token"]).get_json()
    revoked = client.post(
        "/revoke",
        data={
            "token": tokens["refresh_token"],
            "token_type_hint": "refresh_token",
            **assertion_auth(fapi_rp, key, audience=ISSUER),
        },
    )
    assert revoked.status_code == 200, revoked.get_json()
    refused = refresh(client, fapi_rp, key, dpop_key, tokens["refresh_token"])
    assert refused.get_json()["error"] == "invalid_grant"
    assert userinfo_status(client, dpop_key, later["access_token"]) == 401


def test_ending_the_session_ends_a_kept_refresh_token(
    client, fapi_rp, key, dpop_key, tokens
) -> None:
    assert refresh(client, fapi_rp, key, dpop_key, tokens["refresh_token"]).status_code == 200
    session = db.session.scalars(select(SSOSession)).all()[-1]
    end_sso_session(session, "logout")
    refused = refresh(client, fapi_rp, key, dpop_key, tokens["refresh_token"])
    assert refused.get_json()["error"] == "invalid_grant"


def test_a_kept_refresh_token_dies_with_its_family_and_is_purged(
    client, fapi_rp, key, dpop_key, tokens
) -> None:
    assert refresh(client, fapi_rp, key, dpop_key, tokens["refresh_token"]).status_code == 200
    family = refresh_row(tokens["refresh_token"]).family_id
    rows = select(OAuthToken).where(OAuthToken.family_id == family)
    assert len(db.session.scalars(rows).all()) == 2
    # Long after every access token expired, the live refresh token is not purged...
    past = utcnow() - timedelta(days=30)
    db.session.execute(
        update(OAuthToken).where(OAuthToken.family_id == family).values(access_expires_at=past)
    )
    db.session.commit()
    purge()
    assert refresh(client, fapi_rp, key, dpop_key, tokens["refresh_token"]).status_code == 200
    # ...and once the family's life is over, it is refused, then purged with the family.
    db.session.execute(
        update(OAuthToken)
        .where(OAuthToken.family_id == family)
        .values(access_expires_at=past, refresh_expires_at=past)
    )
    db.session.commit()
    refused = refresh(client, fapi_rp, key, dpop_key, tokens["refresh_token"])
    assert refused.get_json()["error"] == "invalid_grant"
    purge()
    db.session.expire_all()
    assert db.session.scalars(rows).all() == []
