"""The oidc capability."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the blueprint and whatever the capability needs at start-up."""
    from passport.oidc.views import bp

    app.register_blueprint(bp)
