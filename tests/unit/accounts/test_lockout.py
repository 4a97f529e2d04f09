"""Lockout arithmetic (Keycloak-style): failure factor, growing wait, max wait, reset time."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import timedelta

from passport.accounts.lockout import LockoutPolicy
from passport.accounts.lockout import is_locked
from passport.accounts.lockout import register_failed_login
from passport.accounts.lockout import register_successful_login
from passport.accounts.models import User

POLICY = LockoutPolicy(
    failure_factor=3,
    wait_increment=timedelta(minutes=1),
    max_wait=timedelta(minutes=5),
    failure_reset=timedelta(hours=12),
)
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def fresh_user() -> User:
    return User(failed_logins=0, lockouts=0, locked_until=None, last_failed_login_at=None)


def fail(user: User, times: int, at: datetime) -> datetime | None:
    locked_until = None
    for _ in range(times):
        locked_until = register_failed_login(user, POLICY, at)
    return locked_until


def test_failures_below_the_factor_do_not_lock() -> None:
    user = fresh_user()
    assert fail(user, 2, T0) is None
    assert user.failed_logins == 2
    assert not is_locked(user, T0)


def test_the_factor_th_failure_locks_for_one_increment() -> None:
    user = fresh_user()
    assert fail(user, 3, T0) == T0 + timedelta(minutes=1)
    assert is_locked(user, T0 + timedelta(seconds=59))
    assert not is_locked(user, T0 + timedelta(minutes=1))
    assert user.lockouts == 1
    assert user.failed_logins == 0


def test_each_further_lockout_waits_one_increment_longer() -> None:
    user = fresh_user()
    now = T0
    waits = []
    for _ in range(4):
        locked_until = fail(user, 3, now)
        assert locked_until is not None
        waits.append(locked_until - now)
        now = locked_until
    assert waits == [timedelta(minutes=n) for n in (1, 2, 3, 4)]


def test_no_lockout_lasts_longer_than_the_max_wait() -> None:
    assert POLICY.wait_for(1) == timedelta(minutes=1)
    assert POLICY.wait_for(5) == timedelta(minutes=5)
    assert POLICY.wait_for(50) == timedelta(minutes=5)


def test_failures_are_forgotten_after_the_reset_time() -> None:
    user = fresh_user()
    fail(user, 3, T0)
    fail(user, 2, T0 + timedelta(minutes=2))
    later = T0 + timedelta(minutes=2, hours=12)
    assert fail(user, 1, later) is None
    assert user.failed_logins == 1
    assert user.lockouts == 0
    assert fail(user, 2, later) == later + timedelta(minutes=1)


def test_failures_just_inside_the_reset_time_still_count() -> None:
    user = fresh_user()
    fail(user, 2, T0)
    assert fail(user, 1, T0 + timedelta(hours=12) - timedelta(seconds=1)) is not None


def test_a_success_resets_every_count() -> None:
    user = fresh_user()
    fail(user, 3, T0)
    fail(user, 2, T0 + timedelta(minutes=1))
    register_successful_login(user)
    assert (user.failed_logins, user.lockouts, user.locked_until) == (0, 0, None)


def test_the_policy_reads_the_settings() -> None:
    policy = LockoutPolicy.from_config(
        {
            "LOCKOUT_FAILURES": 5,
            "LOCKOUT_BASE_SECONDS": 60,
            "LOCKOUT_MAX_SECONDS": 3600,
            "LOCKOUT_FAILURE_RESET_HOURS": 12,
        }
    )
    assert policy.failure_factor == 5
    assert policy.wait_increment == timedelta(seconds=60)
    assert policy.max_wait == timedelta(hours=1)
    assert policy.failure_reset == timedelta(hours=12)
