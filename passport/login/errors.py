"""Domain errors of the login capability: what happened, with data, not wording."""

from __future__ import annotations

from datetime import datetime


class LoginError(Exception):
    """Base for login failures a view is expected to handle."""


class InvalidCredentials(LoginError):  # noqa: N818 - named after what happened (STYLE.md §6)
    """The sign-in is refused. ``reason`` is for the audit log only, never for the person.

    Reasons: ``invalid_dni``, ``unknown_user``, ``bad_password``, ``locked``, ``pending``,
    ``disabled``. The page shows one message for all of them (no account enumeration).
    """

    def __init__(
        self, reason: str, *, user_id: int | None = None, locked_until: datetime | None = None
    ) -> None:
        super().__init__(f"sign-in refused: {reason}")
        self.reason = reason
        self.user_id = user_id
        # Set when this very failure locked the account: the owner is to be told.
        self.locked_until = locked_until


class CaptchaFailed(LoginError):  # noqa: N818
    """The CAPTCHA answer was wrong, missing or expired (the password was not looked at)."""
