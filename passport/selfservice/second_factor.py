"""Mi cuenta's pages of the second factor: enrol, step up, turn off, new recovery codes.

The blueprint keeps the name ``mfa`` (its endpoints, ``mfa.setup``..., and URLs are the
contract); it lives in Mi cuenta because its pages need the signed-in session (login),
which the mfa capability, below login, must not import.
"""

from __future__ import annotations

from flask import Blueprint
from flask import make_response
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from passport.login.access import no_store
from passport.login.access import request_info
from passport.login.access import signed_in
from passport.login.models import SSOSession
from passport.login.resume import local_next
from passport.mfa import services
from passport.mfa.enrolment import live_link
from passport.mfa.enrolment import needs_link
from passport.mfa.errors import AccountLocked
from passport.mfa.errors import InvalidCode
from passport.mfa.errors import InvalidPassword
from passport.mfa.errors import NotEnrolled
from passport.mfa.forms import CodeForm
from passport.mfa.forms import PasswordAndCodeForm
from passport.mfa.qrcode import qr_svg
from passport.mfa.services import user_has_passkey
from passport.security.ratelimits import login_rate_limit

bp = Blueprint("mfa", __name__, url_prefix="/mi-cuenta")


def code_error(error: Exception) -> str:
    """The message for a refused code (a lock says so: the person is signed in already)."""
    if isinstance(error, AccountLocked):
        message = _(
            "Demasiados códigos incorrectos. Su cuenta quedó bloqueada por unos minutos; "
            "vuelva a intentarlo más tarde."
        )
    else:
        message = _("El código no es correcto. Escriba el código que muestra ahora su aplicación.")
    return str(message)


def page(template: str, **context: object) -> ResponseReturnValue:
    """Render a personal page that no cache may keep."""
    return no_store(make_response(render_template(template, **context)))


def format_secret(secret: str) -> str:
    """The secret in groups of four, easier to copy by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@bp.route("/doble-factor", methods=["GET", "POST"])
@login_rate_limit
@signed_in
def setup(session: SSOSession) -> ResponseReturnValue:
    """Enrol TOTP: QR code and secret, a first code switches it on, recovery codes once."""
    return _setup(session, None)


@bp.route("/doble-factor/alta/<token>", methods=["GET", "POST"])
@login_rate_limit
def enrol_with_link(token: str) -> ResponseReturnValue:
    """An admin's enrolment, through the one-time link mailed when admin rights were granted."""
    return signed_in(lambda session: _setup(session, token[:200]))()


def _setup(session: SSOSession, token: str | None) -> ResponseReturnValue:
    next_url = local_next(request.args.get("next"))
    if services.user_has_totp(session.user_id):
        return redirect(next_url or url_for("account.home"))
    if needs_link(session.user) and live_link(session.user, token) is None:
        # An admin without a live link: no secret is shown, the mailed link is the way in.
        return page("passport/mfa/enrolment_link_needed.html", link_given=token is not None)
    action = (
        url_for("mfa.setup", next=next_url)
        if token is None
        else url_for("mfa.enrol_with_link", token=token, next=next_url)
    )
    form = PasswordAndCodeForm()
    form_error: str | None = None
    if form.validate_on_submit():
        try:
            codes = services.confirm_enrolment(
                session.user,
                form.code.data,
                request_info(),
                password=form.password.data,
                enrolment_token=token,
            )
        except InvalidPassword:
            form_error = _("La contraseña actual no es correcta.")
        except InvalidCode:
            form_error = _(
                "El código no es correcto. Revise que la hora de su teléfono sea automática "
                "y escriba el código que muestra ahora la aplicación."
            )
        except NotEnrolled:
            return redirect(action)
        else:
            # The person just proved the factor: this session counts as two-step from now.
            services.add_second_factor_to_session(session)
            return page(
                "passport/mfa/recovery_codes.html",
                codes=codes,
                continue_url=next_url or url_for("account.home"),
                just_enabled=True,
            )
    enrolment = services.start_enrolment(session.user)
    return page(
        "passport/mfa/setup.html",
        form=form,
        form_error=form_error,
        qr=qr_svg(enrolment.uri, _("Código QR para su aplicación de autenticación")),
        secret=format_secret(enrolment.secret),
        next_url=next_url,
        action=action,
    )


@bp.route("/verificar", methods=["GET", "POST"])
@login_rate_limit
@signed_in
def step_up(session: SSOSession) -> ResponseReturnValue:
    """A signed-in person with TOTP proves it now (the admin console and acr_values ask)."""
    next_url = local_next(request.args.get("next"))
    if not services.user_has_totp(session.user_id):
        if user_has_passkey(session.user_id):  # a passkey is the factor of this account
            return redirect(url_for("passkeys.step_up", next=next_url))
        return redirect(url_for("mfa.setup", next=next_url))
    if services.session_has_second_factor(session) and request.method == "GET":
        return redirect(next_url or url_for("account.home"))
    form = CodeForm()
    form_error: str | None = None
    if form.validate_on_submit():
        try:
            services.step_up(session, form.code.data, request_info())
        except (InvalidCode, AccountLocked) as error:
            form_error = code_error(error)
        else:
            return redirect(next_url or url_for("account.home"))
    return page(
        "passport/mfa/confirm.html",
        title=_("Verificación en dos pasos"),
        intro=_(
            "Para continuar, confirme que es usted con el código de su aplicación de autenticación."
        ),
        action=url_for("mfa.step_up", next=next_url),
        button=_("Verificar"),
        form=form,
        form_error=form_error,
    )


@bp.route("/doble-factor/desactivar", methods=["GET", "POST"])
@login_rate_limit
@signed_in
def disable(session: SSOSession) -> ResponseReturnValue:
    """Turn TOTP off: the current password and a code."""
    if not services.user_has_totp(session.user_id):
        return redirect(url_for("account.home"))
    form = PasswordAndCodeForm()
    form_error: str | None = None
    if form.validate_on_submit():
        try:
            services.disable_totp(session.user, form.password.data, form.code.data, request_info())
        except InvalidPassword:
            form_error = _("La contraseña actual no es correcta.")
        except (InvalidCode, AccountLocked) as error:
            form_error = code_error(error)
        else:
            return redirect(url_for("account.home", aviso="doble-factor-desactivado"))
    return page(
        "passport/mfa/confirm.html",
        title=_("Desactivar la verificación en dos pasos"),
        intro=_(
            "Sin la verificación en dos pasos, bastará su contraseña para ingresar a su "
            "cuenta. Sus códigos de recuperación dejarán de funcionar."
        ),
        action=url_for("mfa.disable"),
        button=_("Desactivar"),
        form=form,
        form_error=form_error,
    )


@bp.route("/doble-factor/codigos", methods=["GET", "POST"])
@login_rate_limit
@signed_in
def recovery_codes(session: SSOSession) -> ResponseReturnValue:
    """New recovery codes after a code; the old ones stop working."""
    if not services.user_has_totp(session.user_id):
        return redirect(url_for("account.home"))
    form = CodeForm()
    form_error: str | None = None
    if form.validate_on_submit():
        try:
            codes = services.regenerate_recovery_codes(session.user, form.code.data, request_info())
        except (InvalidCode, AccountLocked) as error:
            form_error = code_error(error)
        else:
            return page(
                "passport/mfa/recovery_codes.html",
                codes=codes,
                continue_url=url_for("account.home"),
                just_enabled=False,
            )
    return page(
        "passport/mfa/confirm.html",
        title=_("Nuevos códigos de recuperación"),
        intro=_("Recibirá diez códigos nuevos; los anteriores dejarán de funcionar."),
        action=url_for("mfa.recovery_codes"),
        button=_("Generar códigos nuevos"),
        form=form,
        form_error=form_error,
    )
