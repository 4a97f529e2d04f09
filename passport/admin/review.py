"""The national review queue: scoped admins' requests for DNIs outside their territory.

A scoped admin who creates or imports a DNI that exists elsewhere gets the answer of a new
DNI (it must not learn where else a DNI lives); the request waits here for a national admin,
who applies it to the person (as a national import row would) or dismisses it.
"""

from __future__ import annotations

from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from passport.accounts import administration
from passport.admin.acting import admin_action
from passport.admin.acting import national_admin
from passport.admin.blueprint import bp
from passport.admin.forms import ReasonForm
from passport.database import MAX_ID


@bp.get("/revision")
def review() -> ResponseReturnValue:
    """The unresolved held requests, oldest first."""
    admin = national_admin()
    return render_template(
        "passport/admin/review.html",
        requests=administration.held_requests(actor=admin),
        form=ReasonForm(),
    )


@bp.post(f"/revision/<int(max={MAX_ID}):request_id>/<decision>")
def review_resolve(request_id: int, decision: str) -> ResponseReturnValue:
    """Apply ("aplicar") or dismiss ("descartar") one held request."""
    national_admin()  # national only: held requests cross territories
    if decision not in ("aplicar", "descartar"):
        abort(404)
    if not ReasonForm().validate_on_submit():
        abort(400)
    done = administration.resolve_held_request(
        request_id, apply=decision == "aplicar", actor=admin_action()
    )
    if not done:
        flash(_("Esa solicitud ya fue resuelta."), "error")
    elif decision == "aplicar":
        flash(_("Solicitud aplicada a la persona."), "success")
    else:
        flash(_("Solicitud descartada."), "success")
    return redirect(url_for("admin.review"))
