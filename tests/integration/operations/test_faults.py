"""Faults survived: the mail server away, a worker killed mid-request, a draining server, a
back-channel receiver down. Every server stopped here is the test's own (loopback only).

The worker tests hold a PostgreSQL lock that stops a token request exactly between "code
marked used" and "token written" (an EXCLUSIVE lock on oauth_tokens blocks the INSERT, not
the reads before it), and check pg_stat_activity that the worker really waits there.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from concurrent.futures import Future
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa
import time_machine
from flask import Flask
from flask.testing import FlaskClient

from passport.accounts import mail_queue
from passport.accounts.links import LinkPurpose
from passport.accounts.models import OutgoingMail
from passport.database import utcnow
from passport.extensions import db
from passport.oidc.models import AuthorizationCode
from passport.oidc.models import BackchannelDelivery
from passport.oidc.models import OAuthToken
from tests.factories import make_user
from tests.helpers import csrf_token
from tests.integration.oidc.conftest import RP
from tests.integration.oidc.conftest import full_flow
from tests.integration.oidc.conftest import get_code
from tests.integration.oidc.conftest import logout_receiver
from tests.integration.oidc.conftest import logout_uri
from tests.integration.oidc.conftest import pkce_pair
from tests.integration.oidc.conftest import register_client
from tests.integration.oidc.conftest import sign_in
from tests.integration.operations.conftest import PrivateSmtp
from tests.integration.operations.conftest import free_port
from tests.integration.operations.conftest import metric_value
from tests.integration.operations.conftest import scrape
from tests.served import CannedServer
from tests.served import Served
from tests.served import serve

ON_POSTGRES = os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql")


@pytest.fixture(autouse=True)
def _fresh_caches(app: Flask) -> Iterator[None]:
    """Rows are wiped between tests: forget cached keys and clients too."""
    from passport.caches import clear_all

    clear_all(app)
    yield
    clear_all(app)


# --- The mail server refuses, or is down --------------------------------------------------


def smtp_app(make_app: Any, private_smtp: PrivateSmtp, **settings: Any) -> Flask:
    """An app that mails through the test's own SMTP server."""
    made: Flask = make_app(
        MAIL_BACKEND="smtp",
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=private_smtp.port,
        MAIL_SUPPRESS_SEND=False,  # Flask-Mail's default under TESTING
        **settings,
    )
    return made


def test_mails_stay_queued_while_smtp_is_down_or_refusing_and_all_go_out_once_when_it_returns(
    make_app: Any, private_smtp: PrivateSmtp
) -> None:
    made = smtp_app(make_app, private_smtp)
    with made.app_context():
        pending, active, imported = make_user(password=None), make_user(), make_user(password=None)
        # "Generar contraseña" (activation) and "¿Olvidaste la contraseña?" (reset), and an
        # import's activation mail: the three ways a link mail is queued.
        mail_queue.enqueue_self_service_request(pending.dni)
        mail_queue.enqueue_self_service_request(active.dni)
        mail_queue.enqueue_link_mails([imported], LinkPurpose.ACTIVATION, batch="import-1")
        db.session.commit()
        browser = made.test_client()

        # Down: nothing listens on the port. Every mail is tried, kept, and scheduled again.
        first = mail_queue.send_pending()
        assert (first.sent, first.retried, first.failed) == (0, 3, 0)
        rows = list(db.session.scalars(sa.select(OutgoingMail)))
        assert {(row.status, row.attempts) for row in rows} == {("pending", 1)}
        assert all(row.next_attempt_at > utcnow() for row in rows)  # backoff, not a hot loop
        assert metric_value(scrape(browser), "passport_mail_queue_depth") == 3

        # Up but refusing (451 to every recipient): still kept.
        private_smtp.refuse(True)
        private_smtp.start()
        with time_machine.travel(utcnow() + timedelta(minutes=2), tick=True):
            second = mail_queue.send_pending()
        assert (second.sent, second.retried, second.failed) == (0, 3, 0)
        assert private_smtp.messages() == []

        # Accepting again: every mail goes out, exactly once, with a working link.
        private_smtp.refuse(False)
        with time_machine.travel(utcnow() + timedelta(minutes=10), tick=True):
            third = mail_queue.send_pending()
            again = mail_queue.send_pending()  # a later cron run finds nothing to send
        assert (third.sent, third.retried, third.failed) == (3, 0, 0)
        assert again.tried == 0
        db.session.expire_all()
        assert {row.status for row in db.session.scalars(sa.select(OutgoingMail))} == {"sent"}
        received = private_smtp.messages()
        assert sorted(message["To"] for message in received) == sorted(
            [pending.email, active.email, imported.email]
        )
        subjects = {message["To"]: message["Subject"] for message in received}
        assert subjects[active.email].endswith("Restablecer tu contraseña")
        assert subjects[pending.email].endswith("Generar tu contraseña")
        text = scrape(browser)
        assert metric_value(text, "passport_mail_queue_depth") == 0
        assert metric_value(text, "passport_mail_queue_failed") == 0


def test_mails_given_up_in_a_long_outage_go_out_once_requeued(
    make_app: Any, private_smtp: PrivateSmtp
) -> None:
    from passport.accounts.cli import mail_group

    # MAIL_QUEUE_MAX_ATTEMPTS 1: an outage longer than the whole retry schedule.
    made = smtp_app(make_app, private_smtp, MAIL_QUEUE_MAX_ATTEMPTS=1)
    with made.app_context():
        pending, imported = make_user(password=None), make_user(password=None)
        mail_queue.enqueue_self_service_request(pending.dni)
        mail_queue.enqueue_link_mails([imported], LinkPurpose.ACTIVATION, batch="import-1")
        db.session.commit()
        browser = made.test_client()

        assert mail_queue.send_pending().failed == 2  # down: given up
        assert metric_value(scrape(browser), "passport_mail_queue_failed") == 2

        private_smtp.start()  # back
        result = made.test_cli_runner().invoke(mail_group, ["requeue-failed", "--json"])
        assert result.output.strip() == '{"requeued": 2, "skipped": 0}'
        assert mail_queue.send_pending().sent == 2
        received = private_smtp.messages()
        assert sorted(message["To"] for message in received) == sorted(
            [pending.email, imported.email]
        )
        assert metric_value(scrape(browser), "passport_mail_queue_failed") == 0


# --- A worker killed mid-request; a server draining on SIGTERM ----------------------------

needs_postgres = pytest.mark.skipif(
    not ON_POSTGRES, reason="row and table locks of PostgreSQL hold the request mid-way"
)


def served_env(database_url: str) -> dict[str, str]:
    """A ``passport serve`` on the test database, able to read the test's signing keys."""
    return {
        "PASSPORT_ENV": "development",
        "PASSPORT_DATABASE_URL": database_url,
        "PASSPORT_SECRET_KEY": "test-secret-key-" + "x" * 32,  # as make_test_app's
        "PASSPORT_CAPTCHA_ENABLED": "true",
    }


def new_code(app: Flask, rp: RP) -> tuple[str, str]:
    """A fresh authorization code (and its PKCE verifier) for a signed-in person."""
    browser = app.test_client()
    sign_in(app, browser, make_user())
    verifier, challenge = pkce_pair()
    code = get_code(browser, rp, code_challenge=challenge, code_challenge_method="S256")
    return code, verifier


def redeem_over_http(served: Served, rp: RP, code: str, verifier: str) -> requests.Response:
    return requests.post(
        f"{served.url}/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": rp.redirect_uri,
            "code_verifier": verifier,
        },
        headers=rp.basic_auth(),
        timeout=30,
    )


class TokensLocked:
    """An open transaction holding an EXCLUSIVE lock on oauth_tokens (reads pass, writes wait)."""

    def __init__(self, database_url: str) -> None:
        self.engine = sa.create_engine(database_url, poolclass=sa.pool.NullPool)
        self.connection = self.engine.connect()
        self.connection.execute(sa.text("LOCK TABLE oauth_tokens IN EXCLUSIVE MODE"))

    def wait_for_blocked_insert(self, request: Future[Any], seconds: float = 20) -> int:
        """The PostgreSQL backend pid of the request now waiting to write its token."""
        deadline = time.monotonic() + seconds
        with self.engine.connect() as watcher:
            while time.monotonic() < deadline:
                if request.done():
                    answer = request.result()
                    raise AssertionError(f"answered: {answer.status_code} {answer.text[:300]}")
                waiting = watcher.execute(
                    sa.text(
                        "SELECT l.pid, a.query FROM pg_locks l "
                        "JOIN pg_class c ON c.oid = l.relation "
                        "JOIN pg_stat_activity a ON a.pid = l.pid "
                        "WHERE NOT l.granted AND c.relname = 'oauth_tokens' "
                        "AND a.datname = current_database()"
                    )
                ).first()
                watcher.rollback()  # statistics are a snapshot per transaction
                if waiting is not None:
                    assert waiting.query.startswith("INSERT INTO oauth_tokens"), waiting.query
                    return int(waiting.pid)
                time.sleep(0.1)
        raise AssertionError("no request is waiting to write a token")

    def backend_gone(self, pid: int, seconds: float = 20) -> None:
        deadline = time.monotonic() + seconds
        with self.engine.connect() as watcher:
            while time.monotonic() < deadline:
                alive = watcher.execute(
                    sa.text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
                ).scalar_one()
                watcher.rollback()  # statistics are a snapshot per transaction
                if not alive:
                    return
                time.sleep(0.1)
        raise AssertionError(f"backend {pid} of the killed worker is still there")

    def release(self) -> None:
        if not self.connection.closed:
            self.connection.rollback()
            self.connection.close()
        self.engine.dispose()


def code_state(code: str) -> tuple[Any, int]:
    """(used_at of the code, number of tokens issued from it), read afresh."""
    from passport.oidc.tokens import hash_secret

    db.session.expire_all()
    row = db.session.scalars(
        sa.select(AuthorizationCode).where(AuthorizationCode.code_hash == hash_secret(code))
    ).one()
    tokens = db.session.scalar(
        sa.select(sa.func.count(OAuthToken.id)).where(OAuthToken.authorization_code_id == row.id)
    )
    return row.used_at, int(tokens or 0)


@pytest.fixture
def served_with_client(
    app: Flask, database_url: str, tmp_path: Path
) -> Iterator[tuple[Served, RP]]:
    """``passport serve`` (gunicorn, one worker) on the test database, and a client of it."""
    from passport.oidc.keys import ensure_keys

    ensure_keys()
    rp = register_client(skip_consent=True)
    with serve("passport", served_env(database_url), tmp_path) as served:
        yield served, rp


@needs_postgres
def test_a_worker_killed_mid_request_leaves_no_half_issued_code_and_is_replaced(
    app: Flask, database_url: str, served_with_client: tuple[Served, RP]
) -> None:
    served, rp = served_with_client
    (worker,) = served.workers()
    code, verifier = new_code(app, rp)
    lock = TokensLocked(database_url)
    try:
        with ThreadPoolExecutor(1) as pool:
            pending: Future[Any] = pool.submit(redeem_over_http, served, rp, code, verifier)
            backend = lock.wait_for_blocked_insert(
                pending
            )  # code marked used, token not yet written
            os.kill(worker, signal.SIGKILL)
            with pytest.raises(requests.ConnectionError):
                pending.result(timeout=30)  # the client sees the connection drop
        lock.release()
        lock.backend_gone(backend)
    finally:
        lock.release()
    # Nothing of the killed request survived: the code is unused and nothing was issued.
    assert code_state(code) == (None, 0)
    # gunicorn replaced the worker; the same code now redeems, once.
    deadline = time.monotonic() + 30
    while not (served.workers() - {worker}):
        assert time.monotonic() < deadline, "the worker was not replaced"
        time.sleep(0.2)
    answer = redeem_over_http(served, rp, code, verifier)
    assert answer.status_code == 200, answer.text
    assert answer.json()["access_token"]
    assert redeem_over_http(served, rp, code, verifier).json()["error"] == "invalid_grant"
    used_at, tokens = code_state(code)
    assert used_at is not None
    assert tokens >= 1
    assert "WORKER TIMEOUT" not in served.text()


@needs_postgres
def test_sigterm_drains_in_flight_requests_before_exit(
    app: Flask, database_url: str, served_with_client: tuple[Served, RP]
) -> None:
    served, rp = served_with_client
    code, verifier = new_code(app, rp)
    lock = TokensLocked(database_url)
    try:
        with ThreadPoolExecutor(1) as pool:
            pending: Future[Any] = pool.submit(redeem_over_http, served, rp, code, verifier)
            lock.wait_for_blocked_insert(pending)
            served.process.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 10
            while "Handling signal: term" not in served.text():
                assert time.monotonic() < deadline, "gunicorn did not take the SIGTERM"
                time.sleep(0.1)
            time.sleep(0.5)  # the arbiter passes it on to its worker
            # Stopping: a new request is not served (the worker no longer accepts; the
            # connection waits in the kernel's backlog until the worker exits)...
            with pytest.raises((requests.ConnectionError, requests.Timeout)):
                requests.get(f"{served.url}/healthz", timeout=2)
            # ...but the request in flight finishes once its database work can.
            time.sleep(1)
            lock.release()
            answer = pending.result(timeout=30)
    finally:
        lock.release()
    assert answer.status_code == 200, answer.text
    assert answer.json()["access_token"]
    # Exited by itself, within gunicorn's graceful timeout (10 s), cleanly.
    assert served.process.wait(timeout=15) == 0
    assert code_state(code)[1] >= 1


# --- A back-channel logout receiver is down -------------------------------------------------


@pytest.fixture
def receiver() -> Iterator[CannedServer]:
    """A back-channel logout endpoint on a chosen port, started when it "comes back"."""
    server = logout_receiver(port=free_port())
    try:
        yield server
    finally:
        server.close()


def log_out_with_receiver_down(app: Flask, receiver: CannedServer) -> tuple[FlaskClient, Any]:

    rp = register_client(skip_consent=True, backchannel_logout_uri=logout_uri(receiver))
    browser = app.test_client()
    full_flow(app, browser, rp, make_user())
    token = csrf_token(browser, "/end-session")
    ended = browser.post("/end-session", data={"logout": "yes", "csrf_token": token})
    assert ended.status_code == 200  # the logout itself never waits on a dead receiver
    return app.test_client(), db.session.scalars(sa.select(BackchannelDelivery)).one()


def retry_logouts(app: Flask) -> None:
    """What cron runs every minute."""
    from passport.oidc.cli import retry_logouts_command

    result = app.test_cli_runner().invoke(retry_logouts_command)
    assert result.exit_code == 0, result.output


def test_a_dead_receiver_is_retried_with_backoff_then_given_up_visibly(
    app: Flask, receiver: CannedServer
) -> None:
    metrics, delivery = log_out_with_receiver_down(app, receiver)
    first_attempt = utcnow()
    assert delivery.attempts == 1
    text = scrape(metrics)
    assert metric_value(text, "passport_backchannel_pending") == 1
    assert metric_value(text, "passport_backchannel_failed") == 0
    delays = []
    attempted_at = first_attempt
    for _ in range(app.config["BACKCHANNEL_MAX_ATTEMPTS"] - 1):
        db.session.refresh(delivery)
        assert delivery.gave_up_at is None
        delays.append(round((delivery.next_attempt_at - attempted_at).total_seconds()))
        retry_logouts(app)  # not due yet: nothing happens
        db.session.refresh(delivery)
        attempts = delivery.attempts
        attempted_at = delivery.next_attempt_at + timedelta(seconds=1)
        with time_machine.travel(attempted_at, tick=False):
            retry_logouts(app)
        db.session.refresh(delivery)
        assert delivery.attempts == attempts + 1
    # 30 s doubling (passport/oidc/backchannel.py), given up at the 5th failed attempt:
    # 450 s after the first attempt, plus at most one cron minute per retry.
    assert delays == [30, 60, 120, 240]
    assert delivery.gave_up_at is not None
    given_up_after = (delivery.gave_up_at - first_attempt).total_seconds()
    assert 450 <= given_up_after <= 460  # plus the test's one second per retry
    text = scrape(metrics)
    assert metric_value(text, "passport_backchannel_pending") == 0
    assert metric_value(text, "passport_backchannel_failed") == 1
    assert receiver.requests == []


def test_a_receiver_back_within_the_retry_window_gets_its_logout_token(
    app: Flask, receiver: CannedServer
) -> None:
    metrics, delivery = log_out_with_receiver_down(app, receiver)
    receiver.start()
    with time_machine.travel(delivery.next_attempt_at + timedelta(seconds=1), tick=True):
        retry_logouts(app)
    db.session.refresh(delivery)
    assert delivery.delivered_at is not None
    assert delivery.attempts == 2
    assert len(receiver.form_values("logout_token")) == 1
    text = scrape(metrics)
    assert metric_value(text, "passport_backchannel_pending") == 0
    assert metric_value(text, "passport_backchannel_failed") == 0
