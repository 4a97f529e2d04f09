"""In-process profile of the OpenID Provider hot path: CPU and SQL statements per request.

    .venv/bin/python benchmarks/oidc_profile.py [--database-url postgresql+psycopg://...]
                                                [--flows 300] [--profile authorize|token|...]
                                                [--dpop | --fapi2] [--dump FILE]

No HTTP server and no load generator: the Flask test client drives code flows (authorize with
an SSO session -> token -> userinfo) and refresh rotations in this process, so the CPU time of
each endpoint is measured without the noise of other processes on the machine (test-client
overhead included, about 0.1 ms per request). Prints one JSON line per endpoint with the CPU
milliseconds per request and the SQL statements it ran; with --profile, a cProfile of that
endpoint (cumulative time) follows. Use it to decide, then confirm with oidc_load.py.
The database must be empty (default: SQLite in a temporary folder). With --dpop every /token,
/userinfo and refresh carries an ES256 DPoP proof (RFC 9449; made before the clock starts: the
client's cost is not the server's) and userinfo uses ``Authorization: DPoP``. With --fapi2
the client is a FAPI 2.0 client (``fapi2_profile``): each flow pushes its request to /par with
a private_key_jwt client assertion, /authorize gets only the request_uri, and /token (the
assertion again) and /userinfo carry DPoP proofs; assertions and proofs are made before the
clock starts. ``code_flow_cpu_ms`` then counts /par too.
"""

from __future__ import annotations

import argparse
import base64
import collections
import cProfile
import json
import pstats
import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from urllib.parse import urlsplit

from oidc_requests import REDIRECT_URI
from oidc_requests import authorize_query
from oidc_requests import client_assertion
from oidc_requests import code_form
from oidc_requests import dpop_proof
from oidc_requests import pkce_pair

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ENDPOINTS = ("par", "authorize", "token", "userinfo", "refresh", "discovery", "jwks", "introspect")
FLOW_ENDPOINTS = ("par", "authorize", "token", "userinfo")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--flows", type=int, default=300)
    parser.add_argument("--profile", choices=ENDPOINTS, default=None)
    parser.add_argument("--dpop", action="store_true", help="DPoP proofs on token and userinfo")
    parser.add_argument(
        "--fapi2", action="store_true", help="FAPI 2.0 client: PAR, private_key_jwt and DPoP"
    )
    add_profile_options(parser)
    args = parser.parse_args()

    from flask_migrate import upgrade

    from passport.extensions import db

    folder = Path(tempfile.mkdtemp(prefix="passport-profile-"))
    app = bench_app(folder, args.database_url)
    from joserfc import jwk

    client_key = jwk.ECKey.generate_key("P-256", parameters={"kid": "bench-1"})
    args.client_key = client_key
    try:
        with app.app_context():
            upgrade()
            client_id, secret, cookie = prepare(app, client_key if args.fapi2 else None)
            engine = db.engine
        browser = app.test_client()
        browser.set_cookie(app.config["SSO_COOKIE_NAME"], cookie)
        run(browser, engine, client_id, secret, args)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def prepare(app: Any, client_key: Any = None) -> tuple[str, str | None, str]:
    """A user, a first-party client and a signed-in SSO cookie; with ``client_key``, the
    client is a FAPI 2.0 client (private_key_jwt with that key's public half)."""
    from flask import Response

    from passport.accounts.services import NewUser
    from passport.accounts.services import create_user
    from passport.extensions import db
    from passport.login.sessions import start_sso_session
    from passport.oidc.clients import create_client
    from passport.oidc.clients import validate_metadata

    user = create_user(
        NewUser(
            dni="10000001",
            email="perfil@example.edu.pe",
            given_name="Rosa",
            family_name="Quispe",
            password="Clave2024ok",
        ),
        send_email=False,
    )
    row, secret = create_client(
        validate_metadata(
            {
                "name": "Perfil",
                "redirect_uris": [REDIRECT_URI],
                "token_endpoint_auth_method": "client_secret_basic",
                "scopes": ["openid", "profile", "email", "offline_access"],
                "grant_types": ["authorization_code", "refresh_token"],
                "skip_consent": True,
                **fapi2_metadata(client_key),
            }
        )
    )
    client_id = row.client_id
    with app.test_request_context("/"):
        start_sso_session(user, ["pwd"])
        response = app.process_response(Response())
    name = app.config["SSO_COOKIE_NAME"]
    cookie = next(
        c.split(";")[0].split("=", 1)[1]
        for c in response.headers.getlist("Set-Cookie")
        if c.startswith(name + "=")
    )
    db.session.remove()
    assert (secret is None) == (client_key is not None)
    return client_id, secret, cookie


def fapi2_metadata(client_key: Any) -> dict[str, Any]:
    """The registration of a FAPI 2.0 client with ``client_key``'s public half, or nothing."""
    if client_key is None:
        return {}
    return {
        "token_endpoint_auth_method": "private_key_jwt",
        "jwks": {"keys": [client_key.as_dict(private=False)]},
        "fapi2_profile": True,
    }


def run(browser: Any, engine: Any, client_id: str, secret: str | None, args: Any) -> None:
    """Warm up, then time ``args.flows`` code flows and refresh rotations; print the results."""
    from sqlalchemy import event

    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    auth = {} if args.fapi2 else {"Authorization": "Basic " + basic}
    dpop = args.dpop or args.fapi2
    cpu: collections.Counter[str] = collections.Counter()
    statements: collections.Counter[str] = collections.Counter()
    current = [""]
    profiler = cProfile.Profile(time.process_time)

    def count(*_: Any) -> None:
        statements[current[0]] += 1

    event.listen(engine, "before_cursor_execute", count)

    def timed(endpoint: str, call: Callable[[], Any]) -> Any:
        current[0] = endpoint
        profiling = args.profile == endpoint
        if profiling:
            profiler.enable()
        started = time.process_time()
        try:
            return call()
        finally:
            cpu[endpoint] += time.process_time() - started
            if profiling:
                profiler.disable()
            current[0] = ""

    from joserfc import jwk

    key = jwk.ECKey.generate_key("P-256")
    issuer = browser.application.config["ISSUER"]

    def token_headers() -> dict[str, str]:
        if not dpop:
            return auth
        return {**auth, "DPoP": dpop_proof(key, "POST", issuer + "/token")}

    def authenticated(form: dict[str, str]) -> dict[str, str]:
        """The form with a client assertion (fapi2; Basic auth otherwise)."""
        if not args.fapi2:
            return form
        assertion = client_assertion(args.client_key, client_id, issuer)
        return {**form, "client_assertion_type": ASSERTION_TYPE, "client_assertion": assertion}

    def authorization(scope: str) -> tuple[str, Any]:
        """The /authorize query (after /par with fapi2) and the PKCE verifier."""
        verifier, challenge = pkce_pair()
        query = authorize_query(client_id, scope, challenge)
        if not args.fapi2:
            return verifier, query
        form = authenticated(query)
        pushed = timed("par", lambda: browser.post("/par", data=form))
        assert pushed.status_code == 201, pushed.get_json()
        return verifier, {"client_id": client_id, "request_uri": pushed.get_json()["request_uri"]}

    def flow(scope: str = "openid profile") -> dict[str, Any]:
        verifier, query = authorization(scope)
        answer = timed("authorize", lambda: browser.get("/authorize", query_string=query))
        code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]
        form = authenticated(code_form(code, verifier))
        headers = token_headers()
        tokens = timed("token", lambda: browser.post("/token", data=form, headers=headers))
        assert tokens.status_code == 200, tokens.get_json()
        tokens = tokens.get_json()
        access = tokens["access_token"]
        bearer = {"Authorization": "Bearer " + access}
        if dpop:
            bearer = {
                "Authorization": "DPoP " + access,
                "DPoP": dpop_proof(key, "GET", issuer + "/userinfo", access),
            }
        info = timed("userinfo", lambda: browser.get("/userinfo", headers=bearer))
        assert info.status_code == 200, info.get_data(as_text=True)
        return dict(tokens)

    jwks_path = urlsplit(
        browser.get("/.well-known/openid-configuration").get_json()["jwks_uri"]
    ).path

    def documents(access_token: str) -> None:
        """The cached JSON answers (discovery, JWKS) and one introspection."""
        answer = timed("discovery", lambda: browser.get("/.well-known/openid-configuration"))
        assert answer.status_code == 200
        answer = timed("jwks", lambda: browser.get(jwks_path))
        assert answer.status_code == 200
        form = authenticated({"token": access_token})
        answer = timed("introspect", lambda: browser.post("/introspect", data=form, headers=auth))
        assert answer.status_code == 200, answer.get_json()
        assert answer.get_json()["active"], answer.get_json()

    def rotate(refresh_token: str) -> str:
        form = authenticated({"grant_type": "refresh_token", "refresh_token": refresh_token})
        headers = token_headers()
        answer = timed("refresh", lambda: browser.post("/token", data=form, headers=headers))
        assert answer.status_code == 200, answer.get_json()
        return str(answer.get_json()["refresh_token"])

    refresh_token = flow("openid offline_access")["refresh_token"]
    for _ in range(5):  # warm the key ring, client cache and statement caches
        documents(flow()["access_token"])
        refresh_token = rotate(refresh_token)
    cpu.clear()
    statements.clear()
    for _ in range(args.flows):
        documents(flow()["access_token"])
        refresh_token = rotate(refresh_token)
    for endpoint in ENDPOINTS:
        if endpoint == "par" and not args.fapi2:
            continue
        line = {
            "endpoint": endpoint,
            "requests": args.flows,
            "cpu_ms_per_request": round(cpu[endpoint] / args.flows * 1000, 3),
            "statements_per_request": round(statements[endpoint] / args.flows, 2),
        }
        print(json.dumps(line), flush=True)
    flow_ms = sum(cpu[e] for e in FLOW_ENDPOINTS) / args.flows * 1000
    print(json.dumps({"code_flow_cpu_ms": round(flow_ms, 3)}), flush=True)
    if args.profile:
        report_profile(profiler, args)


def add_profile_options(parser: argparse.ArgumentParser) -> None:
    """--lines, --dump and --sort: how the cProfile of --profile is shown (both profilers)."""
    parser.add_argument("--lines", type=int, default=40, help="profile lines to print")
    parser.add_argument("--dump", default=None, help="also write the raw cProfile stats here")
    parser.add_argument(
        "--sort", choices=("cumulative", "tottime"), default="cumulative", help="profile order"
    )


def report_profile(profiler: cProfile.Profile, args: argparse.Namespace) -> None:
    """Print the profile as --sort and --lines ask; write it to --dump if given."""
    pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.lines)
    if args.dump:
        profiler.dump_stats(args.dump)


def bench_app(folder: Path, database_url: str | None, **overrides: Any) -> Any:
    """A Passport app for an in-process benchmark: the given database (default SQLite in
    ``folder``), CAPTCHA off, mail to ``folder``; logging quieted to warnings."""
    import logging

    from minedu_sso.settings import DevelopmentConfig
    from passport import create_app

    app = create_app(
        DevelopmentConfig,
        overrides={
            "SQLALCHEMY_DATABASE_URI": database_url or f"sqlite:///{folder / 'p.db'}",
            "SECRET_KEY": secrets.token_urlsafe(32),
            "CAPTCHA_ENABLED": False,
            "MAIL_OUTBOX": str(folder / "outbox"),
            **overrides,
        },
    )
    logging.disable(logging.WARNING)
    return app


if __name__ == "__main__":
    main()
