"""Revoking a person's tokens outside the protocol: an admin disables them or cuts an app off."""

from __future__ import annotations

from sqlalchemy import update

from passport.database import utcnow
from passport.extensions import db
from passport.oidc.models import OAuthToken


def revoke_user_tokens(user_id: int, *, client_pk: int | None = None) -> int:
    """Revoke every live token of the user (offline ones too), or only one client's; no commit.

    Returns how many rows were revoked. Access and refresh tokens share a row, so both die.
    """
    query = (
        update(OAuthToken)
        .where(OAuthToken.user_id == user_id, OAuthToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if client_pk is not None:
        query = query.where(OAuthToken.client_pk == client_pk)
    result = db.session.execute(query)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
