"""The oidc capability: the OpenID Provider (clients, codes, tokens, consent, keys, logout)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask
from flask import has_request_context
from flask import url_for

# Endpoints whose errors are JSON (interfaces.md: passport.json_endpoints).
JSON_ENDPOINTS = {
    "oidc.discovery",
    "oidc.webfinger",
    "oidc.jwks",
    "oidc.token",
    "oidc.pushed_authorization",
    "oidc.userinfo",
    "oidc.revoke",
    "oidc.introspect",
    "oidc.register",
    "oidc.manage_registration",
}

# Protocol endpoints have no per-IP limit (clients hold 256-bit credentials; /authorize only
# redirects), so Flask-Limiter skips its per-request work there (security.ratelimits).
UNLIMITED_ENDPOINTS = {
    "oidc.discovery",
    "oidc.webfinger",
    "oidc.jwks",
    "oidc.authorize",
    "oidc.token",
    "oidc.pushed_authorization",
    "oidc.userinfo",
    "oidc.revoke",
    "oidc.introspect",
}

CSRF_EXEMPT_VIEWS = (
    "authorize",
    "token",
    "pushed_authorization",
    "userinfo",
    "revoke",
    "introspect",
    "end_session",
    "register",
    "manage_registration",
)


@dataclass(frozen=True)
class PendingAuthorizationInfo:
    """What login shows and where it returns (passport.login.resume.PendingAuthorization)."""

    client_name: str
    login_hint: str | None
    ui_locales: list[str]
    resume_url: str
    # Optional extras login uses: CSP form-action for the final redirect, audit client id.
    redirect_uri: str | None = None
    client_id: str | None = None


def lookup_pending_authorization(authz_id: str) -> PendingAuthorizationInfo | None:
    """interfaces.md: `passport.pending_authorization`, called by login for /ingresar?authz=."""
    from passport.oidc.authorization import DNI_PATTERN
    from passport.oidc.authorization import load_pending_params
    from passport.oidc.authorization import parse_ui_locales
    from passport.oidc.clients import find_client

    params = load_pending_params(authz_id)
    if params is None:
        return None
    client = find_client(params.get("client_id"))
    if client is None:
        return None
    hint = params.get("login_hint")
    return PendingAuthorizationInfo(
        client_name=client.name,
        login_hint=hint if hint and DNI_PATTERN.match(hint) else None,
        ui_locales=parse_ui_locales(params.get("ui_locales")),
        resume_url=(
            url_for("oidc.resume", authz=authz_id)
            if has_request_context()
            else f"/authorize/resume?authz={authz_id}"
        ),
        redirect_uri=params.get("redirect_uri"),
        client_id=client.client_id,
    )


def create_first_keys(sender: Flask) -> None:
    """Post-upgrade hook: the first signing keys, so the JWKS is ready before any login."""
    from passport.oidc.keys import ensure_keys

    ensure_keys()


def init_app(app: Flask) -> None:
    """Register the blueprint, the Authlib server and the hooks other capabilities call."""
    from passport.extensions import csrf
    from passport.oidc.backchannel import deliver_after_request
    from passport.oidc.documents import register_documents
    from passport.oidc.revocation import subscribe
    from passport.oidc.server import build_server
    from passport.oidc.views import bp
    from passport.oidc.views import complete_after_sign_in
    from passport.security.outbound import init_outbound
    from passport.signals import database_upgraded

    init_outbound(app)
    app.register_blueprint(bp)
    register_documents(app)  # discovery and JWKS answered before Flask's request machinery
    # Protocol endpoints are called by clients, not by our own forms (no CSRF token to send);
    # the logout confirmation checks its token itself.
    for view in CSRF_EXEMPT_VIEWS:
        csrf.exempt(f"passport.oidc.views.{view}")
    app.extensions["passport.oidc.server"] = build_server(app)
    app.extensions["passport.pending_authorization"] = lookup_pending_authorization
    app.extensions["passport.complete_authorization"] = complete_after_sign_in
    subscribe(app)  # sessions ending, passwords reset, accounts disabled
    app.extensions.setdefault("passport.json_endpoints", set()).update(JSON_ENDPOINTS)
    app.extensions.setdefault("passport.unlimited_endpoints", set()).update(UNLIMITED_ENDPOINTS)
    database_upgraded.connect(create_first_keys, sender=app)
    app.after_request(deliver_after_request)
