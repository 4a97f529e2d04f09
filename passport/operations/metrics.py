"""Prometheus metrics: what Passport counts, and the ``/metrics`` exposition.

Counters and histograms live in prometheus_client's process-wide registry. Under ``passport
serve`` several gunicorn workers answer requests, so the server sets
``PROMETHEUS_MULTIPROC_DIR`` before any worker starts (passport/serving.py): every worker then
writes its values to files there and a scrape, answered by any one worker, sums all of them
(dead workers' live gauges are removed by gunicorn's ``child_exit`` hook). Without the
variable (tests, ``flask run``) the default in-process registry is exposed.

Hot path: a request costs one counter increment and one histogram observation, labelled by
the route's endpoint name (never the raw path, whose values are unbounded). Facts that live in
the database or in Redis (mail queue, back-channel deliveries, Redis reachability) are read
only when Prometheus scrapes, by ``ScrapeCollector``.

Sign-ins are counted from the audit log: an event is counted when the transaction that
writes it commits, so the metric and the log never disagree and the login and second-factor
code need no metric calls of their own.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

from flask import Flask
from flask import Response
from flask import current_app
from flask import request
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client import REGISTRY
from prometheus_client import CollectorRegistry
from prometheus_client import Counter
from prometheus_client import Gauge
from prometheus_client import Histogram
from prometheus_client import disable_created_metrics
from prometheus_client import generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import Engine
from sqlalchemy import event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.orm import object_session

from passport.audit.models import AuditEvent

# The *_created series double the output and no alert or dashboard reads them.
disable_created_metrics()  # type: ignore[no-untyped-call]

# Latency buckets (seconds): a sign-in costs one Argon2 verification (~0.1-0.3 s).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Instruments:
    """Every counter, histogram and gauge Passport updates per event.

    Made by the first app (``defined()``), not at import: prometheus_client picks its
    per-process or multiprocess storage when a metric is made, and ``passport serve`` sets
    ``PROMETHEUS_MULTIPROC_DIR`` only once its command runs (passport/serving.py), after
    modules that import this one may already be loaded.
    """

    def __init__(self) -> None:
        self.http_requests = Counter(
            "passport_http_requests_total",
            "HTTP requests answered, by route endpoint, method and status.",
            ["endpoint", "method", "status"],
        )
        self.http_latency = Histogram(
            "passport_http_request_duration_seconds",
            "Time to answer an HTTP request, by route endpoint, method and status.",
            ["endpoint", "method", "status"],
            buckets=LATENCY_BUCKETS,
        )
        self.logins = Counter(
            "passport_logins_total",
            "Sign-in attempts by outcome (success, wrong_password, locked, captcha_failed, "
            "second_factor_failed, unknown_user, inactive_account, other).",
            ["outcome"],
        )
        self.lockouts = Counter("passport_lockouts_total", "Accounts locked by too many failures.")
        self.tokens_issued = Counter(
            "passport_tokens_issued_total",
            "Token responses issued by the token endpoint, by grant type and client.",
            ["grant_type", "client_id"],
        )
        self.token_errors = Counter(
            "passport_token_errors_total",
            "Error answers of the token endpoint, by OAuth error code.",
            ["error"],
        )
        self.unavailable = Counter(
            "passport_database_unavailable_total",
            "Requests answered 503 because the database did not answer.",
        )
        # livesum: each worker adds its own pool; a dead worker's share is dropped (child_exit).
        self.db_pool_in_use = Gauge(
            "passport_db_pool_connections_in_use",
            "Database connections checked out of the pool (all workers).",
            multiprocess_mode="livesum",
        )


_instruments: Instruments | None = None


def instruments() -> Instruments:
    """The process's instruments, made on first use."""
    global _instruments
    if _instruments is None:
        _instruments = Instruments()
    return _instruments


def defined() -> bool:
    """Whether any metric was made in this process yet."""
    return _instruments is not None


# Audit events that are sign-in outcomes; login_failed is split by its reason.
LOGIN_EVENTS = {"login_succeeded": "success", "captcha_failed": "captcha_failed"}
LOGIN_FAILURE_REASONS = {
    "bad_password": "wrong_password",
    "locked": "locked",
    "bad_second_factor": "second_factor_failed",
    "unknown_user": "unknown_user",
    "invalid_dni": "unknown_user",
    "pending": "inactive_account",
    "disabled": "inactive_account",
}
_PENDING_OUTCOMES = "passport.metrics.login_outcomes"
_START = "passport.metrics.start"
# Any token is a valid HTTP method: only these become label values (bounded series).
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Endpoint label of a URL that matched no route (a 404): one value, not the raw path.
NO_ROUTE = "none"


def multiprocess_dir() -> str | None:
    """The folder shared by the workers of ``passport serve``, or None (one process)."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


# --- Hot path -----------------------------------------------------------------------------


def start_timer() -> None:
    """Before-request hook: remember when the request started."""
    request.environ[_START] = time.perf_counter()


def observe_request(response: Response) -> Response:
    """After-request hook: count the answer and its latency."""
    started = request.environ.get(_START)
    endpoint = request.endpoint or NO_ROUTE
    status = str(response.status_code)
    method = request.method if request.method in KNOWN_METHODS else "other"
    labels = (endpoint, method, status)
    made = instruments()
    made.http_requests.labels(*labels).inc()
    if started is not None:
        made.http_latency.labels(*labels).observe(time.perf_counter() - started)
    if endpoint == "oidc.token" and response.status_code >= 400:
        count_token_error(response)
    return response


def observe_answer(endpoint: str, method: str, status: int, seconds: float) -> None:
    """Count an answer given without Flask's request context (passport/pipeline.py)."""
    labels = (endpoint, method, str(status))
    made = instruments()
    made.http_requests.labels(*labels).inc()
    made.http_latency.labels(*labels).observe(seconds)


def count_token_error(response: Response) -> None:
    """Count an error answer of the token endpoint by its RFC 6749 ``error`` code."""
    body = response.get_json(silent=True) if response.is_json else None
    code = body.get("error") if isinstance(body, dict) else None
    # Only the registered codes become label values (a hostile body cannot add series).
    instruments().token_errors.labels(code if code in TOKEN_ERROR_CODES else "other").inc()


TOKEN_ERROR_CODES = frozenset(
    {
        "invalid_request",
        "invalid_client",
        "invalid_grant",
        "unauthorized_client",
        "unsupported_grant_type",
        "invalid_scope",
        "invalid_dpop_proof",
        "use_dpop_nonce",
        "invalid_target",
        "temporarily_unavailable",
        "server_error",
    }
)


def count_tokens_issued(grant_type: str, client_id: str) -> None:
    """One token response issued (called by each grant after its commit)."""
    instruments().tokens_issued.labels(grant_type, client_id).inc()


def on_tokens_issued(sender: Flask, *, grant_type: str, client_id: str) -> None:
    """Receiver of ``passport.oidc.signals.tokens_issued`` (connected by init_app)."""
    count_tokens_issued(grant_type, client_id)


def on_database_unavailable(sender: Flask) -> None:
    """One request answered 503 because the database was down (receiver of
    ``passport.signals.database_unavailable``)."""
    instruments().unavailable.inc()


# --- Sign-ins, from the audit log ------------------------------------------------------------


def login_outcome(event_name: str, details: dict[str, Any] | None) -> str | None:
    """The sign-in outcome an audit event stands for, or None when it is no sign-in."""
    if event_name == "login_failed":
        reason = (details or {}).get("reason")
        return LOGIN_FAILURE_REASONS.get(reason, "other") if isinstance(reason, str) else "other"
    if event_name == "captcha_failed" and (details or {}).get("form") != "sign_in":
        return None  # the CAPTCHA of the account forms (generar / olvidé contraseña)
    return LOGIN_EVENTS.get(event_name)


def _remember_audit_event(mapper: Any, connection: Any, target: AuditEvent) -> None:
    """after_insert of an audit row: keep its outcome until the transaction commits."""
    session = object_session(target)
    if session is None:
        return
    if target.event == "account_locked":
        session.info.setdefault(_PENDING_OUTCOMES, []).append("__lockout__")
        return
    outcome = login_outcome(target.event, target.details)
    if outcome is not None:
        session.info.setdefault(_PENDING_OUTCOMES, []).append(outcome)


def _count_committed(session: Session) -> None:
    for outcome in session.info.pop(_PENDING_OUTCOMES, ()):
        if outcome == "__lockout__":
            instruments().lockouts.inc()
        else:
            instruments().logins.labels(outcome).inc()


def _forget_rolled_back(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        session.info.pop(_PENDING_OUTCOMES, None)


_audit_hooks_installed = False


def install_audit_hooks() -> None:
    """Count sign-in outcomes and lockouts as their audit events commit (once per process)."""
    global _audit_hooks_installed
    if _audit_hooks_installed:
        return
    event.listen(AuditEvent, "after_insert", _remember_audit_event)
    event.listen(Session, "after_commit", _count_committed)
    event.listen(Session, "after_transaction_end", _forget_rolled_back)
    _audit_hooks_installed = True


# --- Database pool ---------------------------------------------------------------------------


def _checked_out(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    instruments().db_pool_in_use.inc()


def _checked_in(dbapi_connection: Any, record: Any) -> None:
    instruments().db_pool_in_use.dec()


def track_pool(engine: Engine) -> None:
    """Keep ``passport_db_pool_connections_in_use`` in step with ``engine``'s pool.

    Installed after passport.database.tune_engine's checkout ping, so a connection the ping
    discards (and the pool replaces) is counted once.
    """
    event.listen(engine, "checkout", _checked_out)
    event.listen(engine, "checkin", _checked_in)


# --- Scrape-time facts ---------------------------------------------------------------------


class ScrapeCollector(Collector):
    """Gauges read from the database and Redis when Prometheus scrapes (not per request)."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from passport.operations.health import check_redis

        database_up = GaugeMetricFamily(
            "passport_database_up", "1 when the database answered this scrape."
        )
        try:
            yield from self._database_gauges()
            database_up.add_metric([], 1)
        except SQLAlchemyError:
            database_up.add_metric([], 0)
        yield database_up
        redis = check_redis(self.app)
        if redis != "not_configured":
            up = GaugeMetricFamily(
                "passport_redis_up",
                "1 when Redis answered this scrape; 0 means rate limits are counted per "
                "process (the documented fallback).",
            )
            up.add_metric([], 1 if redis == "ok" else 0)
            yield up

    def _database_gauges(self) -> Iterator[GaugeMetricFamily]:
        from passport.accounts.mail_queue import MAILS
        from passport.database import utcnow
        from passport.extensions import db
        from passport.oidc.backchannel import DELIVERIES

        now = utcnow()
        with db.engine.connect() as connection:
            mails = MAILS.gauges(connection)
            deliveries = DELIVERIES.gauges(connection)
        depth, oldest, failed_mail = mails.waiting, mails.oldest_waiting, mails.failed
        pending, gave_up = deliveries.waiting, deliveries.failed
        if oldest is not None and oldest.tzinfo is None:  # SQLite through Core: naive UTC
            oldest = oldest.replace(tzinfo=now.tzinfo)
        age = (now - oldest).total_seconds() if oldest is not None else 0.0
        yield _gauge("passport_mail_queue_depth", "Mails waiting to be sent.", depth)
        yield _gauge(
            "passport_mail_queue_oldest_age_seconds",
            "Age of the oldest mail waiting to be sent (0 when none waits).",
            max(age, 0.0),
        )
        yield _gauge("passport_mail_queue_failed", "Mails given up after every retry.", failed_mail)
        yield _gauge(
            "passport_backchannel_pending",
            "Back-channel logout deliveries not yet delivered (retrying).",
            pending,
        )
        yield _gauge(
            "passport_backchannel_failed",
            "Back-channel logout deliveries given up after every retry (until purged).",
            gave_up,
        )


def _gauge(name: str, documentation: str, value: float | int | None) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=float(value or 0))


# --- Exposition ------------------------------------------------------------------------------


class _Forward(Collector):
    """Expose another registry's metrics through a per-scrape registry."""

    def __init__(self, source: CollectorRegistry) -> None:
        self.source = source

    def collect(self) -> Iterator[Any]:
        yield from self.source.collect()


def exposition() -> bytes:
    """The text exposition of every metric (summed over workers under ``passport serve``)."""
    registry = CollectorRegistry()
    folder = multiprocess_dir()
    if folder:
        MultiProcessCollector(registry, path=folder)  # type: ignore[no-untyped-call]
    else:
        registry.register(_Forward(REGISTRY))
    registry.register(ScrapeCollector(current_app._get_current_object()))  # type: ignore[attr-defined]
    return generate_latest(registry)


def metrics_response() -> Response:
    """The ``/metrics`` answer."""
    return Response(
        exposition(), headers={"Content-Type": CONTENT_TYPE_LATEST, "Cache-Control": "no-store"}
    )
