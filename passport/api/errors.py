"""Domain errors of the admin API: what happened, with data, not wording."""

from __future__ import annotations


class ConflictingUserError(Exception):
    """A user with this DNI exists with other data (the create is not a repeat)."""

    def __init__(self, dni: str, fields: list[str]) -> None:
        super().__init__(f"user {dni} exists with different {', '.join(fields)}")
        self.dni = dni
        self.fields = fields
