"""Deleting every expired or dead row, in short batches (``passport maintenance purge``).

Each kind is deleted ``BATCH_SIZE`` rows per transaction, the rows found through an index on
their expiry; on PostgreSQL a batch skips rows another transaction holds (``FOR UPDATE SKIP
LOCKED``), so a purge run every few minutes never waits on, nor blocks, sign-ins and token
requests. A row is dead by time alone (the conditions below), so a live row is never taken.

What stays a while after expiry, and why:
- authorization codes and tokens: ``REUSE_WINDOW`` after the last token of their family
  expires, so a replayed code or rotated refresh token is still recognised as reuse (and
  revokes its family) rather than looking merely unknown;
- SSO sessions: ``REUSE_WINDOW`` after their end (logged out or absolute expiry). A session
  only idle is kept until its absolute end: its refresh tokens still depend on it;
- sent, failed or cancelled mails: ``MAIL_RETENTION_DAYS`` (the import's progress page reads
  them); settled self-service requests (a typed DNI) and logout deliveries:
  ``outbox.SHORT_RETENTION`` (a day). Each outbox's ``past_use`` says it, and a requeue of
  failed rows skips what the purge would delete;
- audit events: ``AUDIT_RETENTION_DAYS`` (0 keeps them forever). Only the oldest go, a prefix
  of the log in id order, leaving an ``AuditArchiveSegment`` with the hash of the last one
  removed, so ``passport audit verify`` still walks an unbroken chain.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from datetime import timedelta
from itertools import takewhile
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement
from sqlalchemy import Table
from sqlalchemy import and_
from sqlalchemy import delete
from sqlalchemy import exists
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import text

from passport import outbox
from passport.accounts.mail_queue import MAILS
from passport.accounts.models import OutgoingMail
from passport.admin.models import AdminActivity
from passport.audit.models import AuditArchiveSegment
from passport.audit.models import AuditEvent
from passport.audit.services import record_event
from passport.captcha.models import CaptchaChallenge
from passport.database import utcnow
from passport.extensions import db
from passport.login.models import SSOSession
from passport.mfa.models import EnrolmentLink
from passport.mfa.models import SecondFactorChallenge
from passport.oidc.backchannel import DELIVERIES
from passport.oidc.models import AuthorizationCode
from passport.oidc.models import BackchannelDelivery
from passport.oidc.models import ClientAssertionJti
from passport.oidc.models import DPoPProofJti
from passport.oidc.models import InitialAccessToken
from passport.oidc.models import OAuthToken
from passport.oidc.models import PendingAuthorization
from passport.oidc.models import PushedAuthorization

BATCH_SIZE = 2000
REUSE_WINDOW = timedelta(days=1)
# A client assertion's jti is remembered a little past its expiry (clock skew allowed).
JTI_SKEW = timedelta(minutes=5)
# Serialises the audit archiving of two purges run at once (any key no other part uses).
ARCHIVE_LOCK_KEY = 0x5A55_A0D2

Condition = Callable[[datetime], ColumnElement[bool]]


def _dead_token(now: datetime) -> ColumnElement[bool]:
    tokens = OAuthToken.__table__
    family = tokens.alias("family")
    old = now - REUSE_WINDOW
    # Two ranges of the index ix_oauth_tokens_dead_after (refresh_expires_at, access_...).
    dead = or_(
        tokens.c.refresh_expires_at < old,
        and_(tokens.c.refresh_expires_at.is_(None), tokens.c.access_expires_at < old),
    )
    family_alive = or_(
        family.c.refresh_expires_at >= old,
        and_(family.c.refresh_expires_at.is_(None), family.c.access_expires_at >= old),
    )
    return and_(
        dead,
        tokens.c.access_expires_at < old,
        ~exists().where(family.c.family_id == tokens.c.family_id, family_alive),
    )


def _dead_session(now: datetime) -> ColumnElement[bool]:
    old = now - REUSE_WINDOW
    return or_(SSOSession.expires_at < old, SSOSession.ended_at < old)


# Kind name (the key of the JSON counts) → its table and what makes one of its rows dead.
KINDS: dict[str, tuple[Any, Condition]] = {
    "authorization_codes": (
        AuthorizationCode,
        lambda now: AuthorizationCode.expires_at < now - REUSE_WINDOW,
    ),
    "tokens": (OAuthToken, _dead_token),
    # First the console activity of the sessions about to go: SQLite does not cascade, and
    # it may give a deleted session's id to the next one, which must not inherit it.
    "admin_activity": (
        AdminActivity,
        lambda now: AdminActivity.sso_session_id.in_(
            select(SSOSession.id).where(_dead_session(now))
        ),
    ),
    "sso_sessions": (SSOSession, lambda now: _dead_session(now)),
    "captcha_challenges": (CaptchaChallenge, lambda now: CaptchaChallenge.expires_at < now),
    "second_factor_challenges": (
        SecondFactorChallenge,
        lambda now: SecondFactorChallenge.expires_at < now,
    ),
    "totp_enrolment_links": (EnrolmentLink, lambda now: EnrolmentLink.expires_at < now),
    "pending_authorizations": (
        PendingAuthorization,
        lambda now: PendingAuthorization.expires_at < now,
    ),
    "pushed_authorizations": (
        PushedAuthorization,
        lambda now: PushedAuthorization.expires_at < now,
    ),
    "client_assertion_jtis": (
        ClientAssertionJti,
        lambda now: ClientAssertionJti.expires_at < now - JTI_SKEW,
    ),
    # Kept until the proof's iat leaves the window (its expires_at); then no replay can pass.
    "dpop_proof_jtis": (DPoPProofJti, lambda now: DPoPProofJti.expires_at < now - JTI_SKEW),
    "backchannel_deliveries": (
        BackchannelDelivery,
        # Settled (sent, given up) a while ago: the outbox's (status, next_attempt_at) index.
        lambda now: and_(BackchannelDelivery.status.in_(outbox.SETTLED), DELIVERIES.past_use(now)),
    ),
    "initial_access_tokens": (
        InitialAccessToken,
        lambda now: InitialAccessToken.expires_at < now,
    ),
    "outgoing_mails": (
        OutgoingMail,
        lambda now: and_(OutgoingMail.status.in_(outbox.SETTLED), MAILS.past_use(now)),
    ),
}


def batch_statement(table: Table, condition: ColumnElement[bool], batch_size: int) -> Any:
    """DELETE of at most ``batch_size`` dead rows (skipping locked ones on PostgreSQL)."""
    (key,) = table.primary_key.columns
    ids = select(key).where(condition).limit(batch_size)
    if db.session.get_bind().dialect.name == "postgresql":
        ids = ids.with_for_update(skip_locked=True)
    return delete(table).where(key.in_(ids.scalar_subquery()))


def delete_dead(table: Table, condition: ColumnElement[bool], batch_size: int) -> int:
    """Delete every row matching ``condition``, one short transaction per batch."""
    total = 0
    while True:
        statement = batch_statement(table, condition, batch_size)
        result = db.session.execute(statement.execution_options(synchronize_session=False))
        db.session.commit()
        removed = int(result.rowcount)  # type: ignore[attr-defined]
        total += removed
        if removed < batch_size:
            return total


def archive_audit_events(now: datetime, batch_size: int) -> int:
    """Remove the events older than the retention from the start of the log, anchored."""
    days = int(current_app.config["AUDIT_RETENTION_DAYS"])
    if days <= 0:
        return 0
    cutoff = now - timedelta(days=days)
    segment: AuditArchiveSegment | None = None
    while True:
        if db.session.get_bind().dialect.name == "postgresql":
            db.session.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": ARCHIVE_LOCK_KEY}
            )
        rows = db.session.execute(
            select(AuditEvent.id, AuditEvent.occurred_at, AuditEvent.hash)
            .order_by(AuditEvent.id)
            .limit(batch_size)
        ).all()
        # A prefix in id order only: the chain must stay whole after it.
        prefix = list(takewhile(lambda row: row.occurred_at < cutoff, rows))
        if not prefix:
            break
        first, last = prefix[0], prefix[-1]
        db.session.execute(
            delete(AuditEvent)
            .where(AuditEvent.id >= first.id, AuditEvent.id <= last.id)
            .execution_options(synchronize_session=False)
        )
        if segment is None:
            segment = AuditArchiveSegment(
                first_id=first.id, oldest_at=first.occurred_at, events=0, archived_at=now
            )
            db.session.add(segment)
        segment.last_id, segment.last_hash = last.id, last.hash
        segment.newest_at = last.occurred_at
        segment.events += len(prefix)
        db.session.commit()  # the rows and their anchor go together
        if len(prefix) < batch_size:
            break
    if segment is None:
        return 0
    record_event(
        "audit.archived",
        details={
            "events": segment.events,
            "first_id": segment.first_id,
            "last_id": segment.last_id,
            "last_hash": segment.last_hash,
        },
    )
    db.session.commit()
    return segment.events


def purge(*, batch_size: int = BATCH_SIZE, now: datetime | None = None) -> dict[str, int]:
    """Delete what has expired, kind by kind; the count removed of each kind."""
    now = now or utcnow()
    counts = {
        name: delete_dead(model.__table__, condition(now), batch_size)
        for name, (model, condition) in KINDS.items()
    }
    counts["audit_events"] = archive_audit_events(now, batch_size)
    return counts
