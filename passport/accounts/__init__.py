"""The accounts capability."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the blueprint and set up outgoing mail (the accounts' mails need it)."""
    from passport import mail
    from passport.accounts.views import bp

    mail.init_app(app)
    app.register_blueprint(bp)
