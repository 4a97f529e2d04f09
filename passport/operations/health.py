"""Liveness and readiness (CONTRACT.md, Operations).

``/healthz`` answers 200 while the process can answer and touches nothing else: a load
balancer or orchestrator must not restart a healthy process because PostgreSQL is down.

``/readyz`` answers 200 only when a request could be served completely: the database answers,
Redis answers (when ``REDIS_URL`` is set), and a signing key is active and readable with this
instance's key-encryption key. Otherwise 503, naming the failing checks, so traffic goes to
other instances until this one can serve again (no restart needed: the pool reconnects).

Redis down is reported but is not fatal to sign-in: rate limits then count per process
(Flask-Limiter's in-memory fallback, ``security/ratelimits.py``) and return to the shared
count when Redis answers again. That is safe against password guessing because the real
bound on guesses per account is the account lockout, which lives in the database row of the
account (``accounts/lockout.py``) and does not depend on Redis; per-IP throttling only
loosens from one shared budget to one budget per worker, and the CAPTCHA stays on. Refusing
sign-ins instead would turn a cache outage into a national outage on pay-slip day.
"""

from __future__ import annotations

from typing import Any

import redis
from cryptography.fernet import InvalidToken
from flask import Flask
from flask import Response
from flask import current_app
from flask import jsonify
from sqlalchemy import select
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

# Seconds a probe may wait for Redis: a hung Redis must not hang the probe.
REDIS_PROBE_TIMEOUT = 0.5
_REDIS_PROBE = "passport.operations.redis_probe"


def check_database() -> str:
    """``ok`` when the database answers a trivial query, else ``down``."""
    from passport.extensions import db

    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return "down"
    return "ok"


def check_redis(app: Flask) -> str:
    """``ok``, ``down``, or ``not_configured`` when Passport runs without Redis."""
    url = app.config.get("REDIS_URL")
    if not url:
        return "not_configured"
    probe = app.extensions.get(_REDIS_PROBE)
    if probe is None:
        probe = redis.Redis.from_url(
            url,
            socket_timeout=REDIS_PROBE_TIMEOUT,
            socket_connect_timeout=REDIS_PROBE_TIMEOUT,
        )
        app.extensions[_REDIS_PROBE] = probe
    try:
        probe.ping()
    except (redis.RedisError, OSError):
        return "down"
    return "ok"


def check_signing_key(app: Flask) -> str:
    """``ok`` when an RS256 key is active and decrypts; ``missing`` or ``unreadable``.

    Read-only: unlike the key ring, it never creates a key (a probe must not write).
    """
    from passport.database import utcnow
    from passport.extensions import db
    from passport.oidc.keys import signing_key_cipher
    from passport.oidc.models import SigningKey

    try:
        with db.engine.connect() as connection:
            encrypted = connection.scalar(
                select(SigningKey.private_key_encrypted)
                .where(SigningKey.alg == "RS256", SigningKey.activates_at <= utcnow())
                .order_by(SigningKey.activates_at.desc(), SigningKey.id.desc())
                .limit(1)
            )
    except SQLAlchemyError:
        return "down"
    if encrypted is None:
        return "missing"
    try:
        signing_key_cipher(app).decrypt(encrypted.encode("ascii"))
    except (InvalidToken, ValueError):
        return "unreadable"  # none of the KEY_ENCRYPTION_KEY (or SECRET_KEY) values is the signer's
    return "ok"


def readiness() -> tuple[bool, dict[str, Any]]:
    """Whether this instance is ready, and the body naming each check's state."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    checks = {"database": check_database()}
    checks["redis"] = check_redis(app)
    checks["signing_key"] = check_signing_key(app) if checks["database"] == "ok" else "not_checked"
    failing = [
        name
        for name, state in checks.items()
        if state not in ("ok", "not_configured", "not_checked")
    ]
    ready = not failing
    return ready, {
        "status": "ready" if ready else "unavailable",
        "checks": checks,
        "failing": failing,
    }


def healthz() -> Response:
    """200 while the process answers (no database, no Redis)."""
    response = jsonify(status="ok")
    response.headers["Cache-Control"] = "no-store"
    return response


def readyz() -> Response:
    """200 when ready, else 503 with the failing checks."""
    ready, body = readiness()
    response = jsonify(body)
    response.status_code = 200 if ready else 503
    response.headers["Cache-Control"] = "no-store"
    return response
