"""The login capability: sign-in/out screens and the SSO session.

Its ``init_app`` also gives the layout its page-language and year helpers. The web plumbing
every page relies on (proxies, rate limits, headers) is ``passport.security.init_app``'s.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask
from flask import current_app
from flask_babel import get_locale


def page_language() -> str:
    """The ``lang`` of the page being rendered (``es`` unless English was chosen)."""
    locale = get_locale()
    return locale.language if locale is not None else "es"


def current_year() -> int:
    """This year in the deployment's time zone (the footer's copyright line)."""
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return datetime.now(zone).year


def init_app(app: Flask) -> None:
    """Register the blueprint and whatever the capability needs at start-up."""
    from passport.login.sessions import init_sessions
    from passport.login.views import bp

    init_sessions(app)
    app.jinja_env.globals.update(page_language=page_language, current_year=current_year)
    app.register_blueprint(bp)
