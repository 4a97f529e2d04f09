"""Exportar en Excel / Exportar en Pdf, and the PDF of one boleta."""

from __future__ import annotations

from flask import Blueprint
from flask import Response
from flask import abort
from flask import current_app
from flask import request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from relying_party_demo.boletas.errors import InvalidFilter
from relying_party_demo.boletas.services import all_boletas
from relying_party_demo.boletas.services import boleta_for
from relying_party_demo.boletas.services import parse_filter
from relying_party_demo.boletas.services import resolve_filter
from relying_party_demo.database import MAX_ID
from relying_party_demo.database import utcnow
from relying_party_demo.errors import error_page
from relying_party_demo.exports.documents import boleta_pdf
from relying_party_demo.exports.documents import boletas_table_pdf
from relying_party_demo.exports.spreadsheets import boletas_workbook
from relying_party_demo.exports.titles import ExportTitle
from relying_party_demo.legajo.access import current_legajo
from relying_party_demo.legajo.access import legajo_required

bp = Blueprint("exports", __name__)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def download(content: bytes, mimetype: str, file_name: str) -> Response:
    """A download response with the file name the contract fixes."""
    response = current_app.response_class(content, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{file_name}"'
    return response


def export_title() -> ExportTitle | ResponseReturnValue:
    """The title of the current filter, or the Spanish 400 page for a bad query."""
    legajo = current_legajo()
    try:
        chosen = parse_filter(request.args.get("anio"), request.args.get("mes"))
    except InvalidFilter:
        return error_page(
            400,
            _("Filtro no válido"),
            _("El año o el mes elegido no es válido. Vuelva a Mi boleta y elija otro."),
        )
    return ExportTitle(
        full_name=f"{legajo.apellidos}, {legajo.nombres}",
        dni=legajo.dni,
        chosen=resolve_filter(legajo.dni, chosen),
        generated_at=utcnow(),
    )


@bp.get("/boletas/export.xlsx")
@legajo_required
def export_xlsx() -> ResponseReturnValue:
    """The filtered list as an Excel workbook."""
    title = export_title()
    if not isinstance(title, ExportTitle):
        return title
    rows = all_boletas(title.dni, title.chosen, current_app.config["EXPORT_MAX_ROWS"])
    return download(boletas_workbook(rows, title), XLSX, title.file_name("xlsx"))


@bp.get("/boletas/export.pdf")
@legajo_required
def export_pdf() -> ResponseReturnValue:
    """The filtered list as a PDF table."""
    title = export_title()
    if not isinstance(title, ExportTitle):
        return title
    rows = all_boletas(title.dni, title.chosen, current_app.config["EXPORT_MAX_ROWS"])
    return download(boletas_table_pdf(rows, title), "application/pdf", title.file_name("pdf"))


@bp.get(f"/boletas/<int(max={MAX_ID}):boleta_id>.pdf")
@legajo_required
def boleta_document(boleta_id: int) -> ResponseReturnValue:
    """One boleta as a printable PDF; someone else's id is 404."""
    boleta = boleta_for(current_legajo().dni, boleta_id)
    if boleta is None:
        abort(404)
    period = f"{boleta.anio}-{boleta.mes:02d}"
    file_name = f"boleta_{boleta.dni}_{period}_{boleta.id}.pdf"
    return download(boleta_pdf(boleta, utcnow()), "application/pdf", file_name)
