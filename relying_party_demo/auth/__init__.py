"""Sign-in through Passport, the server-side local session, logout."""

from __future__ import annotations

from flask import Flask
from flask import redirect
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue

from relying_party_demo.auth.views import bp


def refresh_before_request() -> ResponseReturnValue | None:
    """Refresh an expired access token; a refused refresh ends the local session."""
    from relying_party_demo.auth.access import current_account
    from relying_party_demo.auth.errors import SessionEnded
    from relying_party_demo.auth.services import refresh_if_expired
    from relying_party_demo.auth.sessions import server_session

    if request.endpoint in (None, "static") or (request.blueprint == "auth"):
        return None
    record = current_account()
    if record is None:
        return None
    try:
        refresh_if_expired(record)
    except SessionEnded:
        server_session().end()
        return redirect(url_for("auth.welcome"))
    return None


def init_app(app: Flask) -> None:
    """Install the session store, the Passport client and the blueprint."""
    from relying_party_demo.auth.access import current_account
    from relying_party_demo.auth.client import register_provider
    from relying_party_demo.auth.sessions import DatabaseSessionInterface

    app.session_interface = DatabaseSessionInterface()
    register_provider(app)
    app.before_request(refresh_before_request)
    app.add_template_global(current_account, "current_account")
    app.register_blueprint(bp)
