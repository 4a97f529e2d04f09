"""Fixtures for AYNI_SERVIDOR: its own database (from its own migrations), a stand-in issuer.

The stand-in issuer is a tiny HTTP server on a loopback port that serves a discovery document,
a JWKS of test RSA keys and a token endpoint, so the app's real HTTP client, key lookup and
validators run unchanged. Nothing here mocks AYNI's own code. The full dance with a real
Passport lives in ``tests/integration/test_ayni_with_passport.py``.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from joserfc import jwt
from joserfc.jwk import RSAKey
from werkzeug.wrappers import Request
from werkzeug.wrappers import Response

from tests.conftest import fresh_postgres_database
from tests.served import start_wsgi

CLIENT_ID = "ayni-test-client"
BASE_URL = "http://127.0.0.1:5001"
# How AYNI registers with a real Passport (tests/integration/test_ayni_with_passport.py,
# tests/topology.py): "basic" (client_secret_basic) or "fapi2" (private_key_jwt, PAR, DPoP),
# which needs Passport's PAR and DPoP (issue 14).
PASSPORT_AYNI_PROFILE = "fapi2"


def fapi2_registration() -> tuple[dict[str, Any], dict[str, Any]]:
    """A fresh key pair: the client metadata Passport registers (the public key by value and
    the FAPI 2.0 flags) and the settings AYNI runs with (the private key)."""
    from relying_party_demo.auth.client_key import generate_key
    from relying_party_demo.auth.client_key import public_jwks

    key = generate_key()
    metadata = {
        "token_endpoint_auth_method": "private_key_jwt",
        "jwks": public_jwks(key),
        "fapi2_profile": True,
        "require_pushed_authorization_requests": True,
        "dpop_bound_access_tokens": True,
    }
    settings = {"CLIENT_PROFILE": "fapi2", "PRIVATE_JWK": json.dumps(key.as_dict(private=True))}
    return metadata, settings


class StandInIssuer:
    """Discovery + JWKS + token endpoint on 127.0.0.1, with keys the tests control."""

    def __init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-key-1", "use": "sig"})
        self.published = [self.key]
        self.jwks_requests = 0
        self.token_responses: list[tuple[int, dict[str, Any]]] = []
        self.token_requests: list[dict[str, str]] = []
        self.userinfo: dict[str, Any] = {}
        self.reset()
        self.server = start_wsgi(self.wsgi)
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def reset(self) -> None:
        """Forget what the last test queued, saw and changed."""
        self.published = [self.key]
        self.token_responses.clear()
        self.token_requests.clear()
        self.userinfo = {}
        # What the FAPI 2.0 tests look at: each request's headers, the pushed requests.
        self.token_headers: list[dict[str, str]] = []
        self.par_requests: list[dict[str, str]] = []
        self.par_response: tuple[int, Any] | None = None
        self.userinfo_requests: list[dict[str, str]] = []
        self.userinfo_status = 200
        # When set, a DPoP proof without this nonce is refused with use_dpop_nonce (RFC 9449
        # §8-9); "rotate" hands out a new nonce on every request.
        self.dpop_nonce: str | None = None
        self.rotate_nonce = False
        self.userinfo_nonce: str | None = None  # userinfo's own, when it differs
        self.without_metadata: set[str] = set()

    def metadata(self) -> dict[str, Any]:
        """The discovery document."""
        document = {
            "issuer": self.url,
            "pushed_authorization_request_endpoint": f"{self.url}/par",
            "dpop_signing_alg_values_supported": ["ES256"],
            "authorization_endpoint": f"{self.url}/authorize",
            "token_endpoint": f"{self.url}/token",
            "userinfo_endpoint": f"{self.url}/userinfo",
            "jwks_uri": f"{self.url}/jwks",
            "end_session_endpoint": f"{self.url}/logout",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "authorization_response_iss_parameter_supported": True,
            "backchannel_logout_supported": True,
            "backchannel_logout_session_supported": True,
        }
        return {key: value for key, value in document.items() if key not in self.without_metadata}

    def nonce_refusal(self, request: Request, status: int) -> Response | None:
        """use_dpop_nonce when the request's DPoP proof lacks the current nonce."""
        proof = request.headers.get("DPoP")
        expected = (status == 401 and self.userinfo_nonce) or self.dpop_nonce
        if expected is None or proof is None:
            return None
        sent = jwt.decode(proof, self.any_key(proof)).claims.get("nonce")
        if sent == expected and not self.rotate_nonce:
            return None
        if self.rotate_nonce:
            expected = self.dpop_nonce = secrets.token_urlsafe(8)
        body = {"error": "use_dpop_nonce", "error_description": "Use a DPoP nonce."}
        response = Response(json.dumps(body), status=status, mimetype="application/json")
        response.headers["DPoP-Nonce"] = expected
        if status == 401:
            response.headers["WWW-Authenticate"] = 'DPoP error="use_dpop_nonce"'
        return response

    @staticmethod
    def any_key(proof: str) -> Any:
        """The public key a DPoP proof carries (the stand-in reads, the tests judge)."""
        from joserfc import jws
        from joserfc.jwk import ECKey

        header = jws.extract_compact(proof.encode()).protected
        return ECKey.import_key(header["jwk"])

    def wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        """Serve the three documents."""
        request = Request(environ)
        if request.path == "/.well-known/openid-configuration":
            response = Response(json.dumps(self.metadata()), mimetype="application/json")
        elif request.path == "/jwks":
            self.jwks_requests += 1
            keys = [key.as_dict(private=False) for key in self.published]
            response = Response(json.dumps({"keys": keys}), mimetype="application/json")
        elif request.path == "/par" and request.method == "POST":
            self.par_requests.append(dict(request.form))
            status, body = self.par_response or (
                201,
                {"request_uri": f"urn:ietf:params:oauth:request_uri:{secrets.token_hex(8)}"},
            )
            text = body if isinstance(body, str) else json.dumps(body)
            response = Response(text, status=status, mimetype="application/json")
        elif request.path == "/token" and request.method == "POST":
            self.token_requests.append(dict(request.form))
            self.token_headers.append(dict(request.headers))
            refusal = self.nonce_refusal(request, 400)
            if refusal is not None:
                response = refusal
            else:
                status, body = (
                    self.token_responses.pop(0)
                    if self.token_responses
                    else (400, {"error": "invalid_grant"})
                )
                response = Response(json.dumps(body), status=status, mimetype="application/json")
        elif request.path == "/userinfo":
            self.userinfo_requests.append(dict(request.headers))
            refusal = self.nonce_refusal(request, 401)
            response = refusal or Response(
                json.dumps(self.userinfo), status=self.userinfo_status, mimetype="application/json"
            )
        else:
            response = Response("not found", status=404)
        return response(environ, start_response)

    def sign(
        self,
        claims: dict[str, Any],
        *,
        header: dict[str, Any] | None = None,
        key: RSAKey | None = None,
    ) -> str:
        """A JWT signed with the published key (or another one)."""
        key = key or self.key
        full_header = {"alg": "RS256", "kid": key.kid}
        full_header.update(header or {})
        return jwt.encode(full_header, claims, key)

    def logout_token(self, **overrides: Any) -> str:
        """A valid back-channel logout token; ``overrides`` change or (with None) drop claims."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.url,
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 120,
            "jti": secrets.token_hex(8),
            "sub": "sub-rosa",
            "sid": "sid-rosa-1",
            "events": {"http://schemas.openid.net/event/backchannel-logout": {}},
        }
        header = overrides.pop("header", {"typ": "logout+jwt"})
        key = overrides.pop("key", None)
        for name, value in overrides.items():
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value
        return self.sign(claims, header=header, key=key)


@pytest.fixture(scope="session")
def stand_in_issuer() -> Iterator[StandInIssuer]:
    """The stand-in issuer, running for the whole session."""
    issuer = StandInIssuer()
    yield issuer
    issuer.server.shutdown()


@pytest.fixture(scope="session")
def ayni_database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """AYNI's own database for this run (SQLite file, or a fresh PostgreSQL database)."""
    base = os.environ.get("TEST_DATABASE_URL", "")
    if not base or base.startswith("sqlite"):
        yield f"sqlite:///{tmp_path_factory.mktemp('ayni') / 'ayni.db'}"
        return
    with fresh_postgres_database(base, "ayni_test") as url:
        yield url


def make_ayni_app(database_url: str, issuer_url: str, **overrides: Any) -> Flask:
    """Build AYNI_SERVIDOR for tests."""
    from minedu_sso.settings.ayni import AyniTestingConfig
    from relying_party_demo import create_app

    settings: dict[str, Any] = {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "ISSUER": issuer_url,
        "BASE_URL": BASE_URL,
        "CLIENT_ID": CLIENT_ID,
        "CLIENT_SECRET": "ayni-test-secret",
        "JWKS_MIN_REFRESH_SECONDS": 0,
        "SERVER_NAME": None,
    }
    settings.update(overrides)
    return create_app(AyniTestingConfig, overrides=settings)


@pytest.fixture(scope="session")
def _ayni_migrated_app(ayni_database_url: str, stand_in_issuer: StandInIssuer) -> Flask:
    """The app, once per run, with the schema built by migrations/ayni (not create_all)."""
    from flask_migrate import upgrade

    app = make_ayni_app(ayni_database_url, stand_in_issuer.url)
    with app.app_context():
        upgrade()
    return app


def wipe_ayni_database(engine: sa.Engine) -> None:
    """Delete every row of every AYNI table, children first."""
    from relying_party_demo.database import Base

    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())


@pytest.fixture
def ayni_app(_ayni_migrated_app: Flask, stand_in_issuer: StandInIssuer) -> Iterator[Flask]:
    """The app inside an app context; every row is deleted after the test."""
    from relying_party_demo.extensions import db

    stand_in_issuer.reset()
    with _ayni_migrated_app.app_context():
        yield _ayni_migrated_app
        db.session.remove()
        wipe_ayni_database(db.engine)


@pytest.fixture
def ayni_client(ayni_app: Flask) -> FlaskClient:
    return ayni_app.test_client()


@dataclass(frozen=True)
class DemoRows:
    """What ``seed_demo`` wrote, table by table (parents first), and what it reported."""

    tables: list[tuple[sa.Table, list[dict[str, Any]]]]
    report: dict[str, int]

    def restore(self, engine: sa.Engine) -> None:
        """Write the rows back into the empty tables, ids and all.

        PostgreSQL's id sequences need no help: they handed out these very ids when the seed
        ran, and a sequence never goes back.
        """
        with engine.begin() as connection:
            for table, rows in self.tables:
                if rows:
                    connection.execute(table.insert(), rows)


@pytest.fixture(scope="session")
def _demo_rows(_ayni_migrated_app: Flask) -> DemoRows:
    """Seed the demo once per run, read every row back, and leave the database empty again."""
    from relying_party_demo.database import Base
    from relying_party_demo.demo_data import seed_demo
    from relying_party_demo.extensions import db

    with _ayni_migrated_app.app_context():
        report = seed_demo()
        assert report.get("legajos_unchanged") is None, "the demo was seeded into a used database"
        db.session.remove()
        with db.engine.connect() as connection:
            tables = [
                (table, [dict(row._mapping) for row in connection.execute(table.select())])
                for table in Base.metadata.sorted_tables
            ]
        wipe_ayni_database(db.engine)
    return DemoRows(tables, report)


@pytest.fixture
def seeded(_demo_rows: DemoRows, ayni_app: Flask) -> dict[str, int]:
    """The demo legajos and boletas: seeded once per run, copied back for each test.

    A copy of the rows costs a twentieth of ``seed_demo``; the test may change or delete them
    freely, as ``ayni_app`` deletes every row afterwards.
    """
    from relying_party_demo.extensions import db

    _demo_rows.restore(db.engine)
    return dict(_demo_rows.report)


SignIn = Callable[..., str]


@pytest.fixture
def sign_in(ayni_app: Flask, ayni_client: FlaskClient) -> SignIn:
    """Sign a person in WITHOUT Passport: insert a local session row and set its cookie."""
    from relying_party_demo.auth.models import LocalSession
    from relying_party_demo.auth.sessions import hash_key
    from relying_party_demo.auth.sessions import new_key
    from relying_party_demo.database import utcnow
    from relying_party_demo.extensions import db

    def sign_in_as(
        dni: str,
        *,
        subject: str | None = None,
        sid: str | None = None,
        client: FlaskClient | None = None,
        **fields: Any,
    ) -> str:
        now = utcnow()
        key = new_key()
        values: dict[str, Any] = {
            "key_hash": hash_key(key),
            "data": {},
            "subject": subject or f"sub-{dni}",
            "dni": dni,
            "given_name": "Rosa Elena",
            "family_name": "Quispe Huamán",
            "sid": sid or f"sid-{dni}",
            "id_token": "header.payload.signature",
            "access_token_expires_at": now + timedelta(minutes=10),
            "authenticated_at": now,
            "created_at": now,
            "last_seen_at": now,
            "expires_at": now + timedelta(minutes=30),
        }
        values.update(fields)
        db.session.add(LocalSession(**values))
        db.session.commit()
        (client or ayni_client).set_cookie("ayni_session", key)
        return key

    return sign_in_as


@pytest.fixture(scope="session")
def ayni_key() -> Any:
    """AYNI's private key for the FAPI 2.0 tests (an EC P-256 JWK)."""
    from relying_party_demo.auth.client_key import generate_key

    return generate_key()


@pytest.fixture
def fapi_app(
    _ayni_migrated_app: Flask,
    ayni_database_url: str,
    stand_in_issuer: StandInIssuer,
    ayni_key: Any,
) -> Iterator[Flask]:
    """AYNI as a FAPI 2.0 client (private_key_jwt, PAR, DPoP), on the migrated database."""
    from relying_party_demo.extensions import db

    stand_in_issuer.reset()
    app = make_ayni_app(
        ayni_database_url,
        stand_in_issuer.url,
        CLIENT_PROFILE="fapi2",
        CLIENT_SECRET=None,
        PRIVATE_JWK=json.dumps(ayni_key.as_dict(private=True)),
    )
    with app.app_context():
        yield app
        db.session.remove()
        wipe_ayni_database(db.engine)
        db.engine.dispose()
