"""Domain errors of the login capability: what happened, with data, not wording."""

from __future__ import annotations


class LoginError(Exception):
    """Base for login failures a view is expected to handle."""


class InvalidCredentials(LoginError):  # noqa: N818 - named after what happened (STYLE.md §6)
    """The sign-in is refused. ``reason`` is for the audit log only, never for the person.

    Reasons: ``invalid_dni``, ``unknown_user``, ``bad_password``, ``locked``, ``pending``,
    ``disabled``. The page shows one message for all of them (no account enumeration).
    """

    def __init__(self, reason: str) -> None:
        super().__init__(f"sign-in refused: {reason}")
        self.reason = reason


class CaptchaFailed(LoginError):  # noqa: N818
    """The CAPTCHA answer was wrong, missing or expired (the password was not looked at)."""
