"""The console's audit log: filter by actor, subject, application, event type and dates;
export as CSV.

National admins only (the log names people of every territory). An export is itself
audited, with the filters used, before the first line leaves.
"""

from __future__ import annotations

import re
from datetime import date

from flask import Response
from flask import abort
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import stream_with_context
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from passport.admin.acting import admin_action
from passport.admin.acting import national_admin
from passport.admin.blueprint import bp
from passport.admin.client_forms import ReasonOnlyForm
from passport.audit.chain import verify_chain
from passport.audit.queries import AuditFilter
from passport.audit.queries import csv_lines
from passport.audit.queries import event_types
from passport.audit.queries import iter_events
from passport.audit.queries import search_events
from passport.database import utcnow
from passport.extensions import db

DNI = re.compile(r"^\d{8}$")
EVENT = re.compile(r"^[a-z0-9_.]{1,64}$")
CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def parse_filter(args: MultiDict[str, str]) -> tuple[AuditFilter, dict[str, str]]:
    """The filter in ``args`` and Spanish errors for the fields that are not valid."""
    errors: dict[str, str] = {}
    values: dict[str, object] = {"zone": current_app.config["BABEL_DEFAULT_TIMEZONE"]}
    for name, key in (("actor", "actor_dni"), ("subject", "subject_dni")):
        text = (args.get(name) or "").strip()[:20]
        if text and not DNI.match(text):
            errors[name] = _("El DNI debe tener exactamente 8 dígitos.")
        elif text:
            values[key] = text
    event = (args.get("event") or "").strip()[:64]
    if event and not EVENT.match(event):
        errors["event"] = _("Elija un tipo de evento de la lista.")
    elif event:
        values["event"] = event
    client_id = (args.get("client") or "").strip()[:65]
    if client_id and not CLIENT_ID.match(client_id):
        errors["client"] = _(
            "Escriba el identificador (client_id) tal como aparece en Aplicaciones."
        )
    elif client_id:
        values["client_id"] = client_id
    for name, key in (("from", "date_from"), ("to", "date_to")):
        text = (args.get(name) or "").strip()[:10]
        if not text:
            continue
        try:
            values[key] = date.fromisoformat(text)
        except ValueError:
            errors[name] = _("Escriba la fecha como aaaa-mm-dd.")
    audit_filter = AuditFilter(**values)  # type: ignore[arg-type]
    if (
        audit_filter.date_from
        and audit_filter.date_to
        and audit_filter.date_from > audit_filter.date_to
    ):
        errors["to"] = _("La fecha final no puede ser anterior a la inicial.")
    return audit_filter, errors


@bp.get("/auditoria")
def audit() -> ResponseReturnValue:
    """Matching events, newest first, 50 per page."""
    national_admin()
    return render_audit(request.args)


def render_audit(source: MultiDict[str, str]) -> ResponseReturnValue:
    """The audit page for the filters in ``source`` (400 when a filter is not valid)."""
    audit_filter, errors = parse_filter(source)
    page = None
    if not errors:
        page = search_events(
            audit_filter,
            request.args.get("page", 1, type=int) or 1,
            before=request.args.get("antes", type=int),
            after=request.args.get("despues", type=int),
        )
    return render_template(
        "passport/admin/audit.html",
        page=page,
        errors=errors,
        args=audit_filter.as_dict(),
        raw=source,
        event_types=event_types(),
    ), (400 if errors else 200)


@bp.post("/auditoria/exportar")
def audit_export() -> ResponseReturnValue:
    """The filtered events as CSV, streamed; the export is audited first."""
    national_admin()
    form = ReasonOnlyForm()
    audit_filter, errors = parse_filter(request.form)
    if not form.validate_on_submit() or errors:
        return render_audit(request.form)
    admin_action(form.reason.data).record(
        "admin.audit_exported", details={"filters": audit_filter.as_dict()}
    )
    db.session.commit()
    stamp = utcnow().strftime("%Y%m%d-%H%M%S")
    return Response(
        stream_with_context(csv_lines(iter_events(audit_filter))),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="auditoria-{stamp}.csv"',
            "X-Content-Type-Options": "nosniff",
        },
    )


# The console's words for each broken-link code of passport/audit/chain.py.
BREAK_MESSAGES = {
    "missing_hash": _l("el registro no tiene huella"),
    "unexpected_predecessor": _l("faltan los primeros registros de la cadena"),
    "broken_link": _l("el registro anterior fue borrado o alterado"),
    "content_mismatch": _l("el contenido del registro no coincide con su huella"),
}


@bp.post("/auditoria/verificar")
def audit_verify() -> ResponseReturnValue:
    """Walk the hash chain (as ``passport audit verify``) and say whether it is intact."""
    national_admin()
    if not ReasonOnlyForm().validate_on_submit():
        abort(400)
    report = verify_chain(db.session())
    admin_action().record("admin.audit_verified", details=report.as_dict())
    db.session.commit()
    if report.ok:
        flash(
            _(
                "La cadena de auditoría está íntegra: %(n)s registros verificados.",
                n=report.checked,
            ),
            "success",
        )
    else:
        flash(
            _(
                "La cadena de auditoría está rota en el registro %(id)s: %(why)s.",
                id=report.broken_id,
                why=BREAK_MESSAGES[report.code or "broken_link"],
            ),
            "error",
        )
    return redirect(url_for("admin.audit"))
