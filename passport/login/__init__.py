"""The login capability: sign-in/out screens, the SSO session, and the shared web plumbing.

Its ``init_app`` also installs what every page relies on and no other capability owns: the
CAPTCHA provider, client-IP handling behind proxies, per-IP rate limits, security headers,
the page-language and year helpers of the layout, and the set of JSON endpoints the error
handler consults (the oidc capability adds to it).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask
from flask import current_app
from flask import g
from flask_babel import get_locale
from flask_babel import refresh as refresh_locale


def page_language() -> str:
    """The ``lang`` of the page being rendered (``es`` unless English was chosen)."""
    locale = get_locale()
    return locale.language if locale is not None else "es"


def current_year() -> int:
    """This year in the deployment's time zone (the footer's copyright line)."""
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return datetime.now(zone).year


def forget_previous_request_state() -> None:
    """Before each request: drop what extensions cached on ``g`` for an earlier request.

    Flask-Babel caches the locale and Flask-WTF the CSRF token on ``g``, which lives as long
    as the app context. When one context serves several requests (the test client inside a
    test's app context), a language or token chosen for one browser must not leak into the
    next request. In production every request has its own context and this costs nothing.
    """
    g.pop("ui_locale", None)
    g.pop("csrf_token", None)
    refresh_locale()


def init_app(app: Flask) -> None:
    """Register the blueprint and whatever the capability needs at start-up."""
    from passport import captcha
    from passport.login.sessions import init_sessions
    from passport.login.views import bp
    from passport.security.headers import init_headers
    from passport.security.network import init_network
    from passport.security.ratelimits import init_ratelimits

    app.extensions.setdefault("passport.json_endpoints", set())
    init_network(app)
    init_ratelimits(app)
    init_headers(app)
    captcha.init_app(app)
    init_sessions(app)
    app.before_request(forget_previous_request_state)
    app.jinja_env.globals.update(page_language=page_language, current_year=current_year)
    app.register_blueprint(bp)
