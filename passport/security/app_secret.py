"""The app secret and its fallbacks, for every signature and MAC Passport makes with it.

``SECRET_KEY`` signs; ``SECRET_KEY_FALLBACKS`` (Flask 3.1's setting, which Flask's own session
cookie already honours) still verify, so a rotated secret neither signs everybody out nor voids
the links and CAPTCHAs already handed out while the old value stays listed.
"""

from __future__ import annotations

from flask import Flask


def secret_keys(app: Flask) -> list[str]:
    """Every accepted secret, itsdangerous' order: the fallbacks, then the current (signing) one."""
    fallbacks = [str(value) for value in app.config.get("SECRET_KEY_FALLBACKS") or () if value]
    return [*fallbacks, str(app.config["SECRET_KEY"])]


def init_app_secret(app: Flask) -> None:
    """Let Flask-WTF's CSRF tokens verify under the fallbacks too (it reads one key otherwise).

    Flask-WTF signs with ``WTF_CSRF_SECRET_KEY`` when set; itsdangerous takes a list whose last
    key signs, so a form opened before a rotation still posts. An explicit value is kept.
    """
    if app.config.get("SECRET_KEY_FALLBACKS") and not app.config.get("WTF_CSRF_SECRET_KEY"):
        app.config["WTF_CSRF_SECRET_KEY"] = secret_keys(app)
