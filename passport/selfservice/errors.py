"""Domain errors of Mi cuenta."""

from __future__ import annotations


class SelfServiceError(Exception):
    """Base for Mi cuenta failures a view is expected to handle."""


class WrongCurrentPassword(SelfServiceError):  # noqa: N818 - named after what happened
    """The current password given to change it is not the account's."""


class UnknownConnectedApp(SelfServiceError):  # noqa: N818
    """The app to revoke is not connected to this account."""
