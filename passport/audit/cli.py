"""``passport audit ...``: checks on the audit log."""

from __future__ import annotations

import json
import sys

import click
from flask.cli import with_appcontext


@click.group("audit")
def audit_group() -> None:
    """The security audit log."""


@audit_group.command("verify")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def verify_command(as_json: bool) -> None:
    """Walk the hash chain; report the first broken link (exit status 1)."""
    from passport.audit.chain import verify_chain
    from passport.extensions import db

    report = verify_chain(db.session())
    if as_json:
        click.echo(json.dumps(report.as_dict()))
    elif report.ok:
        click.echo(
            f"audit chain intact: {report.checked} chained record(s), "
            f"{report.unchained} older unchained; last id {report.last_id} hash {report.last_hash}"
        )
    if not report.ok:
        broken = f"audit chain broken at id {report.broken_id}: {report.reason}"
        click.echo(f"passport: {broken}", err=True)
        sys.exit(1)
