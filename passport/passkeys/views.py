"""HTTP views of passkeys: the Mi cuenta page, the sign-in and step-up ceremonies (JSON).

The ceremonies are small JSON POSTs called by ``static/js/passkeys.js`` (CSRF token in the
``X-CSRFToken`` header, checked app-wide by Flask-WTF); every refusal answers one JSON shape,
``{"error": code, "message": Spanish text}``, never a 500.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Blueprint
from flask import Response as FlaskResponse
from flask import flash
from flask import jsonify
from flask import make_response
from flask import redirect
from flask import render_template
from flask import request
from flask import session as browser_session
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from passport.accounts.models import User
from passport.extensions import db
from passport.login.access import no_store
from passport.login.access import request_info
from passport.login.access import sign_in_and_return
from passport.login.access import signed_in
from passport.login.models import SSOSession
from passport.login.resume import find_pending_authorization
from passport.login.resume import local_next
from passport.login.resume import sign_in_destination
from passport.login.sessions import current_sso_session
from passport.login.sessions import start_sso_session
from passport.login.views import CHALLENGE_KEY
from passport.login.views import notify_lockout_after_response
from passport.mfa.assurance import PASSKEY_AMR
from passport.mfa.assurance import acr_for
from passport.mfa.assurance import with_passkey
from passport.mfa.challenges import find_challenge
from passport.mfa.errors import AccountLocked
from passport.mfa.services import user_has_passkey
from passport.mfa.services import user_has_totp
from passport.passkeys import services
from passport.passkeys.authenticators import describe_authenticator
from passport.passkeys.errors import ChallengeUnusable
from passport.passkeys.errors import CounterRegressed
from passport.passkeys.errors import NotFresh
from passport.passkeys.errors import PasskeyError
from passport.passkeys.errors import UnknownCredential
from passport.passkeys.errors import UnknownPasskey
from passport.passkeys.forms import ConfirmPasswordForm
from passport.passkeys.forms import RemoveForm
from passport.passkeys.forms import RenameForm
from passport.passkeys.models import ChallengePurpose
from passport.security.ratelimits import login_rate_limit

bp = Blueprint("passkeys", __name__)
PAGE = "/mi-cuenta/llaves-de-acceso"


def refusal(error: Exception) -> Response:
    """The JSON answer to a failed ceremony, with the Spanish words the page shows."""
    if isinstance(error, AccountLocked):
        code, status = "locked", 403
        message = _(
            "Demasiados intentos fallidos. Su cuenta quedó bloqueada por unos minutos; "
            "vuelva a intentarlo más tarde."
        )
        if error.user_id is not None and error.locked_until is not None:
            notify_lockout_after_response(error.user_id, error.locked_until)
    elif isinstance(error, UnknownCredential):
        code, status = "unknown_credential", 400
        message = _(
            "Esa llave de acceso ya no está registrada en su cuenta (quizá la quitó). "
            "Ingrese con su DNI y contraseña y agregue una nueva en Mi cuenta."
        )
    elif isinstance(error, ChallengeUnusable):
        code, status = "expired", 400
        message = _("La solicitud venció. Vuelva a intentarlo.")
    elif isinstance(error, NotFresh):
        code, status = "not_fresh", 403
        message = _("Por seguridad, confirme su contraseña antes de agregar una llave de acceso.")
    elif isinstance(error, CounterRegressed):
        code, status = "counter", 400
        message = _(
            "No se pudo verificar su llave de acceso. Si el problema continúa, quítela y "
            "agregue una nueva, o comuníquese con la mesa de ayuda."
        )
    else:
        code, status = "failed", 400
        message = _("No se pudo verificar su llave de acceso. Vuelva a intentarlo.")
    response = jsonify({"error": code, "message": str(message)})
    response.status_code = status
    return no_store(response)


def options_response(options_json: str) -> Response:
    """The options for the browser, as generated (already JSON)."""
    return no_store(FlaskResponse(options_json, mimetype="application/json"))


def posted_credential() -> Any:
    """The ``credential`` member of the JSON body (py_webauthn checks its structure)."""
    body = request.get_json(silent=True)
    return body.get("credential") if isinstance(body, dict) else None


def posted_name() -> str | None:
    body = request.get_json(silent=True)
    name = body.get("name") if isinstance(body, dict) else None
    return name if isinstance(name, str) else None


# --- Sign-in page ------------------------------------------------------------------------


@bp.post("/ingresar/llave/opciones")
@login_rate_limit
def sign_in_options() -> ResponseReturnValue:
    """Options for ``navigator.credentials.get`` on the sign-in page."""
    return options_response(services.sign_in_options())


@bp.post("/ingresar/llave")
@login_rate_limit
def sign_in() -> ResponseReturnValue:
    """Sign in with a passkey: no password, no CAPTCHA; answers where to go next."""
    authz_id = request.args.get("authz")
    pending = find_pending_authorization(authz_id)
    next_url = local_next(request.args.get("next"))
    info = request_info(client_id=getattr(pending, "client_id", None))
    try:
        passed = services.verify_assertion(posted_credential(), ChallengePurpose.SIGN_IN, info)
    except (PasskeyError, AccountLocked) as error:
        return refusal(error)
    amr = list(PASSKEY_AMR)
    services.record_sign_in(passed.user, amr, info)
    start_sso_session(passed.user, amr, acr=acr_for(amr))
    return no_store(jsonify({"redirect": sign_in_destination(pending, next_url)}))


@bp.post("/ingresar/verificacion/llave/opciones")
@login_rate_limit
def second_step_options() -> ResponseReturnValue:
    """Options for the sign-in's second step: the passkeys of the person whose password passed."""
    challenge = find_challenge(browser_session.get(CHALLENGE_KEY))
    user = db.session.get(User, challenge.user_id) if challenge is not None else None
    if user is None:
        return refusal(ChallengeUnusable())
    return options_response(services.step_up_options(user))


@bp.post("/ingresar/verificacion/llave")
@login_rate_limit
def second_step() -> ResponseReturnValue:
    """The sign-in's second step with a passkey instead of a TOTP code."""
    challenge = find_challenge(browser_session.get(CHALLENGE_KEY))
    user = db.session.get(User, challenge.user_id) if challenge is not None else None
    if challenge is None or user is None:
        return refusal(ChallengeUnusable())
    authz_id, next_url = challenge.authz_id, challenge.next_url
    info = request_info(client_id=challenge.client_id)
    try:
        services.verify_assertion(posted_credential(), ChallengePurpose.STEP_UP, info, user=user)
    except (PasskeyError, AccountLocked) as error:
        return refusal(error)
    # Single use, as with a code: the password's pending step is spent.
    spent = find_challenge(browser_session.pop(CHALLENGE_KEY, None), lock=True)
    if spent is None:
        return refusal(ChallengeUnusable())
    db.session.delete(spent)
    amr = with_passkey(["pwd"])
    services.record_sign_in(user, amr, info)
    start_sso_session(user, amr, acr=acr_for(amr))
    pending = find_pending_authorization(authz_id)
    return no_store(jsonify({"redirect": sign_in_destination(pending, next_url)}))


# --- Mi cuenta: llaves de acceso -----------------------------------------------------------


def render_manage(session: SSOSession, status: int = 200, **extra: Any) -> ResponseReturnValue:
    """The passkeys page of ``session``'s user (never cached)."""
    passkeys = [
        (passkey, describe_authenticator(passkey.aaguid))
        for passkey in services.passkeys_of(session.user_id)
    ]
    context: dict[str, Any] = {
        "user": session.user,
        "passkeys": passkeys,
        "fresh": services.is_fresh(session),
        "confirm_form": ConfirmPasswordForm(),
        "rename_form": RenameForm(),
        "remove_form": RemoveForm(),
        "rp_id": services.rp_id(),
    }
    context.update(extra)
    html = render_template("passport/passkeys/manage.html", **context)
    return no_store(make_response(html, status))


@bp.get(PAGE)
@signed_in
def manage(session: SSOSession) -> ResponseReturnValue:
    """ "Llaves de acceso": list, add, rename, remove."""
    return render_manage(session)


@bp.post(f"{PAGE}/confirmar")
@login_rate_limit
@signed_in
def confirm(session: SSOSession) -> ResponseReturnValue:
    """Confirm the password so an older session may add a passkey."""
    form = ConfirmPasswordForm()
    if not form.validate_on_submit():
        return render_manage(session, 400, form_error=_("Ingrese su contraseña actual."))
    try:
        accepted = services.confirm_password(session, form.current_password.data, request_info())
    except AccountLocked as error:
        if error.user_id is not None and error.locked_until is not None:
            notify_lockout_after_response(error.user_id, error.locked_until)
        message = _(
            "Demasiados intentos fallidos. Su cuenta quedó bloqueada por unos minutos; "
            "vuelva a intentarlo más tarde."
        )
        return render_manage(session, 400, form_error=message)
    if not accepted:
        return render_manage(session, 400, form_error=_("La contraseña actual no es correcta."))
    return redirect(url_for("passkeys.manage"), code=303)


@bp.post(f"{PAGE}/registro/opciones")
@login_rate_limit
@signed_in
def register_options(session: SSOSession) -> ResponseReturnValue:
    """Options for ``navigator.credentials.create``."""
    try:
        return options_response(services.registration_options(session))
    except NotFresh as error:
        return refusal(error)


@bp.post(f"{PAGE}/registro")
@login_rate_limit
@signed_in
def register(session: SSOSession) -> ResponseReturnValue:
    """Keep the new passkey; answers where the page goes next."""
    try:
        passkey = services.register(session, posted_credential(), posted_name(), request_info())
    except PasskeyError as error:
        return refusal(error)
    flash(_("Se agregó la llave de acceso «%(name)s».", name=passkey.name), "success")
    return no_store(jsonify({"redirect": url_for("passkeys.manage")}))


def owner_only(
    view: Callable[[SSOSession, int], ResponseReturnValue],
) -> Callable[[int], ResponseReturnValue]:
    """``signed_in`` for views of one passkey (the id comes from the URL)."""

    @functools.wraps(view)
    def wrapper(passkey_id: int) -> ResponseReturnValue:
        session = current_sso_session()
        if session is None:
            return sign_in_and_return()
        return view(session, passkey_id)

    return wrapper


@bp.post(f"{PAGE}/<int(max=2147483647):passkey_id>/nombre")
@owner_only
def rename(session: SSOSession, passkey_id: int) -> ResponseReturnValue:
    """Rename one's passkey."""
    form = RenameForm()
    if not form.validate_on_submit():
        return render_manage(session, 400, form_error=_("Escriba un nombre de hasta 64 letras."))
    try:
        passkey = services.rename(session, passkey_id, form.passkey_name.data, request_info())
    except UnknownPasskey:
        return render_manage(session, 400, form_error=_("Escriba un nombre de hasta 64 letras."))
    flash(_("La llave de acceso ahora se llama «%(name)s».", name=passkey.name), "success")
    return redirect(url_for("passkeys.manage"), code=303)


@bp.post(f"{PAGE}/<int(max=2147483647):passkey_id>/quitar")
@owner_only
def remove(session: SSOSession, passkey_id: int) -> ResponseReturnValue:
    """Remove one's passkey; the password keeps working."""
    if not RemoveForm().validate_on_submit():
        return render_manage(session, 400, form_error=_("La página venció. Inténtelo otra vez."))
    try:
        name = services.remove(session, passkey_id, request_info())
    except UnknownPasskey:
        return redirect(url_for("passkeys.manage"), code=303)
    flash(
        _(
            "Se quitó la llave de acceso «%(name)s». Puede seguir ingresando con su contraseña.",
            name=name,
        ),
        "success",
    )
    return redirect(url_for("passkeys.manage"), code=303)


# --- Step-up: prove a passkey in a signed-in session ---------------------------------------


@bp.get(f"{PAGE}/verificar")
@signed_in
def step_up(session: SSOSession) -> ResponseReturnValue:
    """ "Verifique que es usted" with a passkey (admin console, acr_values, re-confirmation)."""
    next_url = local_next(request.args.get("next"))
    if not user_has_passkey(session.user_id):
        return redirect(url_for("mfa.step_up", next=next_url))
    html = render_template(
        "passport/passkeys/step_up.html",
        next_url=next_url,
        has_totp=user_has_totp(session.user_id),
    )
    return no_store(make_response(html))


@bp.post(f"{PAGE}/verificar/opciones")
@login_rate_limit
@signed_in
def step_up_options(session: SSOSession) -> ResponseReturnValue:
    """Options for ``navigator.credentials.get`` limited to the person's passkeys."""
    return options_response(services.step_up_options(session.user))


@bp.post(f"{PAGE}/verificar")
@login_rate_limit
@signed_in
def step_up_verify(session: SSOSession) -> ResponseReturnValue:
    """Check the passkey; the session gains it; answers where to go next."""
    next_url = local_next(request.args.get("next"))
    try:
        services.prove_in_session(session, posted_credential(), request_info())
    except (PasskeyError, AccountLocked) as error:
        return refusal(error)
    return no_store(jsonify({"redirect": next_url or url_for("passkeys.manage")}))
