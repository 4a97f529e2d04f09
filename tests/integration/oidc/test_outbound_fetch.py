"""jwks_uri and back-channel logout under the outbound policy (SSRF, slow or hostile servers)."""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from authlib.oauth2.rfc6749 import InvalidClientError
from flask import Flask
from joserfc import jwk
from joserfc import jwt

from passport.extensions import db
from passport.oidc.errors import InvalidClientMetadata
from passport.oidc.models import BackchannelDelivery
from passport.oidc.registration import create_initial_access_token
from tests.integration.oidc.conftest import ISSUER
from tests.integration.oidc.conftest import code_flow
from tests.integration.oidc.conftest import register_client
from tests.integration.oidc.conftest import sign_in
from tests.served import Answer
from tests.served import CannedServer

PUBLIC_ISSUER = "https://passport.minedu.gob.pe"
HOSTILE_HOSTS = [
    "127.1",
    "0x7f000001",
    "2130706433",
    "[::ffff:127.0.0.1]",
    "0.0.0.0",  # noqa: S104 - a destination here, not a bind address
    "localhost.",
    "169.254.169.254",
    "10.0.0.5",
]


@contextlib.contextmanager
def production(
    app: Flask, issuer: str = PUBLIC_ISSUER, allow: tuple[str, ...] = ()
) -> Iterator[None]:
    """Run as PASSPORT_ENV=production with ``issuer`` and PASSPORT_OUTBOUND_ALLOW=``allow``."""
    saved = app.config["ENV"], app.config["ISSUER"], app.extensions["passport.outbound_allow"]
    app.config["ENV"], app.config["ISSUER"] = "production", issuer
    app.extensions["passport.outbound_allow"] = tuple(ipaddress.ip_network(a) for a in allow)
    try:
        yield
    finally:
        app.config["ENV"], app.config["ISSUER"], app.extensions["passport.outbound_allow"] = saved


def key_server_for(key: jwk.RSAKey, status: int = 200, delay: float = 0.0) -> CannedServer:
    """A loopback jwks_uri (``/jwks.json``, any path really) answering ``status`` with the
    public key after ``delay``; ``server.answer.status`` may change, ``requests`` counts hits."""
    answer = Answer.json({"keys": [key.as_dict(private=False)]}, status)
    answer.delay = delay
    return CannedServer(answer)


def jwks_uri(server: CannedServer) -> str:
    return server.url + "/jwks.json"


@pytest.fixture
def rp_key() -> jwk.RSAKey:
    return jwk.RSAKey.generate_key(2048, parameters={"kid": "rp-1"}, private=True)


@pytest.fixture
def key_server(rp_key) -> Iterator[CannedServer]:
    with key_server_for(rp_key) as server:
        yield server


def fake_dns(monkeypatch: pytest.MonkeyPatch, name: str, address: str) -> None:
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):  # type: ignore[no-untyped-def]
        return real(address if host == name else host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def jwks_client(uri: str):  # type: ignore[no-untyped-def]
    from passport.oidc.clients import find_client

    rp = register_client(token_endpoint_auth_method="private_key_jwt", jwks_uri=uri)
    return find_client(rp.client_id)


@pytest.mark.parametrize("host", HOSTILE_HOSTS)
@pytest.mark.parametrize("field", ["jwks_uri", "backchannel_logout_uri"])
def test_registration_refuses_internal_hosts_in_production(app, client, host, field) -> None:
    token = create_initial_access_token(3600, 1)[0]
    body: dict[str, Any] = {
        "client_name": "Escalafón",
        "redirect_uris": ["https://escalafon.minedu.gob.pe/callback"],
        field: f"https://{host}/x",
    }
    if field == "jwks_uri":
        body["token_endpoint_auth_method"] = "private_key_jwt"
    with production(app):
        response = client.post("/register", json=body, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["error"] == "invalid_client_metadata"


def test_the_cli_refuses_an_internal_back_channel_in_production(app) -> None:
    from passport.cli import cli
    from passport.cli import register_groups

    register_groups()
    args = ["clients", "create", "--name", "X", "--redirect-uri", "https://x.gob.pe/cb"]
    args += ["--auth-method", "client_secret_basic", "--backchannel-logout-uri"]
    with production(app):
        refused = app.test_cli_runner().invoke(cli, [*args, "https://169.254.169.254/bcl"])
    assert refused.exit_code != 0
    assert "internal address" in refused.output


def test_loopback_deployment_and_the_allow_list_keep_chosen_receivers(app) -> None:
    from passport.oidc.clients import validate_metadata

    def metadata(uri: str) -> dict[str, Any]:
        return {"name": "AYNI", "redirect_uris": [f"{ISSUER}/cb"], "backchannel_logout_uri": uri}

    # CONTRACT.md: a loopback deployment calls its clients on loopback without extra settings.
    with production(app, issuer=ISSUER):
        assert validate_metadata(metadata("http://127.0.0.1:5001/bcl")).backchannel_logout_uri
        with pytest.raises(InvalidClientMetadata, match="internal address"):
            validate_metadata(metadata("https://10.0.0.5/bcl"))
    with production(app, allow=("10.0.0.0/24",)):
        assert validate_metadata(metadata("https://10.0.0.5/bcl")).backchannel_logout_uri


def test_a_jwks_uri_whose_name_now_resolves_to_loopback_is_not_fetched(
    app, client, monkeypatch, key_server, rp_key
) -> None:
    registered = jwks_client(f"https://jwks.rp.example:{key_server.port}/jwks.json")
    fake_dns(monkeypatch, "jwks.rp.example", "127.0.0.1")
    now = int(time.time())
    claims = {"iss": registered.client_id, "sub": registered.client_id, "jti": "x"}
    claims |= {"aud": PUBLIC_ISSUER + "/token", "iat": now, "exp": now + 60}
    assertion = jwt.encode({"alg": "RS256", "kid": "rp-1"}, claims, rp_key)
    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": assertion,
    }
    with production(app):
        response = client.post("/token", data=form)
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_client"
    assert len(key_server.requests) == 0


def refused_times(registered: Any, times: int) -> None:
    """Check the client's key ``times`` times; every check is refused (no keys fetched)."""
    from passport.oidc.client_keys import client_public_keys

    for _ in range(times):
        with pytest.raises(InvalidClientError):
            client_public_keys(registered)


def test_a_failed_fetch_is_remembered_briefly(app, rp_key) -> None:
    from passport.oidc.client_keys import client_public_keys
    from passport.oidc.client_keys import fetched_keys

    with key_server_for(rp_key, status=500) as server:
        registered = jwks_client(jwks_uri(server))
        refused_times(registered, 3)
        assert len(server.requests) == 1
        # Once the failure's time is up, the next check asks again.
        fetched_keys().expire(after_seconds=app.config["JWKS_URI_FAILURE_CACHE_SECONDS"])
        server.answer.status = 200
        assert client_public_keys(registered).keys
        assert len(server.requests) == 2


def test_concurrent_signature_checks_share_one_fetch(app, rp_key) -> None:
    from passport.oidc.client_keys import client_public_keys

    with key_server_for(rp_key, delay=0.5) as server:
        registered = jwks_client(jwks_uri(server))
        results: list[object] = []

        def check() -> None:
            with app.app_context():
                results.append(client_public_keys(registered))

        threads = [threading.Thread(target=check) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        assert len(results) == 8
        assert len(server.requests) == 1


def test_remote_key_fetches_are_rate_limited_per_client(app, rp_key) -> None:

    saved = app.config["JWKS_URI_FETCH_RATE_LIMIT"]
    app.config["JWKS_URI_FETCH_RATE_LIMIT"] = "2 per minute"
    app.config["JWKS_URI_FAILURE_CACHE_SECONDS"] = 0
    try:
        with key_server_for(rp_key, status=500) as server:
            registered = jwks_client(jwks_uri(server))
            refused_times(registered, 4)
            assert len(server.requests) == 2
            # Another client has its own budget.
            refused_times(jwks_client(server.url + "/other.json"), 1)
            assert len(server.requests) == 3
    finally:
        app.config["JWKS_URI_FETCH_RATE_LIMIT"] = saved
        app.config["JWKS_URI_FAILURE_CACHE_SECONDS"] = 30


def end_session(client) -> None:  # type: ignore[no-untyped-def]
    from tests.integration.oidc.test_backchannel_logout import csrf

    response = client.post("/end-session", data={"logout": "yes", "csrf_token": csrf(client)})
    assert response.status_code == 200


def test_back_channel_logout_is_refused_an_internal_address_at_connect_time(
    app, client, user, monkeypatch, rp_key, key_server
) -> None:
    rp = register_client(
        skip_consent=True,
        backchannel_logout_uri=f"https://bcl.rp.example:{key_server.port}/bcl",
    )
    sign_in(app, client, user)
    code_flow(client, rp)
    fake_dns(monkeypatch, "bcl.rp.example", "127.0.0.1")
    with production(app):
        end_session(client)
    delivery = db.session.scalars(db.select(BackchannelDelivery)).one()
    assert delivery.delivered_at is None
    assert delivery.last_error == "resolves to an internal address"
    assert len(key_server.requests) == 0


def test_a_loopback_production_deployment_still_delivers_on_loopback(
    app, client, user, key_server
) -> None:
    rp = register_client(skip_consent=True, backchannel_logout_uri=jwks_uri(key_server))
    sign_in(app, client, user)
    code_flow(client, rp)
    with production(app, issuer=ISSUER):
        end_session(client)
    delivery = db.session.scalars(db.select(BackchannelDelivery)).one()
    assert delivery.delivered_at is not None
    assert len(key_server.requests) == 1
