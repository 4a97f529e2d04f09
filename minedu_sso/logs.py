"""Structured logs for both apps: one JSON line per record, one access line per request, ids.

Every request gets a request id: the trusted proxy's ``X-Request-Id`` when the app sits behind
one (and the value is a short, safe token), otherwise a fresh uuid4. It is answered in the
response's ``X-Request-Id``, carried by every log line written while the request runs, and can
be stored with work the request queues and bound again when that work is done later
(``bound_request_id``).

The access line names the route *pattern* (``/verificacion/<token>``), never the raw path or
the query string, so password links, codes and ``state`` values never reach a log; ``sub`` and
``client_id`` are added by the code that learns them (``note``), never a DNI. Passport
(passport/logs.py) and AYNI_SERVIDOR both install this middleware; their ``serve`` commands
send gunicorn's own lines through ``JsonFormatter`` (minedu_sso/serving.py).
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import re
import sys
import time
import uuid
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import UTC
from datetime import datetime
from typing import Any
from typing import ParamSpec
from typing import TypeVar

from flask import Flask
from flask import Response
from flask import has_request_context
from flask import request

REQUEST_ID_HEADER = "X-Request-Id"
# What a proxy's request id may look like; anything else is replaced (log injection, size).
SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_FIELDS_KEY = "minedu_sso.access_fields"  # WSGI environ: what the app adds to the access line
_HANDLER_MARK = "_minedu_sso_json"

_request_id: ContextVar[str | None] = ContextVar("minedu_sso_request_id", default=None)

P = ParamSpec("P")
R = TypeVar("R")


def current_request_id() -> str | None:
    """The id of the request being served (or of the queued work being done), or None."""
    return _request_id.get()


@contextlib.contextmanager
def bound_request_id(request_id: str | None) -> Iterator[None]:
    """Attribute log lines and audit events in this block to ``request_id`` (queued work).

    ``None`` (work queued before request ids existed) leaves the current id in place.
    """
    if not request_id:
        yield
        return
    token = _request_id.set(request_id)
    try:
        yield
    finally:
        _request_id.reset(token)


def carrying_request_id(function: Callable[P, R]) -> Callable[P, R]:
    """``function`` bound to the current request id, for work run after the response."""
    request_id = current_request_id()

    @functools.wraps(function)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        with bound_request_id(request_id):
            return function(*args, **kwargs)

    return run


def choose_request_id(incoming: str | None, *, trust_incoming: bool) -> str:
    """The proxy's id when trusted and well-formed, else a new one (uuid4 hex)."""
    if trust_incoming and incoming and SAFE_REQUEST_ID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


def note(*, sub: str | None = None, client_id: str | None = None) -> None:
    """Name whom the current request acts for, in its access line (never a DNI or a secret)."""
    if not has_request_context():
        return
    fields: dict[str, Any] | None = request.environ.get(_FIELDS_KEY)
    if fields is None:  # a test request context, not a request served by the middleware
        return
    if sub:
        fields["sub"] = sub
    if client_id:
        fields["client_id"] = client_id


WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class RequestLog:
    """WSGI middleware: the request id (set, answered, bound) and one access line per request."""

    def __init__(self, app: WSGIApp, *, trust_incoming: bool, logger: logging.Logger) -> None:
        self.app = app
        self.trust_incoming = trust_incoming
        self.log = logger

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        started = time.perf_counter()
        request_id = choose_request_id(
            environ.get("HTTP_X_REQUEST_ID"), trust_incoming=self.trust_incoming
        )
        fields: dict[str, Any] = {}
        environ[_FIELDS_KEY] = fields
        status: list[str] = ["500"]  # what is logged if the app raises before answering

        def start(status_line: str, headers: list[tuple[str, str]], *exc_info: Any) -> Any:
            status[0] = status_line
            headers.append((REQUEST_ID_HEADER, request_id))
            return start_response(status_line, headers, *exc_info)

        token = _request_id.set(request_id)
        try:
            return self.app(environ, start)
        finally:
            _request_id.reset(token)
            if self.log.isEnabledFor(logging.INFO):
                self.write_access_line(environ, fields, request_id, status[0], started)

    def write_access_line(
        self,
        environ: dict[str, Any],
        fields: dict[str, Any],
        request_id: str,
        status: str,
        started: float,
    ) -> None:
        """Log the request: route pattern, status, duration, who; never the path or the query."""
        code = int(status.split(" ", 1)[0]) if status[:3].isdigit() else 500
        method = environ.get("REQUEST_METHOD", "")
        route = fields.get("route")
        line = {
            "request_id": request_id,
            "method": method,
            "route": route,
            "endpoint": fields.get("endpoint"),
            "status": code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            "client_id": fields.get("client_id"),
            "sub": fields.get("sub"),
            # After ProxyFix (it rewrites the environ in place): the client behind trusted proxies.
            "remote_addr": environ.get("REMOTE_ADDR"),
        }
        self.log.info("%s %s %s", method, route, code, extra={"access": line})


def note_route(response: Response) -> Response:
    """After-request hook: the matched route's pattern and endpoint for the access line."""
    fields: dict[str, Any] | None = request.environ.get(_FIELDS_KEY)
    if fields is not None:
        rule = request.url_rule
        fields["route"] = rule.rule if rule is not None else None
        fields["endpoint"] = request.endpoint
    return response


def note_route_of(environ: dict[str, Any], route: str, endpoint: str) -> None:
    """The same as ``note_route``, for a response made without Flask's request context."""
    fields: dict[str, Any] | None = environ.get(_FIELDS_KEY)
    if fields is not None:
        fields["route"] = route
        fields["endpoint"] = endpoint


def install_request_log(app: Flask, *, trust_incoming: bool, logger_name: str) -> None:
    """Wrap ``app`` with the request-id and access-line middleware."""
    app.wsgi_app = RequestLog(  # type: ignore[method-assign]
        app.wsgi_app, trust_incoming=trust_incoming, logger=logging.getLogger(logger_name)
    )
    app.after_request(note_route)


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC), level, logger, message, request id, fields."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = current_request_id()
        if request_id:
            payload["request_id"] = request_id
        access = getattr(record, "access", None)
        if isinstance(access, dict):
            payload.update(access)
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            payload["exc"] = record.exc_text
        if record.stack_info:
            payload["stack"] = self.formatStack(record.stack_info)
        return json.dumps(payload, ensure_ascii=False, default=str)


def configure_json_logging(level: int = logging.INFO) -> None:
    """Send every logger's records to standard error as JSON lines (the servers; idempotent)."""
    root = logging.getLogger()
    if not any(getattr(handler, _HANDLER_MARK, False) for handler in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        setattr(handler, _HANDLER_MARK, True)
        root.addHandler(handler)
    root.setLevel(level)
