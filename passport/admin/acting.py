"""The signed-in admin as the actor of an audited action, and the national-only sections."""

from __future__ import annotations

from flask import abort
from flask import request

from passport.accounts.administration import scope_of
from passport.accounts.models import User
from passport.admin.guard import current_admin
from passport.audit.services import Actor
from passport.security.network import client_ip


def national_admin() -> User:
    """The current admin, who must be national: clients, keys and the whole audit log are
    the ministry's, not a DRE's or UGEL's (a scoped admin would see other territories)."""
    admin = current_admin()
    if not scope_of(admin).is_national:
        abort(403)
    return admin


def admin_action(reason: str | None = None) -> Actor:
    """Who (the current admin), from where (IP, browser) and why, for the audit log."""
    return Actor(
        user_id=current_admin().id,
        ip_address=client_ip(),
        user_agent=(request.user_agent.string or None),
        reason=" ".join((reason or "").split())[:500] or None,
    )
