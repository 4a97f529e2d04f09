"""The guard of every AYNI page: signed in AND holding a legajo vigente."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any
from typing import TypeVar
from typing import cast

from flask import g
from flask import redirect
from flask import url_for

from relying_party_demo.auth.access import current_account
from relying_party_demo.legajo.models import Legajo
from relying_party_demo.legajo.services import vigente_legajo_for

F = TypeVar("F", bound=Callable[..., Any])


def legajo_required(view: F) -> F:
    """Anonymous → welcome; no legajo vigente → the seed's message and nothing else."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        account = current_account()
        if account is None:
            return redirect(url_for("auth.welcome"))
        legajo = vigente_legajo_for(account.dni or "")
        if legajo is None:
            return redirect(url_for("legajo.sin_legajo"))
        g.legajo = legajo
        return view(*args, **kwargs)

    return cast(F, wrapper)


def current_legajo() -> Legajo:
    """The signed-in person's legajo vigente (only behind ``legajo_required``)."""
    legajo = g.get("legajo")
    if not isinstance(legajo, Legajo):
        raise RuntimeError("current_legajo() used outside legajo_required")
    return legajo
