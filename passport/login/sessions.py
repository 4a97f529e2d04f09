"""The SSO session: a server-side record referenced by a signed, HttpOnly cookie.

The cookie holds ``<secret>`` signed with itsdangerous (salt ``passport.sso``); the row keeps
only SHA-256(secret) in ``token_hash``. A session is live while it is not ended, its absolute
end (``expires_at``) is in the future, it was seen within ``SSO_IDLE_TIMEOUT_MINUTES`` and its
user is active. ``last_seen_at`` is written at most every ``SSO_TOUCH_INTERVAL_SECONDS``
(after the response, never in the middle of a view), so the OIDC authorize path costs one
indexed read per request.

``SessionFacts`` is a Core twin of the session row (columns from the table, passport.twins):
117 µs CPU per read against 370 µs for the ORM entity (benchmarks/twin_reads.py, SQLite), a
fifth of /authorize's 1.1 ms saved (benchmarks/oidc_profile.py).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from typing import Any
from typing import cast

from flask import Flask
from flask import Response
from flask import current_app
from flask import has_request_context
from flask import request
from itsdangerous import BadSignature
from itsdangerous import URLSafeSerializer
from sqlalchemy import ColumnElement
from sqlalchemy import Table
from sqlalchemy import bindparam
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.exc import SQLAlchemyError

from passport.accounts.models import User
from passport.accounts.models import UserStatus
from passport.database import utcnow
from passport.extensions import db
from passport.login.models import SSOSession
from passport.login.signals import session_ended
from passport.logs import note
from passport.security.app_secret import secret_keys
from passport.signals import announce
from passport.twins import columns

log = logging.getLogger(__name__)

_SALT = "passport.sso"
_MISSING = object()
_STATE_KEY = "passport.sso"
# The session (its user joined) by cookie digest; built once, as it runs on every /authorize.
_BY_TOKEN_HASH = select(SSOSession).where(SSOSession.token_hash == bindparam("token_hash"))


@dataclass(frozen=True)
class SessionFacts:
    """What /authorize needs of the SSO session, read as one Core row (no ORM identity work).

    A snapshot: code that changes the session (logout, step-up) uses current_sso_session().
    """

    id: int
    sid: str
    user_id: int
    user_sub: str
    user_status: UserStatus
    auth_time: datetime
    amr: list[str]
    acr: str | None
    last_seen_at: datetime
    expires_at: datetime
    ended_at: datetime | None


_SESSIONS = cast(Table, SSOSession.__table__)
_USERS = cast(Table, User.__table__)
# Built once, as it runs on every /authorize: the session's columns and its user's sub/status.
_FACTS_BY_TOKEN_HASH = (
    select(*columns(SessionFacts, _SESSIONS, user_sub=_USERS.c.sub, user_status=_USERS.c.status))
    .join(_USERS, _USERS.c.id == _SESSIONS.c.user_id)
    .where(_SESSIONS.c.token_hash == bindparam("token_hash"))
)


def _state() -> dict[str, Any]:
    """Per-request state, kept in the WSGI environ (``g`` outlives a request in tests)."""
    state: dict[str, Any] = request.environ.setdefault(_STATE_KEY, {})
    return state


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(secret_keys(current_app), salt=_SALT)


def hash_token(secret: str) -> str:
    """SHA-256 hex of a cookie secret (what the database stores)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def idle_timeout() -> timedelta:
    """How long a session survives without requests."""
    return timedelta(minutes=current_app.config["SSO_IDLE_TIMEOUT_MINUTES"])


def _is_live(
    session: SSOSession | SessionFacts, user_status: UserStatus | None, now: datetime
) -> bool:
    """The liveness rule, for an ORM session or its Core-row facts alike."""
    return (
        session.ended_at is None
        and session.expires_at > now
        and session.last_seen_at + idle_timeout() > now
        and user_status is UserStatus.ACTIVE
    )


def is_live(session: SSOSession, now: datetime | None = None) -> bool:
    """True when ``session`` is neither ended, expired, idle-expired, nor of an inactive user."""
    user_status = session.user.status if session.user is not None else None
    return _is_live(session, user_status, now or utcnow())


def _schedule_touch(session: SSOSession | SessionFacts, now: datetime) -> None:
    """Refresh ``last_seen_at`` after the response when it is older than the touch interval."""
    interval = timedelta(seconds=current_app.config["SSO_TOUCH_INTERVAL_SECONDS"])
    if now - session.last_seen_at >= interval:
        _state()["touch"] = session.id


def live_conditions(now: Any, idle_cutoff: Any | None) -> tuple[ColumnElement[bool], ...]:
    """The liveness rule of ``_is_live`` as SQL conditions on sso_sessions (user status aside).

    ``now`` and ``idle_cutoff`` (now minus ``idle_timeout()``) are values or bind parameters,
    so statements built once at import can use them. ``idle_cutoff=None`` leaves idleness out:
    a refresh token is used by an app, not by a visit, so the session's idle clock says nothing
    about it (passport.oidc.revocation).
    """
    conditions = [_SESSIONS.c.ended_at.is_(None), _SESSIONS.c.expires_at > now]
    if idle_cutoff is not None:
        conditions.append(_SESSIONS.c.last_seen_at > idle_cutoff)
    return tuple(conditions)


def live_sessions(user_id: int) -> list[SSOSession]:
    """The user's live sessions (not ended, expired or idle), most recently seen first.

    Mi cuenta, the admin console and the admin API list sessions with this one rule.
    """
    now = utcnow()
    return list(
        db.session.scalars(
            select(SSOSession)
            .where(SSOSession.user_id == user_id, *live_conditions(now, now - idle_timeout()))
            .order_by(SSOSession.last_seen_at.desc())
        )
    )


def _cookie_secret() -> str | None:
    raw = request.cookies.get(current_app.config["SSO_COOKIE_NAME"])
    if not raw or len(raw) > 200:
        return None
    try:
        secret = _serializer().loads(raw)
    except BadSignature:
        return None
    return secret if isinstance(secret, str) else None


def _session_from_cookie() -> SSOSession | None:
    secret = _cookie_secret()
    if secret is None:
        return None
    return db.session.scalar(_BY_TOKEN_HASH, {"token_hash": hash_token(secret)})


def current_sso_session() -> SSOSession | None:
    """The browser's live SSO session, or None (missing, invalid, expired, ended, inactive)."""
    if not has_request_context():
        return None
    state = _state()
    cached = state.get("session", _MISSING)
    if cached is not _MISSING:
        known: SSOSession | None = cached
        return known if known is not None and is_live(known) else None
    session = _session_from_cookie()
    now = utcnow()
    if session is not None and not is_live(session, now):
        session = None
    state["session"] = session
    if session is not None:
        _schedule_touch(session, now)
        note(sub=session.user.sub)
    return session


def current_session_facts() -> SessionFacts | None:
    """The browser's live SSO session as plain columns, or None; the same rule as is_live.

    The authorization endpoint's lighter twin of current_sso_session(): one Core row instead of
    an ORM entity with its user joined; schedules the same ``last_seen_at`` touch. Not cached:
    each call reads the row again, so a session ended earlier in the request is seen as ended.
    """
    if not has_request_context():
        return None
    # A session started earlier in this request (a sign-in that completes its authorization
    # request at once) has no cookie yet: its hash is in the request state.
    token_hash = _state().get("token_hash")
    if token_hash is None:
        secret = _cookie_secret()
        token_hash = hash_token(secret) if secret is not None else None
    row = (
        db.session.execute(_FACTS_BY_TOKEN_HASH, {"token_hash": token_hash}).first()
        if token_hash is not None
        else None
    )
    facts = SessionFacts(**row._mapping) if row is not None else None
    now = utcnow()
    if facts is None or not _is_live(facts, facts.user_status, now):
        return None
    _schedule_touch(facts, now)
    note(sub=facts.user_sub)
    return facts


def start_sso_session(user: User, amr: list[str], acr: str | None = None) -> SSOSession:
    """Sign the browser in as ``user``: end its previous session, create a new one, commit."""
    previous = _session_from_cookie() if has_request_context() else None
    if previous is not None and previous.ended_at is None:
        _end(previous, "replaced")
    now = utcnow()
    secret = secrets.token_urlsafe(32)
    token_hash = hash_token(secret)
    config = current_app.config
    session = SSOSession(
        token_hash=token_hash,
        user=user,
        auth_time=now,
        amr=list(amr),
        acr=acr,
        ip_address=(request.remote_addr or None) if has_request_context() else None,
        user_agent=(request.user_agent.string[:255] or None) if has_request_context() else None,
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(hours=config["SSO_ABSOLUTE_TIMEOUT_HOURS"]),
    )
    db.session.add(session)
    sub = user.sub  # read before the commit expires it: no second SELECT of the user
    db.session.commit()
    if has_request_context():
        state = _state()
        state["session"] = session
        state["token_hash"] = token_hash
        state["cookie"] = _serializer().dumps(secret)
        state.pop("touch", None)
        note(sub=sub)
    return session


def _end(session: SSOSession, reason: str) -> None:
    """Mark ``session`` ended and run the end hooks (no commit)."""
    session.ended_at = utcnow()
    session.end_reason = reason[:32]
    announce(session_ended, session=session, reason=reason)
    if has_request_context() and _state().get("session") is session:
        _state()["session"] = None
        _state()["cookie"] = ""  # delete the cookie on the way out


def end_sso_session(session: SSOSession, reason: str) -> None:
    """End one session (logout, replacement...), run the end hooks, commit."""
    if session.ended_at is None:
        _end(session, reason)
    db.session.commit()


def end_user_sessions(user_id: int, reason: str, except_session_id: int | None = None) -> int:
    """End every live session of a user (password reset, disable); return how many; commit."""
    query = select(SSOSession).where(
        SSOSession.user_id == user_id,
        SSOSession.ended_at.is_(None),
        SSOSession.expires_at > utcnow(),
    )
    if except_session_id is not None:
        query = query.where(SSOSession.id != except_session_id)
    sessions = list(db.session.scalars(query))
    for session in sessions:
        _end(session, reason)
    db.session.commit()
    return len(sessions)


def _cookie_is_secure() -> bool:
    return str(current_app.config["ISSUER"]).startswith("https://")


def write_sso_cookie(response: Response) -> Response:
    """After-request hook: set or delete the SSO cookie, and touch ``last_seen_at``."""
    state = _state()
    value = state.get("cookie")
    name = current_app.config["SSO_COOKIE_NAME"]
    if value:
        # No Expires: a browser-session cookie, so closing a shared school computer's browser
        # forgets it; the server-side idle and absolute limits apply either way.
        response.set_cookie(
            name, value, httponly=True, samesite="Lax", secure=_cookie_is_secure(), path="/"
        )
    elif value == "":
        response.delete_cookie(
            name, httponly=True, samesite="Lax", secure=_cookie_is_secure(), path="/"
        )
    touch_id = state.get("touch")
    # Only when the view left nothing pending: the touch must never commit someone else's work.
    if touch_id is not None and not (db.session.new or db.session.dirty or db.session.deleted):
        try:
            db.session.execute(
                update(SSOSession).where(SSOSession.id == touch_id).values(last_seen_at=utcnow())
            )
            db.session.commit()
        except SQLAlchemyError:
            # A missed touch only shortens the idle window by one interval; never fail a page.
            db.session.rollback()
            log.warning("could not record last_seen_at of SSO session %s", touch_id)
    return response


def init_sessions(app: Flask) -> None:
    """Install the cookie hook (the end of a session is announced by ``session_ended``)."""
    app.after_request(write_sso_cookie)
