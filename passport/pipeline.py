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
* Public documents that are the same for every client (discovery, JWKS) are answered from
  precomputed bytes and headers before Flask builds a request context (``PassportFlask.documents``):
  the capability that owns the document registers a function of the WSGI environ that returns
  the ``Answer`` or None (then Flask answers as before). Only plain ``GET`` requests without a
  query string take this path; the access line (route, endpoint) and the metrics observers are
  fed as for any other request, and any error falls back to Flask, which answers it as usual.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask import Flask
from flask import Request
from flask import current_app
from flask import has_app_context
from flask.sessions import SecureCookieSession
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer

from minedu_sso.logs import note_route_of


@dataclass(frozen=True)
class Answer:
    """A complete response: status line, headers, body, and what the access line names."""

    status: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    route: str
    endpoint: str


#: A precomputed document: the environ in, its Answer out (None: let Flask answer).
Document = Callable[[dict[str, Any]], Answer | None]
#: Told of each answer given without Flask: endpoint, method, status code, seconds.
AnswerObserver = Callable[[str, str, int, float], None]


class PassportFlask(Flask):
    """Flask, remembering which hooks and views are coroutines (none are today)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sync_callables: dict[Callable[..., Any], Callable[..., Any]] = {}
        #: PATH_INFO -> its precomputed document (registered by capabilities).
        self.documents: dict[str, Document] = {}
        self.answer_observers: list[AnswerObserver] = []

    def wsgi_app(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        """A registered document for a plain GET, else Flask's full request handling."""
        if environ.get("REQUEST_METHOD") == "GET" and not environ.get("QUERY_STRING"):
            document = self.documents.get(environ.get("PATH_INFO", ""))
            # A NUL in the agent is refused (400) by Flask's hooks: keep that answer theirs.
            if document is not None and "\x00" not in environ.get("HTTP_USER_AGENT", ""):
                answer = self._answer_document(document, environ)
                if answer is not None:
                    start_response(answer.status, list(answer.headers))
                    return [answer.body]
        return super().wsgi_app(environ, start_response)

    def _answer_document(self, document: Document, environ: dict[str, Any]) -> Answer | None:
        started = time.perf_counter()
        try:
            # Like Flask's request context: reuse this app's context when one is active.
            if has_app_context() and current_app._get_current_object() is self:  # type: ignore[attr-defined]
                answer = document(environ)
            else:
                with self.app_context():
                    answer = document(environ)
        except Exception:  # Flask answers it again, with its error handling
            return None
        if answer is not None:
            note_route_of(environ, answer.route, answer.endpoint)
            code = int(answer.status[:3])
            elapsed = time.perf_counter() - started
            for observe in self.answer_observers:
                observe(answer.endpoint, "GET", code, elapsed)
        return answer

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
