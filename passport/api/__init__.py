"""The admin API (``/api/v1``): JSON user provisioning for ministry systems.

Machine clients authenticate with client_credentials access tokens carrying the
``passport.admin.users:read`` / ``:write`` scopes; every error is an RFC 9457 problem
document; ``/api/v1/openapi.json`` describes it all.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the blueprint (CSRF-exempt: no cookie authenticates it) and its error format."""
    from passport.api.problems import render_api_error
    from passport.api.views import bp
    from passport.extensions import csrf

    app.register_blueprint(bp)
    csrf.exempt(bp)
    app.extensions.setdefault("passport.error_renderers", []).append(render_api_error)
