"""Local sessions: start after Passport signs a person in, refresh, and end (front or back)."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from typing import Any

import requests
from authlib.integrations.base_client import OAuthError
from flask import current_app
from sqlalchemy import delete
from sqlalchemy import select

from relying_party_demo.auth.errors import InvalidToken
from relying_party_demo.auth.errors import SessionEnded
from relying_party_demo.auth.errors import SignInFailed
from relying_party_demo.auth.fapi import token_request
from relying_party_demo.auth.models import LocalSession
from relying_party_demo.auth.sessions import hash_key
from relying_party_demo.auth.sessions import new_key
from relying_party_demo.auth.tokens import validate_refreshed_id_token
from relying_party_demo.database import utcnow
from relying_party_demo.extensions import db

log = logging.getLogger(__name__)

DNI_PATTERN = re.compile(r"[0-9]{8}")


@dataclass(frozen=True)
class Identity:
    """Who Passport says signed in."""

    subject: str
    dni: str
    given_name: str | None
    family_name: str | None
    email: str | None
    sid: str | None


def clip(value: Any, length: int) -> str | None:
    """A claim as a bounded string, or None."""
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip()[:length]


def identity_from_claims(
    id_claims: Mapping[str, Any], userinfo: Mapping[str, Any] | None
) -> Identity:
    """Merge the ID token's claims with userinfo (whose sub must match, OIDC Core §5.3.2)."""
    subject = id_claims.get("sub")
    if not isinstance(subject, str) or not subject or len(subject) > 255:
        raise SignInFailed("invalid_id_token", "sub missing")
    claims: dict[str, Any] = {}
    if userinfo:
        if userinfo.get("sub") != subject:
            raise SignInFailed("invalid_id_token", "userinfo sub differs")
        claims.update(userinfo)
    claims.update({key: value for key, value in id_claims.items() if value is not None})
    dni = claims.get("dni")
    if not isinstance(dni, str) or not DNI_PATTERN.fullmatch(dni):
        raise SignInFailed("missing_dni")
    session_id = id_claims.get("sid")
    return Identity(
        subject=subject,
        dni=dni,
        given_name=clip(claims.get("given_name"), 120),
        family_name=clip(claims.get("family_name"), 120),
        email=clip(claims.get("email"), 254),
        sid=session_id if isinstance(session_id, str) and len(session_id) <= 255 else None,
    )


def token_expiry(token: Mapping[str, Any]) -> datetime | None:
    """When the access token expires (Authlib fills expires_at from expires_in)."""
    expires_at = token.get("expires_at")
    if isinstance(expires_at, int | float) and not isinstance(expires_at, bool):
        return datetime.fromtimestamp(expires_at, UTC)
    return None


def start_session(
    previous: LocalSession | None, identity: Identity, token: Mapping[str, Any]
) -> tuple[LocalSession, str]:
    """Replace the browser's pre-login row by a new signed-in one; return it and its key."""
    now = utcnow()
    if previous is not None:
        # By id, not ORM delete: a back-channel logout may have removed the row already.
        db.session.execute(delete(LocalSession).where(LocalSession.id == previous.id))
    # Housekeeping on a rare, already-writing request: forget sessions past their expiry.
    db.session.execute(delete(LocalSession).where(LocalSession.expires_at <= now))
    key = new_key()
    absolute = timedelta(hours=current_app.config["SESSION_ABSOLUTE_HOURS"])
    idle = timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])
    record = LocalSession(
        key_hash=hash_key(key),
        data={},
        subject=identity.subject,
        dni=identity.dni,
        given_name=identity.given_name,
        family_name=identity.family_name,
        email=identity.email,
        sid=identity.sid,
        id_token=token.get("id_token"),
        refresh_token=token.get("refresh_token"),
        access_token_expires_at=token_expiry(token),
        authenticated_at=now,
        created_at=now,
        last_seen_at=now,
        expires_at=min(now + absolute, now + idle),
    )
    db.session.add(record)
    db.session.commit()
    log.info("session started for sub=%s sid=%s", identity.subject, identity.sid)
    return record, key


def end_session(record: LocalSession) -> None:
    """Delete one local session (the person logged out here); fine if already gone."""
    db.session.execute(delete(LocalSession).where(LocalSession.id == record.id))
    db.session.commit()


def end_sessions_for(subject: str | None, session_id: str | None) -> int:
    """End the sessions a logout token names (Back-Channel Logout 1.0 §2.7); return the count."""
    statement = delete(LocalSession)
    if session_id is not None:
        statement = statement.where(LocalSession.sid == session_id)
        if subject is not None:
            statement = statement.where(LocalSession.subject == subject)
    elif subject is not None:
        statement = statement.where(LocalSession.subject == subject)
    else:
        return 0
    result = db.session.execute(statement)
    db.session.commit()
    count = int(getattr(result, "rowcount", 0) or 0)
    log.info("back-channel logout sub=%s sid=%s ended %d session(s)", subject, session_id, count)
    return count


def find_session(key: str) -> LocalSession | None:
    """The row of a cookie value (for tests and tools)."""
    return db.session.scalar(select(LocalSession).filter_by(key_hash=hash_key(key)))


def refresh_if_expired(record: LocalSession) -> None:
    """Refresh the access token once it has expired; SessionEnded if Passport refuses."""
    expires_at = record.access_token_expires_at
    if expires_at is None or expires_at > utcnow() + timedelta(seconds=10):
        return
    refresh_token = record.refresh_token
    if not refresh_token:
        # Nothing to refresh with: the local session lives on until its own expiry.
        return
    try:
        token = token_request(grant_type="refresh_token", refresh_token=refresh_token)
    except OAuthError as error:
        # invalid_grant: the SSO session ended at Passport (RFC 6749 §5.2).
        log.info("refresh refused for sub=%s: %s", record.subject, error.error)
        end_session(record)
        raise SessionEnded(str(error.error)) from None
    except (requests.RequestException, ValueError) as error:
        log.warning("refresh failed for sub=%s: %s", record.subject, type(error).__name__)
        return
    if token.get("id_token"):
        try:
            validate_refreshed_id_token(token["id_token"], record.subject or "")
        except InvalidToken as error:
            log.warning("refreshed id_token rejected for sub=%s: %s", record.subject, error)
            end_session(record)
            raise SessionEnded("invalid id_token") from None
        record.id_token = token["id_token"]
    if token.get("refresh_token"):
        record.refresh_token = token["refresh_token"]
    record.access_token_expires_at = token_expiry(token)
    db.session.commit()
