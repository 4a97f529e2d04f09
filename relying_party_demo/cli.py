"""The ``ayni`` command (CONTRACT.md): db upgrade, serve, seed-demo, import-boletas."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import click
from flask import Flask
from flask.cli import FlaskGroup
from flask.cli import with_appcontext


def fail(message: str, code: int = 1) -> None:
    """One line on standard error, non-zero exit."""
    click.echo(f"ayni: {message}", err=True)
    sys.exit(code)


def build_app() -> Flask:
    """Create the app from the environment, reporting bad settings in one line."""
    from minedu_sso.settings.ayni import ConfigError
    from relying_party_demo import create_app

    try:
        return create_app()
    except ConfigError as error:
        fail(str(error), 2)
        raise  # unreachable: fail() exits


@click.group(cls=FlaskGroup, create_app=build_app, add_default_commands=False)
def cli() -> None:
    """AYNI_SERVIDOR: legajo y Mi boleta sobre Passport."""


@cli.group("db")
def db_group() -> None:
    """Database schema."""


@db_group.command("upgrade")
@with_appcontext
def db_upgrade() -> None:
    """Create or migrate the schema to the newest revision (idempotent)."""
    from flask_migrate import upgrade

    try:
        upgrade()
    except Exception as error:
        fail(f"db upgrade failed: {type(error).__name__}: {str(error).splitlines()[0][:200]}")
    click.echo("database is up to date")


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5001, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 64))
def serve(host: str, port: int, workers: int, threads: int) -> None:
    """Run AYNI_SERVIDOR under gunicorn (no debugger, no reloader)."""
    from relying_party_demo.serving import run_gunicorn

    build_app()  # fail here, in one line, when the settings are wrong
    run_gunicorn(
        "relying_party_demo:create_app()", host=host, port=port, workers=workers, threads=threads
    )


def check_dni(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> tuple[str, ...]:
    """Every --dni is 8 digits."""
    for value in values:
        if not re.fullmatch(r"[0-9]{8}", value):
            raise click.BadParameter(f"{value!r} is not an 8-digit DNI")
    return values


@cli.command("seed-demo")
@click.option("--dni", "dnis", multiple=True, callback=check_dni, help="8-digit DNI (repeatable)")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@with_appcontext
def seed_demo_command(dnis: tuple[str, ...], as_json: bool) -> None:
    """Legajos and boletas for these DNIs (default: the demo users). Idempotent."""
    from relying_party_demo.demo_data import DEMO_DNIS
    from relying_party_demo.demo_data import seed_demo

    chosen = tuple(dict.fromkeys(dnis)) or DEMO_DNIS
    try:
        counts = seed_demo(chosen)
    except Exception as error:
        fail(f"seed-demo failed: {type(error).__name__}: {str(error).splitlines()[0][:200]}")
    if as_json:
        click.echo(json.dumps({"dnis": list(chosen), **counts}, sort_keys=True))
        return
    summary = ", ".join(f"{key}={value}" for key, value in sorted(counts.items()))
    click.echo(f"seed-demo: {', '.join(chosen)}: {summary or 'nothing to do'}")


@cli.command("import-boletas")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Validate and count, write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@with_appcontext
def import_boletas_command(file: Path, dry_run: bool, as_json: bool) -> None:
    """Load boletas from a payroll CSV or JSON (all rows valid, or nothing is written)."""
    from relying_party_demo.boletas.errors import ImportRejected
    from relying_party_demo.boletas.imports import import_boletas

    if not file.is_file():
        fail(f"import-boletas: no such file: {file}")
    try:
        counts = import_boletas(file, dry_run=dry_run)
    except ImportRejected as rejected:
        problems = [
            {"line": problem.line, "where": problem.where, "reason": problem.reason}
            for problem in rejected.problems
        ]
        if as_json:
            result: dict[str, Any] = {"ok": False, "file": str(file), "errors": problems}
            click.echo(json.dumps(result, ensure_ascii=False))
        else:
            for problem in rejected.problems:
                click.echo(f"{file}: {problem.where} {problem.line}: {problem.reason}")
        fail(f"import-boletas: {len(problems)} problema(s) en {file.name}; no se escribió nada")
    except Exception as error:
        fail(f"import-boletas failed: {type(error).__name__}: {str(error).splitlines()[0][:200]}")
    if as_json:
        click.echo(json.dumps({"ok": True, "file": str(file), "dry_run": dry_run, **counts}))
        return
    verb = "se importarían" if dry_run else "importadas"
    click.echo(
        f"{file.name}: {counts['boletas']} boletas {verb} "
        f"(nuevas {counts['created']}, actualizadas {counts['updated']}, "
        f"sin cambios {counts['unchanged']})"
    )


def main(argv: list[str] | None = None) -> Any:
    """Console-script entry point."""
    return cli.main(args=argv, prog_name="ayni")
