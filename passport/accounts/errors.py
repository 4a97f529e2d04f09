"""Domain errors of the accounts capability: what happened, with data, not wording."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from passport.security.password_policy import PasswordProblem


class AccountsError(Exception):
    """Base for account failures a view or command is expected to handle."""


@dataclass(frozen=True)
class FieldError:
    """One invalid field: its name and a short English reason (for operators and logs)."""

    field: str
    reason: str


class InvalidUserDataError(AccountsError):
    """Some fields of a user are invalid."""

    def __init__(self, errors: Sequence[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.reason}" for e in errors))
        self.errors = list(errors)


class DuplicateDniError(AccountsError):
    """A user with this DNI already exists."""

    def __init__(self, dni: str) -> None:
        super().__init__(f"a user with DNI {dni} already exists")
        self.dni = dni


class UserNotFoundError(AccountsError):
    """No user has this DNI."""

    def __init__(self, dni: str) -> None:
        super().__init__(f"no user has DNI {dni}")
        self.dni = dni


class ReasonRequiredError(AccountsError):
    """The action needs a reason for the audit log and none was given."""

    def __init__(self, action: str) -> None:
        super().__init__(f"{action} needs a reason")
        self.action = action


class NotPermittedError(AccountsError):
    """The acting admin may not do this (outside its territory, or a national-only action)."""

    def __init__(self, action: str) -> None:
        super().__init__(f"not permitted: {action}")
        self.action = action


class UnverifiedEmailError(AccountsError):
    """An admin account's link (password or second-factor enrolment) would go to an e-mail
    address nobody has proven to own; nothing was sent."""

    def __init__(self, dni: str) -> None:
        super().__init__(f"the e-mail of user {dni} is not verified; no link was sent")
        self.dni = dni


class AccountStateError(AccountsError):
    """The action does not apply to the account in its current state (e.g. activation mail
    to an active account); ``status`` is the account's status value."""

    def __init__(self, action: str, status: str) -> None:
        super().__init__(f"{action} does not apply to a {status} account")
        self.action = action
        self.status = status


class PasswordRejectedError(AccountsError):
    """The password breaks the policy; ``problems`` says how (Spanish messages included)."""

    def __init__(self, problems: Sequence[PasswordProblem]) -> None:
        super().__init__("password rejected: " + ", ".join(p.code for p in problems))
        self.problems = list(problems)


class LinkFailure(enum.StrEnum):
    """Why a password link cannot be used."""

    MALFORMED = "malformed"  # not a link we signed (tampered, truncated, wrong purpose)
    EXPIRED = "expired"
    USED = "used"  # used, superseded by a newer link, or the account changed state


class InvalidLinkError(AccountsError):
    """A password link is dead; nothing was changed."""

    def __init__(self, failure: LinkFailure) -> None:
        super().__init__(f"password link rejected: {failure.value}")
        self.failure = failure


@dataclass(frozen=True)
class RowError:
    """One problem in an import file: the line (1 = header; None = the whole file), the
    column, and an English reason."""

    line: int | None
    field: str | None
    reason: str

    def __str__(self) -> str:
        where = "file" if self.line is None else f"line {self.line}"
        if self.field:
            where += f", {self.field}"
        return f"{where}: {self.reason}"


class InvalidImportError(AccountsError):
    """The import file has errors; nothing was written."""

    def __init__(self, errors: Sequence[RowError]) -> None:
        super().__init__(f"{len(errors)} error(s) in the import file; nothing was written")
        self.errors = list(errors)
