"""HTTP views of the accounts capability: the password links and the self-service forms."""

from __future__ import annotations

from flask import Blueprint
from flask import current_app
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from passport.accounts.errors import InvalidLinkError
from passport.accounts.errors import LinkFailure
from passport.accounts.errors import PasswordRejectedError
from passport.accounts.forms import DniRequestForm
from passport.accounts.forms import SetPasswordForm
from passport.accounts.links import resolve_link
from passport.accounts.mail_queue import drain_after_response
from passport.accounts.services import record_rejected_link
from passport.accounts.services import request_password_link
from passport.accounts.services import set_password_from_link
from passport.audit.services import Actor
from passport.captcha.services import check_captcha
from passport.security.network import client_ip
from passport.security.password_policy import PasswordProblem
from passport.security.password_policy import checklist
from passport.security.password_policy import configured_rules
from passport.security.ratelimits import account_rate_limit

bp = Blueprint("accounts", __name__)

# Dead links: expired or used ones are gone for good (410); a token we never signed is a
# bad request (400).
DEAD_LINK_STATUS = {LinkFailure.EXPIRED: 410, LinkFailure.USED: 410, LinkFailure.MALFORMED: 400}

PAGES = {
    "generate": {
        "title": _l("Generar contraseña"),
        "intro": _l(
            "Si usted es un usuario nuevo en esta plataforma y se encuentra registrado en los "
            "sistemas de Evaluación Docente, ingrese su DNI. Le enviaremos a su correo "
            "electrónico un enlace para generar su contraseña."
        ),
    },
    "forgot": {
        "title": _l("¿Olvidaste la contraseña?"),
        "intro": _l(
            "Ingrese su DNI. Le enviaremos a su correo electrónico un enlace para crear una "
            "nueva contraseña."
        ),
    },
}


def _visitor() -> Actor:
    """The anonymous visitor (address and browser) as the actor of a self-service step."""
    return Actor(ip_address=client_ip(), user_agent=request.headers.get("User-Agent"))


def sign_in_url() -> str:
    """The login page (owned by the login capability)."""
    if "login.sign_in" in current_app.view_functions:
        return url_for("login.sign_in")
    return f"{request.script_root}/ingresar"


@bp.route("/generar-contrasena", methods=["GET", "POST"])
@account_rate_limit
def generate_password() -> ResponseReturnValue:
    """ "Generar contraseña": DNI + CAPTCHA; a pending user gets the activation mail."""
    return _link_request_page("generate")


@bp.route("/olvide-contrasena", methods=["GET", "POST"])
@account_rate_limit
def forgot_password() -> ResponseReturnValue:
    """ "¿Olvidaste la contraseña?": DNI + CAPTCHA; an active user gets the reset mail."""
    return _link_request_page("forgot")


def _link_request_page(kind: str) -> ResponseReturnValue:
    form = DniRequestForm()
    captcha_error = None
    if request.method == "POST":
        # The CAPTCHA first, and always: it is consumed whatever else is wrong.
        is_captcha_solved = check_captcha(request.form.get("captcha"))
        is_form_valid = form.validate()
        if not is_captcha_solved:
            captcha_error = _("El código de la imagen no es correcto. Escriba el nuevo código.")
        if is_captcha_solved and is_form_valid:
            request_password_link(form.dni.data, actor=_visitor())
            drain_after_response()  # the mail, if any, is decided and sent outside the request
            # The same page, whatever the DNI: it must not tell whether an account exists.
            return render_template("passport/accounts/link_requested.html")
    status = 400 if request.method == "POST" else 200
    return (
        render_template(
            "passport/accounts/request_link.html",
            form=form,
            # str(): flask-babel's lazy strings declare themselves safe HTML (__html__).
            page={key: str(text) for key, text in PAGES[kind].items()},
            captcha_error=captcha_error,
        ),
        status,
    )


@bp.route("/verificacion/<token>", methods=["GET", "POST"])
def verify(token: str) -> ResponseReturnValue:
    """ "Verificación de usuario": set the password through a mailed link."""
    form = SetPasswordForm()  # first: an oversized submission is refused before any work
    try:
        resolve_link(token)
    except InvalidLinkError as error:
        return _dead_link(error.failure)
    problems: list[PasswordProblem] = []
    if request.method == "POST" and form.validate():
        try:
            set_password_from_link(
                token,
                form.password.data or "",
                form.password_confirmation.data or "",
                actor=_visitor(),
            )
        except InvalidLinkError as error:
            return _dead_link(error.failure)
        except PasswordRejectedError as error:
            problems = error.problems
        else:
            return redirect(url_for("accounts.password_saved"), code=303)
    rules = configured_rules()
    return (
        render_template(
            "passport/accounts/verify.html",
            form=form,
            problems=problems,
            checklist=checklist("", rules),
        ),
        400 if request.method == "POST" else 200,
    )


def _dead_link(failure: LinkFailure) -> ResponseReturnValue:
    if request.method == "POST":
        record_rejected_link(failure, actor=_visitor())
    return (
        render_template("passport/accounts/link_invalid.html", failure=failure.value),
        DEAD_LINK_STATUS[failure],
    )


@bp.get("/contrasena-grabada")
def password_saved() -> ResponseReturnValue:
    """The password was saved: invite the person to sign in."""
    return render_template("passport/accounts/password_saved.html", sign_in_url=sign_in_url())
