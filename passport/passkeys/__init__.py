"""Passkeys (WebAuthn / FIDO2): sign in without a password, and a phishing-resistant factor."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the passkeys blueprint; subscribe to the account signals: a forced password
    reset removes the account's passkeys."""
    from passport.accounts.signals import password_reset_forced
    from passport.passkeys.services import remove_all_for_reset
    from passport.passkeys.views import bp

    app.register_blueprint(bp)
    password_reset_forced.connect(remove_all_for_reset, sender=app)
