"""Domain errors of the second factor: what happened, not wording."""

from __future__ import annotations

from datetime import datetime


class SecondFactorError(Exception):
    """Base for second-factor failures a view is expected to handle."""


class InvalidCode(SecondFactorError):  # noqa: N818 - named after what happened (STYLE.md §6)
    """The TOTP or recovery code is wrong, reused or outside the accepted window."""


class InvalidPassword(SecondFactorError):  # noqa: N818
    """The current password given to confirm a sensitive change is wrong."""


class ChallengeExpired(SecondFactorError):  # noqa: N818
    """The pending second step is unknown, used, expired or out of attempts: start again."""


class AccountLocked(SecondFactorError):  # noqa: N818
    """The account is temporarily locked (passport/accounts/lockout.py).

    ``locked_until`` and ``user_id`` are set when this very failure locked it: the owner is
    to be told (the view mails after the response, as the one-step login does).
    """

    def __init__(self, locked_until: datetime | None, user_id: int | None = None) -> None:
        super().__init__("account locked")
        self.locked_until = locked_until
        self.user_id = user_id


class NotEnrolled(SecondFactorError):  # noqa: N818
    """The user has no confirmed TOTP credential (or no enrolment in progress)."""
