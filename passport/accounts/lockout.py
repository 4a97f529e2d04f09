"""Per-account brute-force protection, modeled on Keycloak's brute-force detection.

Settings (Keycloak's names in brackets):

- ``LOCKOUT_FAILURES`` [Max Login Failures / failure factor]: consecutive wrong passwords
  that lock the account.
- ``LOCKOUT_BASE_SECONDS`` [Wait Increment]: the first lockout lasts this long; every further
  lockout in a row adds as much again (linear growth, as Keycloak: 1×, 2×, 3× ...).
- ``LOCKOUT_MAX_SECONDS`` [Max Wait]: no lockout lasts longer.
- ``LOCKOUT_FAILURE_RESET_HOURS`` [Failure Reset Time]: after this long without a failure,
  both the failure count and the lockout count start again from zero.

A successful login resets both counts (as Keycloak does); so does a password reset
(``clear_lockout``). While an account is locked, attempts are refused without checking the
password and are not counted, so a locked account cannot be locked for longer by hammering
it; per-IP throttling (``passport/security/ratelimits.py``) slows such hammering down.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from typing import Any

from passport.accounts.models import User
from passport.audit.services import Actor


@dataclass(frozen=True)
class LockoutPolicy:
    """The four Keycloak-style knobs."""

    failure_factor: int
    wait_increment: timedelta
    max_wait: timedelta
    failure_reset: timedelta

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> LockoutPolicy:
        """Read the ``LOCKOUT_*`` settings."""
        return cls(
            failure_factor=max(1, int(config["LOCKOUT_FAILURES"])),
            wait_increment=timedelta(seconds=int(config["LOCKOUT_BASE_SECONDS"])),
            max_wait=timedelta(seconds=int(config["LOCKOUT_MAX_SECONDS"])),
            failure_reset=timedelta(hours=int(config["LOCKOUT_FAILURE_RESET_HOURS"])),
        )

    def wait_for(self, lockout_number: int) -> timedelta:
        """How long the ``lockout_number``-th consecutive lockout lasts (1-based)."""
        return min(self.wait_increment * max(1, lockout_number), self.max_wait)


def is_locked(user: User, now: datetime) -> bool:
    """True while ``user`` is temporarily locked."""
    return user.locked_until is not None and user.locked_until > now


def register_failed_login(user: User, policy: LockoutPolicy, now: datetime) -> datetime | None:
    """Count a wrong password; return the lock's end when this failure locks the account."""
    last = user.last_failed_login_at
    if last is not None and now - last >= policy.failure_reset:
        user.failed_logins = 0
        user.lockouts = 0
    user.failed_logins += 1
    user.last_failed_login_at = now
    if user.failed_logins < policy.failure_factor:
        return None
    user.lockouts += 1
    user.failed_logins = 0
    user.locked_until = now + policy.wait_for(user.lockouts)
    return user.locked_until


def register_successful_login(user: User) -> None:
    """Forget past failures (Keycloak resets the count on success)."""
    user.failed_logins = 0
    user.lockouts = 0
    user.locked_until = None


def record_lockout(user: User, locked_until: datetime, info: Actor) -> None:
    """Audit the lock a failure just caused (every sign-in step: password, code, passkey), so
    the owner's activity page and passport_lockouts_total see each one; no commit."""
    info.record(
        "account_locked",
        subject_user_id=user.id,
        subject_dni=user.dni,
        details={"lockouts": user.lockouts, "locked_until": locked_until.isoformat()},
    )
