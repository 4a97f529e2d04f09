"""``passport maintenance ...``: housekeeping for cron."""

from __future__ import annotations

import json

import click
from flask.cli import with_appcontext


@click.group("maintenance")
def maintenance_group() -> None:
    """Housekeeping to run from cron."""


def emit_counts(counts: dict[str, int], as_json: bool) -> None:
    """The counts per kind: one JSON object, or one ``kind: n`` line each."""
    if as_json:
        click.echo(json.dumps(counts))
        return
    for name, count in counts.items():
        click.echo(f"{name}: {count}")


@maintenance_group.command("purge")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as one JSON object.")
@with_appcontext
def purge_command(as_json: bool) -> None:
    """Delete what has expired, in short batches (safe beside traffic; run every few minutes)."""
    from passport.maintenance.purge import purge

    emit_counts(purge(), as_json)


# `passport clients prune-expired`: the older name of the purge, attached to the clients group
# by passport/cli.py (oidc sits below maintenance and does not import it).
@click.command("prune-expired")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def prune_expired_command(as_json: bool) -> None:
    """Delete what has expired (the same as `passport maintenance purge`)."""
    from passport.maintenance.purge import purge

    emit_counts(purge(), as_json)


# `passport keys reencrypt`: attached to the keys group by passport/cli.py (it reads the oidc
# and mfa tables, so it lives above both).
@click.command("reencrypt")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as one JSON object.")
@with_appcontext
def reencrypt_command(as_json: bool) -> None:
    """Re-encrypt signing keys and TOTP secrets under the first KEY_ENCRYPTION_KEY value."""
    from passport.maintenance.reencrypt import reencrypt_all
    from passport.oidc.cli import fail

    results = reencrypt_all()
    unreadable = {name: result for name, result in results.items() if result.unreadable}
    if unreadable:
        # Only ids: never a ciphertext in the message.
        fail(
            "no KEY_ENCRYPTION_KEY value decrypts "
            + "; ".join(
                f"{name} id {', '.join(str(i) for i in result.unreadable)} (table unchanged)"
                for name, result in unreadable.items()
            )
        )
    if as_json:
        click.echo(json.dumps({name: result.as_dict() for name, result in results.items()}))
        return
    for name, result in results.items():
        click.echo(f"{name}: {result.reencrypted} re-encrypted, {result.current} already current")
