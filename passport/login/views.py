"""HTTP views of the login capability: welcome page, sign-in, local sign-out."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import cast

from flask import Blueprint
from flask import Flask
from flask import Response
from flask import after_this_request
from flask import current_app
from flask import g
from flask import redirect
from flask import render_template
from flask import request
from flask import session as browser_session
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import refresh as refresh_locale

from passport.captcha.services import check_captcha
from passport.captcha.services import is_captcha_enabled
from passport.login.access import request_info
from passport.login.errors import CaptchaFailed
from passport.login.errors import InvalidCredentials
from passport.login.forms import LogoutForm
from passport.login.forms import SignInForm
from passport.login.resume import PendingAuthorization
from passport.login.resume import find_pending_authorization
from passport.login.resume import finish_sign_in
from passport.login.resume import local_next
from passport.login.services import authenticate
from passport.login.services import notify_lockout
from passport.login.services import record_captcha_failure
from passport.login.services import record_logout
from passport.login.sessions import current_sso_session
from passport.login.sessions import end_sso_session
from passport.login.sessions import start_sso_session
from passport.logs import carrying_request_id
from passport.mfa.assurance import ACR_MFA
from passport.mfa.assurance import ACR_ONE_FACTOR
from passport.mfa.challenges import complete_challenge
from passport.mfa.challenges import find_challenge
from passport.mfa.challenges import start_challenge
from passport.mfa.errors import AccountLocked
from passport.mfa.errors import ChallengeExpired
from passport.mfa.errors import InvalidCode
from passport.mfa.forms import CodeForm
from passport.mfa.services import user_has_passkey
from passport.security.headers import allow_any_form_action
from passport.security.headers import allow_form_action
from passport.security.ratelimits import login_rate_limit

bp = Blueprint("login", __name__)
# Flask-session key of the pending second step's secret (mfa/challenges.py).
CHALLENGE_KEY = "passport.second_factor"
log = logging.getLogger(__name__)


def use_ui_locales(pending: PendingAuthorization | None) -> None:
    """Render in the first language of the request's ``ui_locales`` that we have."""
    if pending is None:
        return
    supported = current_app.config["LANGUAGES"]
    for tag in pending.ui_locales or ():
        language = str(tag).split("-")[0].lower()
        if language in supported:
            g.ui_locale = language
            refresh_locale()
            return


def allow_client_redirect(pending: PendingAuthorization | None) -> None:
    """The form ends in a redirect to the client: let CSP form-action follow it."""
    if pending is None:
        return
    redirect_uri = getattr(pending, "redirect_uri", None)
    if isinstance(redirect_uri, str) and redirect_uri:
        allow_form_action(redirect_uri)
    else:
        allow_any_form_action()


def notify_lockout_after_response(user_id: int, locked_until: datetime) -> None:
    """Mail the owner once the response has been sent.

    Sending first would make the failure that locks an account measurably slower than every
    other refusal, telling an attacker that the DNI exists.
    """
    app = cast(Flask, current_app._get_current_object())  # type: ignore[attr-defined]

    def send() -> None:
        with app.app_context():
            try:
                notify_lockout(user_id, locked_until)
            except Exception:  # the response is gone: log, never raise into the server
                log.exception("lockout notice for user %s failed", user_id)

    @after_this_request
    def schedule(response: Response) -> Response:
        response.call_on_close(carrying_request_id(send))
        return response


@bp.get("/")
def welcome() -> ResponseReturnValue:
    """The "¡Bienvenidos!" page; shows who is signed in, with a sign-out button."""
    session = current_sso_session()
    return render_template(
        "passport/login/welcome.html",
        sso_session=session,
        logout_form=LogoutForm() if session else None,
    )


@bp.route("/ingresar", methods=["GET", "POST"])
@login_rate_limit
def sign_in() -> ResponseReturnValue:
    """The Passport 4.0 sign-in form (DNI, password, CAPTCHA); resumes /authorize."""
    authz_id = request.args.get("authz")
    pending = find_pending_authorization(authz_id)
    use_ui_locales(pending)
    allow_client_redirect(pending)
    next_url = local_next(request.args.get("next"))
    if request.method == "GET" and pending is None and current_sso_session() is not None:
        return redirect(next_url or url_for("login.welcome"))

    form = SignInForm()
    if request.method == "GET" and pending is not None and pending.login_hint:
        hint = pending.login_hint.strip()
        if len(hint) == 8 and hint.isascii() and hint.isdigit():
            form.username.data = hint
    form_error: str | None = None
    captcha_error: str | None = None
    if request.method == "POST":
        info = request_info(client_id=getattr(pending, "client_id", None))
        username = (request.form.get("username") or "").strip()[:8]
        try:
            # The CAPTCHA first: a wrong one never gets the password looked at.
            if is_captcha_enabled() and not check_captcha(request.form.get("captcha")):
                record_captcha_failure(username, info)
            if form.validate_on_submit():
                accepted = authenticate(form.username.data or "", form.password.data or "", info)
                user = accepted.user
                if accepted.second_factor_due:
                    browser_session[CHALLENGE_KEY] = start_challenge(
                        user, authz_id if pending is not None else None, next_url, info.client_id
                    )
                    return redirect(url_for("login.second_factor"))
                start_sso_session(user, ["pwd"], acr=ACR_ONE_FACTOR)
                return finish_sign_in(authz_id, pending, next_url)
        except CaptchaFailed:
            captcha_error = _("El código de la imagen no es correcto. Escriba el nuevo código.")
        except InvalidCredentials as error:
            form_error = _("Usuario o contraseña incorrectos.")
            if error.user_id is not None and error.locked_until is not None:
                notify_lockout_after_response(error.user_id, error.locked_until)
        form.password.data = ""
    system_name = pending.client_name if pending is not None else None
    # One status (200) and one message for every refusal: nothing tells the reasons apart.
    return render_template(
        "passport/login/sign_in.html",
        form=form,
        form_error=form_error,
        captcha_error=captcha_error,
        system_name=system_name or current_app.config["DEFAULT_SYSTEM_NAME"],
        authz_id=authz_id if pending is not None else None,
        next_url=next_url,
    )


@bp.route("/ingresar/verificacion", methods=["GET", "POST"])
@login_rate_limit
def second_factor() -> ResponseReturnValue:
    """The sign-in's second step: a TOTP code (or a recovery code) after the password."""
    challenge = find_challenge(browser_session.get(CHALLENGE_KEY))
    authz_id = challenge.authz_id if challenge is not None else None
    next_url = challenge.next_url if challenge is not None else None
    pending = find_pending_authorization(authz_id)
    use_ui_locales(pending)
    allow_client_redirect(pending)
    form = CodeForm()
    form_error: str | None = None
    expired = challenge is None
    if not expired and form.validate_on_submit():
        info = request_info(client_id=challenge.client_id if challenge is not None else None)
        try:
            passed = complete_challenge(browser_session.get(CHALLENGE_KEY), form.code.data, info)
        except InvalidCode:
            form_error = _(
                "El código no es correcto. Escriba el código que muestra ahora su "
                "aplicación, o uno de sus códigos de recuperación."
            )
        except ChallengeExpired:
            expired = True
        except AccountLocked as error:
            browser_session.pop(CHALLENGE_KEY, None)
            if error.user_id is not None and error.locked_until is not None:
                notify_lockout_after_response(error.user_id, error.locked_until)
            form_error = _(
                "Demasiados intentos fallidos. Su cuenta quedó bloqueada por unos "
                "minutos; vuelva a intentarlo más tarde."
            )
            expired = True
        else:
            browser_session.pop(CHALLENGE_KEY, None)
            start_sso_session(passed.user, ["pwd", "otp"], acr=ACR_MFA)
            return finish_sign_in(authz_id, pending, passed.next_url)
        form.code.data = ""
    if expired:
        browser_session.pop(CHALLENGE_KEY, None)
    restart_url = url_for("login.sign_in", authz=authz_id if pending else None, next=next_url)
    return render_template(
        "passport/login/second_factor.html",
        form=form,
        form_error=form_error,
        expired=expired,
        restart_url=restart_url,
        system_name=pending.client_name if pending is not None else None,
        # A passkey stands in for the code (passport/passkeys/views.py second_step).
        has_passkey=challenge is not None and not expired and user_has_passkey(challenge.user_id),
    )


@bp.post("/salir")
def sign_out() -> ResponseReturnValue:
    """Local sign-out: end this browser's SSO session (end hooks notify the clients)."""
    form = LogoutForm()
    if form.validate_on_submit():
        session = current_sso_session()
        if session is not None:
            record_logout(session.user_id, request_info())
            end_sso_session(session, "logout")
    return redirect(url_for("login.welcome"))
