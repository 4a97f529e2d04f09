"""Inicio (OPCIONES DE LEGAJO), Mi legajo, and the no-legajo message."""

from __future__ import annotations

from flask import Blueprint
from flask import redirect
from flask import render_template
from flask import url_for
from flask.typing import ResponseReturnValue

from relying_party_demo.auth.access import current_account
from relying_party_demo.auth.access import login_required
from relying_party_demo.legajo.access import current_legajo
from relying_party_demo.legajo.access import legajo_required
from relying_party_demo.legajo.services import vigente_legajo_for

bp = Blueprint("legajo", __name__)


@bp.get("/inicio")
@legajo_required
def inicio() -> ResponseReturnValue:
    """OPCIONES DE LEGAJO: Mi boleta and Mi legajo."""
    return render_template("relying_party_demo/legajo/inicio.html", legajo=current_legajo())


@bp.get("/legajo")
@legajo_required
def mi_legajo() -> ResponseReturnValue:
    """A read-only summary of the person's legajo."""
    return render_template("relying_party_demo/legajo/mi_legajo.html", legajo=current_legajo())


@bp.get("/sin-legajo")
@login_required
def sin_legajo() -> ResponseReturnValue:
    """USTED NO TIENE LEGAJO CREADO O VIGENTE… with Aceptar (which signs out)."""
    account = current_account()
    if account is not None and vigente_legajo_for(account.dni or "") is not None:
        return redirect(url_for("legajo.inicio"))
    return render_template("relying_party_demo/legajo/sin_legajo.html")
