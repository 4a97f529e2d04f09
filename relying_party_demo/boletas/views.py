"""Mi boleta: filters in the URL, paged results, one boleta in full."""

from __future__ import annotations

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import render_template
from flask import request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from relying_party_demo.boletas.errors import InvalidFilter
from relying_party_demo.boletas.models import APORTE
from relying_party_demo.boletas.models import DESCUENTO
from relying_party_demo.boletas.models import INGRESO
from relying_party_demo.boletas.periods import MONTH_LABELS
from relying_party_demo.boletas.services import BoletaFilter
from relying_party_demo.boletas.services import boleta_for
from relying_party_demo.boletas.services import parse_filter
from relying_party_demo.boletas.services import parse_page
from relying_party_demo.boletas.services import resolve_filter
from relying_party_demo.boletas.services import search_boletas
from relying_party_demo.boletas.services import years_with_boletas
from relying_party_demo.database import MAX_ID
from relying_party_demo.legajo.access import current_legajo
from relying_party_demo.legajo.access import legajo_required

bp = Blueprint("boletas", __name__)


def filter_error_message(field: str) -> str:
    """The Spanish message for a bad query value."""
    if field == "anio":
        return str(_("Seleccione un año válido (cuatro dígitos, por ejemplo 2022)."))
    if field == "mes":
        return str(_("Seleccione un mes válido (de enero a diciembre) o «- Todos -»."))
    return str(_("El número de página no es válido."))


@bp.get("/boletas")
@legajo_required
def lista() -> ResponseReturnValue:
    """Filtros de búsqueda and Resultados de búsqueda de boletas."""
    legajo = current_legajo()
    years = years_with_boletas(legajo.dni)
    months = list(enumerate(MONTH_LABELS, start=1))
    try:
        chosen = parse_filter(request.args.get("anio"), request.args.get("mes"))
        page_number = parse_page(request.args.get("pagina"))
    except InvalidFilter as error:
        return (
            render_template(
                "relying_party_demo/boletas/lista.html",
                legajo=legajo,
                years=years,
                months=months,
                chosen=BoletaFilter(None, None),
                page=None,
                error_field=error.field,
                error_message=filter_error_message(error.field),
            ),
            400,
        )
    chosen = resolve_filter(legajo.dni, chosen)
    page = search_boletas(legajo.dni, chosen, page_number, current_app.config["BOLETAS_PAGE_SIZE"])
    return render_template(
        "relying_party_demo/boletas/lista.html",
        legajo=legajo,
        years=years,
        months=months,
        chosen=chosen,
        page=page,
        error_field=None,
        error_message=None,
    )


@bp.get(f"/boletas/<int(max={MAX_ID}):boleta_id>")
@legajo_required
def detalle(boleta_id: int) -> ResponseReturnValue:
    """Cargar boleta: the whole pay slip. Someone else's id is 404, never 403."""
    boleta = boleta_for(current_legajo().dni, boleta_id)
    if boleta is None:
        abort(404)
    return render_template(
        "relying_party_demo/boletas/detalle.html",
        boleta=boleta,
        ingresos=boleta.lines(INGRESO),
        descuentos=boleta.lines(DESCUENTO),
        aportes=boleta.lines(APORTE),
    )
