"""Pages behind the normal login: the live SSO session, or a trip to /ingresar and back."""

from __future__ import annotations

import functools
from collections.abc import Callable

from flask import redirect
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

from passport.audit.services import Actor
from passport.login.models import SSOSession
from passport.login.resume import return_path
from passport.login.sessions import current_sso_session
from passport.security.network import client_ip


def sign_in_and_return() -> Response:
    """Send an anonymous visitor to the sign-in page, coming back here afterwards."""
    return redirect(url_for("login.sign_in", next=return_path()))


def signed_in(
    view: Callable[[SSOSession], ResponseReturnValue],
) -> Callable[[], ResponseReturnValue]:
    """Run ``view`` with the browser's live SSO session; anonymous visitors sign in first."""

    @functools.wraps(view)
    def wrapper() -> ResponseReturnValue:
        session = current_sso_session()
        if session is None:
            return sign_in_and_return()
        return view(session)

    return wrapper


def no_store(response: Response) -> Response:
    """Personal pages (codes, sessions) stay out of browser and proxy caches."""
    response.headers["Cache-Control"] = "no-store"
    return response


def request_info(client_id: str | None = None) -> Actor:
    """The caller's IP, user agent and (when a request names one) client, for the audit log."""
    return Actor(
        ip_address=client_ip(),
        user_agent=request.user_agent.string[:255] or None,
        client_id=client_id,
    )
