"""Deleting protocol records nobody can use any more (run by `passport clients prune-expired`)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy import or_

from passport.database import utcnow
from passport.extensions import db
from passport.oidc.models import AuthorizationCode
from passport.oidc.models import BackchannelDelivery
from passport.oidc.models import ClientAssertionJti
from passport.oidc.models import InitialAccessToken
from passport.oidc.models import OAuthToken
from passport.oidc.models import PendingAuthorization

# Kept a while after expiry so a replayed code or rotated refresh token is still recognised
# as reuse (and revokes what it gave) rather than looking merely unknown.
REUSE_WINDOW = timedelta(days=1)


def prune_expired_records() -> dict[str, int]:
    """Delete expired codes, tokens, pending requests, jtis and settled deliveries; commits."""
    now = utcnow()
    old = now - REUSE_WINDOW
    statements = {
        "authorization_codes": delete(AuthorizationCode).where(AuthorizationCode.expires_at < old),
        "tokens": delete(OAuthToken).where(
            OAuthToken.access_expires_at < old,
            or_(OAuthToken.refresh_expires_at.is_(None), OAuthToken.refresh_expires_at < old),
        ),
        "pending_authorizations": delete(PendingAuthorization).where(
            PendingAuthorization.expires_at < now
        ),
        "client_assertion_jtis": delete(ClientAssertionJti).where(
            ClientAssertionJti.expires_at < now - timedelta(minutes=5)
        ),
        "backchannel_deliveries": delete(BackchannelDelivery).where(
            or_(
                BackchannelDelivery.delivered_at < old,
                BackchannelDelivery.gave_up_at < old,
            )
        ),
        "initial_access_tokens": delete(InitialAccessToken).where(
            InitialAccessToken.expires_at < now
        ),
    }
    counts = {}
    for name, statement in statements.items():
        result = db.session.execute(statement.execution_options(synchronize_session=False))
        counts[name] = int(result.rowcount)  # type: ignore[attr-defined]
    db.session.commit()
    return counts
