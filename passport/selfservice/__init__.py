"""Mi cuenta: the signed-in person's own page (password, sessions, apps, activity, TOTP)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the blueprints of Mi cuenta and of its second-factor pages."""
    from passport.selfservice.second_factor import bp as second_factor
    from passport.selfservice.views import bp

    app.register_blueprint(bp)
    app.register_blueprint(second_factor)
