"""The ``passport`` command (CONTRACT.md): db, serve, users, clients, keys, maintenance."""

from __future__ import annotations

import sys
from typing import Any

import click
from flask import Flask
from flask.cli import FlaskGroup
from flask.cli import with_appcontext


def build_app() -> Flask:
    """Create the app from the environment, reporting bad settings in one line."""
    from minedu_sso.settings import ConfigError
    from passport import create_app

    try:
        return create_app()
    except ConfigError as error:
        click.echo(f"passport: {error}", err=True)
        sys.exit(2)


@click.group(cls=FlaskGroup, create_app=build_app, add_default_commands=False)
def cli() -> None:
    """Passport identity provider."""


@cli.group("db")
def db_group() -> None:
    """Database schema."""


@db_group.command("upgrade")
@with_appcontext
def db_upgrade() -> None:
    """Create or migrate the schema to the newest revision (idempotent)."""
    from flask_migrate import upgrade

    from passport.signals import announce
    from passport.signals import database_upgraded

    upgrade()
    announce(database_upgraded)
    click.echo("database is up to date")


# Not in an app context: the metrics folder must exist before the app (and its metrics) does.
@cli.command("serve", with_appcontext=False)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 64))
def serve(host: str, port: int, workers: int, threads: int) -> None:
    """Run Passport under gunicorn (no debugger, no reloader, in every environment)."""
    from passport.serving import metrics_folder
    from passport.serving import run_gunicorn
    from passport.serving import share_hashing_cpus

    share_hashing_cpus(workers)
    with metrics_folder():
        build_app()  # unsafe or broken settings stop here, in one line, before any worker
        run_gunicorn(
            "passport:create_app()", host=host, port=port, workers=workers, threads=threads
        )


def register_groups() -> None:
    """Attach each capability's command group (kept in the capability's cli module)."""
    from passport.accounts.cli import mail_group
    from passport.accounts.cli import users_group
    from passport.audit.cli import audit_group
    from passport.maintenance.cli import maintenance_group
    from passport.maintenance.cli import prune_expired_command
    from passport.maintenance.cli import reencrypt_command
    from passport.oidc.cli import clients_group
    from passport.oidc.cli import keys_group
    from passport.oidc.resources_cli import resources_group

    for group in (
        users_group,
        clients_group,
        keys_group,
        resources_group,
        audit_group,
        mail_group,
        maintenance_group,
    ):
        cli.add_command(group)
    clients_group.add_command(prune_expired_command)
    keys_group.add_command(reencrypt_command)


def main(argv: list[str] | None = None) -> Any:
    """Console-script entry point."""
    from passport.database import describe_unavailable
    from passport.database import is_database_unavailable

    register_groups()
    try:
        return cli.main(args=argv, prog_name="passport")
    except Exception as error:
        # A cron job run while PostgreSQL is down: one line, not a traceback (CONTRACT.md).
        if not is_database_unavailable(error):
            raise
        click.echo(
            f"passport: the database does not answer ({describe_unavailable(error)})", err=True
        )
        sys.exit(1)
