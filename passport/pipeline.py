"""The per-request machinery, trimmed to what each request needs (issue 13).

Every request runs a dozen hooks; on protocol endpoints (discovery, JWKS, token, userinfo,
introspection) most of their work used to be bookkeeping with nothing to do. Measured with
cProfile in process (``benchmarks/oidc_profile.py``), these were the avoidable parts:

* Flask asks ``inspect.iscoroutinefunction`` about every hook and view on every request
  (``ensure_sync``): the answer never changes, so ``PassportFlask`` remembers it per function.
* The cookie session built an ``itsdangerous`` serializer (key list, signer, salt) on every
  request, also when the request has no session cookie and needs none.
  ``CookieSessionInterface`` answers an empty session without it when there is no cookie,
  and builds the serializer once per set of keys when there is one. Verification, expiry and
  rotation keys (``SECRET_KEY_FALLBACKS``) are Flask's own, unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from flask import Request
from flask.sessions import SecureCookieSession
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer


class PassportFlask(Flask):
    """Flask, remembering which hooks and views are coroutines (none are today)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sync_callables: dict[Callable[..., Any], Callable[..., Any]] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """Flask's answer, computed once per function (hooks are hashable and long-lived)."""
        try:
            return self._sync_callables[func]
        except KeyError:
            pass
        except TypeError:  # an unhashable callable: ask Flask every time
            return super().ensure_sync(func)
        made = super().ensure_sync(func)
        if len(self._sync_callables) < 4096:  # bounded: views and hooks, not per-request objects
            self._sync_callables[func] = made
        return made


class CookieSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, without work for requests that carry no cookie."""

    def __init__(self) -> None:
        self._serializer: tuple[tuple[Any, ...], URLSafeTimedSerializer | None] | None = None

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        """Flask's serializer, rebuilt only when the secret key or its fallbacks change."""
        keys = (app.secret_key, *(app.config["SECRET_KEY_FALLBACKS"] or ()))
        cached = self._serializer
        if cached is not None and cached[0] == keys:
            return cached[1]
        made = super().get_signing_serializer(app)
        self._serializer = (keys, made)
        return made

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if not app.secret_key:
            return None  # Flask's null session, as before
        if not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)
