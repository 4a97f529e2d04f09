"""``passport clients ...`` and ``passport keys ...``."""

from __future__ import annotations

import click


@click.group("clients")
def clients_group() -> None:
    """Relying parties (ministry apps)."""


@click.group("keys")
def keys_group() -> None:
    """Signing keys."""
