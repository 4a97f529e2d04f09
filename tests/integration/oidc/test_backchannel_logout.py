"""Back-Channel Logout 1.0: a signed logout token POSTed to each client of the session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from passport.extensions import db
from passport.oidc.models import BackchannelDelivery
from tests.helpers import csrf_token
from tests.integration.oidc.conftest import ISSUER
from tests.integration.oidc.conftest import code_flow
from tests.integration.oidc.conftest import full_flow
from tests.integration.oidc.conftest import logout_receiver
from tests.integration.oidc.conftest import logout_uri
from tests.integration.oidc.conftest import register_client
from tests.integration.oidc.conftest import sign_in
from tests.integration.oidc.conftest import verify_jwt
from tests.served import CannedServer

EVENT = "http://schemas.openid.net/event/backchannel-logout"


@pytest.fixture
def receiver() -> Iterator[CannedServer]:
    with logout_receiver() as server:
        yield server


def test_logout_token_is_posted_to_every_client_of_the_session(app, client, user, receiver) -> None:
    ayni = register_client(skip_consent=True, backchannel_logout_uri=logout_uri(receiver))
    boleta = register_client(skip_consent=True, backchannel_logout_uri=logout_uri(receiver))
    silent = register_client(skip_consent=True)
    sid = sign_in(app, client, user)
    for rp in (ayni, boleta, silent):
        code_flow(client, rp)
    response = client.post("/end-session", data={"logout": "yes", "csrf_token": csrf(client)})
    assert response.status_code == 200
    assert len(receiver.form_values("logout_token")) == 2
    audiences = set()
    for token in receiver.form_values("logout_token"):
        decoded = verify_jwt(client, token)
        claims = decoded.claims
        assert decoded.header["typ"] == "logout+jwt"
        assert claims["iss"] == ISSUER
        assert claims["sub"] == user.sub
        assert claims["sid"] == sid
        assert claims["events"] == {EVENT: {}}
        assert "nonce" not in claims
        assert claims["jti"]
        assert claims["exp"] > claims["iat"]
        audiences.add(claims["aud"])
    assert audiences == {ayni.client_id, boleta.client_id}


def csrf(client) -> str:
    return csrf_token(client, "/end-session")


def test_a_failing_client_does_not_block_logout_and_is_retried(app, client, user) -> None:
    from passport.oidc.backchannel import deliver_due_logouts

    with logout_receiver(status=500) as broken:
        rp = register_client(skip_consent=True, backchannel_logout_uri=logout_uri(broken))
        full_flow(app, client, rp, user)
        response = client.post("/end-session", data={"logout": "yes", "csrf_token": csrf(client)})
        assert response.status_code == 200
        delivery = db.session.scalars(db.select(BackchannelDelivery)).one()
        assert delivery.delivered_at is None
        assert delivery.attempts == 1
        assert delivery.last_error == "HTTP 500"
        # Not due yet: nothing is attempted.
        assert deliver_due_logouts() == (0, 0)
        broken.answer.status = 200
        delivery.next_attempt_at = delivery.created_at
        db.session.commit()
        assert deliver_due_logouts() == (1, 0)
        assert len(broken.form_values("logout_token")) == 2


def test_an_unreachable_client_is_given_up_after_bounded_attempts(app, client, user) -> None:
    from passport.oidc.backchannel import deliver_due_logouts

    rp = register_client(skip_consent=True, backchannel_logout_uri="http://127.0.0.1:9/nothing")
    full_flow(app, client, rp, user)
    client.post("/end-session", data={"logout": "yes", "csrf_token": csrf(client)})
    delivery = db.session.scalars(db.select(BackchannelDelivery)).one()
    for _ in range(app.config["BACKCHANNEL_MAX_ATTEMPTS"]):
        delivery.next_attempt_at = delivery.created_at
        db.session.commit()
        deliver_due_logouts()
    db.session.refresh(delivery)
    assert delivery.gave_up_at is not None
    assert delivery.attempts == app.config["BACKCHANNEL_MAX_ATTEMPTS"]


def test_a_client_that_hangs_times_out_and_the_logout_completes(app, client, user) -> None:
    previous = app.config["BACKCHANNEL_TIMEOUT_MS"]
    app.config["BACKCHANNEL_TIMEOUT_MS"] = 200
    try:
        with logout_receiver(delay=1.0) as slow:  # answers after 1 s
            rp = register_client(skip_consent=True, backchannel_logout_uri=logout_uri(slow))
            full_flow(app, client, rp, user)
            response = client.post(
                "/end-session", data={"logout": "yes", "csrf_token": csrf(client)}
            )
            assert response.status_code == 200
            delivery = db.session.scalars(db.select(BackchannelDelivery)).one()
            assert delivery.delivered_at is None
            assert delivery.last_error == "deadline exceeded"
            assert delivery.next_attempt_at > delivery.created_at
    finally:
        app.config["BACKCHANNEL_TIMEOUT_MS"] = previous
