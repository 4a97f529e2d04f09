"""The console's user pages: search, a person's page, create, edit, and actions on a person.

Every query and action goes through passport/accounts/administration.py with the signed-in
admin as actor, so a scoped admin's territory is enforced there, not here: a user outside it
is "not found" (404), exactly like an unknown DNI.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from passport.accounts import administration
from passport.accounts.errors import AccountsError
from passport.accounts.errors import AccountStateError
from passport.accounts.errors import DuplicateDniError
from passport.accounts.errors import InvalidUserDataError
from passport.accounts.errors import NotPermittedError
from passport.accounts.errors import ReasonRequiredError
from passport.accounts.errors import UnverifiedEmailError
from passport.accounts.errors import UserNotFoundError
from passport.accounts.models import User
from passport.accounts.services import NewUser
from passport.admin import access
from passport.admin.acting import admin_action
from passport.admin.blueprint import bp
from passport.admin.forms import CreateUserForm
from passport.admin.forms import EditUserForm
from passport.admin.forms import ReasonForm
from passport.admin.guard import current_admin
from passport.database import MAX_ID
from passport.database import utcnow
from passport.login.devices import describe_device
from passport.mail import MailDeliveryError
from passport.oidc.scope_labels import describe_scopes
from passport.passkeys.authenticators import describe_authenticator
from passport.passkeys.services import passkeys_of
from passport.passkeys.services import remove_by_admin

# Spanish wording for the fields the accounts validator can refuse.
FIELD_MESSAGES = {
    "dni": _l("El DNI debe tener exactamente 8 dígitos (solo números)."),
    "email": _l("Ingrese un correo electrónico válido."),
    "given_name": _l("Revise los nombres: sin números ni símbolos, hasta 100 caracteres."),
    "family_name": _l("Revise los apellidos: sin números ni símbolos, hasta 100 caracteres."),
    "phone": _l("Escriba el teléfono en forma internacional, por ejemplo +51987654321."),
    "dre": _l("Revise el nombre de la DRE (hasta 120 caracteres)."),
    "ugel": _l("Revise el nombre de la UGEL (hasta 120 caracteres)."),
}
FORM_FIELDS = {"phone": "phone"}
SCOPED_CREATE_DONE = _l(
    "Solicitud registrada. Si el DNI no tenía cuenta, se creó en su ámbito y se envió el correo "
    "«Generar tu contraseña»; si ya tenía una, la revisará un administrador nacional."
)  # validator field -> form field, where they differ


def error_message(error: AccountsError) -> str:
    """The Spanish sentence for a refused action."""
    if isinstance(error, ReasonRequiredError):
        return str(_("Indique el motivo de esta acción; queda registrado en la auditoría."))
    if isinstance(error, NotPermittedError):
        return str(_("Su ámbito de administración no le permite esta acción."))
    if isinstance(error, UnverifiedEmailError):
        return str(
            _(
                "El correo de esta cuenta de administrador no está verificado: no se envió "
                "ningún enlace. Un administrador nacional debe confirmar el correo primero."
            )
        )
    if isinstance(error, AccountStateError):
        return str(_("Esta acción no corresponde al estado actual de la cuenta."))
    if isinstance(error, DuplicateDniError):
        return str(_("Ya existe un usuario con ese DNI."))
    if isinstance(error, InvalidUserDataError):
        return str(_("Revise los datos marcados e inténtelo otra vez."))
    return str(_("No se pudo completar la acción."))


def attach_field_errors(form: Any, error: InvalidUserDataError) -> None:
    """Put the validator's refusals on the form's fields, in Spanish."""
    for problem in error.errors:
        field = getattr(form, FORM_FIELDS.get(problem.field, problem.field), None)
        if field is not None:
            field.errors = [*field.errors, str(FIELD_MESSAGES.get(problem.field, problem.reason))]


def _load(dni: str) -> User:
    """The user of ``dni`` as the current admin may see it, else 404."""
    try:
        return administration.find_user(dni, actor=current_admin())
    except UserNotFoundError:
        abort(404)


@bp.get("/usuarios")
def users() -> ResponseReturnValue:
    """Search by DNI, name or e-mail within the admin's territory, paginated."""
    text = (request.args.get("q") or "").strip()[: administration.SEARCH_MAX_LENGTH]
    page_number = request.args.get("page", 1, type=int) or 1
    page = administration.search_users(text, actor=current_admin(), page=max(page_number, 1))
    return render_template(
        "passport/admin/users/list.html",
        page=page,
        q=text,
        counts=administration.count_users(actor=current_admin()),
    )


@bp.route("/usuarios/nuevo", methods=["GET", "POST"])
def users_create() -> ResponseReturnValue:
    """Create a pending user; the "Generar tu contraseña" mail goes out."""
    admin = current_admin()
    form = CreateUserForm()
    scope = administration.scope_of(admin)
    if request.method == "GET":
        form.dre.data, form.ugel.data = scope.dre, scope.ugel
    form_error = None
    if form.validate_on_submit():
        try:
            user = administration.create_user(
                NewUser(
                    form.dni.data,
                    form.email.data,
                    form.given_name.data,
                    form.family_name.data,
                    phone=form.phone.data or None,
                    dre=form.dre.data,
                    ugel=form.ugel.data,
                ),
                actor=admin_action(form.reason.data),
            )
        except InvalidUserDataError as error:
            attach_field_errors(form, error)
            form_error = error_message(error)
        except MailDeliveryError:
            form_error = _("No se pudo enviar el correo; el usuario no fue creado. Intente luego.")
        except AccountsError as error:
            form_error = error_message(error)
        else:
            if user is None or not scope.is_national:
                # The same answer whether the DNI was new or held for a national admin
                # (it exists outside this territory): a scoped admin must not learn which.
                flash(str(SCOPED_CREATE_DONE), "success")
                return redirect(url_for("admin.users"))
            flash(_("Usuario creado. Se envió el correo «Generar tu contraseña»."), "success")
            return redirect(url_for("admin.users_detail", dni=user.dni))
    elif form.errors:
        form_error = _("Revise los datos marcados e inténtelo otra vez.")
    return render_template(
        "passport/admin/users/create.html",
        form=form,
        form_error=form_error,
        reason_required=administration.is_reason_required("create", admin),
        scope=scope,
    )


@bp.get("/usuarios/<dni>")
def users_detail(dni: str) -> ResponseReturnValue:
    """A person's page: account state, sessions, apps, recent events and the actions."""
    admin = current_admin()
    user = _load(dni)
    live = access.user_sessions(user)
    sessions = [(row, describe_device(row.user_agent)) for row in live]
    return render_template(
        "passport/admin/users/detail.html",
        user=user,
        sessions=sessions,
        apps=access.user_apps(user),
        describe_scopes=describe_scopes,
        events=administration.recent_events(user),
        passkeys=[(key, describe_authenticator(key.aaguid)) for key in passkeys_of(user.id)],
        form=ReasonForm(),
        is_reason_required=lambda action: administration.is_reason_required(action, admin),
        now=utcnow(),
    )


@bp.route("/usuarios/<dni>/editar", methods=["GET", "POST"])
def users_edit(dni: str) -> ResponseReturnValue:
    """Edit names, e-mail and phone (a new e-mail is unverified until confirmed)."""
    admin = current_admin()
    user = _load(dni)
    form = EditUserForm(
        data={
            "given_name": user.given_name,
            "family_name": user.family_name,
            "email": user.email,
            "phone": user.phone_number,
        }
        if request.method == "GET"
        else None
    )
    form_error = None
    if form.validate_on_submit():
        try:
            changed = administration.update_user(
                user,
                email=form.email.data,
                given_name=form.given_name.data,
                family_name=form.family_name.data,
                phone=form.phone.data or None,
                actor=admin_action(form.reason.data),
            )
        except InvalidUserDataError as error:
            attach_field_errors(form, error)
            form_error = error_message(error)
        except AccountsError as error:
            form_error = error_message(error)
        else:
            if not changed:
                flash(_("No hubo cambios."), "success")
            elif "email" in changed:
                flash(_("Datos guardados. El nuevo correo queda sin verificar."), "success")
            else:
                flash(_("Datos guardados."), "success")
            return redirect(url_for("admin.users_detail", dni=user.dni))
    elif form.errors:
        form_error = _("Revise los datos marcados e inténtelo otra vez.")
    return render_template(
        "passport/admin/users/edit.html",
        user=user,
        form=form,
        form_error=form_error,
        reason_required=administration.is_reason_required("edit", admin),
    )


def _act(
    dni: str,
    action: Callable[..., Any],
    done: Callable[[Any], str],
    **arguments: Any,
) -> ResponseReturnValue:
    """Run an action on a person from a POSTed reason form; flash the outcome; back to the page."""
    user = _load(dni)
    form = ReasonForm()
    if not form.validate_on_submit():
        flash(_("El motivo es demasiado largo (máximo 500 caracteres)."), "error")
        return redirect(url_for("admin.users_detail", dni=user.dni))
    try:
        result = action(
            user,
            *arguments.pop("positional", ()),
            actor=admin_action(form.reason.data),
            **arguments,
        )
    except MailDeliveryError:
        flash(_("No se pudo enviar el correo; no se hizo ningún cambio. Intente luego."), "error")
    except AccountsError as error:
        flash(error_message(error), "error")
    else:
        flash(done(result), "success")
    return redirect(url_for("admin.users_detail", dni=user.dni))


@bp.post("/usuarios/<dni>/deshabilitar")
def users_disable(dni: str) -> ResponseReturnValue:
    """Disable: sessions end and tokens die at once."""
    return _act(
        dni,
        administration.disable_user,
        lambda changed: (
            _("Cuenta deshabilitada; sus sesiones y accesos se cerraron.")
            if changed
            else _("La cuenta ya estaba deshabilitada.")
        ),
    )


@bp.post("/usuarios/<dni>/habilitar")
def users_enable(dni: str) -> ResponseReturnValue:
    """Re-enable a disabled account."""
    return _act(
        dni,
        administration.enable_user,
        lambda changed: (
            _("Cuenta habilitada.") if changed else _("La cuenta ya estaba habilitada.")
        ),
    )


@bp.post("/usuarios/<dni>/desbloquear")
def users_unlock(dni: str) -> ResponseReturnValue:
    """Forget failed sign-ins and the lockout."""
    return _act(
        dni,
        administration.unlock_user,
        lambda was_locked: (
            _("Cuenta desbloqueada.")
            if was_locked
            else _("La cuenta no estaba bloqueada; se reinició el conteo de intentos.")
        ),
    )


@bp.post("/usuarios/<dni>/reenviar-activacion")
def users_resend(dni: str) -> ResponseReturnValue:
    """Mail a new "Generar tu contraseña" link."""
    return _act(
        dni,
        administration.resend_activation,
        lambda _result: _("Se envió un nuevo correo «Generar tu contraseña»."),
    )


@bp.post("/usuarios/<dni>/restablecer")
def users_reset(dni: str) -> ResponseReturnValue:
    """Force a password reset: the password stops working, the passkeys are removed, and a
    reset link is mailed."""
    return _act(
        dni,
        administration.force_password_reset,
        lambda removed: (
            ngettext(
                "La contraseña dejó de funcionar, se quitó %(num)s llave de acceso y se envió "
                "el correo «Restablecer tu contraseña».",
                "La contraseña dejó de funcionar, se quitaron %(num)s llaves de acceso y se "
                "envió el correo «Restablecer tu contraseña».",
                removed,
            )
            if removed
            else _(
                "La contraseña dejó de funcionar y se envió el correo «Restablecer tu contraseña»."
            )
        ),
    )


@bp.post(f"/usuarios/<dni>/sesiones/<int(max={MAX_ID}):session_id>/cerrar")
def users_end_session(dni: str, session_id: int) -> ResponseReturnValue:
    """End one of the person's sessions."""
    return _act(
        dni,
        access.end_session,
        lambda ended: _("Sesión cerrada.") if ended else _("Esa sesión ya no estaba activa."),
        positional=(session_id,),
    )


@bp.post("/usuarios/<dni>/aplicaciones/<client_id>/revocar")
def users_revoke_app(dni: str, client_id: str) -> ResponseReturnValue:
    """Withdraw the person's consent to an app and revoke its tokens."""
    return _act(
        dni,
        access.revoke_app,
        lambda revoked: (
            _("Acceso de la aplicación revocado.")
            if revoked
            else _("La aplicación ya no tenía acceso.")
        ),
        positional=(client_id[:64],),
    )


@bp.post(f"/usuarios/<dni>/llaves-de-acceso/<int(max={MAX_ID}):passkey_id>/quitar")
def users_remove_passkey(dni: str, passkey_id: int) -> ResponseReturnValue:
    """Remove a person's passkey (a lost phone); audited, and the person gets a mail."""
    return _act(
        dni,
        remove_by_admin,
        lambda name: (
            _("Se quitó la llave de acceso «%(name)s».", name=name)
            if name
            else _("Esa llave de acceso ya no estaba registrada.")
        ),
        positional=(passkey_id,),
    )
