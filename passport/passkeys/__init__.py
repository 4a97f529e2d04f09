"""Passkeys (WebAuthn / FIDO2): sign in without a password, and a phishing-resistant factor."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the passkeys blueprint."""
    from passport.passkeys.views import bp

    app.register_blueprint(bp)
