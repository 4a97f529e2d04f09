"""``passport resources ...`` (CONTRACT.md): the APIs of RFC 8707 resource indicators."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from passport.oidc.cli import emit_json
from passport.oidc.cli import fail


@click.group("resources")
def resources_group() -> None:
    """Resource servers (APIs) that tokens may be narrowed to (RFC 8707)."""


@resources_group.command("create")
@click.option("--identifier", required=True, help="Absolute URI, e.g. https://api.example/")
@click.option("--scope", "scope", required=True, help="Scopes the API accepts (space-separated).")
@click.option(
    "--access-token-format",
    type=click.Choice(["jwt", "opaque"]),
    default="opaque",
    show_default=True,
)
@click.option("--name", help="A name for the console.")
@click.option("--client-id", help="The resource server client that introspects its tokens.")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def create_resource_command(
    identifier: str,
    scope: str,
    access_token_format: str,
    name: str | None,
    client_id: str | None,
    as_json: bool,
) -> None:
    """Register a resource (an API) with the scopes it accepts."""
    from passport.oidc.errors import InvalidResource
    from passport.oidc.errors import UnknownClient
    from passport.oidc.resources import ResourceInput
    from passport.oidc.resources import create_resource
    from passport.oidc.resources import describe_resource

    data = ResourceInput(identifier, scope.split(), access_token_format, name, client_id)
    try:
        row = create_resource(data)
    except InvalidResource as error:
        fail(f"invalid resource: {error}")
    except UnknownClient:
        fail(f"no client {client_id}")
    if as_json:
        emit_json(describe_resource(row))
        return
    click.echo(f"resource: {row.identifier} ({' '.join(row.scopes)})")


@resources_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def list_resources_command(as_json: bool) -> None:
    """Every registered resource."""
    from passport.oidc.resources import describe_resource
    from passport.oidc.resources import list_resources

    rows = list_resources()
    if as_json:
        emit_json({"resources": [describe_resource(row) for row in rows]})
        return
    for row in rows:
        state = "disabled" if row.is_disabled else "enabled"
        scopes = " ".join(row.scopes)
        click.echo(f"{row.identifier}\t{scopes}\t{row.access_token_format}\t{state}")
