"""Back-Channel Logout 1.0: a signed logout token POSTed to each client of the session."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

from passport.extensions import db
from passport.oidc.models import BackchannelDelivery
from tests.helpers import csrf_token
from tests.integration.oidc.conftest import ISSUER
from tests.integration.oidc.conftest import code_flow
from tests.integration.oidc.conftest import full_flow
from tests.integration.oidc.conftest import register_client
from tests.integration.oidc.conftest import sign_in
from tests.integration.oidc.conftest import verify_jwt

EVENT = "http://schemas.openid.net/event/backchannel-logout"


class Receiver:
    """A loopback relying party endpoint that records logout tokens."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.tokens: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                form = parse_qs(self.rfile.read(length).decode())
                receiver.tokens.extend(form.get("logout_token", []))
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.uri = f"http://127.0.0.1:{self.server.server_address[1]}/auth/backchannel-logout"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


def test_logout_token_is_posted_to_every_client_of_the_session(app, client, user, receiver) -> None:
    ayni = register_client(skip_consent=True, backchannel_logout_uri=receiver.uri)
    boleta = register_client(skip_consent=True, backchannel_logout_uri=receiver.uri)
    silent = register_client(skip_consent=True)
    sid = sign_in(app, client, user)
    for rp in (ayni, boleta, silent):
        code_flow(client, rp)
    response = client.post("/end-session", data={"logout": "yes", "csrf_token": csrf(client)})
    assert response.status_code == 200
    assert len(receiver.tokens) == 2
    audiences = set()
    for token in receiver.tokens:
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

    broken = Receiver(status=500)
    try:
        rp = register_client(skip_consent=True, backchannel_logout_uri=broken.uri)
        full_flow(app, client, rp, user)
        response = client.post("/end-session", data={"logout": "yes", "csrf_token": csrf(client)})
        assert response.status_code == 200
        delivery = db.session.scalars(db.select(BackchannelDelivery)).one()
        assert delivery.delivered_at is None
        assert delivery.attempts == 1
        assert delivery.last_error == "HTTP 500"
        # Not due yet: nothing is attempted.
        assert deliver_due_logouts() == (0, 0)
        broken.status = 200
        delivery.next_attempt_at = delivery.created_at
        db.session.commit()
        assert deliver_due_logouts() == (1, 0)
        assert len(broken.tokens) == 2
    finally:
        broken.close()


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
    import time as clock

    slow = Receiver()
    original = slow.server.RequestHandlerClass.do_POST

    def hang(handler) -> None:
        clock.sleep(1.0)
        original(handler)

    slow.server.RequestHandlerClass.do_POST = hang
    previous = app.config["BACKCHANNEL_TIMEOUT_MS"]
    app.config["BACKCHANNEL_TIMEOUT_MS"] = 200
    try:
        rp = register_client(skip_consent=True, backchannel_logout_uri=slow.uri)
        full_flow(app, client, rp, user)
        response = client.post("/end-session", data={"logout": "yes", "csrf_token": csrf(client)})
        assert response.status_code == 200
        delivery = db.session.scalars(db.select(BackchannelDelivery)).one()
        assert delivery.delivered_at is None
        assert delivery.last_error == "deadline exceeded"
        assert delivery.next_attempt_at > delivery.created_at
    finally:
        app.config["BACKCHANNEL_TIMEOUT_MS"] = previous
        slow.close()
