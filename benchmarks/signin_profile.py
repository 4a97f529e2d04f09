"""In-process profile of a password sign-in (the load generator's W6 flow): CPU per request.

    .venv/bin/python benchmarks/signin_profile.py [--database-url postgresql+psycopg://...]
                                                  [--flows 100] [--stub-hash]
                                                  [--profile authorize|form|post|resume|all]
                                                  [--sort cumulative|tottime] [--dump FILE]

Each flow is what ``../shared/perf`` does for W6 from a fresh browser (no cookies):
``GET /authorize`` (no session: redirect to the sign-in page), ``GET`` the sign-in page, ``POST``
the form with its CSRF token, DNI and password, then follow the redirects (if any: the POST
answers with the client's ``redirect_uri?code=...`` when no other page is needed). No HTTP
server: the Flask test client drives the flows in this process with CAPTCHA off, so the CPU
milliseconds per request are the server's own. The
Argon2id parameters are the production ones (settings); with ``--stub-hash`` the verify is
replaced by a constant-time stub, which isolates what a sign-in costs besides the hash. Prints
one JSON line per request kind, one with the CPU per flow and the Argon2id verify time alone
(measured the same way), then the cProfile of ``--profile`` if asked. The database must be
empty (default: SQLite in a temporary folder).
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import json
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from oidc_profile import add_profile_options
from oidc_profile import bench_app
from oidc_profile import prepare
from oidc_profile import report_profile
from oidc_requests import REDIRECT_URI
from oidc_requests import authorize_query
from oidc_requests import pkce_pair

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

STEPS = ("authorize", "form", "post", "resume")
PASSWORD = "Clave2024ok"  # the user prepare() creates
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--flows", type=int, default=100)
    parser.add_argument("--stub-hash", action="store_true", help="replace the Argon2id verify")
    parser.add_argument(
        "--argon2", default=None, metavar="M,T,P", help="other Argon2id memory KiB, time, lanes"
    )
    parser.add_argument("--profile", choices=(*STEPS, "all"), default=None)
    add_profile_options(parser)
    args = parser.parse_args()

    from flask_migrate import upgrade

    folder = Path(tempfile.mkdtemp(prefix="passport-signin-"))
    argon2: dict[str, int] = {}
    if args.argon2:
        memory, rounds, lanes = (int(part) for part in args.argon2.split(","))
        argon2 = {
            "ARGON2_MEMORY_COST_KIB": memory,
            "ARGON2_TIME_COST": rounds,
            "ARGON2_PARALLELISM": lanes,
        }
    app = bench_app(
        folder,
        args.database_url,
        **argon2,
        LOGIN_RATE_LIMIT="1000000 per minute",
        AUTHORIZE_RATE_LIMIT="1000000 per minute",
    )
    try:
        with app.app_context():
            upgrade()
            client_id, _secret, _cookie = prepare(app)
            verify_ms = time_verify(app)
            if args.stub_hash:
                stub_verify(app)
        run(app, client_id, verify_ms, args)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def time_verify(app: Any) -> float:
    """Median CPU milliseconds of one Argon2id verify of the stored hash (what W6 compares to)."""
    from sqlalchemy import select

    from passport.accounts.models import User
    from passport.extensions import db
    from passport.security.passwords import verify_password

    stored = db.session.scalar(select(User.password_hash).where(User.dni == "10000001"))
    times = []
    for _ in range(15):
        started = time.process_time()
        assert verify_password(stored, PASSWORD)
        times.append(time.process_time() - started)
    return statistics.median(times) * 1000


def stub_verify(app: Any) -> None:
    """Make the app's hasher accept the test password without Argon2 (and refuse others)."""
    from argon2.exceptions import VerifyMismatchError

    from passport.security.passwords import password_hasher

    real = password_hasher()

    class StubHasher:
        def verify(self, _hash: str, password: str) -> bool:
            if password != PASSWORD:
                raise VerifyMismatchError()
            return True

        def check_needs_rehash(self, password_hash: str) -> bool:
            return real.check_needs_rehash(password_hash)

        def hash(self, password: str) -> str:
            return real.hash(password)

    app.extensions["passport.password_hasher"] = StubHasher()


def run(app: Any, client_id: str, verify_ms: float, args: Any) -> None:
    """Warm up, then time ``args.flows`` sign-ins from a fresh browser; print the results."""
    from sqlalchemy import event

    from passport.extensions import db

    cpu: collections.Counter[str] = collections.Counter()
    samples: dict[str, list[float]] = collections.defaultdict(list)
    statements: collections.Counter[str] = collections.Counter()
    current = [""]
    profiler = cProfile.Profile(time.process_time)
    with app.app_context():
        engine = db.engine

    def count(*_: Any) -> None:
        statements[current[0]] += 1

    event.listen(engine, "before_cursor_execute", count)

    measuring = [False]  # the warm-up flows are not profiled

    def timed(step: str, call: Callable[[], Any]) -> Any:
        current[0] = step
        profiling = args.profile in (step, "all") and measuring[0]
        if profiling:
            profiler.enable()
        started = time.process_time()
        try:
            return call()
        finally:
            spent = time.process_time() - started
            cpu[step] += spent
            samples[step].append(spent)
            current[0] = ""
            if profiling:
                profiler.disable()

    def flow() -> None:
        browser = app.test_client()  # a fresh browser: no cookies
        _verifier, challenge = pkce_pair()
        query = authorize_query(client_id, "openid profile email", challenge)
        answer = timed("authorize", lambda: browser.get("/authorize", query_string=query))
        assert answer.status_code in (302, 303), answer.status_code
        login = answer.headers["Location"]
        page = timed("form", lambda: browser.get(login))
        assert page.status_code == 200, page.status_code
        match = CSRF.search(page.get_data(as_text=True))
        assert match is not None, "no csrf_token in the sign-in form"
        form = {"csrf_token": match.group(1), "username": "10000001", "password": PASSWORD}
        answer = timed("post", lambda: browser.post(login, data=form))
        assert answer.status_code in (302, 303), answer.get_data(as_text=True)[:300]
        location = answer.headers["Location"]
        hops = 0
        while not location.startswith(REDIRECT_URI):
            target = urlsplit(location)
            path = target.path + ("?" + target.query if target.query else "")
            answer = timed("resume", lambda path=path: browser.get(path))
            assert answer.status_code in (302, 303), answer.status_code
            location = answer.headers["Location"]
            hops += 1
            assert hops < 4, location
        assert "code=" in location, location

    for _ in range(5):
        flow()
    measuring[0] = True
    cpu.clear()
    samples.clear()
    statements.clear()
    flows = []
    for _ in range(args.flows):
        before = sum(cpu.values())
        flow()
        flows.append(sum(cpu.values()) - before)
    for step in STEPS:
        if not samples[step]:  # e.g. no resume hop: the POST answered with the code
            continue
        line = {
            "step": step,
            "cpu_ms_per_flow": round(cpu[step] / args.flows * 1000, 3),
            # per request: the median resists the other processes of a busy machine
            "median_cpu_ms_per_request": round(statistics.median(samples[step]) * 1000, 3),
            "statements_per_flow": round(statements[step] / args.flows, 2),
        }
        print(json.dumps(line), flush=True)
    total = sum(cpu.values()) / args.flows * 1000
    print(
        json.dumps(
            {
                "sign_in_cpu_ms": round(total, 3),
                "median_sign_in_cpu_ms": round(statistics.median(flows) * 1000, 3),
                "argon2id_verify_cpu_ms": round(verify_ms, 3),
                "hash_stubbed": args.stub_hash,
                "ratio": round(total / verify_ms, 3) if not args.stub_hash else None,
                "median_ratio": (
                    round(statistics.median(flows) * 1000 / verify_ms, 3)
                    if not args.stub_hash
                    else None
                ),
            }
        ),
        flush=True,
    )
    if args.profile:
        report_profile(profiler, args)


if __name__ == "__main__":
    main()
