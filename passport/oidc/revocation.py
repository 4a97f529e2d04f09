"""What a grant still allows, and what ends it: the one revocation policy of Passport.

Every path that ends a session, cuts a person off or retires a client calls an entry point
here, so "what dies" is decided once. Accounts and login do not call it: they announce the
change (``passport.accounts.signals``, ``passport.login.signals``) and ``subscribe`` routes
each signal to its entry point:

- ``end_session(session, reason)``: the SSO session end hook (logout at /salir, RP-initiated
  logout, Mi cuenta's "Cerrar todas las demás sesiones", the console's "Cerrar sesión", a
  new sign-in replacing the old session, a session found lapsed at the token endpoint). Its
  unredeemed codes are voided and its tokens revoked, except ``offline_access`` ones: OIDC
  Core §11 asks for offline access precisely so that an app keeps working "when the End-User
  is not logged in"; those end with the grant ("Revocar acceso"), a password reset or a
  disabled account. Then the back-channel logouts are queued.
- ``session_lapsed(sid)``: the token endpoint met a code or refresh token whose session is
  over (ended, past its absolute end, or idle for a code): end it now, as a logout would.
- ``password_reset(user_id, reason)`` / ``user_disabled(user_id)``: every token (offline ones
  too) and code of the person, and every session. ``password_changed(user_id, session)``:
  the same except for the session the person changed it from (they just proved the old
  password there).
- ``client_disabled(client_pk)`` / ``client_deleted(client_pk)``: every token, code and
  pending request of the client (deleting also forgets the consents).
- ``revoke_grant(user_id, client_pk)``: "Revocar acceso" in Mi cuenta and the console: the
  person's tokens, codes and consent for one app.

And what a live grant may still read: ``current_scopes`` bounds any granted scope by the
client's registration now, so a scope withdrawn from a client stops working at once at the
refresh grant, userinfo, introspection and the admin API (a JWT access token already issued
keeps its ``scope`` claim until it expires, ACCESS_TOKEN_TTL_SECONDS at most).

A non-offline token is refused by the refresh grant, userinfo and introspection once its
session is ended or past its absolute end (``outlived_session``), even if a revocation was
missed (a token issued while the logout committed); idleness does not count there, since an
app calling is not the person visiting Passport.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from typing import Any

from flask import Flask
from sqlalchemy import ColumnElement
from sqlalchemy import and_
from sqlalchemy import delete
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import update

from passport.accounts import signals as accounts_signals
from passport.database import utcnow
from passport.extensions import db
from passport.login.models import SSOSession
from passport.login.sessions import end_sso_session
from passport.login.sessions import end_user_sessions
from passport.login.signals import session_ended
from passport.oidc.backchannel import queue_backchannel_logouts
from passport.oidc.claims import claims_beyond_scopes
from passport.oidc.models import AuthorizationCode
from passport.oidc.models import Consent
from passport.oidc.models import OAuthClient
from passport.oidc.models import OAuthToken
from passport.oidc.models import PendingAuthorization


def current_scopes(granted: Iterable[str], allowed: Iterable[str]) -> list[str]:
    """The granted scopes the client is still registered for, in granted order, once each."""
    still = set(allowed)
    return [scope for scope in dict.fromkeys(granted) if scope in still]


def outlived_session(
    is_offline: bool,
    sid: str | None,
    session_ended_at: datetime | None,
    session_expires_at: datetime | None,
    now: datetime,
) -> bool:
    """A non-offline token whose SSO session ended, passed its absolute end or is gone.

    Userinfo and introspection apply it to the token row with its session outer-joined; the
    refresh grant applies the same rule in SQL (passport.oidc.server.ROTATE_REFRESH_TOKEN).
    Tokens without a session (client_credentials) and offline ones are not bound to one.
    """
    if is_offline or sid is None:
        return False
    return session_ended_at is not None or session_expires_at is None or session_expires_at <= now


# --- Primitives (no commit) ------------------------------------------------------------


def _revoke_tokens(*conditions: ColumnElement[bool]) -> int:
    """Revoke the live token rows matching ``conditions``; how many. Access and refresh
    tokens share a row, so both die."""
    result = db.session.execute(
        update(OAuthToken)
        .where(OAuthToken.revoked_at.is_(None), *conditions)
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _void_codes(*conditions: ColumnElement[bool]) -> int:
    """Delete the unredeemed codes matching ``conditions`` (redeemed ones stay for reuse
    detection); how many. A voided code is then simply unknown: invalid_grant."""
    result = db.session.execute(
        delete(AuthorizationCode)
        .where(AuthorizationCode.used_at.is_(None), *conditions)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# --- Sessions --------------------------------------------------------------------------


def withdraw_session_grants(sid: str) -> int:
    """Void the session's unredeemed codes and revoke its non-offline tokens; no commit."""
    _void_codes(AuthorizationCode.sid == sid)
    return _revoke_tokens(OAuthToken.sid == sid, OAuthToken.is_offline.is_(False))


def end_session(session: SSOSession, reason: str) -> None:
    """The session end hook: queue the back-channel logouts, then withdraw the session's
    codes and non-offline tokens (no commit: it runs inside the transaction ending it)."""
    # First: the relying parties to notify are found through the session's codes and tokens.
    queue_backchannel_logouts(session)
    withdraw_session_grants(session.sid)


def session_lapsed(sid: str | None) -> None:
    """A code or refresh token outlived its session: end the session now (its hooks withdraw
    the grants and notify the apps) or, if it already ended, sweep what is left; commits."""
    session = db.session.scalar(select(SSOSession).where(SSOSession.sid == sid)) if sid else None
    if session is not None and session.ended_at is None:
        end_sso_session(session, "expired")
        return
    if sid:
        withdraw_session_grants(sid)
    db.session.commit()


# --- People ----------------------------------------------------------------------------


def _cut_off_user(user_id: int, reason: str, keep: SSOSession | None = None) -> int:
    """Revoke every token and code of the user (offline ones too) and end every session,
    except ``keep``'s; commits (the caller's pending changes with it). Sessions ended."""
    conditions: list[ColumnElement[bool]] = []
    if keep is not None:
        conditions.append(or_(OAuthToken.sid.is_(None), OAuthToken.sid != keep.sid))
    _revoke_tokens(OAuthToken.user_id == user_id, *conditions)
    _void_codes(
        AuthorizationCode.user_id == user_id,
        *([AuthorizationCode.sid != keep.sid] if keep is not None else []),
    )
    return end_user_sessions(
        user_id, reason, except_session_id=keep.id if keep is not None else None
    )


def password_reset(user_id: int, reason: str) -> int:
    """The password was set through a link or forced to reset: whoever held the old one, and
    every app it let in, is out. Commits; returns the sessions ended."""
    return _cut_off_user(user_id, reason)


def password_changed(user_id: int, session: SSOSession) -> int:
    """The person changed the password from ``session``: everything else ends. Commits."""
    return _cut_off_user(user_id, "password_changed", keep=session)


def user_disabled(user_id: int) -> int:
    """The account was disabled: nothing of it keeps working. Commits."""
    return _cut_off_user(user_id, "user_disabled")


# --- Clients ---------------------------------------------------------------------------


def client_disabled(client_pk: int) -> int:
    """A disabled client keeps nothing usable: tokens, codes, pending requests; no commit.

    The consents stay, so re-enabling the client does not ask everyone again."""
    revoked = _revoke_tokens(OAuthToken.client_pk == client_pk)
    _void_codes(AuthorizationCode.client_pk == client_pk)
    db.session.execute(
        delete(PendingAuthorization)
        .where(PendingAuthorization.client_pk == client_pk)
        .execution_options(synchronize_session=False)
    )
    return revoked


def client_deleted(client_pk: int) -> int:
    """A deregistered client (RFC 7592 §2.3): as disabled, and its consents forgotten."""
    revoked = client_disabled(client_pk)
    db.session.execute(
        delete(Consent)
        .where(Consent.client_pk == client_pk)
        .execution_options(synchronize_session=False)
    )
    return revoked


# --- Grants of a person to an app --------------------------------------------------------


def _live_token_conditions(now: datetime) -> tuple[ColumnElement[bool], ...]:
    """A token row that still lets its app in: unrevoked, with an unexpired access token or
    an unused, unexpired refresh token."""
    return (
        OAuthToken.revoked_at.is_(None),
        or_(
            OAuthToken.access_expires_at > now,
            and_(
                OAuthToken.refresh_token_hash.is_not(None),
                OAuthToken.refresh_used_at.is_(None),
                OAuthToken.refresh_expires_at > now,
            ),
        ),
    )


@dataclass(frozen=True)
class LiveGrant:
    """An app that can read a person's data now: by consent, by live tokens, or both."""

    client_id: str
    name: str
    description: str | None
    scopes: list[str]
    granted_at: datetime
    has_consent: bool
    # User claims allowed one by one (the `claims` parameter, OIDC Core §5.5) beyond what
    # ``scopes`` release, within the client's registration now (``claims_beyond_scopes``).
    claims: list[str] = field(default_factory=list)


def live_grants(user_id: int) -> list[LiveGrant]:
    """Every app the person consented to or that holds live tokens of theirs, by name.

    Apps that skip consent (first-party) appear through their tokens, so the person can see
    and end them like any other.
    """
    now = utcnow()
    found: dict[int, dict[str, Any]] = {}
    consents = db.session.execute(
        select(Consent.client_pk, Consent.scopes, Consent.claims, Consent.created_at).where(
            Consent.user_id == user_id
        )
    )
    for client_pk, scopes, claims, created_at in consents:
        found[client_pk] = {
            "scopes": list(scopes or ()),
            "claims": list(claims or ()),
            "at": created_at,
            "consent": True,
        }
    tokens = db.session.execute(
        select(OAuthToken.client_pk, OAuthToken.scope, OAuthToken.created_at).where(
            OAuthToken.user_id == user_id, *_live_token_conditions(now)
        )
    )
    for client_pk, scope, created_at in tokens:
        grant = found.setdefault(
            client_pk, {"scopes": [], "claims": [], "at": created_at, "consent": False}
        )
        grant["scopes"] = [*grant["scopes"], *scope.split()]
        grant["at"] = min(grant["at"], created_at)
    if not found:
        return []
    clients = db.session.execute(
        select(
            OAuthClient.id,
            OAuthClient.client_id,
            OAuthClient.name,
            OAuthClient.description,
            OAuthClient.scopes,
        ).where(OAuthClient.id.in_(found))
    )
    grants = []
    for pk, client_id, name, description, registered in clients:
        granted = current_scopes(found[pk]["scopes"], registered or ())
        grants.append(
            LiveGrant(
                client_id=client_id,
                name=name,
                description=description,
                scopes=granted,
                granted_at=found[pk]["at"],
                has_consent=found[pk]["consent"],
                claims=claims_beyond_scopes(found[pk]["claims"], granted, registered or ()),
            )
        )
    return sorted(grants, key=lambda grant: (grant.name.casefold(), grant.client_id))


@dataclass(frozen=True)
class RevokedGrant:
    """What ``revoke_grant`` ended."""

    tokens: int
    codes: int
    consent: bool

    @property
    def anything(self) -> bool:
        """Whether the app had any access to end."""
        return bool(self.tokens or self.codes or self.consent)


def revoke_grant(user_id: int, client_pk: int) -> RevokedGrant:
    """End one app's access to one person: tokens (offline too), codes, consent; no commit."""
    tokens = _revoke_tokens(OAuthToken.user_id == user_id, OAuthToken.client_pk == client_pk)
    codes = _void_codes(
        AuthorizationCode.user_id == user_id, AuthorizationCode.client_pk == client_pk
    )
    consent = db.session.execute(
        delete(Consent)
        .where(Consent.user_id == user_id, Consent.client_pk == client_pk)
        .execution_options(synchronize_session=False)
    )
    return RevokedGrant(tokens, codes, bool(consent.rowcount))  # type: ignore[attr-defined]


# --- Signals of the capabilities below ------------------------------------------------------


def _on_session_ended(sender: Flask, *, session: SSOSession, reason: str) -> None:
    end_session(session, reason)


def _on_password_reset(sender: Flask, *, user_id: int, reason: str) -> None:
    password_reset(user_id, reason)


def _on_user_disabled(sender: Flask, *, user_id: int) -> None:
    user_disabled(user_id)


def subscribe(app: Flask) -> None:
    """Route the account and session signals of ``app`` to this policy (oidc's init_app)."""
    session_ended.connect(_on_session_ended, sender=app)
    accounts_signals.password_reset.connect(_on_password_reset, sender=app)
    accounts_signals.user_disabled.connect(_on_user_disabled, sender=app)
