"""The login capability: sign-in/out screens, the SSO session, and the shared web plumbing.

Its ``init_app`` also installs what every page relies on and no other capability owns: the
CAPTCHA provider, client-IP handling behind proxies, per-IP rate limits, security headers and
the set of JSON endpoints the error handler consults (the oidc capability adds to it).
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the blueprint and whatever the capability needs at start-up."""
    from passport import captcha
    from passport.login.sessions import init_sessions
    from passport.login.views import bp

    app.extensions.setdefault("passport.json_endpoints", set())
    captcha.init_app(app)
    init_sessions(app)
    app.register_blueprint(bp)
