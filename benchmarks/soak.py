"""Pay-slip day: a long mixed load through the production topology, watched for drift.

    .venv/bin/pip install -e '.[dev,bench]'      # matplotlib, for the plot
    .venv/bin/python benchmarks/soak.py [--minutes 10] [--users 8] \\
        [--server postgresql+psycopg://postgres@127.0.0.1:5432/postgres] \\
        [--redis-url redis://127.0.0.1:6379/14] [--out benchmarks/results]

The topology is the one tests/integration/operations/test_proxy_topology.py starts (tests/
topology.py, shared): nginx (TLS) in front of two ``passport serve`` instances in production
mode, AYNI_SERVIDOR as the relying party, all on a fresh PostgreSQL database of its own
(``passport_soak_<random>``, dropped afterwards) and the given Redis database (only the keys of
this run's client addresses are deleted afterwards). Each instance runs two gunicorn workers
with four threads.

``--users`` virtual users (threads, one loopback address and one teacher each) loop until the
deadline over a pay-slip-day mix: mostly SSO code flows into AYNI_SERVIDOR (AYNI's session
dropped, Passport's SSO session kept: /auth/login -> /authorize -> /auth/callback), password
sign-ins in a fresh browser (the CAPTCHA read as the topology test reads it), refresh-token
rotations (a second client with offline_access), Mi boleta pages and their exports (xlsx,
PDF), and a few admin look-ups through the admin API (client_credentials token). Every request
has a 30 s timeout and every loop ends at the deadline.

Beside the load: every 5 s the resident memory (VmRSS) of every gunicorn worker and the
number of PostgreSQL connections to the database (pg_stat_activity); every minute the row
counts of the growing tables, then ``passport maintenance purge --json``. At the end: one JSON
file and a PNG plot in ``--out`` and a summary on stdout.

Before the load, ``--backlog`` rows (default 20,000) of each of authorization codes, tokens,
SSO sessions and CAPTCHA challenges are added already expired, their expiry spread over the
run's minutes (a slice turns purgeable each minute, the first one at the start): a run of a few
minutes otherwise has nothing to purge (used codes and rotated tokens are kept a day to
recognise a replay), and the report then shows what the purge removed beside the traffic.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import re
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import requests
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from oidc_requests import REDIRECT_URI  # noqa: E402
from oidc_requests import authorize_query  # noqa: E402
from oidc_requests import code_form  # noqa: E402
from oidc_requests import pkce_pair  # noqa: E402

from tests.conftest import fresh_postgres_database  # noqa: E402
from tests.served import Served  # noqa: E402
from tests.topology import Topology  # noqa: E402
from tests.topology import run_cli  # noqa: E402
from tests.topology import start_topology  # noqa: E402

PASSWORD = "Quipu-Sol-48"
SERVE_OPTIONS = ("--workers", "2", "--threads", "4")
# (action, weight): a pay-slip-day morning, mostly people arriving at AYNI with an SSO session.
MIX = (
    ("sso_flow", 40),
    ("password_sign_in", 10),
    ("refresh", 20),
    ("boletas", 18),
    ("export", 8),
    ("admin_lookup", 4),
)
SAMPLE_SECONDS = 5.0
# Rows that grow with traffic (AYNI's local_sessions included).
TABLES = (
    "oauth_tokens",
    "oauth_authorization_codes",
    "sso_sessions",
    "audit_events",
    "captcha_challenges",
    "local_sessions",
)
ADMIN_SCOPE = "passport.admin.users:read"
# The growing tables under the names `passport maintenance purge --json` reports them by.
PURGED_AS = {
    "oauth_tokens": "tokens",
    "oauth_authorization_codes": "authorization_codes",
    "sso_sessions": "sso_sessions",
    "audit_events": "audit_events",
}
COUNT = "SELECT count(*) FROM {}"  # filled only with the names in TABLES


@dataclass
class Record:
    """Everything measured, appended to by the threads (list.append is atomic)."""

    started: float
    actions: list[tuple[float, str, float, bool]] = field(default_factory=list)
    statuses: list[tuple[float, int]] = field(default_factory=list)
    errors: list[tuple[float, str, str]] = field(default_factory=list)
    memory: list[tuple[float, str, int, int]] = field(default_factory=list)
    connections: list[tuple[float, int]] = field(default_factory=list)
    rows: list[tuple[float, str, dict[str, int]]] = field(default_factory=list)
    purges: list[tuple[float, float, dict[str, int]]] = field(default_factory=list)

    def now(self) -> float:
        return time.monotonic() - self.started


class VirtualUser:
    """One teacher in one browser, on one loopback address of her own."""

    def __init__(self, soak: Soak, dni: str) -> None:
        self.soak = soak
        self.topology = soak.topology
        self.dni = dni
        self.browser = self.topology.browser()
        self.address: str = self.browser.address  # type: ignore[attr-defined]
        self.refresh_token: str | None = None

    def checked(self, response: requests.Response) -> requests.Response:
        """Count the status of the response and of every redirect before it."""
        for answer in [*response.history, response]:
            self.soak.record.statuses.append((self.soak.record.now(), answer.status_code))
        return response

    def get(self, url: str, **options: Any) -> requests.Response:
        return self.checked(self.browser.get(url, timeout=30, **options))

    def post(self, url: str, **options: Any) -> requests.Response:
        return self.checked(self.browser.post(url, timeout=30, **options))

    def sign_in(self, page: requests.Response) -> requests.Response:
        """Fill in and post Passport's sign-in form shown on ``page``."""
        action, data = self.topology.sign_in_form(self.browser, page, self.dni, PASSWORD)
        return self.post(action, data=data, headers={"Referer": page.url})

    def into_ayni(self) -> requests.Response:
        """AYNI's /auth/login, through Passport (signing in if there is no SSO session)."""
        landed = self.get(f"{self.soak.ayni}/auth/login")
        if landed.url.startswith(f"{self.topology.url}/ingresar"):
            landed = self.sign_in(landed)
        if not landed.url.startswith(self.soak.ayni) or "/auth/" in urlsplit(landed.url).path:
            raise RuntimeError(f"did not land in AYNI: {landed.status_code} {landed.url}")
        return landed

    def sso_flow(self) -> None:
        jar = self.browser.cookies
        for cookie in [c for c in jar if c.name == "ayni_session"]:
            jar.clear(cookie.domain, cookie.path, cookie.name)
        self.into_ayni()

    def password_sign_in(self) -> None:
        self.browser = self.topology.browser(self.address)  # a new browser, same machine
        self.refresh_token = None
        self.into_ayni()

    def refresh(self) -> None:
        soak = self.soak
        if self.refresh_token is None:
            verifier, challenge = pkce_pair()
            query = authorize_query(soak.refresher_id, "openid offline_access", challenge)
            answer = self.get(
                soak.endpoints["authorization_endpoint"], params=query, allow_redirects=False
            )
            location = answer.headers.get("Location", "")
            if not location.startswith(REDIRECT_URI):
                self.into_ayni()  # no SSO session: sign in first, then try again next time
                return
            code = parse_qs(urlsplit(location).query)["code"][0]
            tokens = self.post(
                soak.endpoints["token_endpoint"],
                data=code_form(code, verifier),
                auth=soak.refresher_auth,
            )
            self.refresh_token = tokens.json()["refresh_token"]
        rotated = self.post(
            soak.endpoints["token_endpoint"],
            data={"grant_type": "refresh_token", "refresh_token": self.refresh_token},
            auth=soak.refresher_auth,
        )
        if rotated.status_code != 200:
            raise RuntimeError(f"refresh answered {rotated.status_code}: {rotated.text[:200]}")
        self.refresh_token = rotated.json()["refresh_token"]

    def ayni_page(self, path: str) -> requests.Response:
        answer = self.get(f"{self.soak.ayni}{path}")
        if urlsplit(answer.url).path != path:  # AYNI's session ended: sign in, then again
            self.into_ayni()
            answer = self.get(f"{self.soak.ayni}{path}")
        if answer.status_code != 200:
            raise RuntimeError(f"{path} answered {answer.status_code}")
        return answer

    def boletas(self) -> None:
        page = self.ayni_page("/boletas")
        ids = re.findall(r'href="/boletas/(\d+)"', page.text)
        if ids:
            self.ayni_page(f"/boletas/{random.choice(ids)}")

    def export(self) -> None:
        self.ayni_page(random.choice(("/boletas/export.xlsx", "/boletas/export.pdf")))

    def admin_lookup(self) -> None:
        soak = self.soak
        api = f"{self.topology.url}/api/v1/users/{random.choice(soak.dnis)}"
        answer = self.get(api, headers={"Authorization": f"Bearer {soak.admin_token()}"})
        if answer.status_code != 200:
            raise RuntimeError(f"admin API answered {answer.status_code}")

    def run(self, deadline: float) -> None:
        actions: dict[str, Callable[[], None]] = {
            "sso_flow": self.sso_flow,
            "password_sign_in": self.password_sign_in,
            "refresh": self.refresh,
            "boletas": self.boletas,
            "export": self.export,
            "admin_lookup": self.admin_lookup,
        }
        names, weights = zip(*MIX, strict=True)
        record = self.soak.record
        while time.monotonic() < deadline:
            (name,) = random.choices(names, weights)
            began = time.monotonic()
            ok = True
            try:
                actions[name]()
            except Exception as error:  # counted and reported, the user goes on
                ok = False
                record.errors.append((record.now(), name, f"{type(error).__name__}: {error}"))
                self.refresh_token = None
            record.actions.append((record.now(), name, time.monotonic() - began, ok))


class Soak:
    def __init__(self, topology: Topology, ayni: str, engine: sa.Engine, database: str) -> None:
        self.topology = topology
        self.ayni = ayni
        self.engine = engine
        self.database = database
        self.record = Record(started=time.monotonic())
        self.endpoints: dict[str, str] = {}
        self.dnis: list[str] = []
        self.refresher_id = ""
        self.refresher_auth: tuple[str, str] = ("", "")
        self.admin_auth: tuple[str, str] = ("", "")
        self._token: tuple[str, float] = ("", 0.0)
        self._token_lock = threading.Lock()

    def admin_token(self) -> str:
        """The admin API client's client_credentials token, fetched again before it expires."""
        with self._token_lock:
            token, expires = self._token
            if time.monotonic() < expires - 30:
                return token
            answer = requests.post(
                self.endpoints["token_endpoint"],
                data={"grant_type": "client_credentials", "scope": ADMIN_SCOPE},
                auth=self.admin_auth,
                verify=str(self.topology.certificate),
                timeout=30,
            )
            self.record.statuses.append((self.record.now(), answer.status_code))
            answer.raise_for_status()
            body = answer.json()
            self._token = (body["access_token"], time.monotonic() + body["expires_in"])
            return self._token[0]

    def servers(self) -> dict[str, Served]:
        named = {
            f"passport {address}": served for address, served in self.topology.instances.items()
        }
        named["ayni"] = self.topology.ayni
        return named

    def sample(self) -> None:
        now = self.record.now()
        for name, served in self.servers().items():
            for pid in sorted(served.workers()):
                try:
                    status = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
                except FileNotFoundError:  # a worker restarting between the two reads
                    continue
                kib = int(re.search(r"^VmRSS:\s+(\d+) kB", status, re.M).group(1))  # type: ignore[union-attr]
                self.record.memory.append((now, name, pid, kib))
        with self.engine.connect() as connection:
            count = connection.execute(
                sa.text("SELECT count(*) FROM pg_stat_activity WHERE datname = :name"),
                {"name": self.database},
            ).scalar_one()
        self.record.connections.append((now, int(count) - 1))  # not this sampler's own

    def count_rows(self, phase: str) -> None:
        with self.engine.connect() as connection:
            counts = {
                table: int(connection.execute(sa.text(COUNT.format(table))).scalar_one())
                for table in TABLES
            }
        self.record.rows.append((self.record.now(), phase, counts))

    def purge(self) -> None:
        began = time.monotonic()
        output = run_cli("passport", "maintenance", "purge", "--json", env=self.topology.env)
        self.record.purges.append(
            (self.record.now(), time.monotonic() - began, json.loads(output.splitlines()[-1]))
        )

    def minutely(self) -> None:
        """Rows counted, the purge run, rows counted again (what the purge left)."""
        self.count_rows("before purge")
        try:
            self.purge()
        except AssertionError as error:
            self.record.errors.append((self.record.now(), "purge", str(error)[:300]))
        self.count_rows("after purge")

    def watch(self, deadline: float) -> None:
        """Samples every 5 s; rows and the purge every minute; ends at the deadline."""
        next_minute = time.monotonic() + 60
        self.count_rows("after purge")  # the start: nothing to purge yet
        while time.monotonic() < deadline - 1:
            self.sample()
            if time.monotonic() >= next_minute:
                next_minute += 60
                self.minutely()
            time.sleep(max(0.0, min(SAMPLE_SECONDS, deadline - time.monotonic())))
        self.sample()
        self.minutely()  # the last minute's


def prepare(soak: Soak, dnis: list[str]) -> None:
    topology = soak.topology
    run_cli(
        "relying_party_demo", "seed-demo", *[f"--dni={dni}" for dni in dnis], env=topology.ayni_env
    )
    refresher = json.loads(
        run_cli(
            "passport",
            *("clients", "create", "--name", "Soak refresher", "--json"),
            *("--redirect-uri", REDIRECT_URI, "--auth-method", "client_secret_basic"),
            *("--scope", "openid offline_access"),
            *("--grant-type", "authorization_code", "--grant-type", "refresh_token"),
            "--skip-consent",
            env=topology.env,
        )
    )
    soak.refresher_id = refresher["client_id"]
    soak.refresher_auth = (refresher["client_id"], refresher["client_secret"])
    admin = json.loads(
        run_cli(
            "passport",
            *("clients", "create", "--name", "Soak admin API", "--json"),
            *("--auth-method", "client_secret_basic", "--scope", ADMIN_SCOPE),
            *("--grant-type", "client_credentials"),
            env=topology.env,
        )
    )
    soak.admin_auth = (admin["client_id"], admin["client_secret"])
    discovery = requests.get(
        f"{topology.url}/.well-known/openid-configuration",
        verify=str(topology.certificate),
        timeout=30,
    )
    soak.endpoints = discovery.json()
    soak.dnis = dnis


# The backlog (``--backlog``): rows already dead, or dying one slice per minute of the run,
# so every purge during the load has something to remove. ``:k`` is the row's minute slice
# (0: dead at the start); a row turns dead when its time passes the purge's threshold (a day
# past expiry for codes, tokens and sessions, REUSE_WINDOW; at expiry for CAPTCHA challenges).
BACKLOG = {
    "authorization_codes": """
        INSERT INTO oauth_authorization_codes (code_hash, client_pk, user_id, redirect_uri,
            scope, auth_time, expires_at, used_at, created_at)
        SELECT encode(sha256(('backlog-code' || i)::bytea), 'hex'), :client_pk, :user_id,
            'https://rp.example/cb', 'openid', now() - interval '2 days', {dies}, NULL,
            now() - interval '2 days'
        FROM generate_series(1, :rows) AS i
    """,
    "tokens": """
        INSERT INTO oauth_tokens (client_pk, user_id, access_token_hash, refresh_token_hash,
            scope, family_id, is_offline, auth_time, access_expires_at, refresh_expires_at,
            created_at)
        SELECT :client_pk, :user_id, encode(sha256(('backlog-a' || i)::bytea), 'hex'),
            encode(sha256(('backlog-r' || i)::bytea), 'hex'), 'openid', md5('backlog-f' || i),
            false, now() - interval '3 days', {dies}, {dies}, now() - interval '3 days'
        FROM generate_series(1, :rows) AS i
    """,
    "sso_sessions": """
        INSERT INTO sso_sessions (sid, token_hash, user_id, auth_time, amr, created_at,
            last_seen_at, expires_at)
        SELECT md5('backlog-sid' || i), encode(sha256(('backlog-s' || i)::bytea), 'hex'),
            :user_id, now() - interval '3 days', '["pwd"]', now() - interval '3 days',
            now() - interval '3 days', {dies}
        FROM generate_series(1, :rows) AS i
    """,
    "captcha_challenges": """
        INSERT INTO captcha_challenges (id, answer_hash, created_at, expires_at)
        SELECT 'backlog-' || i, encode(sha256(('backlog-c' || i)::bytea), 'hex'),
            now() - interval '1 hour', {dies_now}
        FROM generate_series(1, :rows) AS i
    """,
}
# Expiry of slice k: dead k minutes into the run (k = 0: already dead at the start).
SLICE = "(i % (:minutes + 1)) * interval '1 minute' - interval '30 seconds'"


def add_backlog(soak: Soak, rows: int, minutes: int) -> dict[str, int]:
    """``rows`` dead-or-dying rows of each kind in BACKLOG; how many of each."""
    if rows <= 0:
        return {}
    with soak.engine.begin() as connection:
        client_pk = connection.execute(
            sa.text("SELECT id FROM oauth_clients WHERE client_id = :id"),
            {"id": soak.refresher_id},
        ).scalar_one()
        user_id = connection.execute(sa.text("SELECT min(id) FROM users")).scalar_one()
        for statement in BACKLOG.values():
            sql = statement.format(
                dies=f"now() - interval '1 day' + {SLICE}", dies_now=f"now() + {SLICE}"
            )
            connection.execute(
                sa.text(sql),
                {"client_pk": client_pk, "user_id": user_id, "rows": rows, "minutes": minutes},
            )
    return dict.fromkeys(BACKLOG, rows)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def summarise(record: Record, minutes: int, meta: dict[str, Any]) -> dict[str, Any]:
    per_minute = []
    for minute in range(minutes):
        inside = [a for a in record.actions if minute * 60 <= a[0] < (minute + 1) * 60]
        statuses = [s for t, s in record.statuses if minute * 60 <= t < (minute + 1) * 60]
        by_kind = {}
        for name, _ in MIX:
            took = [a[2] * 1000 for a in inside if a[1] == name]
            by_kind[name] = {
                "count": len(took),
                "p50_ms": round(percentile(took, 0.5), 1),
                "p99_ms": round(percentile(took, 0.99), 1),
            }
        took = [a[2] * 1000 for a in inside]
        per_minute.append(
            {
                "minute": minute + 1,
                "actions": len(inside),
                "requests": len(statuses),
                "5xx": sum(1 for s in statuses if s >= 500),
                "failed_actions": sum(1 for a in inside if not a[3]),
                "p50_ms": round(percentile(took, 0.5), 1),
                "p99_ms": round(percentile(took, 0.99), 1),
                "by_action": by_kind,
            }
        )
    # A worker's RSS jumps by 64 MiB per password hash in flight (Argon2id's memory, freed
    # after): the floor of each minute (its smallest sample) is what would show a leak.
    workers: dict[str, dict[str, Any]] = {}
    for t, name, pid, kib in record.memory:
        worker = workers.setdefault(f"{name} pid {pid}", {"samples": []})
        worker["samples"].append((round(t, 1), kib))
    for worker in workers.values():
        floors, peaks = [], []
        for minute in range(minutes):
            inside = [k for t, k in worker["samples"] if minute * 60 <= t < (minute + 1) * 60]
            floors.append(min(inside, default=None))
            peaks.append(max(inside, default=None))
        worker["floor_kib_per_minute"] = floors
        worker["peak_kib_per_minute"] = peaks
        steady = [k for k in floors[1:] if k is not None] or [k for k in floors if k is not None]
        worker["floor_growth_after_first_minute_pct"] = round(
            100 * (steady[-1] - steady[0]) / steady[0], 1
        )
        worker["floor_spread_after_first_minute_pct"] = round(
            100 * (max(steady) - min(steady)) / min(steady), 1
        )
    rows_per_minute = []
    after_purges = [(t, counts) for t, phase, counts in record.rows if phase == "after purge"]
    before_purges = [(t, counts) for t, phase, counts in record.rows if phase == "before purge"]
    for (_, left), (t1, grown), (_, kept) in zip(
        after_purges, before_purges, after_purges[1:], strict=False
    ):
        rows_per_minute.append(
            {
                "at_s": round(t1),
                "added": {table: grown[table] - left[table] for table in TABLES},
                "total_after_purge": kept,
            }
        )
    connections = [c for _, c in record.connections]
    statuses = [s for _, s in record.statuses]
    errors: dict[str, int] = {}
    for _, name, text in record.errors:
        key = f"{name}: {text[:120]}"
        errors[key] = errors.get(key, 0) + 1
    return {
        **meta,
        "total": {
            "actions": len(record.actions),
            "requests": len(statuses),
            "5xx": sum(1 for s in statuses if s >= 500),
            "statuses": {str(s): statuses.count(s) for s in sorted(set(statuses))},
            "failed_actions": sum(1 for a in record.actions if not a[3]),
            "p50_ms": round(percentile([a[2] * 1000 for a in record.actions], 0.5), 1),
            "p99_ms": round(percentile([a[2] * 1000 for a in record.actions], 0.99), 1),
        },
        "errors": errors,
        "per_minute": per_minute,
        "workers_rss": workers,
        "postgres_connections": {
            "min": min(connections, default=0),
            "max": max(connections, default=0),
            "median": statistics.median(connections) if connections else 0,
            "samples": [(round(t, 1), c) for t, c in record.connections],
        },
        "rows": [(round(t), phase, counts) for t, phase, counts in record.rows],
        "rows_added_per_minute": rows_per_minute,
        "purges": [
            {"at_s": round(t), "seconds": round(took, 2), "removed": removed}
            for t, took, removed in record.purges
        ],
    }


def plot(summary: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(2, 2, figsize=(11, 7), dpi=90)
    minutes = [m["minute"] for m in summary["per_minute"]]
    latency = axes[0][0]
    latency.plot(minutes, [m["p99_ms"] for m in summary["per_minute"]], "k-o", label="all, p99")
    for name in ("sso_flow", "refresh", "boletas", "password_sign_in"):
        latency.plot(
            minutes, [m["by_action"][name]["p99_ms"] for m in summary["per_minute"]], label=name
        )
    latency.set(title="p99 per minute (ms)", xlabel="minute", yscale="log")
    latency.legend(fontsize=7)
    memory = axes[0][1]
    for name, worker in summary["workers_rss"].items():
        times = [t / 60 for t, _ in worker["samples"]]
        (line,) = memory.plot(
            times, [k / 1024 for _, k in worker["samples"]], linewidth=0.5, alpha=0.4
        )
        floors = worker["floor_kib_per_minute"]
        memory.plot(
            [m + 0.5 for m, k in enumerate(floors) if k is not None],
            [k / 1024 for k in floors if k is not None],
            color=line.get_color(),
            linewidth=2,
            label=name,
        )
    memory.set(
        title="RSS per worker, MiB (thick: floor per minute)", xlabel="minute", ylim=(0, None)
    )
    memory.legend(fontsize=6)
    connections = axes[1][0]
    samples = summary["postgres_connections"]["samples"]
    connections.plot([t / 60 for t, _ in samples], [c for _, c in samples], "b-")
    connections.set(
        title="PostgreSQL connections (pg_stat_activity)", xlabel="minute", ylim=(0, None)
    )
    rows = axes[1][1]
    added = summary["rows_added_per_minute"]
    purges = summary["purges"]
    for table, kind in PURGED_AS.items():
        (line,) = rows.plot(
            [a["at_s"] / 60 for a in added], [a["added"][table] for a in added], label=table
        )
        rows.plot(
            [p["at_s"] / 60 for p in purges],
            [p["removed"][kind] for p in purges],
            linestyle="--",
            color=line.get_color(),
        )
    rows.set(title="rows added per minute (dashed: removed by the purge)", xlabel="minute")
    rows.legend(fontsize=7)
    figure.suptitle(f"Passport soak {summary['date']}: {summary['machine']}", fontsize=9)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=int, default=10)
    parser.add_argument("--users", type=int, default=8, help="concurrent virtual users")
    parser.add_argument("--server", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument(
        "--backlog",
        type=int,
        default=20_000,
        help="dead or dying rows of each purged kind added before the load (0: none)",
    )
    args = parser.parse_args()
    dnis = [f"{41000001 + number}" for number in range(args.users)]
    names = ("Rosa", "Juan", "María", "Pedro", "Ñusta", "José", "Inés", "Túpac", "Elena", "Raúl")
    people = {dni: names[number % len(names)] for number, dni in enumerate(dnis)}
    with (
        tempfile.TemporaryDirectory(prefix="passport-soak-") as folder,
        fresh_postgres_database(args.server, "passport_soak") as url,
        start_topology(
            url,
            Path(folder),
            args.redis_url,
            people,
            PASSWORD,
            login_limit=100_000,
            serve_options=SERVE_OPTIONS,
        ) as topology,
    ):
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        ayni = topology.ayni.url
        soak = Soak(topology, ayni, engine, sa.make_url(url).database or "")
        try:
            prepare(soak, dnis)
            backlog = add_backlog(soak, args.backlog, args.minutes)
            soak.record = Record(started=time.monotonic())
            deadline = time.monotonic() + args.minutes * 60
            threads = [
                threading.Thread(target=VirtualUser(soak, dni).run, args=(deadline,), daemon=True)
                for dni in dnis
            ]
            watcher = threading.Thread(target=soak.watch, args=(deadline,), daemon=True)
            for thread in [*threads, watcher]:
                thread.start()
            for thread in [*threads, watcher]:
                thread.join(timeout=max(1.0, deadline - time.monotonic()) + 120)
            meta = {
                "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                "machine": f"{platform.machine()}, 2 vCPU shared (noisy: other agents running)",
                "minutes": args.minutes,
                "virtual_users": args.users,
                "backlog_rows_per_kind": backlog,
                "mix": dict(MIX),
                "topology": "nginx (TLS) -> 2 passport instances x 2 workers x 4 threads; "
                "AYNI_SERVIDOR 2 workers x 4 threads; PostgreSQL 15; Redis",
            }
            summary = summarise(soak.record, args.minutes, meta)
        finally:
            engine.dispose()
    args.out.mkdir(parents=True, exist_ok=True)
    stem = f"soak-{datetime.now(UTC):%Y-%m-%d}-{args.minutes}min"
    (args.out / f"{stem}.json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    plot(summary, args.out / f"{stem}.png")
    total = summary["total"]
    print(json.dumps({"total": total, "errors": summary["errors"]}, indent=1))
    for minute in summary["per_minute"]:
        print(
            f"minute {minute['minute']:>2}: {minute['actions']:>5} actions "
            f"{minute['requests']:>6} requests, 5xx {minute['5xx']}, "
            f"p50 {minute['p50_ms']} ms, p99 {minute['p99_ms']} ms"
        )
    for name, worker in summary["workers_rss"].items():
        floors = [k // 1024 if k else None for k in worker["floor_kib_per_minute"]]
        peaks = [k // 1024 if k else None for k in worker["peak_kib_per_minute"]]
        print(
            f"{name}: floor MiB per minute {floors} "
            f"({worker['floor_growth_after_first_minute_pct']:+}%, spread "
            f"{worker['floor_spread_after_first_minute_pct']}%), peaks {peaks}"
        )
    print(
        "postgres connections:",
        {k: v for k, v in summary["postgres_connections"].items() if k != "samples"},
    )
    print("rows added per minute:", summary["rows_added_per_minute"])
    print("purges:", summary["purges"])
    print(f"written: {args.out / stem}.json, .png")


if __name__ == "__main__":
    main()
