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


@cli.group("keys")
def keys_group() -> None:
    """AYNI's own key pair (FAPI 2.0: private_key_jwt and DPoP)."""


def key_location() -> tuple[dict[str, Any], Path]:
    """The settings and the key file they name (no app needed: the key may not exist yet)."""
    from flask import Flask

    from minedu_sso.settings.ayni import ConfigError
    from minedu_sso.settings.ayni import ayni_config_from_env
    from relying_party_demo.auth.client_key import key_file

    try:
        settings = ayni_config_from_env()
    except ConfigError as error:
        fail(str(error), 2)
    # The instance folder create_app would use (the checkout's instance/, or the prefix's).
    return settings, key_file(settings, Flask("relying_party_demo").instance_path)


@keys_group.command("generate", with_appcontext=False)
@click.option("--force", is_flag=True, help="Replace an existing key (re-register it at Passport).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def keys_generate(force: bool, as_json: bool) -> None:
    """Make the private key file (0600) and print the public JWK Set to register."""
    from relying_party_demo.auth.client_key import generate_key
    from relying_party_demo.auth.client_key import public_jwks
    from relying_party_demo.auth.client_key import write_key

    settings, path = key_location()
    if settings.get("PRIVATE_JWK"):
        fail("keys generate: AYNI_PRIVATE_JWK is set; the key comes from the environment")
    key = generate_key()
    try:
        write_key(path, key, replace=force)
    except FileExistsError:
        fail(f"keys generate: {path} exists; --force replaces it (then re-register the key)")
    except OSError as error:
        fail(f"keys generate: cannot write {path}: {error.strerror}")
    jwks = public_jwks(key)
    if as_json:
        click.echo(json.dumps({"file": str(path), "kid": key.kid, "jwks": jwks}))
        return
    click.echo(f"clave privada en {path} (kid {key.kid}); JWK Set público:")
    click.echo(json.dumps(jwks))


@keys_group.command("public", with_appcontext=False)
def keys_public() -> None:
    """Print the public JWK Set (for ``passport clients create --jwks-json``)."""
    from minedu_sso.settings.ayni import ConfigError
    from relying_party_demo.auth.client_key import load_key
    from relying_party_demo.auth.client_key import public_jwks

    settings, path = key_location()
    try:
        key = load_key(settings, str(path.parent))
    except ConfigError as error:
        fail(f"keys public: {error}")
    if key is None:
        fail(f"keys public: no key (no {path}); run `ayni keys generate`")
    else:
        click.echo(json.dumps(public_jwks(key)))


def main(argv: list[str] | None = None) -> Any:
    """Console-script entry point."""
    return cli.main(args=argv, prog_name="ayni")
