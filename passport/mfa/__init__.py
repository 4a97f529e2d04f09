"""The second factor: TOTP (RFC 6238), recovery codes and the sign-in's second step."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Subscribe to the account signals: a new admin is mailed the enrolment link.

    Its pages are Mi cuenta's (passport/selfservice/second_factor.py, blueprint ``mfa``); the
    sign-in's second step is login's."""
    from passport.accounts.signals import admin_granted
    from passport.mfa.services import enrol_new_admin

    admin_granted.connect(enrol_new_admin, sender=app)
