"""HTTP view of Mi cuenta: one page, with a POST for each of its actions."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask import flash
from flask import make_response
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from passport.accounts.errors import PasswordRejectedError
from passport.login.access import no_store
from passport.login.access import request_info
from passport.login.access import signed_in
from passport.login.devices import describe_device
from passport.login.models import SSOSession
from passport.login.sessions import live_sessions
from passport.mfa.recovery import remaining_recovery_codes
from passport.mfa.services import user_has_totp
from passport.oidc.scope_labels import describe_claims
from passport.oidc.scope_labels import describe_scopes
from passport.security.password_policy import checklist
from passport.security.password_policy import configured_rules
from passport.security.ratelimits import account_rate_limit
from passport.selfservice import services
from passport.selfservice.errors import UnknownConnectedApp
from passport.selfservice.errors import WrongCurrentPassword
from passport.selfservice.forms import ChangePasswordForm
from passport.selfservice.forms import EndOtherSessionsForm
from passport.selfservice.forms import RevokeAppForm

bp = Blueprint("account", __name__, url_prefix="/mi-cuenta")

NOTICES = {
    "doble-factor-desactivado": lambda: _("La verificación en dos pasos quedó desactivada."),
}


def render_home(
    session: SSOSession, password_form: ChangePasswordForm | None = None, **extra: Any
) -> ResponseReturnValue:
    """The Mi cuenta page for ``session``'s user (never cached)."""
    user = session.user
    has_totp = user_has_totp(user.id)
    notice = NOTICES.get(request.args.get("aviso", ""))
    context: dict[str, Any] = {
        "user": user,
        "current_session": session,
        "password_form": password_form or ChangePasswordForm(),
        "password_problems": [],
        "checklist": checklist("", configured_rules()),
        "sessions": [(row, describe_device(row.user_agent)) for row in live_sessions(user.id)],
        "end_sessions_form": EndOtherSessionsForm(),
        # The consent page's words (passport.oidc.scope_labels), for scopes and for the
        # claims allowed one by one (OIDC Core §5.5).
        "apps": [
            (app, describe_scopes(app.scopes), describe_claims(app.claims))
            for app in services.connected_apps(user.id)
        ],
        "revoke_form": RevokeAppForm(),
        "activity": services.recent_activity(user.id),
        "has_totp": has_totp,
        "recovery_codes_left": remaining_recovery_codes(user.id) if has_totp else 0,
        "notice": notice() if notice else None,
    }
    context.update(extra)
    status = 400 if request.method == "POST" else 200
    response = make_response(render_template("passport/account/home.html", **context), status)
    return no_store(response)


@bp.get("")
@signed_in
def home(session: SSOSession) -> ResponseReturnValue:
    """Mi cuenta: password, sessions, connected apps, recent activity, two-step verification."""
    return render_home(session)


@bp.post("/contrasena")
@account_rate_limit
@signed_in
def change_password(session: SSOSession) -> ResponseReturnValue:
    """Change the password; the other sessions and their tokens end."""
    form = ChangePasswordForm()
    if not form.validate_on_submit():
        return render_home(session, form)
    try:
        ended = services.change_password(
            session,
            form.current_password.data,
            form.password.data,
            form.password_confirmation.data,
            request_info(),
        )
    except WrongCurrentPassword:
        form.current_password.errors = [_("La contraseña actual no es correcta.")]
        return render_home(session, form)
    except PasswordRejectedError as error:
        return render_home(session, form, password_problems=error.problems)
    flash(
        _("Su contraseña fue cambiada. Se cerraron sus otras sesiones (%(count)d).", count=ended),
        "success",
    )
    return redirect(url_for("account.home"), code=303)


@bp.post("/sesiones/cerrar-otras")
@signed_in
def end_other_sessions(session: SSOSession) -> ResponseReturnValue:
    """ "Cerrar todas las demás sesiones"."""
    if not EndOtherSessionsForm().validate_on_submit():
        return render_home(session, form_error=_("La página venció. Inténtelo otra vez."))
    ended = services.end_other_sessions(session, request_info())
    flash(_("Se cerraron %(count)d sesiones en otros dispositivos.", count=ended), "success")
    return redirect(url_for("account.home"), code=303)


@bp.post("/aplicaciones/revocar")
@signed_in
def revoke_app(session: SSOSession) -> ResponseReturnValue:
    """ "Revocar acceso": forget the consent and revoke the app's tokens."""
    form = RevokeAppForm()
    if not form.validate_on_submit():
        return render_home(session, form_error=_("La página venció. Inténtelo otra vez."))
    try:
        name = services.revoke_app(session, form.client_id.data, request_info())
    except UnknownConnectedApp:
        return render_home(session, form_error=_("Esa aplicación no tiene acceso a su cuenta."))
    flash(_("%(name)s ya no tiene acceso a sus datos.", name=name), "success")
    return redirect(url_for("account.home"), code=303)
