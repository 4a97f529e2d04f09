"""Server-side Flask sessions: the ``ayni_session`` cookie carries only a random id.

Everything else (Authlib's state, nonce and PKCE verifier, the CSRF token, the tokens from
Passport) stays in the ``local_sessions`` table, found by the SHA-256 of the cookie value.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from flask import Flask
from flask import Request
from flask import Response
from flask.sessions import SessionInterface
from flask.sessions import SessionMixin
from sqlalchemy import delete
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import CallbackDict

from relying_party_demo.auth.models import LocalSession
from relying_party_demo.database import utcnow
from relying_party_demo.extensions import db

MAX_COOKIE_LENGTH = 100
# Writing last_seen_at on every request would be a write per click: every minute is enough.
TOUCH_INTERVAL = timedelta(seconds=60)


def hash_key(key: str) -> str:
    """SHA-256 of a cookie value, the only form stored."""
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> str:
    """A fresh unguessable session id (256 bits)."""
    return secrets.token_urlsafe(32)


class ServerSession(CallbackDict[str, Any], SessionMixin):
    """The session dict of one request, bound to its ``local_sessions`` row (if any)."""

    def __init__(self, initial: dict[str, Any] | None = None, record: LocalSession | None = None):
        def on_update(_: Any) -> None:
            self.modified = True

        super().__init__(initial or {}, on_update)
        self.record = record
        self.new_key: str | None = None
        self.modified = False
        self.ended = False

    def rotate(self, record: LocalSession, key: str) -> None:
        """Bind this browser to a new row and cookie (after sign-in: no session fixation)."""
        self.clear()
        self.record = record
        self.new_key = key
        self.modified = False

    def end(self) -> None:
        """Forget the row; the cookie is deleted on the response."""
        self.clear()
        self.record = None
        self.ended = True
        self.modified = False


def server_session() -> ServerSession:
    """The current request's session, typed (it is always ours: create_app installs it)."""
    from flask import session

    if not isinstance(session, ServerSession):
        raise RuntimeError("the database session interface is not installed")
    return session


def session_lifetime(app: Flask) -> tuple[timedelta, timedelta]:
    """(idle, absolute) lifetimes from the settings."""
    return (
        timedelta(minutes=app.config["SESSION_IDLE_MINUTES"]),
        timedelta(hours=app.config["SESSION_ABSOLUTE_HOURS"]),
    )


class DatabaseSessionInterface(SessionInterface):
    """Flask session interface backed by the ``local_sessions`` table."""

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        """Load the row named by the cookie, if it is live."""
        key = request.cookies.get(self.get_cookie_name(app), "")
        if not key or len(key) > MAX_COOKIE_LENGTH:
            return ServerSession()
        record = db.session.scalar(select(LocalSession).filter_by(key_hash=hash_key(key)))
        if record is None or record.expires_at <= utcnow():
            return ServerSession()
        return ServerSession(dict(record.data or {}), record)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        """Write the row back and set (or delete) the cookie."""
        if not isinstance(session, ServerSession):
            raise TypeError("expected a ServerSession")
        name = self.get_cookie_name(app)
        domain = self.get_cookie_domain(app)
        path = self.get_cookie_path(app)
        secure = self.get_cookie_secure(app)
        httponly = self.get_cookie_httponly(app)
        samesite = self.get_cookie_samesite(app)
        if session.ended:
            response.delete_cookie(
                name, path=path, domain=domain, secure=secure, httponly=httponly, samesite=samesite
            )
            return
        now = utcnow()
        idle, absolute = session_lifetime(app)
        record = session.record
        key = session.new_key
        if record is None:
            if not session.modified or not dict(session):
                return
            key = new_key()
            record = LocalSession(
                key_hash=hash_key(key),
                data=dict(session),
                created_at=now,
                last_seen_at=now,
                expires_at=now + idle,
            )
            db.session.add(record)
        elif session.modified or now - record.last_seen_at >= TOUCH_INTERVAL or key:
            record.data = dict(session)
            record.last_seen_at = now
            record.expires_at = min(record.created_at + absolute, now + idle)
        else:
            return
        try:
            db.session.commit()
        except StaleDataError:
            # The row was deleted meanwhile (back-channel logout): this browser is signed out.
            db.session.rollback()
            response.delete_cookie(
                name, path=path, domain=domain, secure=secure, httponly=httponly, samesite=samesite
            )
            return
        if key:
            response.vary.add("Cookie")
            # A browser-session cookie: the row's expires_at is what ends the session.
            response.set_cookie(
                name,
                key,
                path=path,
                domain=domain,
                secure=secure,
                httponly=httponly,
                samesite=samesite,
            )


def delete_expired_sessions() -> int:
    """Remove rows past their expiry; returns how many went."""
    result = db.session.execute(delete(LocalSession).where(LocalSession.expires_at <= utcnow()))
    db.session.commit()
    return int(getattr(result, "rowcount", 0) or 0)
