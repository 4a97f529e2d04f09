"""POST /auth/backchannel-logout (OIDC Back-Channel Logout 1.0 §2.5-2.8) and its validator."""

from __future__ import annotations

import time
import warnings

import pytest
from flask.testing import FlaskClient
from joserfc import jwt
from joserfc.jwk import OctKey
from joserfc.jwk import RSAKey
from sqlalchemy import select

from tests.relying_party_demo.conftest import CLIENT_ID
from tests.relying_party_demo.conftest import SignIn
from tests.relying_party_demo.conftest import StandInIssuer

EVENT = "http://schemas.openid.net/event/backchannel-logout"


def live_sids() -> set[str]:
    from relying_party_demo.auth.models import LocalSession
    from relying_party_demo.extensions import db

    db.session.expire_all()
    return {row.sid for row in db.session.scalars(select(LocalSession)) if row.sid}


def post(client: FlaskClient, token: str):  # type: ignore[no-untyped-def]
    return client.post("/auth/backchannel-logout", data={"logout_token": token})


@pytest.fixture
def sessions(sign_in: SignIn, seeded: dict[str, int]) -> None:
    """Rosa signed in from two browsers (two Passport sessions), Juan from one."""
    sign_in("40000001", subject="sub-rosa", sid="sid-rosa-1")
    sign_in("40000001", subject="sub-rosa", sid="sid-rosa-2")
    sign_in("40000002", subject="sub-juan", sid="sid-juan-1")


def test_a_valid_logout_token_ends_the_session_with_that_sid(
    ayni_client: FlaskClient, stand_in_issuer: StandInIssuer, sessions: None, sign_in: SignIn
) -> None:
    key = sign_in("40000001", subject="sub-rosa", sid="sid-rosa-1")
    assert ayni_client.get("/inicio").status_code == 200
    response = post(ayni_client, stand_in_issuer.logout_token())
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert live_sids() == {"sid-rosa-2", "sid-juan-1"}
    # The browser of the ended session is signed out here too.
    ayni_client.set_cookie("ayni_session", key)
    assert ayni_client.get("/inicio").headers["Location"] == "/"


def test_a_logout_token_with_only_sub_ends_every_session_of_that_person(
    ayni_client: FlaskClient, stand_in_issuer: StandInIssuer, sessions: None
) -> None:
    response = post(ayni_client, stand_in_issuer.logout_token(sid=None))
    assert response.status_code == 200
    assert live_sids() == {"sid-juan-1"}


def test_a_sid_of_another_subject_ends_nothing(
    ayni_client: FlaskClient, stand_in_issuer: StandInIssuer, sessions: None
) -> None:
    assert post(ayni_client, stand_in_issuer.logout_token(sid="sid-juan-1")).status_code == 200
    assert live_sids() == {"sid-rosa-1", "sid-rosa-2", "sid-juan-1"}


def test_a_new_signing_key_is_fetched_when_its_kid_is_unknown(
    ayni_client: FlaskClient, stand_in_issuer: StandInIssuer, sessions: None
) -> None:
    assert post(ayni_client, stand_in_issuer.logout_token(sid="sid-x")).status_code == 200
    rotated = RSAKey.generate_key(2048, parameters={"kid": "test-key-2", "use": "sig"})
    stand_in_issuer.published = [stand_in_issuer.key, rotated]
    before = stand_in_issuer.jwks_requests
    response = post(ayni_client, stand_in_issuer.logout_token(key=rotated))
    assert response.status_code == 200
    assert stand_in_issuer.jwks_requests == before + 1
    assert live_sids() == {"sid-rosa-2", "sid-juan-1"}


def forged_tokens(issuer: StandInIssuer) -> dict[str, str]:
    now = int(time.time())
    impostor = RSAKey.generate_key(2048, parameters={"kid": "test-key-1"})
    base = {
        "iss": issuer.url,
        "aud": CLIENT_ID,
        "iat": now,
        "sub": "sub-rosa",
        "sid": "sid-rosa-1",
        "events": {EVENT: {}},
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # joserfc rightly warns about "none"; we need one
        unsigned = jwt.encode({"alg": "none"}, base, None, algorithms=["none"])
    return {
        "signed by another key with the same kid": issuer.logout_token(key=impostor),
        "wrong issuer": issuer.logout_token(iss="http://127.0.0.1:1"),
        "wrong audience": issuer.logout_token(aud="another-client"),
        "audience list without us": issuer.logout_token(aud=["a", "b"]),
        "no events": issuer.logout_token(events=None),
        "other event": issuer.logout_token(events={"http://example.com/other": {}}),
        "event not an object": issuer.logout_token(events={EVENT: "yes"}),
        "nonce present": issuer.logout_token(nonce="abc"),
        "neither sub nor sid": issuer.logout_token(sub=None, sid=None),
        "expired": issuer.logout_token(iat=now - 400, exp=now - 300),
        "issued too long ago": issuer.logout_token(iat=now - 3600, exp=now + 60),
        "issued in the future": issuer.logout_token(iat=now + 3600),
        "no iat": issuer.logout_token(iat=None),
        "typ of an id token": issuer.logout_token(header={"typ": "JWT"}),
        "alg none": unsigned,
        "hmac with the client secret": jwt.encode(
            {"alg": "HS256"},
            base,
            OctKey.import_key("ayni-test-secret" * 2),
            algorithms=["HS256"],
        ),
        "garbage": "not.a.jwt",
        "empty": "",
        "oversized": "a" * 20000,
    }


def test_invalid_logout_tokens_are_refused_with_400_and_end_nothing(
    ayni_client: FlaskClient, stand_in_issuer: StandInIssuer, sessions: None
) -> None:
    for name, token in forged_tokens(stand_in_issuer).items():
        response = post(ayni_client, token)
        assert response.status_code == 400, name
        assert response.get_json()["error"] == "invalid_request", name
        assert live_sids() == {"sid-rosa-1", "sid-rosa-2", "sid-juan-1"}, name


def test_the_endpoint_needs_no_csrf_token_but_only_accepts_post(
    ayni_client: FlaskClient, stand_in_issuer: StandInIssuer, sessions: None
) -> None:
    assert ayni_client.get("/auth/backchannel-logout").status_code == 405
    assert ayni_client.post("/auth/backchannel-logout").status_code == 400
