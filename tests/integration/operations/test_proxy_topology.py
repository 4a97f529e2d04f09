"""The production topology of deploy/, for real: nginx in front of two Passport instances.

nginx (Debian's package, unprivileged, rendered from deploy/nginx/passport.conf.template with
a throw-away certificate) terminates TLS on a free loopback port and balances, round robin,
over two ``passport serve`` instances (gunicorn subprocesses) started from deploy/passport.env
with ``PASSPORT_ENV=production``. AYNI_SERVIDOR (``ayni serve``) is the relying party. All of
them share one fresh PostgreSQL database of this module's own on the CI server and the
machine's Redis (database 12; only this module's keys, named by its client addresses, are
removed afterwards).

Which instance answered a request is read from nginx's JSON access log (``upstream_addr`` of
the request's ``X-Request-Id``, which Passport takes from the proxy, answers and logs). With
one nginx worker and nothing else talking to it, round robin alternates strictly, so
``steer`` sends ``/healthz`` until the *other* instance has answered last; every request that
must land on a given instance is then checked against the log.

The browser connects from a loopback address of its own (127.x.y.z, not 127.0.0.1) and sends
a forged ``X-Forwarded-For``: the address Passport records must be the real one.

Production refuses a fixed CAPTCHA answer, so the person "reads" it: the CAPTCHA alphabet is
shrunk (``PASSPORT_CAPTCHA_ALPHABET``) and the test, which knows ``SECRET_KEY``, finds the
answer whose keyed hash matches the challenge row named by the browser's session cookie.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import os
import re
import secrets
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest
import redis
import requests
import sqlalchemy as sa
from cryptography.fernet import Fernet
from requests.adapters import HTTPAdapter

from passport.oidc.keys import RING_TTL_SECONDS
from tests.conftest import fresh_postgres_database
from tests.helpers import csrf_in
from tests.served import Proxy
from tests.served import Served
from tests.served import free_port
from tests.served import nginx
from tests.served import read_env_file
from tests.served import render_template
from tests.served import self_signed_certificate
from tests.served import serve

pytestmark = [
    pytest.mark.topology,
    pytest.mark.skipif(
        not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
        reason="several instances share one PostgreSQL (TEST_DATABASE_URL)",
    ),
]

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"
REDIS_URL = "redis://127.0.0.1:6379/12"
CAPTCHA_ALPHABET = "ACDE"
CAPTCHA_LENGTH = 4
LOGIN_LIMIT = 8  # sign-in POSTs per client address per 10 minutes
PASSWORD = "Quipu-Sol-48"
PEOPLE = {"40000001": "Rosa", "40000002": "Juan", "40000003": "María"}
FORGED_ADDRESS = "203.0.113.66"
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

    @property
    def url(self) -> str:
        return self.proxy.url

    def browser(self) -> requests.Session:
        """A browser on an address of its own (so its rate-limit counts are its own)."""
        octets = (secrets.randbelow(200) + 20, secrets.randbelow(250), secrets.randbelow(250) + 2)
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


@pytest.fixture(scope="module")
def private_database() -> Iterator[str]:
    """A fresh PostgreSQL database on the CI server, dropped afterwards."""
    with fresh_postgres_database(os.environ["TEST_DATABASE_URL"], "passport_topology") as url:
        yield url


@pytest.fixture(scope="module")
def topology(private_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Topology]:
    folder = tmp_path_factory.mktemp("topology")
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
            "PASSPORT_DATABASE_URL": private_database,
            "PASSPORT_REDIS_URL": REDIS_URL,
            "PASSPORT_METRICS_ALLOW": "127.0.0.1/32",
            # The test reads its mails from a folder instead of an SMTP server.
            "PASSPORT_MAIL_BACKEND": "outbox",
            "PASSPORT_MAIL_OUTBOX": str(folder / "outbox"),
            "PASSPORT_OUTBOUND_ALLOW": "127.0.0.0/8",  # AYNI's back-channel receiver
            "PASSPORT_CAPTCHA_ALPHABET": CAPTCHA_ALPHABET,
            "PASSPORT_CAPTCHA_LENGTH": str(CAPTCHA_LENGTH),
            "PASSPORT_LOGIN_RATE_LIMIT": f"{LOGIN_LIMIT} per 10 minutes",
        }
    )
    assert env["PASSPORT_ENV"] == "production"
    assert env["PASSPORT_TRUSTED_PROXY_COUNT"] == "1"
    run_cli("passport", "db", "upgrade", env=env)  # the schema and the first signing key
    for dni, name in PEOPLE.items():
        run_cli(
            "passport",
            *("users", "create", "--dni", dni, "--email", f"{dni}@example.edu.pe"),
            *("--given-name", name, "--family-name", "Docente", "--password", PASSWORD),
            "--email-verified",
            env=env,
        )
    client = json.loads(
        run_cli(
            "passport",
            *("clients", "create", "--name", "AYNI_SERVIDOR", "--json"),
            *("--redirect-uri", f"{ayni_url}/auth/callback"),
            *("--post-logout-redirect-uri", f"{ayni_url}/"),
            *("--backchannel-logout-uri", f"{ayni_url}/auth/backchannel-logout"),
            *("--auth-method", "client_secret_basic", "--scope", "openid profile email dni"),
            "--skip-consent",
            env=env,
        )
    )
    ayni_env = {
        "AYNI_ISSUER": issuer,
        "AYNI_CLIENT_ID": client["client_id"],
        "AYNI_CLIENT_SECRET": client["client_secret"],
        "AYNI_BASE_URL": ayni_url,
        "AYNI_DATABASE_URL": private_database,  # its own tables and version table
        "AYNI_SECRET_KEY": secrets.token_urlsafe(32),
        "REQUESTS_CA_BUNDLE": str(certificate),  # it calls Passport through the proxy
    }
    run_cli("relying_party_demo", "db", "upgrade", env=ayni_env)
    engine = sa.create_engine(private_database)
    addresses: list[str] = []
    try:
        # The instances as deploy/systemd/passport@.service starts them (fewer workers here).
        with (
            serve("passport", env, folder) as first,
            serve("passport", env, folder) as second,
            serve("relying_party_demo", ayni_env, folder, ayni_port) as ayni,
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
                yield Topology(proxy, instances, ayni, certificate, env, engine, addresses)
    finally:
        engine.dispose()
        store = redis.Redis.from_url(REDIS_URL)
        for address in addresses:  # only this module's counters
            for name in store.scan_iter(match=f"*{address}*"):
                store.delete(name)
        store.close()


def test_the_proxy_serves_https_only_and_hides_metrics(topology: Topology) -> None:
    browser = topology.browser()
    plain = browser.get(f"{topology.proxy.http_url}/ingresar", allow_redirects=False, timeout=30)
    assert plain.status_code == 301
    assert plain.headers["Location"].startswith("https://")
    assert browser.get(f"{topology.url}/metrics", timeout=30).status_code == 404
    discovery = browser.get(f"{topology.url}/.well-known/openid-configuration", timeout=30)
    assert discovery.json()["issuer"] == topology.url
    assert "max-age" in discovery.headers["Strict-Transport-Security"]
    # Both instances answer through the proxy, in turn.
    answered = {
        topology.served_by(browser.get(f"{topology.url}/readyz", timeout=30)) for _ in range(4)
    }
    assert answered == set(topology.instances)


def test_a_journey_spread_over_both_instances(topology: Topology) -> None:
    """Sign in through AYNI (CAPTCHA drawn by one instance, checked by the other), SSO on
    both, the real client address recorded, and a logout on one ending AYNI's session."""
    browser = topology.browser()
    ayni = topology.ayni.url
    page = browser.get(f"{ayni}/auth/login", timeout=30)
    assert page.url.startswith(f"{topology.url}/"), page.url
    drawn_by = topology.served_by(page)
    checker = topology.other(drawn_by)
    action, data = topology.sign_in_form(browser, page, "40000001", PASSWORD)
    topology.steer(browser, checker)
    # A browser sends the page as Referer (Flask-WTF checks it on https).
    forged = {"Referer": page.url, "X-Forwarded-For": FORGED_ADDRESS}
    landed = browser.post(action, data=data, headers=forged, timeout=30)
    posted = landed.history[0] if landed.history else landed
    assert topology.served_by(posted) == checker  # the other instance checked the CAPTCHA
    assert landed.url.startswith(f"{ayni}/"), (landed.url, landed.status_code, landed.text[:300])
    assert "/auth/login" not in landed.url

    # The address recorded is the browser's own, not the forged header nor the proxy's.
    ((address, request_id, _),) = topology.audit("login_succeeded", "40000001")
    assert address == browser.address  # type: ignore[attr-defined]
    assert FORGED_ADDRESS not in json.dumps(
        [str(row) for row in topology.audit("login_succeeded", "40000001")]
    )
    assert request_id == posted.headers["X-Request-Id"]
    # ...and the request id is in the log of the instance that answered, not the other's.
    assert request_id in topology.instances[checker].text()
    assert request_id not in topology.instances[drawn_by].text()

    # The SSO session made on one instance is honoured by both.
    for instance in (drawn_by, checker):
        topology.steer(browser, instance)
        account = browser.get(f"{topology.url}/mi-cuenta", allow_redirects=False, timeout=30)
        assert topology.served_by(account) == instance
        assert account.status_code == 200, account.headers.get("Location")

    # Logout: confirmed on one instance, posted to the other, which tells AYNI by back-channel.
    signed_in_page = landed.url  # /inicio, or /sin-legajo for a person without legajo
    assert browser.get(signed_in_page, allow_redirects=False, timeout=30).status_code == 200
    confirm = browser.get(f"{topology.url}/end-session", timeout=30)
    csrf = csrf_in(confirm.text)
    assert csrf
    topology.steer(browser, topology.other(topology.served_by(confirm)))
    out = browser.post(
        f"{topology.url}/end-session",
        data={"csrf_token": csrf, "logout": "yes"},
        headers={"Referer": confirm.url},
        timeout=30,
    )
    assert out.status_code == 200
    after = browser.get(signed_in_page, allow_redirects=False, timeout=30)
    assert after.status_code == 302
    assert after.headers["Location"] == "/"
    with topology.engine.connect() as connection:
        delivered = connection.execute(
            sa.text("SELECT count(*) FROM oauth_backchannel_deliveries WHERE status = 'sent'")
        ).scalar_one()
    assert delivered == 1


def attempt(
    topology: Topology, browser: requests.Session, instance: str, dni: str, password: str
) -> requests.Response:
    """Open the sign-in page, then post it to ``instance``."""
    page = browser.get(f"{topology.url}/ingresar", timeout=30)
    action, data = topology.sign_in_form(browser, page, dni, password)
    topology.steer(browser, instance)
    response = browser.post(
        action, data=data, headers={"Referer": page.url}, allow_redirects=False, timeout=30
    )
    assert topology.served_by(response) == instance
    return response


def test_lockout_counts_add_up_across_instances(topology: Topology) -> None:
    browser = topology.browser()
    first, second = sorted(topology.instances)
    # Five wrong passwords (LOCKOUT_FAILURES): three on one instance, two on the other.
    for instance in (first, second, first, second, first):
        assert attempt(topology, browser, instance, "40000002", "Wrong-pass-1").status_code == 200
    # The right password on the instance that saw only two failures: locked all the same.
    refused = attempt(topology, browser, second, "40000002", PASSWORD)
    assert refused.status_code == 200  # the form again, not a redirect into the account
    assert "passport_sso" not in browser.cookies
    assert len(topology.audit("account_locked", "40000002")) == 1
    reasons = [row.details["reason"] for row in topology.audit("login_failed", "40000002")]
    assert reasons == ["bad_password"] * 5 + ["locked"]


def test_rate_limit_counts_add_up_across_instances(topology: Topology) -> None:
    browser = topology.browser()
    first, second = sorted(topology.instances)
    # LOGIN_LIMIT posts from one address, half on each instance: all answered.
    for number in range(LOGIN_LIMIT):
        instance = first if number % 2 == 0 else second
        assert attempt(topology, browser, instance, "40000099", "Wrong-pass-1").status_code == 200
    # One more on either instance is over the shared budget (each has seen only half).
    for instance in (first, second):
        assert attempt(topology, browser, instance, "40000099", "Wrong-pass-1").status_code == 429


def test_a_key_rotated_from_the_cli_is_published_by_both_instances(topology: Topology) -> None:
    browser = topology.browser()
    jwks_uri = browser.get(f"{topology.url}/.well-known/openid-configuration", timeout=30).json()[
        "jwks_uri"
    ]
    rotated = json.loads(run_cli("passport", "keys", "rotate", "--json", env=topology.env))
    new_kids = {key["kid"] for key in rotated["keys"]}  # one per algorithm
    assert new_kids
    started = time.monotonic()
    waiting = set(topology.instances)
    while waiting:
        for instance in sorted(waiting):
            topology.steer(browser, instance)
            answer = browser.get(jwks_uri, timeout=30)
            assert topology.served_by(answer) == instance
            if new_kids <= {key["kid"] for key in answer.json()["keys"]}:
                waiting.discard(instance)
        assert time.monotonic() - started < RING_TTL_SECONDS + 15, f"{waiting} still hide it"
        time.sleep(1)
