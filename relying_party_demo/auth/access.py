"""Who is signed in, and the guard for pages that need someone signed in."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any
from typing import TypeVar
from typing import cast

from flask import redirect
from flask import session
from flask import url_for

from minedu_sso.logs import note
from relying_party_demo.auth.models import LocalSession
from relying_party_demo.auth.sessions import ServerSession

F = TypeVar("F", bound=Callable[..., Any])


def current_account() -> LocalSession | None:
    """The signed-in local session of this browser, or None."""
    if not isinstance(session, ServerSession):
        return None
    record = session.record
    if record is None or not record.is_signed_in:
        return None
    note(sub=record.subject)
    return record


def require_account() -> LocalSession:
    """The signed-in local session (call only behind ``login_required``)."""
    record = current_account()
    if record is None:
        raise RuntimeError("require_account() used outside login_required")
    return record


def login_required(view: F) -> F:
    """Send anonymous visitors to the welcome page."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_account() is None:
            return redirect(url_for("auth.welcome"))
        return view(*args, **kwargs)

    return cast(F, wrapper)
