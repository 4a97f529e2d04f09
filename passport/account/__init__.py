"""Mi cuenta: the signed-in person's own page (password, sessions, apps, activity, TOTP)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the blueprint of Mi cuenta."""
    from passport.account.views import bp

    app.register_blueprint(bp)
