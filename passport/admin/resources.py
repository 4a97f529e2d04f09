"""The console's resource pages (RFC 8707): list, register, edit, disable and enable the APIs
that access tokens may be narrowed to.

National admins only, like applications. The rules are those of ``passport resources``
(passport/oidc/resources.py): the console only words the refusals in Spanish.
"""

from __future__ import annotations

from flask import abort
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from passport.admin.acting import admin_action
from passport.admin.acting import national_admin
from passport.admin.blueprint import bp
from passport.admin.client_forms import ReasonOnlyForm
from passport.admin.client_forms import ResourceForm
from passport.extensions import db
from passport.oidc import resources as service
from passport.oidc.errors import InvalidResource
from passport.oidc.errors import UnknownClient
from passport.oidc.errors import UnknownResource
from passport.oidc.models import OAuthClient
from passport.oidc.models import Resource

# Spanish wording for each field the service can refuse.
FIELD_MESSAGES = {
    "identifier": _l(
        "El identificador debe ser una URI absoluta https (http solo en 127.0.0.1 o "
        "localhost), sin # ni ? ni credenciales, distinta de las ya registradas y del emisor "
        "de Passport."
    ),
    "scopes": _l("Elija al menos un alcance de la lista."),
    "access_token_format": _l("Elija opaque o jwt."),
    "name": _l("El nombre admite hasta 120 caracteres."),
    "client_id": _l(
        "Indique el client_id de una aplicación marcada como servidor de recursos, o déjelo vacío."
    ),
}
MAX_ID = 2**31 - 1


def scope_choices(current: list[str] | None = None) -> list[SelectChoice]:
    """The API scopes of this deployment (plus any the resource already has)."""
    names = [*current_app.config["API_SCOPES"], *(current or [])]
    return [SelectChoice(name) for name in dict.fromkeys(names)]


def _load(resource_id: int) -> Resource:
    if resource_id > MAX_ID:
        abort(404)
    try:
        return service.get_resource(resource_id)
    except UnknownResource:
        abort(404)


def _input(form: ResourceForm, identifier: str) -> service.ResourceInput:
    return service.ResourceInput(
        identifier=identifier,
        scopes=list(form.scopes.data or []),
        access_token_format=form.access_token_format.data,
        name=form.name.data or None,
        client_id=form.client_id.data or None,
    )


def _refuse(form: ResourceForm, field: str) -> None:
    target = getattr(form, field, None)
    if target is not None:
        target.errors = [*target.errors, str(FIELD_MESSAGES.get(field, _("Revise este dato.")))]


def _server_ids(rows: list[Resource]) -> dict[int, str]:
    pks = {row.client_pk for row in rows if row.client_pk is not None}
    if not pks:
        return {}
    found = db.session.execute(
        select(OAuthClient.id, OAuthClient.client_id).where(OAuthClient.id.in_(pks))
    )
    return {pk: client_id for pk, client_id in found}


@bp.get("/recursos")
def resources() -> ResponseReturnValue:
    """Every resource (API), with its scopes, token format and state."""
    national_admin()
    rows = service.list_resources()
    return render_template(
        "passport/admin/resources/list.html",
        rows=rows,
        servers=_server_ids(rows),
        issuer=current_app.config["ISSUER"],
    )


@bp.route("/recursos/nuevo", methods=["GET", "POST"])
def resources_create() -> ResponseReturnValue:
    """Register a resource."""
    national_admin()
    form = ResourceForm()
    form.scopes.choices = scope_choices()
    if form.validate_on_submit():
        try:
            row = service.create_resource(
                _input(form, form.identifier.data), action=admin_action(form.reason.data)
            )
        except InvalidResource as error:
            _refuse(form, error.field)
        except UnknownClient:
            _refuse(form, "client_id")
        else:
            flash(_("Se registró el recurso %(identifier)s.", identifier=row.identifier), "success")
            return redirect(url_for("admin.resources"))
    return render_template("passport/admin/resources/form.html", form=form, row=None)


@bp.route("/recursos/<int:resource_id>/editar", methods=["GET", "POST"])
def resources_edit(resource_id: int) -> ResponseReturnValue:
    """Change a resource's scopes, format, name or resource server (not its identifier)."""
    national_admin()
    row = _load(resource_id)
    form = ResourceForm()
    form.scopes.choices = scope_choices(list(row.scopes or []))
    # The identifier is fixed once registered: the page does not send it.
    form.identifier.validators = []
    if form.validate_on_submit():
        try:
            service.update_resource(
                row, _input(form, row.identifier), action=admin_action(form.reason.data)
            )
        except InvalidResource as error:
            db.session.rollback()
            row = _load(resource_id)
            _refuse(form, error.field)
        except UnknownClient:
            db.session.rollback()
            row = _load(resource_id)
            _refuse(form, "client_id")
        else:
            flash(_("Se guardaron los cambios del recurso."), "success")
            return redirect(url_for("admin.resources"))
    elif not form.is_submitted():
        form.name.data = row.name or ""
        form.scopes.data = list(row.scopes or [])
        form.access_token_format.data = row.access_token_format
        form.client_id.data = _server_ids([row]).get(row.client_pk or 0, "")
    return render_template("passport/admin/resources/form.html", form=form, row=row)


@bp.post("/recursos/<int:resource_id>/deshabilitar")
def resources_disable(resource_id: int) -> ResponseReturnValue:
    """Disable a resource: no new token names it, and its server no longer sees its tokens."""
    return _set_disabled(resource_id, True)


@bp.post("/recursos/<int:resource_id>/habilitar")
def resources_enable(resource_id: int) -> ResponseReturnValue:
    """Enable a disabled resource again."""
    return _set_disabled(resource_id, False)


def _set_disabled(resource_id: int, disabled: bool) -> ResponseReturnValue:
    national_admin()
    row = _load(resource_id)
    form = ReasonOnlyForm()
    if not form.validate_on_submit() or not form.reason.data:
        flash(_("Indique el motivo de esta acción; queda registrado en la auditoría."), "error")
        return redirect(url_for("admin.resources_edit", resource_id=row.id))
    service.set_resource_disabled(row, disabled, action=admin_action(form.reason.data))
    flash(
        _("El recurso quedó deshabilitado.") if disabled else _("El recurso quedó habilitado."),
        "success",
    )
    return redirect(url_for("admin.resources"))
