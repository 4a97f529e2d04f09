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

import json
import os
import time
from collections.abc import Iterator

import pytest
import requests
import sqlalchemy as sa

from passport.oidc.keys import RING_TTL_SECONDS
from tests.conftest import fresh_postgres_database
from tests.helpers import csrf_in
from tests.topology import Topology
from tests.topology import run_cli
from tests.topology import start_topology

pytestmark = [
    pytest.mark.topology,
    pytest.mark.skipif(
        not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
        reason="several instances share one PostgreSQL (TEST_DATABASE_URL)",
    ),
]

REDIS_URL = "redis://127.0.0.1:6379/12"
LOGIN_LIMIT = 8  # sign-in POSTs per client address per 10 minutes
PASSWORD = "Quipu-Sol-48"
PEOPLE = {"40000001": "Rosa", "40000002": "Juan", "40000003": "María"}
FORGED_ADDRESS = "203.0.113.66"


@pytest.fixture(scope="module")
def private_database() -> Iterator[str]:
    """A fresh PostgreSQL database on the CI server, dropped afterwards."""
    with fresh_postgres_database(os.environ["TEST_DATABASE_URL"], "passport_topology") as url:
        yield url


@pytest.fixture(scope="module")
def topology(private_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Topology]:
    folder = tmp_path_factory.mktemp("topology")
    with start_topology(
        private_database, folder, REDIS_URL, PEOPLE, PASSWORD, LOGIN_LIMIT
    ) as topology:
        yield topology


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
