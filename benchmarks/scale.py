"""National scale: the same hot paths on a database of 10,000 users and on one of a million.

    .venv/bin/python benchmarks/scale.py --server postgresql+psycopg://postgres@127.0.0.1:5432/postgres
        [--users 1000000] [--tokens-per-user 5] [--sessions-per-user 1] [--audit-per-user 10]
        [--baseline-users 10000] [--samples 200] [--import-rows 50000] [--skip-baseline] [--keep]
        [--users-only | --import-only | --sign-in-only]

For each size (the baseline first, then ``--users``) it creates a fresh database on the server
(``passport_scale_<random>``), migrates it, fills it in bulk with ``INSERT ... SELECT
generate_series`` (users spread over real DRE/UGEL names with accented Spanish names, tokens
half of them expired, SSO sessions half of them expired, audit history over two years), runs
ANALYZE, then times in this process with the Flask test client (no HTTP server, like
oidc_profile.py): password sign-in, the code flow (authorize + token), refresh, introspection,
userinfo, the console's user search by DNI prefix and by name (accent- and case-insensitive),
the user list, the audit log's first page and a page far back, a 50,000-row CSV import preview
and its confirmation, and ``passport maintenance purge``. The database is dropped afterwards
(unless --keep). One JSON line per measurement; a table of p50/p99 and the ratio to the
baseline at the end. ``--users-only`` fills only the users (and their name words) and times
only the user list and the console's searches (DNI, a common surname prefix, a rare name, an
accented given name, surname and given name): a few minutes instead of the full fill.
``--import-only`` fills only the users and times only the CSV import (preview, confirmation,
and the same file again, every row unchanged); ``--sign-in-only`` fills only the users and times
only password sign-ins (``--samples`` of them).

The bulk-filled audit history is written without hashes, as events written before the hash
chain existed (migration 0006): ``passport audit verify`` counts them as "older unchained"
and checks the chain from the first event the benchmark itself records. Computing SHA-256
links for ten million rows row by row would dominate the fill and measure nothing the
benchmark is about. The oldest 1% of that history is past AUDIT_RETENTION_DAYS, so the purge
archives it (an anchored segment) as it would in production.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import logging
import re
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import sqlalchemy as sa
from oidc_requests import REDIRECT_URI
from oidc_requests import authorize_query
from oidc_requests import code_form
from oidc_requests import pkce_pair

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "Clave2024ok"
DNI_BASE = 10_000_000  # users get DNIs 10000001, 10000002, ...
# (DRE, UGEL, weight): where teachers work, roughly as many as each UGEL's staff (estimate;
# names from /work/shared/domain/boleta-y-legajo.md §4). Lima Metropolitana is the largest.
TERRITORIES = (
    ("DRE LIMA METROPOLITANA", "UGEL 01 SAN JUAN DE MIRAFLORES", 9),
    ("DRE LIMA METROPOLITANA", "UGEL 02 RÍMAC", 7),
    ("DRE LIMA METROPOLITANA", "UGEL 03 BREÑA", 6),
    ("DRE LIMA METROPOLITANA", "UGEL 04 COMAS", 8),
    ("DRE LIMA METROPOLITANA", "UGEL 05 SAN JUAN DE LURIGANCHO", 8),
    ("DRE LIMA METROPOLITANA", "UGEL 06 ATE", 7),
    ("DRE LIMA METROPOLITANA", "UGEL 07 SAN BORJA", 6),
    ("DRE PIURA", "UGEL PIURA", 5),
    ("DRE PIURA", "UGEL SULLANA", 3),
    ("DRE PIURA", "UGEL PAITA", 2),
    ("DRE PIURA", "UGEL HUANCABAMBA", 2),
    ("DRE PIURA", "UGEL AYABACA", 2),
    ("GRE LAMBAYEQUE", "UGEL LAMBAYEQUE", 3),
    ("GRE LAMBAYEQUE", "UGEL CHICLAYO", 4),
    ("GRE LAMBAYEQUE", "UGEL FERREÑAFE", 2),
    ("GRE LA LIBERTAD", "UGEL 04 TRUJILLO SUR ESTE", 4),
    ("GRE LA LIBERTAD", "UGEL PACASMAYO", 2),
    ("DRE JUNÍN", "UGEL HUANCAYO", 4),
    ("DRE HUANCAVELICA", "UGEL HUAYTARÁ", 1),
    ("DRE ICA", "UGEL ICA", 3),
    ("DRE ICA", "UGEL CHINCHA", 2),
    ("DRE ICA", "UGEL PALPA", 1),
    ("DRE PUNO", "UGEL SAN ROMÁN", 4),
    ("GRE AREQUIPA", "UGEL AREQUIPA NORTE", 4),
    ("GRE CUSCO", "UGEL CUSCO", 4),
    ("DRE AYACUCHO", "UGEL HUAMANGA", 3),
    ("DRE LORETO", "UGEL MAYNAS", 3),
)
GIVEN = (
    "María", "José", "Rosa Elena", "Luis Ángel", "Ana Lucía", "Jesús", "Sofía", "Raúl",
    "Carmen Rosa", "Víctor", "Inés", "Martín", "Julia", "César", "Mónica", "Óscar", "Ramón",
    "Lucía", "Iván", "Nélida", "Yolanda", "Wálter", "Teófilo", "Zoila", "Efraín",
)  # fmt: skip
FAMILY = (
    "Quispe", "Huamán", "Mamani", "Flores", "Rodríguez", "Sánchez", "García", "Chávez",
    "Ramírez", "Mendoza", "Gutiérrez", "Vásquez", "Díaz", "Pérez", "Ñaupari", "Cárdenas",
    "Condori", "Ccahuana", "Yupanqui", "Álvarez", "Gómez", "Núñez", "Tórres", "Ríos",
    "Espinoza", "Castillo", "Paredes", "Rojas", "Zúñiga", "Huarcaya", "Apaza", "Ticona",
)  # fmt: skip
EVENTS = (
    "login.success", "login.success", "login.success", "login.success", "token.issued",
    "token.issued", "token.refreshed", "login.failure", "logout", "password.reset_requested",
)  # fmt: skip


# One person in RARE_EVERY has a surname nobody else has: the console's "rare name" search.
RARE_EVERY = 10_007
RARE_FAMILY = "Llacsahuanga Yauricasa"


def sql_array(values: tuple[str, ...]) -> str:
    return "(ARRAY[" + ",".join("'" + v.replace("'", "''") + "'" for v in values) + "])"


def fill(
    engine: sa.Engine, users: int, tokens: int, sessions: int, events: int
) -> dict[str, float]:
    """Bulk rows in a migrated, empty database; seconds per table."""
    from passport.security.passwords import hash_password

    spread = [(dre, ugel) for dre, ugel, weight in TERRITORIES for _ in range(weight)]
    dres = sql_array(tuple(d for d, _ in spread))
    ugels = sql_array(tuple(u for _, u in spread))
    given, family = sql_array(GIVEN), sql_array(FAMILY)
    # What passport.accounts.models.search_name_of gives for these names, in SQL.
    accents, plain = "ÁÉÍÓÚáéíóúÑñÜü", "AEIOUaeiouNnUu"
    password_hash = hash_password(PASSWORD)
    timings: dict[str, float] = {}
    statements = {
        "users": f"""
            INSERT INTO users (sub, dni, email, email_verified, given_name, family_name,
                phone_number_verified, locale, dre, ugel, status, is_admin, password_hash,
                password_changed_at, link_generation, failed_logins, lockouts, created_at,
                updated_at, search_name)
            SELECT md5('sub' || i), (:base + i)::text, 'docente' || i || '@minedu.edu.pe', true,
                g, f, false, 'es-PE', {dres}[1 + (i * 7) % {len(spread)}],
                {ugels}[1 + (i * 7) % {len(spread)}],
                CASE WHEN i % 50 = 0 THEN 'disabled' WHEN i % 12 = 0 THEN 'pending'
                     ELSE 'active' END,
                false, CASE WHEN i % 12 = 0 AND i % 50 <> 0 THEN NULL ELSE :hash END,
                now() - interval '200 days', 0, 0, 0, now() - interval '400 days', now(),
                lower(translate(g || ' ' || f, '{accents}', '{plain}'))
            FROM (
                SELECT i, {given}[1 + (i * 13) % {len(GIVEN)}] AS g,
                    CASE WHEN i % {RARE_EVERY} = 0 THEN '{RARE_FAMILY}'
                    ELSE {family}[1 + (i * 17) % {len(FAMILY)}] || ' '
                    || {family}[1 + (i / 7 * 19) % {len(FAMILY)}] END AS f
                FROM generate_series(1, :users) AS i
            ) AS people
        """,  # noqa: S608 - the constants of this file, no input
        # What passport.accounts.models.name_words_of gives: each name word, and the DNI.
        "user_name_words": r"""
            INSERT INTO user_name_words (user_id, word, family_name, given_name)
            SELECT id, word, family_name, given_name
            FROM users, regexp_split_to_table(search_name, '\s+') AS word
            UNION
            SELECT id, dni, family_name, given_name FROM users
        """,
        # Half expired (past their family's life), half live; one client; families of one.
        "oauth_tokens": """
            INSERT INTO oauth_tokens (client_pk, user_id, access_token_hash, refresh_token_hash,
                scope, family_id, is_offline, auth_time, access_expires_at, refresh_expires_at,
                created_at)
            SELECT 1, 1 + i % :users, encode(sha256(('a' || i)::bytea), 'hex'),
                encode(sha256(('r' || i)::bytea), 'hex'), 'openid profile', md5('f' || i),
                false, now() - interval '3 days',
                CASE WHEN i % 2 = 0 THEN now() - interval '3 days'
                     ELSE now() + interval '10 minutes' END,
                CASE WHEN i % 2 = 0 THEN now() - interval '2 days'
                     ELSE now() + interval '8 hours' END,
                now() - interval '3 days'
            FROM generate_series(1, :tokens) AS i
        """,
        "sso_sessions": """
            INSERT INTO sso_sessions (sid, token_hash, user_id, auth_time, amr, created_at,
                last_seen_at, expires_at)
            SELECT md5('sid' || i), encode(sha256(('s' || i)::bytea), 'hex'), 1 + i % :users,
                now() - interval '3 days', '["pwd"]', now() - interval '3 days',
                now() - interval '3 days',
                CASE WHEN i % 2 = 0 THEN now() - interval '2 days'
                     ELSE now() + interval '8 hours' END
            FROM generate_series(1, :sessions) AS i
        """,
        # Two years of history in id order; the oldest 1% is six years old (past retention).
        "audit_events": f"""
            INSERT INTO audit_events (occurred_at, event, outcome, actor_user_id,
                subject_user_id, client_id, ip_address, user_agent)
            SELECT CASE WHEN i <= :events / 100 THEN now() - interval '2190 days'
                        ELSE now() - (interval '730 days') * (1 - i::float / :events) END,
                ({sql_array(EVENTS)})[1 + i % {len(EVENTS)}], 'success', NULL,
                1 + (i * 31) % :users, 'ayni', '10.' || (i % 250) || '.0.1', 'Mozilla/5.0'
            FROM generate_series(1, :events) AS i
        """,  # noqa: S608 - the constants of this file, no input
    }
    values = {
        "base": DNI_BASE,
        "hash": password_hash,
        "users": users,
        "tokens": tokens,
        "sessions": sessions,
        "events": events,
    }
    with engine.connect() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO oauth_clients (client_id, name, secret_hash, redirect_uris,"
                " post_logout_redirect_uris, token_endpoint_auth_method, grant_types, scopes,"
                " skip_consent, id_token_signed_response_alg, access_token_format,"
                " is_resource_server, is_disabled, created_at, updated_at) VALUES ('ayni',"
                " 'AYNI (relleno)', NULL, '[]', '[]', 'none', '[]', '[]', true, 'RS256',"
                " 'opaque', false, false, now(), now())"
            )
        )
        connection.commit()
    for table, statement in statements.items():
        if table not in ("users", "user_name_words") and not tokens + sessions + events:
            continue
        started = time.monotonic()
        with engine.connect() as connection:
            names = {name for name in values if f":{name}" in statement}
            connection.execute(sa.text(statement), {k: values[k] for k in names})
            connection.commit()
        timings[table] = round(time.monotonic() - started, 1)
        print(json.dumps({"filled": table, "seconds": timings[table]}), flush=True)
    started = time.monotonic()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(sa.text("VACUUM ANALYZE"))
    timings["vacuum_analyze"] = round(time.monotonic() - started, 1)
    return timings


class Timer:
    """Wall-clock samples per measurement name."""

    def __init__(self) -> None:
        self.samples: dict[str, list[float]] = {}

    def time(self, name: str, call: Callable[[], Any]) -> Any:
        started = time.perf_counter()
        result = call()
        self.samples.setdefault(name, []).append((time.perf_counter() - started) * 1000)
        return result

    def summary(self) -> dict[str, dict[str, float]]:
        out = {}
        for name, values in self.samples.items():
            ordered = sorted(values)
            p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
            out[name] = {
                "n": len(values),
                "p50_ms": round(statistics.median(ordered), 2),
                "p99_ms": round(p99, 2),
            }
        return out


def measure(
    app: Any,
    users: int,
    events: int,
    samples: int,
    import_rows: int,
    timer: Timer,
    users_only: bool = False,
    import_only: bool = False,
    sign_in_only: bool = False,
) -> dict[str, Any]:
    """Time every hot path and console page against the filled database (or only the user
    pages, with ``users_only``)."""
    from flask import Response

    from passport.accounts.models import User
    from passport.accounts.models import UserStatus
    from passport.extensions import db
    from passport.login.sessions import start_sso_session
    from passport.maintenance.purge import purge
    from passport.mfa.models import TOTPCredential
    from passport.mfa.totp import encrypt_secret
    from passport.mfa.totp import new_secret
    from passport.oidc.clients import create_client
    from passport.oidc.clients import validate_metadata

    with app.app_context():
        row, secret = create_client(
            validate_metadata(
                {
                    "name": "Escala",
                    "redirect_uris": [REDIRECT_URI],
                    "token_endpoint_auth_method": "client_secret_basic",
                    "scopes": ["openid", "profile", "email", "offline_access"],
                    "grant_types": ["authorization_code", "refresh_token"],
                    "skip_consent": True,
                    "is_resource_server": True,
                }
            )
        )
        client_id = row.client_id
        admin = db.session.get(User, 1)
        assert admin is not None
        admin.is_admin = True
        admin.status = UserStatus.ACTIVE
        db.session.add(
            TOTPCredential(
                user_id=admin.id,
                secret_encrypted=encrypt_secret(new_secret()),
                confirmed_at=admin.created_at,
            )
        )
        db.session.commit()
        cookies = {}
        for name, amr in (("user", ["pwd"]), ("admin", ["pwd", "otp"])):
            with app.test_request_context("/"):
                start_sso_session(db.session.get(User, 1 if name == "admin" else 2), amr)
                response = app.process_response(Response())
            cookie_name = app.config["SSO_COOKIE_NAME"]
            cookies[name] = next(
                c.split(";")[0].split("=", 1)[1]
                for c in response.headers.getlist("Set-Cookie")
                if c.startswith(cookie_name + "=")
            )
        db.session.remove()
    auth = {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}
    browser = app.test_client()
    browser.set_cookie(app.config["SSO_COOKIE_NAME"], cookies["user"])
    console = app.test_client()
    console.set_cookie(app.config["SSO_COOKIE_NAME"], cookies["admin"])
    rng = secrets.SystemRandom()

    def active_dni() -> str:
        while True:
            i = rng.randrange(3, users + 1)
            if i % 12 and i % 50:
                return str(DNI_BASE + i)

    def sign_in() -> None:
        visitor = app.test_client()
        answer = timer.time(
            "password_sign_in",
            lambda: visitor.post(
                "/ingresar", data={"username": active_dni(), "password": PASSWORD}
            ),
        )
        assert answer.status_code == 302, answer.get_data(as_text=True)[:300]

    def code_flow(scope: str = "openid profile") -> dict[str, Any]:
        verifier, challenge = pkce_pair()
        query = authorize_query(client_id, scope, challenge)

        def flow() -> Any:
            answer = browser.get("/authorize", query_string=query)
            code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]
            return browser.post("/token", data=code_form(code, verifier), headers=auth)

        answer = timer.time("code_flow", flow)
        assert answer.status_code == 200, answer.get_json()
        return dict(answer.get_json())

    if sign_in_only:
        for round_number in range(samples + 5):
            if round_number == 5:
                timer.samples.clear()  # warm-up done
            sign_in()
        return {}
    skip_protocol = users_only or import_only
    refresh_token = "" if skip_protocol else code_flow("openid offline_access")["refresh_token"]
    for round_number in range(0 if skip_protocol else samples + 5):
        if round_number == 5:
            timer.samples.clear()  # warm-up done
        if round_number % 4 == 0:
            sign_in()
        tokens = code_flow()
        answer = timer.time(
            "refresh",
            lambda token=refresh_token: browser.post(
                "/token",
                data={"grant_type": "refresh_token", "refresh_token": token},
                headers=auth,
            ),
        )
        assert answer.status_code == 200, answer.get_json()
        refresh_token = answer.get_json()["refresh_token"]
        access = tokens["access_token"]
        answer = timer.time(
            "introspection",
            lambda access=access: browser.post("/introspect", data={"token": access}, headers=auth),
        )
        assert answer.get_json()["active"] is True
        answer = timer.time(
            "userinfo",
            lambda access=access: browser.get(
                "/userinfo", headers={"Authorization": "Bearer " + access}
            ),
        )
        assert answer.status_code == 200
    pages: dict[str, Callable[[], str]] = {
        "console_users_list": lambda: "/admin/usuarios",
        "console_search_dni_prefix": lambda: f"/admin/usuarios?q={active_dni()[:6]}",
        "console_search_dni_exact": lambda: f"/admin/usuarios?q={active_dni()}",
        # The mix measured before the word index (README), kept to compare.
        "console_search_name": lambda: (
            f"/admin/usuarios?q={rng.choice(['HUAMAN', 'ñaupari', 'Zuniga', 'mamani rosa'])}"
        ),
        # About 1 person in 16 carries each surname: tens of thousands of matches.
        "console_search_common_surname_prefix": lambda: (
            f"/admin/usuarios?q={rng.choice(['quisp', 'MAMAN', 'huam', 'condo'])}"
        ),
        "console_search_rare_name": lambda: (
            f"/admin/usuarios?q={rng.choice(['yauricasa', 'LLACSAHUANGA', 'llacsa yauri'])}"
        ),
        "console_search_accented_given_name": lambda: (
            f"/admin/usuarios?q={rng.choice(['Efraín', 'teófilo', 'NÉLIDA', 'ángel'])}"
        ),
        "console_search_surname_and_given": lambda: (
            f"/admin/usuarios?q={rng.choice(['mamani rosa', 'quispe josé', 'ñaupari zoila'])}"
        ),
    }
    if users_only:
        for name, path in pages.items():
            for _ in range(samples):
                answer = timer.time(name, lambda path=path: console.get(path()))
                assert answer.status_code == 200, (name, answer.status_code)
        return {}
    pages |= {
        "console_audit_first_page": lambda: "/admin/auditoria",
        # Following "Siguiente" far back: the keyset link (an id deep in the history).
        "console_audit_far_page": lambda: (
            f"/admin/auditoria?page=1000&antes={rng.randrange(events // 10, events // 5)}"
        ),
    }
    for name, path in ({} if import_only else pages).items():
        for _ in range(min(samples, 50)):
            answer = timer.time(name, lambda path=path: console.get(path()))
            assert answer.status_code == 200, (name, answer.status_code)
    for _ in range(
        0 if import_only else 5
    ):  # an old offset link (?page=N alone): what keysets avoid
        answer = timer.time(
            "console_audit_offset_page_2000", lambda: console.get("/admin/auditoria?page=2000")
        )
        assert answer.status_code == 200
    figures: dict[str, Any] = {}
    # A 50,000-row import: preview, then confirm. Its activation mails are queued; in
    # production a thread sends them after the response, so they are not drained in the timed
    # request (the test client would run that "after" inside it): their sending is timed apart.
    import passport.admin.imports as import_views
    from passport.accounts.mail_queue import send_pending

    import_views.drain_after_response = lambda: None  # type: ignore[assignment]
    lines = ["dni,email,given_name,family_name,dre,ugel"]
    lines += [
        f"{70_000_000 + n},import{n}@minedu.edu.pe,José Ángel,Ñaupari Núñez,DRE PUNO,UGEL SAN ROMÁN"
        for n in range(import_rows)
    ]
    content = ("\n".join(lines) + "\n").encode()
    figures["import_megabytes"] = round(len(content) / 1024 / 1024, 2)
    for label in ("import", "import_again"):  # again: every row is unchanged

        def upload() -> Any:
            return console.post(
                "/admin/usuarios/importar",
                data={"reason": "escala", "file": (io.BytesIO(content), "docentes.csv")},
                content_type="multipart/form-data",
            )

        preview = timer.time(f"{label}_preview", upload)
        text = preview.get_data(as_text=True)
        action = re.search(r'action="(/admin/usuarios/importar/[^"]+/confirmar)"', text)
        assert action, text[:500]
        answer = timer.time(
            f"{label}_confirm",
            lambda action=action: console.post(action.group(1)),  # CSRF is off here
        )
        assert answer.status_code in (200, 302), answer.status_code
    with app.app_context():
        started = time.monotonic()
        sent = send_pending(limit=1000).sent
        figures["queued_mails_per_second"] = round(sent / (time.monotonic() - started), 1)
    if import_only:
        return figures
    with app.app_context():
        started = time.monotonic()
        figures["purge_counts"] = purge()
        figures["purge_seconds"] = round(time.monotonic() - started, 1)
        started = time.monotonic()
        figures["purge_again_counts"] = purge()  # nothing left: the cost of a quiet run
        figures["purge_again_seconds"] = round(time.monotonic() - started, 2)
    return figures


def run_size(args: Any, users: int) -> dict[str, Any]:
    from flask_migrate import upgrade

    from config import DevelopmentConfig
    from passport import create_app

    server = sa.make_url(args.server)
    name = f"passport_scale_{secrets.token_hex(4)}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = server.set(database=name).render_as_string(hide_password=False)
    folder = Path(tempfile.mkdtemp(prefix="passport-scale-"))
    try:
        app = create_app(
            DevelopmentConfig,
            overrides={
                "SQLALCHEMY_DATABASE_URI": url,
                "SECRET_KEY": secrets.token_urlsafe(32),
                "CAPTCHA_ENABLED": False,
                "WTF_CSRF_ENABLED": False,
                "RATELIMIT_ENABLED": False,
                "MAIL_OUTBOX": str(folder / "outbox"),
                "MAIL_QUEUE_IN_BACKGROUND": False,
            },
        )
        logging.disable(logging.WARNING)
        from passport.extensions import db

        with app.app_context():
            upgrade()
            engine = db.engine
            per_user = 0 if args.users_only or args.import_only or args.sign_in_only else 1
            timings = fill(
                engine,
                users,
                users * args.tokens_per_user * per_user,
                users * args.sessions_per_user * per_user,
                users * args.audit_per_user * per_user,
            )
        timer = Timer()
        events = users * args.audit_per_user
        figures = measure(
            app,
            users,
            events,
            args.samples,
            args.import_rows,
            timer,
            args.users_only,
            args.import_only,
            args.sign_in_only,
        )
        result = {
            "users": users,
            "fill_seconds": timings,
            "latency": timer.summary(),
            **figures,
        }
        print(json.dumps(result), flush=True)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        return result
    finally:
        if args.keep:
            print(json.dumps({"kept_database": name}), flush=True)
        else:
            with admin.connect() as connection:
                connection.execute(
                    sa.text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": name},
                )
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--server", required=True, help="a PostgreSQL URL (any database)")
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--baseline-users", type=int, default=10_000)
    parser.add_argument("--tokens-per-user", type=int, default=5)
    parser.add_argument("--sessions-per-user", type=int, default=1)
    parser.add_argument("--audit-per-user", type=int, default=10)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--import-rows", type=int, default=50_000)
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument(
        "--users-only",
        action="store_true",
        help="fill only users and time only the console's user list and searches",
    )
    parser.add_argument(
        "--import-only",
        action="store_true",
        help="fill only users and time only the CSV import (preview and confirmation)",
    )
    parser.add_argument(
        "--sign-in-only",
        action="store_true",
        help="fill only users and time only password sign-ins",
    )
    parser.add_argument("--keep", action="store_true", help="keep the databases (to inspect)")
    args = parser.parse_args()
    sizes = ([] if args.skip_baseline else [args.baseline_users]) + [args.users]
    results = [run_size(args, users) for users in sizes]
    if len(results) == 2:
        small, large = results
        print(
            f"\n{'measurement':32} {'p50 small':>10} {'p50 large':>10} {'ratio':>6}"
            f" {'p99 large':>10}"
        )
        for name, large_figures in large["latency"].items():
            small_figures = small["latency"].get(name)
            if not small_figures:
                continue
            ratio = large_figures["p50_ms"] / max(small_figures["p50_ms"], 0.001)
            print(
                f"{name:32} {small_figures['p50_ms']:>10} {large_figures['p50_ms']:>10}"
                f" {ratio:>6.2f} {large_figures['p99_ms']:>10}"
            )


if __name__ == "__main__":
    main()
