"""Operations with real servers: several gunicorn workers, and PostgreSQL stopping mid-service.

Each test starts its own private servers on free loopback ports and stops them; the machine's
shared PostgreSQL and Redis are never touched.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from flask import Flask
from flask_migrate import upgrade

from passport.accounts.models import User
from passport.extensions import db
from tests.factories import DEFAULT_PASSWORD
from tests.factories import make_user
from tests.helpers import CAPTCHA
from tests.helpers import csrf_token
from tests.helpers import sign_in
from tests.integration.oidc.conftest import get_code
from tests.integration.oidc.conftest import pkce_pair
from tests.integration.oidc.conftest import redeem
from tests.integration.oidc.conftest import register_client
from tests.integration.oidc.conftest import sign_in as start_session
from tests.integration.operations.conftest import PrivatePostgres
from tests.integration.operations.conftest import free_port
from tests.integration.operations.conftest import metric_value
from tests.integration.operations.conftest import wait_for_port

pytestmark = pytest.mark.topology


def passport_command(*args: str, env: dict[str, str], timeout: float = 120) -> None:
    subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, "-m", "passport", *args],
        env=env,
        check=True,
        capture_output=True,
        timeout=timeout,
    )


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    """``passport serve --workers 2`` on a free port, with its own SQLite database."""
    env = {
        **os.environ,
        "PASSPORT_ENV": "development",
        "PASSPORT_DATABASE_URL": f"sqlite:///{tmp_path / 'passport.db'}",
        "PASSPORT_MAIL_OUTBOX": str(tmp_path / "outbox"),
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    passport_command("db", "upgrade", env=env)
    port = free_port()
    server = subprocess.Popen(  # noqa: S603 - fixed arguments
        [
            sys.executable,
            "-m",
            "passport",
            "serve",
            "--port",
            str(port),
            "--workers",
            "2",
            "--threads",
            "1",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, 60)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(30)


def test_several_workers_report_one_sum(served: str) -> None:
    sent = 40
    # Concurrent connections to single-threaded workers: both workers answer some of them.
    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(
            pool.map(
                lambda _: requests.get(f"{served}/readyz", timeout=30).status_code, range(sent)
            )
        )
    assert codes == [200] * sent
    # Every scrape, whichever worker answers it, counts every request of every worker.
    for _ in range(4):
        text = requests.get(f"{served}/metrics", timeout=30).text
        counted = metric_value(
            text, "passport_http_requests_total", endpoint="operations.readyz", status="200"
        )
        assert counted == sent
        latency = metric_value(
            text, "passport_http_request_duration_seconds_count", endpoint="operations.readyz"
        )
        assert latency == sent
    # Multiprocess mode: the per-process collectors of a single registry are absent.
    assert "process_cpu_seconds_total" not in text
    assert requests.get(f"{served}/healthz", timeout=30).status_code == 200


def test_postgresql_stopping_answers_503_and_service_resumes_without_restart(
    private_postgres: PrivatePostgres, outbox_dir: Path, database_url: str
) -> None:
    from tests.conftest import make_test_app

    app: Flask = make_test_app(private_postgres.url, outbox_dir, CAPTCHA_TEST_ANSWER=CAPTCHA)
    try:
        with app.app_context():
            upgrade()
            _run_outage(app, private_postgres)
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        make_test_app(database_url, outbox_dir)  # give the shared limiter back


def _run_outage(app: Flask, postgres: PrivatePostgres) -> None:
    from passport.oidc.keys import ensure_keys

    ensure_keys()
    user = make_user()
    user_id, dni = user.id, user.dni
    rp = register_client(skip_consent=True)
    browser = app.test_client()
    assert sign_in(browser, dni, DEFAULT_PASSWORD).status_code == 302
    relying_party_browser = app.test_client()
    start_session(app, relying_party_browser, db.session.get(User, user_id))
    verifier, challenge = pkce_pair()
    code = get_code(
        relying_party_browser, rp, code_challenge=challenge, code_challenge_method="S256"
    )
    person = app.test_client()
    form_token = csrf_token(person)  # the form was loaded before the outage
    db.session.remove()
    assert app.test_client().get("/readyz").status_code == 200

    postgres.stop()
    page = app.test_client().get("/ingresar")
    assert page.status_code == 503
    assert "no está disponible" in page.get_data(as_text=True)
    assert page.headers["Retry-After"]
    form = {"csrf_token": form_token, "username": dni, "password": DEFAULT_PASSWORD}
    posted = person.post("/ingresar", data={**form, "captcha": CAPTCHA})
    assert posted.status_code == 503
    token = redeem(relying_party_browser, rp, code, code_verifier=verifier)
    assert token.status_code == 503
    assert token.get_json()["error"] == "temporarily_unavailable"
    ready = app.test_client().get("/readyz")
    assert ready.status_code == 503
    assert ready.get_json()["failing"] == ["database"]
    assert app.test_client().get("/healthz").status_code == 200
    assert browser.get("/").status_code == 503  # the signed-in person's session check

    postgres.start()
    assert app.test_client().get("/readyz").status_code == 200
    assert app.test_client().get("/ingresar").status_code == 200
    # Nothing was half-done during the outage: the code is still unused and redeems once.
    token = redeem(relying_party_browser, rp, code, code_verifier=verifier)
    assert token.status_code == 200, token.get_json()
    assert "access_token" in token.get_json()
    again = redeem(relying_party_browser, rp, code, code_verifier=verifier)
    assert again.get_json()["error"] == "invalid_grant"
    assert sign_in(app.test_client(), dni, DEFAULT_PASSWORD).status_code == 302
