"""What only an administrator does to clients: disable, delete, approve scopes, manage the
initial access tokens of dynamic registration. The console and the CLI call these.

Every function commits once and records who acted, from where and why (``Actor``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy import select
from sqlalchemy import update

from passport.audit.services import Actor
from passport.database import utcnow
from passport.extensions import db
from passport.oidc.clients import forget_client
from passport.oidc.clients import get_client_row
from passport.oidc.errors import OIDCError
from passport.oidc.models import AuthorizationCode
from passport.oidc.models import BackchannelDelivery
from passport.oidc.models import Consent
from passport.oidc.models import InitialAccessToken
from passport.oidc.models import OAuthClient
from passport.oidc.models import OAuthToken
from passport.oidc.models import PendingAuthorization
from passport.oidc.models import Resource
from passport.oidc.resources import forget_registry
from passport.oidc.revocation import client_deleted
from passport.oidc.revocation import client_disabled

# Every table whose rows belong to one client (``client_pk``).
CLIENT_CHILDREN = (
    AuthorizationCode,
    OAuthToken,
    Consent,
    PendingAuthorization,
    BackchannelDelivery,
)


class NothingToApprove(OIDCError):  # noqa: N818 - STYLE.md names errors by what happened
    """The scopes named are not waiting for approval on this client."""


class UnknownInitialToken(OIDCError):  # noqa: N818
    """No initial access token with this id."""


def set_client_disabled(client_id: str, disabled: bool, *, action: Actor) -> bool:
    """Disable (revoking its tokens and codes at once) or enable a client; True when changed."""
    row = get_client_row(client_id)
    if row.is_disabled == disabled:
        return False
    row.is_disabled = disabled
    revoked = client_disabled(row.id) if disabled else 0
    action.record(
        "client.disabled" if disabled else "client.enabled",
        client_id=client_id,
        details={"tokens_revoked": revoked} if disabled else None,
    )
    db.session.commit()
    forget_client(client_id)
    return True


def remove_client(client_id: str, *, action: Actor) -> None:
    """Delete a client with its codes, tokens and consents (the audit log keeps its id)."""
    row = get_client_row(client_id)
    name = row.name
    # The shared path first (what any deregistration revokes), then the rows themselves.
    revoked = client_deleted(row.id)
    # Children first: SQLite does not enforce ON DELETE CASCADE unless told to.
    for child in CLIENT_CHILDREN:
        db.session.execute(delete(child).where(child.client_pk == row.id))
    # Its resources stay, without a resource server (ON DELETE SET NULL, which SQLite skips).
    db.session.execute(update(Resource).where(Resource.client_pk == row.id).values(client_pk=None))
    db.session.execute(delete(OAuthClient).where(OAuthClient.id == row.id))
    action.record(
        "client.deleted", client_id=client_id, details={"name": name, "tokens_revoked": revoked}
    )
    db.session.commit()
    forget_client(client_id)
    forget_registry()


def approve_client_scopes(client_id: str, scopes: list[str], *, action: Actor) -> list[str]:
    """Grant scopes a self-registered client asked for; the approved ones, in request order."""
    row = get_client_row(client_id)
    pending = list(row.pending_scopes or ())
    approved = [s for s in pending if s in scopes]
    if not approved:
        raise NothingToApprove(client_id)
    row.scopes = [*row.scopes, *(s for s in approved if s not in row.scopes)]
    row.pending_scopes = [s for s in pending if s not in approved] or None
    action.record("client.scopes_approved", client_id=client_id, details={"scopes": approved})
    db.session.commit()
    forget_client(client_id)
    return approved


def reject_client_scopes(client_id: str, scopes: list[str], *, action: Actor) -> list[str]:
    """Drop requested scopes without granting them; the rejected ones."""
    row = get_client_row(client_id)
    pending = list(row.pending_scopes or ())
    rejected = [s for s in pending if s in scopes]
    if not rejected:
        raise NothingToApprove(client_id)
    row.pending_scopes = [s for s in pending if s not in rejected] or None
    action.record("client.scopes_rejected", client_id=client_id, details={"scopes": rejected})
    db.session.commit()
    return rejected


def clients_awaiting_approval() -> list[OAuthClient]:
    """Clients with scopes waiting for an administrator, oldest first."""
    rows = db.session.scalars(select(OAuthClient).order_by(OAuthClient.id)).all()
    return [row for row in rows if row.pending_scopes]


@dataclass(frozen=True)
class InitialTokenInfo:
    """An initial access token as the console lists it (never the token itself)."""

    id: int
    label: str | None
    created_at: datetime
    expires_at: datetime | None
    uses: int
    max_uses: int | None
    revoked_at: datetime | None

    @property
    def state(self) -> str:
        """usable, used_up, expired or revoked."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= utcnow():
            return "expired"
        if self.max_uses is not None and self.uses >= self.max_uses:
            return "used_up"
        return "usable"


def list_initial_tokens(limit: int = 200) -> list[InitialTokenInfo]:
    """The newest initial access tokens first."""
    rows = db.session.scalars(
        select(InitialAccessToken).order_by(InitialAccessToken.id.desc()).limit(limit)
    ).all()
    return [
        InitialTokenInfo(
            id=row.id,
            label=row.label,
            created_at=row.created_at,
            expires_at=row.expires_at,
            uses=row.uses,
            max_uses=row.max_uses,
            revoked_at=row.revoked_at,
        )
        for row in rows
    ]


def revoke_initial_token(token_id: int, *, action: Actor) -> bool:
    """Withdraw an initial access token; True when it was not already revoked."""
    row = db.session.get(InitialAccessToken, token_id)
    if row is None:
        raise UnknownInitialToken(str(token_id))
    if row.revoked_at is not None:
        return False
    row.revoked_at = utcnow()
    action.record("client.initial_token_revoked", details={"token_id": token_id})
    db.session.commit()
    return True
