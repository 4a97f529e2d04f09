"""``passport users ...``."""

from __future__ import annotations

import click


@click.group("users")
def users_group() -> None:
    """Accounts: create, import, unlock, disable, enable."""
