"""The production topology of deploy/, started for real: nginx in front of two Passport instances.

Shared by tests/integration/operations/test_proxy_topology.py (whose docstring explains the
set-up: deploy/passport.env with ``PASSPORT_ENV=production``, a throw-away certificate, the
CAPTCHA "read" through a shrunk alphabet and the known secret key) and benchmarks/soak.py.
``start_topology`` migrates the given PostgreSQL database, creates the people and AYNI_SERVIDOR's
client, and runs two ``passport serve`` instances, ``ayni serve`` and nginx until the block ends.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import itertools
import json
import os
import re
import secrets
import subprocess
import sys
import zlib
from collections.abc import Iterator
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import redis
import requests
import sqlalchemy as sa
from cryptography.fernet import Fernet
from requests.adapters import HTTPAdapter

from tests.helpers import csrf_in
from tests.relying_party_demo.conftest import PASSPORT_AYNI_PROFILE
from tests.relying_party_demo.conftest import fapi2_registration
from tests.served import Proxy
from tests.served import Served
from tests.served import free_port
from tests.served import nginx
from tests.served import read_env_file
from tests.served import render_template
from tests.served import self_signed_certificate
from tests.served import serve

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
CAPTCHA_ALPHABET = "ACDE"
CAPTCHA_LENGTH = 4
FORM = re.compile(r'<form[^>]*method="post"[^>]*action="([^"]*)"', re.I)


def run_cli(module: str, *args: str, env: dict[str, str]) -> str:
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", module, *args],
        env={**os.environ, **env},
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return done.stdout.decode()


class FromAddress(HTTPAdapter):
    """Connect from a chosen local address (any of 127.0.0.0/8 works on loopback)."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


@dataclass
class Topology:
    proxy: Proxy
    instances: dict[str, Served]  # "127.0.0.1:PORT" (nginx's upstream_addr) -> the server
    ayni: Served
    certificate: Path
    env: dict[str, str]
    engine: sa.Engine
    addresses: list[str] = field(default_factory=list)
    ayni_env: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.proxy.url

    def browser(self, address: str | None = None) -> requests.Session:
        """A browser on an address of its own (so its rate-limit counts are its own), or on
        ``address``, one an earlier browser had (a person opening a new browser window)."""
        if address is None:
            octets = (
                secrets.randbelow(200) + 20,
                secrets.randbelow(250),
                secrets.randbelow(250) + 2,
            )
            address = "127.{}.{}.{}".format(*octets)
            self.addresses.append(address)
        session = requests.Session()
        session.trust_env = False  # else REQUESTS_CA_BUNDLE of the environment wins
        session.verify = str(self.certificate)
        adapter = FromAddress(address)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        session.address = address  # type: ignore[attr-defined]
        return session

    def served_by(self, response: requests.Response) -> str:
        return self.proxy.upstream_of(response.headers["X-Request-Id"])

    def other(self, instance: str) -> str:
        (other,) = set(self.instances) - {instance}
        return other

    def steer(self, browser: requests.Session, instance: str) -> None:
        """Make ``instance`` the one nginx picks for the next request."""
        for _ in range(3):
            last = self.served_by(browser.get(f"{self.url}/healthz", timeout=30))
            if last != instance:
                return
        raise AssertionError("nginx does not alternate between the instances")

    def solve_captcha(self, browser: requests.Session) -> str:
        """Read the CAPTCHA of the browser's current challenge, as a person reads the image."""
        cookie = browser.cookies.get("passport_session", domain="127.0.0.1")
        assert cookie, "no Passport session cookie"
        compressed = cookie.startswith(".")
        payload = cookie.lstrip(".").split(".")[0]
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        session = json.loads(zlib.decompress(raw) if compressed else raw)
        challenge_id = session["passport_captcha"]
        with self.engine.connect() as connection:
            expected = connection.execute(
                sa.text("SELECT answer_hash FROM captcha_challenges WHERE id = :id"),
                {"id": challenge_id},
            ).scalar_one()
        key = self.env["PASSPORT_SECRET_KEY"].encode()
        for letters in itertools.product(CAPTCHA_ALPHABET, repeat=CAPTCHA_LENGTH):
            answer = "".join(letters)
            digest = hmac.new(key, f"{challenge_id}:{answer}".encode(), hashlib.sha256)
            if hmac.compare_digest(digest.hexdigest(), expected):
                return answer
        raise AssertionError("no answer matches the challenge")

    def sign_in_form(
        self, browser: requests.Session, page: requests.Response, dni: str, password: str
    ) -> tuple[str, dict[str, str]]:
        """The sign-in form's action URL and filled-in fields (the CAPTCHA read from ``page``)."""
        action = FORM.search(page.text)
        csrf = csrf_in(page.text)
        assert action, page.text[:500]
        assert csrf, page.text[:500]
        data = {
            "csrf_token": csrf,
            "username": dni,
            "password": password,
            "captcha": self.solve_captcha(browser),
        }
        return urljoin(page.url, action.group(1).replace("&amp;", "&")), data

    def audit(self, event: str, dni: str) -> list[Any]:
        with self.engine.connect() as connection:
            return list(
                connection.execute(
                    sa.text(
                        "SELECT ip_address, request_id, details FROM audit_events "
                        "WHERE event = :event AND subject_dni = :dni ORDER BY id"
                    ),
                    {"event": event, "dni": dni},
                )
            )


@contextlib.contextmanager
def start_topology(
    database_url: str,
    folder: Path,
    redis_url: str,
    people: Mapping[str, str],
    password: str,
    login_limit: int,
    serve_options: tuple[str, ...] = ("--workers", "1", "--threads", "2"),
) -> Iterator[Topology]:
    """The topology on ``database_url`` (migrated here) with ``people`` (DNI -> given name, all
    with ``password``); on exit every server is stopped and the Redis keys of its browsers'
    addresses are deleted (nothing else in ``redis_url``'s database)."""
    https_port, http_port, ayni_port = free_port(), free_port(), free_port()
    issuer = f"https://127.0.0.1:{https_port}"
    ayni_url = f"http://127.0.0.1:{ayni_port}"
    certificate, key = self_signed_certificate(folder)
    # deploy/passport.env as shipped, with this machine's addresses and fresh secrets.
    env = read_env_file(DEPLOY / "passport.env")
    env.update(
        {
            "PASSPORT_SECRET_KEY": secrets.token_urlsafe(48),
            "PASSPORT_KEY_ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "PASSPORT_ISSUER": issuer,
            "PASSPORT_DATABASE_URL": database_url,
            "PASSPORT_REDIS_URL": redis_url,
            "PASSPORT_METRICS_ALLOW": "127.0.0.1/32",
            # The test reads its mails from a folder instead of an SMTP server.
            "PASSPORT_MAIL_BACKEND": "outbox",
            "PASSPORT_MAIL_OUTBOX": str(folder / "outbox"),
            "PASSPORT_OUTBOUND_ALLOW": "127.0.0.0/8",  # AYNI's back-channel receiver
            "PASSPORT_CAPTCHA_ALPHABET": CAPTCHA_ALPHABET,
            "PASSPORT_CAPTCHA_LENGTH": str(CAPTCHA_LENGTH),
            "PASSPORT_LOGIN_RATE_LIMIT": f"{login_limit} per 10 minutes",
        }
    )
    assert env["PASSPORT_ENV"] == "production"
    assert env["PASSPORT_TRUSTED_PROXY_COUNT"] == "1"
    run_cli("passport", "db", "upgrade", env=env)  # the schema and the first signing key
    for dni, name in people.items():
        run_cli(
            "passport",
            *("users", "create", "--dni", dni, "--email", f"{dni}@example.edu.pe"),
            *("--given-name", name, "--family-name", "Docente", "--password", password),
            "--email-verified",
            env=env,
        )
    authentication: tuple[str, ...] = ("--auth-method", "client_secret_basic")
    profile_env: dict[str, str] = {}
    if PASSPORT_AYNI_PROFILE == "fapi2":
        metadata, settings = fapi2_registration()
        authentication = (
            *("--auth-method", "private_key_jwt", "--jwks-json", json.dumps(metadata["jwks"])),
            *("--fapi2", "--require-pushed-authorization-requests", "--dpop-bound-access-tokens"),
        )
        profile_env = {"AYNI_" + name: value for name, value in settings.items()}
    client = json.loads(
        run_cli(
            "passport",
            *("clients", "create", "--name", "AYNI_SERVIDOR", "--json"),
            *("--redirect-uri", f"{ayni_url}/auth/callback"),
            *("--post-logout-redirect-uri", f"{ayni_url}/"),
            *("--backchannel-logout-uri", f"{ayni_url}/auth/backchannel-logout"),
            *authentication,
            *("--scope", "openid profile email dni"),
            "--skip-consent",
            env=env,
        )
    )
    ayni_env = {
        **profile_env,
        "AYNI_ISSUER": issuer,
        "AYNI_CLIENT_ID": client["client_id"],
        "AYNI_CLIENT_SECRET": client["client_secret"] or "",
        "AYNI_BASE_URL": ayni_url,
        "AYNI_DATABASE_URL": database_url,  # its own tables and version table
        "AYNI_SECRET_KEY": secrets.token_urlsafe(32),
        "REQUESTS_CA_BUNDLE": str(certificate),  # it calls Passport through the proxy
    }
    run_cli("relying_party_demo", "db", "upgrade", env=ayni_env)
    engine = sa.create_engine(database_url)
    addresses: list[str] = []
    try:
        # The instances as deploy/systemd/passport@.service starts them (fewer workers here).
        with (
            serve("passport", env, folder, options=serve_options) as first,
            serve("passport", env, folder, options=serve_options) as second,
            serve("relying_party_demo", ayni_env, folder, ayni_port, serve_options) as ayni,
        ):
            instances = {
                first.url.removeprefix("http://"): first,
                second.url.removeprefix("http://"): second,
            }
            site = render_template(
                DEPLOY / "nginx" / "passport.conf.template",
                {
                    "PASSPORT_SERVER_NAME": "127.0.0.1",
                    "PASSPORT_LISTEN": f"127.0.0.1:{https_port} ssl",
                    "PASSPORT_HTTP_LISTEN": f"127.0.0.1:{http_port}",
                    "PASSPORT_TLS_CERTIFICATE": str(certificate),
                    "PASSPORT_TLS_CERTIFICATE_KEY": str(key),
                    "PASSPORT_UPSTREAM_SERVERS": " ".join(
                        f"server {address} max_fails=3 fail_timeout=10s;" for address in instances
                    ),
                    "PASSPORT_ACCESS_LOG": str(folder / "access.log"),
                },
            )
            with nginx(site, folder, https_port, http_port) as proxy:
                yield Topology(
                    proxy, instances, ayni, certificate, env, engine, addresses, ayni_env
                )
    finally:
        engine.dispose()
        store = redis.Redis.from_url(redis_url)
        for address in addresses:  # only the counters of this topology's browsers
            for name in store.scan_iter(match=f"*{address}*"):
                store.delete(name)
        store.close()
