"""Load test of Passport's OpenID Provider against `passport serve` on loopback.

    .venv/bin/python benchmarks/oidc_load.py [--workers 1] [--concurrency 8] [--duration 10]
                                             [--database-url postgresql+psycopg://...]
                                             [--scenarios discovery,jwks,code_flow,...]

It creates a throw-away database (SQLite in a temporary folder unless --database-url names an
empty PostgreSQL database), a user and a first-party client, starts `passport serve`, signs in
through the real login form, then runs each scenario for --duration seconds (or
--max-operations) with --concurrency client threads. A code flow is three requests:
authorize (with an existing SSO session) -> token (PKCE, client_secret_basic) -> userinfo.
Reports operations/s and p50/p99 latency per operation. The load generator runs on the same
machine: on a 2-core box it competes with the server for CPU, so the numbers are a floor;
compare runs by ``server_cpu_ms_per_op`` (Passport's own CPU per operation). For a breakdown by
endpoint (CPU and SQL statements per request, optional cProfile) without HTTP and load-generator
noise, run benchmarks/oidc_profile.py.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import requests
from oidc_requests import REDIRECT_URI
from oidc_requests import authorize_query
from oidc_requests import code_form
from oidc_requests import pkce_pair

ROOT = Path(__file__).resolve().parent.parent
PASSPORT = str(ROOT / ".venv" / "bin" / "passport")
DNI = "10000001"
PASSWORD = "Clave2024ok"
SCENARIOS = ("discovery", "jwks", "code_flow", "refresh", "introspection", "login")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(  # noqa: S603 - our own console script
        [PASSPORT, *args], env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        sys.exit(f"passport {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout


class Bench:
    """A running Passport with one user, one client and helpers for each operation."""

    def __init__(self, base: str, client_id: str, client_secret: str) -> None:
        self.base = base
        self.client_id = client_id
        self.auth = (client_id, client_secret)

    def new_session(self) -> requests.Session:
        return requests.Session()

    def login(self, session: requests.Session) -> None:
        page = session.get(f"{self.base}/ingresar", timeout=10)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text)
        if token is None:
            sys.exit("no CSRF token on /ingresar")
        response = session.post(
            f"{self.base}/ingresar",
            data={"csrf_token": token.group(1), "username": DNI, "password": PASSWORD},
            allow_redirects=False,
            timeout=10,
        )
        if response.status_code != 302:
            sys.exit(f"login failed: HTTP {response.status_code}")

    def code_flow(self, session: requests.Session, scope: str = "openid profile") -> dict:
        verifier, challenge = pkce_pair()
        response = session.get(
            f"{self.base}/authorize",
            params=authorize_query(self.client_id, scope, challenge),
            allow_redirects=False,
            timeout=10,
        )
        code = parse_qs(urlsplit(response.headers["Location"]).query)["code"][0]
        tokens = session.post(
            f"{self.base}/token",
            data=code_form(code, verifier),
            auth=self.auth,
            timeout=10,
        ).json()
        info = session.get(
            f"{self.base}/userinfo",
            headers={"Authorization": f"Bearer {tokens['access_token']}"},
            timeout=10,
        )
        assert info.status_code == 200, info.text
        return dict(tokens)


def process_tree_cpu_seconds(root_pid: int) -> float:
    """User + system CPU time of a process and its children (Linux /proc), in seconds."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pids = [root_pid]
    children = Path(f"/proc/{root_pid}/task/{root_pid}/children")
    if children.exists():
        pids += [int(pid) for pid in children.read_text().split()]
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


def measure(
    name: str,
    concurrency: int,
    duration: float,
    max_operations: int,
    prepare: Callable[[], Callable[[], None]],
    server_pid: int,
) -> dict:
    """Run ``operation`` from ``concurrency`` threads; return throughput and latencies."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop_at = [0.0]
    count = [0]
    operations = [prepare() for _ in range(concurrency)]
    barrier = threading.Barrier(concurrency + 1)

    def worker(operation: Callable[[], None]) -> None:
        barrier.wait()
        local: list[float] = []
        while time.perf_counter() < stop_at[0]:
            with lock:
                if count[0] >= max_operations:
                    break
                count[0] += 1
            started = time.perf_counter()
            try:
                operation()
            except Exception:  # counted and reported, the run goes on
                with lock:
                    errors[0] += 1
                continue
            local.append(time.perf_counter() - started)
        with lock:
            latencies.extend(local)

    threads = [threading.Thread(target=worker, args=(op,)) for op in operations]
    for thread in threads:
        thread.start()
    cpu_before = process_tree_cpu_seconds(server_pid)
    stop_at[0] = time.perf_counter() + duration
    started = time.perf_counter()
    barrier.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    server_cpu = process_tree_cpu_seconds(server_pid) - cpu_before
    latencies.sort()
    done = len(latencies)
    result = {
        "scenario": name,
        "operations": done,
        "errors": errors[0],
        "seconds": round(elapsed, 2),
        "per_second": round(done / elapsed, 1) if elapsed else 0,
        "p50_ms": round(statistics.median(latencies) * 1000, 2) if latencies else None,
        "p99_ms": round(latencies[int(done * 0.99) - 1] * 1000, 2) if done >= 100 else None,
        # Server CPU per operation: what one core of Passport spends, load generator excluded.
        "server_cpu_ms_per_op": round(server_cpu / done * 1000, 2) if done else None,
    }
    print(json.dumps(result), flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--max-operations", type=int, default=100_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="passport-bench-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ)
    env.update(
        {
            "PASSPORT_ENV": "development",
            "PASSPORT_ISSUER": base,
            "PASSPORT_SECRET_KEY": secrets.token_urlsafe(32),
            "PASSPORT_DATABASE_URL": args.database_url or f"sqlite:///{folder / 'bench.db'}",
            "PASSPORT_CAPTCHA_ENABLED": "false",
            "PASSPORT_MAIL_OUTBOX": str(folder / "outbox"),
            "PASSPORT_TRUSTED_NETWORKS": "127.0.0.0/8",
            "PASSPORT_TRUSTED_RATE_LIMIT": "1000000 per minute",
            "PASSPORT_LOGIN_RATE_LIMIT": "1000000 per minute",
        }
    )
    run(env, "db", "upgrade")
    user_args = ["users", "create", "--dni", DNI, "--email", "bench@example.edu.pe"]
    user_args += ["--given-name", "Rosa", "--family-name", "Quispe", "--password", PASSWORD]
    run(env, *user_args, "--no-email", "--json")
    created = json.loads(
        run(
            env,
            "clients",
            "create",
            "--name",
            "Bench",
            "--redirect-uri",
            REDIRECT_URI,
            "--auth-method",
            "client_secret_basic",
            "--scope",
            "openid profile email offline_access",
            "--grant-type",
            "authorization_code",
            "--grant-type",
            "refresh_token",
            "--skip-consent",
            "--json",
        )
    )
    server = subprocess.Popen(  # noqa: S603 - our own console script
        [
            PASSPORT,
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(args.workers),
            "--threads",
            str(args.threads),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                if requests.get(f"{base}/.well-known/openid-configuration", timeout=1).ok:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        else:
            sys.exit("passport serve did not start")
        bench = Bench(base, created["client_id"], created["client_secret"])
        print(
            json.dumps(
                {
                    "workers": args.workers,
                    "threads": args.threads,
                    "concurrency": args.concurrency,
                    "database": env["PASSPORT_DATABASE_URL"].split(":")[0],
                    "cpus": os.cpu_count(),
                }
            ),
            flush=True,
        )
        chosen = [s.strip() for s in args.scenarios.split(",") if s.strip()]

        def plain_get(path: str) -> Callable[[], Callable[[], None]]:
            def prepare() -> Callable[[], None]:
                session = bench.new_session()
                return lambda: session.get(base + path, timeout=10).raise_for_status()

            return prepare

        def signed_in_flow() -> Callable[[], None]:
            session = bench.new_session()
            bench.login(session)
            return lambda: bench.code_flow(session) and None

        def refresh_chain() -> Callable[[], None]:
            session = bench.new_session()
            bench.login(session)
            state = {"rt": bench.code_flow(session, "openid offline_access")["refresh_token"]}

            def step() -> None:
                response = session.post(
                    f"{base}/token",
                    data={"grant_type": "refresh_token", "refresh_token": state["rt"]},
                    auth=bench.auth,
                    timeout=10,
                )
                response.raise_for_status()
                state["rt"] = response.json()["refresh_token"]

            return step

        def introspection() -> Callable[[], None]:
            session = bench.new_session()
            bench.login(session)
            token = bench.code_flow(session)["access_token"]

            def step() -> None:
                body = session.post(
                    f"{base}/introspect", data={"token": token}, auth=bench.auth, timeout=10
                ).json()
                assert body["active"] is True

            return step

        def password_login() -> Callable[[], None]:
            def step() -> None:
                bench.login(bench.new_session())

            return step

        plans = {
            "discovery": plain_get("/.well-known/openid-configuration"),
            "jwks": plain_get("/jwks.json"),
            "code_flow": signed_in_flow,
            "refresh": refresh_chain,
            "introspection": introspection,
            "login": password_login,
        }
        for name in chosen:
            measure(
                name, args.concurrency, args.duration, args.max_operations, plans[name], server.pid
            )
    finally:
        server.terminate()
        server.wait(timeout=15)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
