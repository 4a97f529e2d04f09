"""One error handler for the app: Spanish HTML pages for people, JSON for protocol clients.

Endpoints named in ``app.extensions["passport.json_endpoints"]`` (the oidc capability adds
token, userinfo, JWKS, discovery...) answer ``{"error", "error_description"}`` with an RFC 6749
code and short ASCII English. Everything else gets a page in the person's language.

Malformed input never reaches a view: a path, query string, form body or User-Agent that is
not UTF-8 once percent-decoded, or holds a NUL character, is answered 400 first (werkzeug would
otherwise replace bad bytes and let a mangled value through, and PostgreSQL refuses NUL in text
columns with an error), and a body over ``MAX_CONTENT_LENGTH`` is answered 413. A form value
longer than its field allows is answered 400 by the form itself (``TooLong``), without the value.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from urllib.parse import unquote_to_bytes

from flask import Flask
from flask import Response
from flask import current_app
from flask import jsonify
from flask import render_template
from flask import request
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import BadRequest
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import InternalServerError

from passport.database import describe_unavailable
from passport.database import is_database_unavailable
from passport.security.forms import TooLong
from passport.signals import announce
from passport.signals import database_unavailable

log = logging.getLogger(__name__)

# Status -> (title, explanation) shown to people.
PAGES = {
    400: (_l("Solicitud no válida"), _l("Los datos enviados no son válidos. Vuelva a intentarlo.")),
    401: (_l("Acceso no autorizado"), _l("Debe iniciar sesión para ver esta página.")),
    403: (_l("Acceso denegado"), _l("No tiene permiso para ver esta página.")),
    404: (_l("Página no encontrada"), _l("La dirección que buscó no existe.")),
    405: (_l("Método no permitido"), _l("Esta página no acepta ese tipo de solicitud.")),
    413: (
        _l("Datos demasiado grandes"),
        _l("Los datos enviados superan el tamaño permitido."),
    ),
    429: (
        _l("Demasiados intentos"),
        _l(
            "Se recibieron demasiados intentos desde su conexión. Espere unos minutos y vuelva "
            "a intentarlo."
        ),
    ),
    500: (
        _l("Error del sistema"),
        _l("Ocurrió un error inesperado. Vuelva a intentarlo más tarde."),
    ),
    503: (
        _l("Servicio no disponible por el momento"),
        _l(
            "El servicio no está disponible en este momento. Sus datos no se perdieron: "
            "vuelva a intentarlo en unos minutos."
        ),
    ),
}

# Status -> RFC 6749 §5.2 / §4.1.2.1 error code for JSON clients.
JSON_CODES = {
    400: "invalid_request",
    401: "invalid_client",
    403: "access_denied",
    404: "invalid_request",
    405: "invalid_request",
    413: "invalid_request",
    429: "temporarily_unavailable",
    500: "server_error",
    503: "temporarily_unavailable",
}
JSON_DESCRIPTIONS = {
    400: "malformed request",
    401: "authentication required",
    403: "forbidden",
    404: "not found",
    405: "method not allowed",
    413: "request body too large",
    429: "too many requests",
    500: "internal error",
    503: "the service is temporarily unavailable, retry later",
}


class NotText(BadRequest):
    """A path, query string, form body or User-Agent that is not UTF-8 text without NUL."""

    description = "request is not valid UTF-8 text"


def _endpoint() -> str | None:
    """The endpoint of this URL, even when the method was wrong (405)."""
    if request.endpoint is not None:
        return request.endpoint
    adapter = current_app.create_url_adapter(request)
    if adapter is None:
        return None
    for method in ("GET", "POST"):
        try:
            endpoint, _ = adapter.match(method=method)
        except HTTPException:
            continue
        return str(endpoint)
    return None


def wants_json() -> bool:
    """True when the URL belongs to an endpoint that speaks JSON (protocol clients)."""
    endpoints = current_app.extensions.get("passport.json_endpoints", set())
    endpoint = _endpoint()
    return endpoint is not None and endpoint in endpoints


def _is_text(raw: bytes) -> bool:
    """URL-encoded ``raw`` decodes to UTF-8 without NUL."""
    try:
        decoded = unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return "\x00" not in decoded


def reject_malformed_text() -> None:
    """Before-request check: 400 for a non-UTF-8 or NUL-bearing path, query, body or agent."""
    if "\x00" in request.path or "\ufffd" in request.path:
        raise NotText()
    if "\x00" in request.headers.get("User-Agent", ""):
        raise NotText()
    if request.query_string and not _is_text(request.query_string):
        raise NotText()
    if request.method in ("POST", "PUT", "PATCH") and request.mimetype in (
        "application/x-www-form-urlencoded",
        "",
    ):
        # Cached: the form parser reads the same bytes afterwards.
        body = request.get_data(cache=True)
        if body and not _is_text(body):
            raise NotText()
    elif request.mimetype == "multipart/form-data":
        # werkzeug decodes parts with errors="replace"; a replacement char means bad bytes.
        for values in request.form.listvalues():
            if any("\ufffd" in value or "\x00" in value for value in values):
                raise NotText()


def render_error(status: int, message: str | None = None) -> ResponseReturnValue:
    """The error answer for ``status``: JSON for protocol endpoints, a page otherwise."""
    # A capability with its own error format (the admin API's problem documents) claims
    # its requests first; each renderer returns None for requests that are not its own.
    renderers: list[Callable[[int], Response | None]] = current_app.extensions.get(
        "passport.error_renderers", []
    )
    for renderer in renderers:
        answer = renderer(status)
        if answer is not None:
            return answer
    known = status if status in PAGES else (500 if status >= 500 else 400)
    if wants_json():
        return jsonify(error=JSON_CODES[known], error_description=JSON_DESCRIPTIONS[known]), status
    title, explanation = PAGES[known]
    return (
        render_template(
            "passport/errors/error.html",
            status=status,
            title=title,
            message=message or explanation,
        ),
        status,
    )


def handle_http_error(error: HTTPException) -> ResponseReturnValue:
    """Werkzeug/Flask HTTP errors (400, 404, 405, 413, 429 ...)."""
    # An exception in an after-request hook reaches here wrapped in a 500.
    original = getattr(error, "original_exception", None)
    if original is not None and is_database_unavailable(original):
        return answer_database_unavailable(original)
    status = error.code or 500
    message = None
    if isinstance(error, CSRFError):
        message = str(
            _l("El formulario caducó o no es válido. Vuelva a cargar la página e intente de nuevo.")
        )
    elif isinstance(error, TooLong):
        message = str(TooLong.page_message)
    response = current_app.make_response(render_error(status, message))
    # Keep the Retry-After that Flask-Limiter computed, and Allow on 405.
    for name, value in error.get_headers():
        if name.lower() in ("retry-after", "allow"):
            response.headers[name] = value
    return response


def handle_unexpected_error(error: Exception) -> ResponseReturnValue:
    """Anything else: log it, roll back, answer 500 without details."""
    from passport.extensions import db

    if isinstance(error, HTTPException):
        return handle_http_error(error)
    original = getattr(error, "original_exception", error)
    if is_database_unavailable(original):
        return answer_database_unavailable(original)
    # The route pattern, not the path: a path may carry a link token (/verificacion/<token>).
    route = request.url_rule.rule if request.url_rule is not None else None
    log.exception("unhandled error on %s %s", request.method, route, exc_info=original)
    db.session.rollback()
    return render_error(InternalServerError.code)


def answer_database_unavailable(error: BaseException) -> ResponseReturnValue:
    """503 with Retry-After when the database does not answer (never a 500 or a traceback).

    The transaction is rolled back, so nothing half-done is committed later; the log line
    names the driver's error class and message only (the SQL and its parameters stay out).
    """
    from passport.extensions import db

    with contextlib.suppress(Exception):  # the connection may be gone already
        db.session.rollback()
    log.warning(
        "database unavailable on %s %s: %s",
        request.method,
        request.path,
        describe_unavailable(error),
    )
    announce(database_unavailable)  # counted by the operations capability
    response = current_app.make_response(render_error(503))
    response.headers["Retry-After"] = str(current_app.config["UNAVAILABLE_RETRY_AFTER_SECONDS"])
    return response


def register_error_pages(app: Flask) -> None:
    """Install the error handlers and the UTF-8 check (first of all before-request hooks)."""
    app.extensions.setdefault("passport.json_endpoints", set())
    app.before_request_funcs.setdefault(None, []).insert(0, reject_malformed_text)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(Exception, handle_unexpected_error)
