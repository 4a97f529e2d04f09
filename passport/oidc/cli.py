"""``passport clients ...`` and ``passport keys ...`` (CONTRACT.md)."""

from __future__ import annotations

import json
import sys
from typing import Any
from typing import NoReturn

import click
from flask.cli import with_appcontext

from passport import json_input
from passport import outbox
from passport.accounts.cli import audited_requeue_command


def fail(message: str) -> NoReturn:
    """One line on stderr, exit status 1 (CONTRACT.md)."""
    click.echo(f"passport: {message}", err=True)
    sys.exit(1)


def emit_json(payload: dict[str, Any]) -> None:
    """A single JSON object on stdout."""
    click.echo(json.dumps(payload, ensure_ascii=False))


@click.group("clients")
def clients_group() -> None:
    """Relying parties (ministry apps)."""


@clients_group.command("create")
@click.option("--name", required=True)
@click.option("--redirect-uri", "redirect_uris", multiple=True)
@click.option("--post-logout-redirect-uri", "post_logout_redirect_uris", multiple=True)
@click.option("--backchannel-logout-uri")
@click.option("--auth-method", required=True)
@click.option("--scope", "scope", default="openid", show_default=True)
@click.option("--grant-type", "grant_types", multiple=True)
@click.option("--skip-consent", is_flag=True)
@click.option("--jwks-json", help="The client's public JWK Set (private_key_jwt).")
@click.option("--jwks-uri")
@click.option("--id-token-alg", default="RS256", show_default=True)
@click.option("--access-token-format", default="opaque", show_default=True)
@click.option("--resource-server", is_flag=True, help="May introspect any client's tokens.")
@click.option(
    "--require-pushed-authorization-requests",
    "require_par",
    is_flag=True,
    help="/authorize only with a request_uri from /par (RFC 9126).",
)
@click.option(
    "--fapi2", is_flag=True, help="FAPI 2.0 profile: private_key_jwt, PAR, PKCE S256, 60 s codes."
)
@click.option("--request-object-alg", help="The one alg its request objects must use (RFC 9101).")
@click.option(
    "--dpop-bound-access-tokens", is_flag=True, help="Token requests must carry DPoP (RFC 9449)."
)
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def create_client_command(
    name: str,
    redirect_uris: tuple[str, ...],
    post_logout_redirect_uris: tuple[str, ...],
    backchannel_logout_uri: str | None,
    auth_method: str,
    scope: str,
    grant_types: tuple[str, ...],
    skip_consent: bool,
    jwks_json: str | None,
    jwks_uri: str | None,
    id_token_alg: str,
    access_token_format: str,
    resource_server: bool,
    require_par: bool,
    fapi2: bool,
    request_object_alg: str | None,
    dpop_bound_access_tokens: bool,
    as_json: bool,
) -> None:
    """Register a client; prints its client_id and (once) its secret."""
    from passport.oidc.clients import create_client
    from passport.oidc.clients import validate_metadata
    from passport.oidc.errors import InvalidClientMetadata

    jwks = None
    if jwks_json:
        try:
            jwks = json_input.loads(jwks_json)
        except ValueError:
            fail("--jwks-json is not valid JSON")
    if not grant_types:
        grant_types = ("authorization_code", "refresh_token")
    raw = {
        "name": name,
        "redirect_uris": list(redirect_uris),
        "post_logout_redirect_uris": list(post_logout_redirect_uris),
        "backchannel_logout_uri": backchannel_logout_uri,
        "token_endpoint_auth_method": auth_method,
        "scopes": scope.split(),
        "grant_types": list(grant_types),
        "skip_consent": skip_consent,
        "jwks": jwks,
        "jwks_uri": jwks_uri,
        "id_token_signed_response_alg": id_token_alg,
        "access_token_format": access_token_format,
        "is_resource_server": resource_server,
        "require_pushed_authorization_requests": require_par,
        "fapi2_profile": fapi2,
        "request_object_signing_alg": request_object_alg,
        "dpop_bound_access_tokens": dpop_bound_access_tokens,
    }
    try:
        metadata = validate_metadata(raw)
    except InvalidClientMetadata as error:
        fail(f"invalid client: {error}")
    row, secret = create_client(metadata)
    if as_json:
        emit_json({"client_id": row.client_id, "client_secret": secret, "name": row.name})
        return
    click.echo(f"client_id: {row.client_id}")
    click.echo(f"client_secret: {secret if secret else '(none)'}")
    if secret:
        click.echo("Store the secret now: it is not shown again.")


@clients_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def list_clients_command(as_json: bool) -> None:
    """Every registered client."""
    from passport.oidc.clients import describe_client
    from passport.oidc.clients import list_clients

    rows = list_clients()
    if as_json:
        emit_json({"clients": [describe_client(row) for row in rows]})
        return
    for row in rows:
        state = "disabled" if row.is_disabled else "enabled"
        click.echo(f"{row.client_id}\t{row.name}\t{row.token_endpoint_auth_method}\t{state}")


@clients_group.command("show")
@click.argument("client_id")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def show_client_command(client_id: str, as_json: bool) -> None:
    """One client's metadata."""
    from passport.oidc.clients import describe_client
    from passport.oidc.clients import get_client_row
    from passport.oidc.errors import UnknownClient

    try:
        row = get_client_row(client_id)
    except UnknownClient:
        fail(f"no client {client_id}")
    data = describe_client(row)
    if as_json:
        emit_json(data)
        return
    for key, value in data.items():
        click.echo(f"{key}: {value}")


@clients_group.command("rotate-secret")
@click.argument("client_id")
@click.option("--grace-seconds", default=0, type=click.IntRange(0, 30 * 86400))
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def rotate_secret_command(client_id: str, grace_seconds: int, as_json: bool) -> None:
    """Issue a new client secret (the old one keeps working for --grace-seconds)."""
    from passport.oidc.clients import rotate_client_secret
    from passport.oidc.errors import ClientHasNoSecret
    from passport.oidc.errors import UnknownClient

    try:
        secret = rotate_client_secret(client_id, grace_seconds)
    except UnknownClient:
        fail(f"no client {client_id}")
    except ClientHasNoSecret:
        fail(f"client {client_id} does not use a client secret")
    if as_json:
        emit_json({"client_id": client_id, "client_secret": secret})
        return
    click.echo(f"client_secret: {secret}")


@clients_group.command("initial-token")
@click.option("--expires-in", default=86400, show_default=True, type=click.IntRange(60))
@click.option("--max-uses", default=1, show_default=True, type=click.IntRange(1))
@click.option("--label", help="What or whom the token is for (shown in the admin console).")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def initial_token_command(expires_in: int, max_uses: int, label: str | None, as_json: bool) -> None:
    """An initial access token for dynamic client registration (RFC 7591 §3)."""
    from passport.oidc.registration import create_initial_access_token

    token, expires_at = create_initial_access_token(expires_in, max_uses, label=label)
    if as_json:
        emit_json(
            {
                "initial_access_token": token,
                "expires_at": expires_at.isoformat(),
                "max_uses": max_uses,
            }
        )
        return
    click.echo(f"initial_access_token: {token}")


@clients_group.command("initial-tokens")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def initial_tokens_command(as_json: bool) -> None:
    """Initial access tokens, newest first, with use count and state (never the token)."""
    from passport.oidc.client_admin import list_initial_tokens

    tokens = [
        {
            "id": t.id,
            "label": t.label,
            "state": t.state,
            "uses": t.uses,
            "max_uses": t.max_uses,
            "expires_at": t.expires_at.isoformat() if t.expires_at else None,
        }
        for t in list_initial_tokens()
    ]
    if as_json:
        emit_json({"initial_tokens": tokens})
        return
    for t in tokens:
        click.echo(f"{t['id']}\t{t['state']}\t{t['uses']}/{t['max_uses']}\t{t['label'] or ''}")


@clients_group.command("revoke-initial-token")
@click.argument("token_id", type=int)
@click.option("--reason", help="Kept in the audit log.")
@with_appcontext
def revoke_initial_token_command(token_id: int, reason: str | None) -> None:
    """Withdraw an initial access token."""
    from passport.audit.services import Actor
    from passport.oidc.client_admin import UnknownInitialToken
    from passport.oidc.client_admin import revoke_initial_token

    try:
        changed = revoke_initial_token(token_id, action=Actor(reason=reason))
    except UnknownInitialToken:
        fail(f"no initial access token {token_id}")
    click.echo("revoked" if changed else "already revoked")


@clients_group.command("disable")
@click.argument("client_id")
@click.option("--reason", help="Kept in the audit log.")
@with_appcontext
def disable_client_command(client_id: str, reason: str | None) -> None:
    """Disable a client and revoke its tokens at once."""
    _set_disabled(client_id, True, reason)


@clients_group.command("enable")
@click.argument("client_id")
@click.option("--reason", help="Kept in the audit log.")
@with_appcontext
def enable_client_command(client_id: str, reason: str | None) -> None:
    """Enable a disabled client."""
    _set_disabled(client_id, False, reason)


def _set_disabled(client_id: str, disabled: bool, reason: str | None) -> None:
    from passport.audit.services import Actor
    from passport.oidc.client_admin import set_client_disabled
    from passport.oidc.errors import UnknownClient

    try:
        changed = set_client_disabled(client_id, disabled, action=Actor(reason=reason))
    except UnknownClient:
        fail(f"no client {client_id}")
    state = "disabled" if disabled else "enabled"
    click.echo(state if changed else f"already {state}")


@clients_group.command("approve-scopes")
@click.argument("client_id")
@click.option("--scope", "scopes", multiple=True, required=True, help="A pending scope.")
@click.option("--reason", required=True, help="Kept in the audit log.")
@click.option("--reject", is_flag=True, help="Drop the scopes instead of granting them.")
@with_appcontext
def approve_scopes_command(
    client_id: str, scopes: tuple[str, ...], reason: str, reject: bool
) -> None:
    """Grant (or reject) scopes a self-registered client asked for."""
    from passport.audit.services import Actor
    from passport.oidc.client_admin import NothingToApprove
    from passport.oidc.client_admin import approve_client_scopes
    from passport.oidc.client_admin import reject_client_scopes
    from passport.oidc.errors import UnknownClient

    decide = reject_client_scopes if reject else approve_client_scopes
    try:
        decided = decide(client_id, list(scopes), action=Actor(reason=reason))
    except UnknownClient:
        fail(f"no client {client_id}")
    except NothingToApprove:
        fail(f"client {client_id} has none of these scopes pending")
    click.echo(("rejected: " if reject else "approved: ") + " ".join(decided))


@clients_group.command("retry-logouts")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def retry_logouts_command(as_json: bool) -> None:
    """Deliver back-channel logout tokens that are due for another attempt."""
    from passport.oidc.backchannel import deliver_due_logouts

    delivered, failed = deliver_due_logouts()
    if as_json:
        emit_json({"delivered": delivered, "failed": failed})
        return
    click.echo(f"delivered: {delivered}, failed: {failed}")


def _deliveries() -> outbox.Outbox[Any]:
    from passport.oidc.backchannel import DELIVERIES

    return DELIVERIES


clients_group.add_command(
    audited_requeue_command(
        "backchannel_logout.requeued",
        name="requeue-logouts",
        noun="logout deliveries",
        box=_deliveries,
    )
)


@click.group("keys")
def keys_group() -> None:
    """Signing keys."""


@keys_group.command("rotate")
@click.option("--alg", type=click.Choice(["RS256", "ES256"]))
@click.option("--delay-seconds", type=click.IntRange(0), help="Default KEY_ROTATION_DELAY_SECONDS.")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def rotate_keys_command(alg: str | None, delay_seconds: int | None, as_json: bool) -> None:
    """Publish a new key now; it signs after the rotation delay."""
    from passport.oidc.keys import rotate_keys

    created = rotate_keys(alg, delay_seconds)
    keys = [
        {"kid": k.kid, "alg": k.alg, "activates_at": k.activates_at.isoformat()} for k in created
    ]
    if as_json:
        emit_json({"keys": keys})
        return
    for key in keys:
        click.echo(f"{key['kid']}\t{key['alg']}\tsigns from {key['activates_at']}")


@keys_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def list_keys_command(as_json: bool) -> None:
    """Every key with its state (next, active, retired)."""
    from passport.oidc.keys import describe_keys

    keys = describe_keys()
    if as_json:
        emit_json({"keys": keys})
        return
    for key in keys:
        click.echo(f"{key['kid']}\t{key['alg']}\t{key['state']}\t{key['activates_at']}")


@keys_group.command("prune")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def prune_keys_command(as_json: bool) -> None:
    """Delete retired keys once every token they signed has expired."""
    from passport.oidc.keys import prune_keys

    removed = prune_keys()
    if as_json:
        emit_json({"removed": removed})
        return
    click.echo(f"removed {removed} key(s)")
