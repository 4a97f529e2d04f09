"""One error handler for AYNI_SERVIDOR: Spanish pages for people, JSON for back-channel calls."""

from __future__ import annotations

import logging

from flask import Flask
from flask import jsonify
from flask import render_template
from flask import request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class AyniError(Exception):
    """Base for failures a view is expected to handle."""


def error_page(status: int, title: str, message: str) -> ResponseReturnValue:
    """Render the Spanish error page with a way back to the start."""
    return (
        render_template(
            "relying_party_demo/error.html", status=status, title=title, message=message
        ),
        status,
    )


def register_error_pages(app: Flask) -> None:
    """Install the handlers: never a traceback, never an English default page."""

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> ResponseReturnValue:
        return error_page(
            400,
            _("La página ha caducado"),
            _("Vuelva a la página anterior, recárguela e intente de nuevo."),
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> ResponseReturnValue:
        status = error.code or 500
        if request.path.startswith("/auth/backchannel-logout"):
            return jsonify(error="invalid_request"), status
        if status == 404:
            return error_page(
                404,
                _("Página no encontrada"),
                _("La página que busca no existe o no tiene acceso a ella."),
            )
        if status == 405:
            return error_page(405, _("Acción no permitida"), _("Use los enlaces de la página."))
        if status == 413:
            return error_page(413, _("Solicitud demasiado grande"), _("Envíe menos datos."))
        return error_page(
            status,
            _("No se pudo atender la solicitud"),
            _("Revise los datos e intente de nuevo."),
        )

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception) -> ResponseReturnValue:
        from relying_party_demo.extensions import db

        # The route pattern, as in the access line (paths are never logged raw).
        route = request.url_rule.rule if request.url_rule is not None else None
        log.exception("unexpected error on %s %s", request.method, route)
        db.session.rollback()  # a failed statement must not poison the rest of the request
        return error_page(
            500,
            _("Ocurrió un error"),
            _("No pudimos completar la operación. Intente de nuevo en unos minutos."),
        )
