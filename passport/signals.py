"""Signals (blinker, which Flask ships) and the one way Passport sends them.

A capability announces what happened in its own ``signals`` module (accounts, login, oidc);
the capabilities above subscribe in their ``init_app`` with the app as sender, so a lower
package never imports a higher one to make it react. This module holds the helper they all
send with, and the signal of the application itself.
"""

from __future__ import annotations

from typing import Any

from blinker import NamedSignal
from blinker import Namespace
from flask import current_app

_signals = Namespace()

#: Sent by ``passport db upgrade`` once the schema is current, so a capability can create
#: what it needs before the first request (the oidc signing keys). No arguments.
database_upgraded = _signals.signal("passport.database-upgraded")

#: A request was answered 503 because the database did not answer (passport/errors.py).
database_unavailable = _signals.signal("passport.database-unavailable")


def announce(signal: NamedSignal, **data: Any) -> list[Any]:
    """Send ``signal`` for the current app with ``data`` (keyword arguments only); return
    what the receivers returned (for the signals whose documentation asks for an answer).

    Receivers run at once, in the caller's transaction; their exceptions reach the caller.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    return [answer for _receiver, answer in signal.send(app, **data)]
