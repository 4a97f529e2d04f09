"""Welcome page, sign-in through Passport, logout (RP-initiated and back-channel)."""

from __future__ import annotations

import logging

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client import MismatchingStateError
from authlib.integrations.base_client import OAuthError
from flask import Blueprint
from flask import current_app
from flask import jsonify
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from joserfc.errors import JoseError

from relying_party_demo.auth import fapi
from relying_party_demo.auth import services
from relying_party_demo.auth.access import current_account
from relying_party_demo.auth.client import is_configured
from relying_party_demo.auth.client import is_fapi2
from relying_party_demo.auth.client import provider
from relying_party_demo.auth.client import provider_metadata
from relying_party_demo.auth.errors import InvalidLogoutToken
from relying_party_demo.auth.errors import SignInFailed
from relying_party_demo.auth.sessions import server_session
from relying_party_demo.auth.tokens import validate_logout_token
from relying_party_demo.extensions import csrf

log = logging.getLogger(__name__)

bp = Blueprint("auth", __name__)

MAX_PARAM_LENGTH = 2048


def callback_url() -> str:
    """``{AYNI_BASE_URL}/auth/callback`` (CONTRACT.md), registered at Passport."""
    return f"{current_app.config['BASE_URL']}/auth/callback"


def welcome_url() -> str:
    """``{AYNI_BASE_URL}/``, the registered post_logout_redirect_uri."""
    return f"{current_app.config['BASE_URL']}/"


@bp.get("/")
def welcome() -> ResponseReturnValue:
    """The seed's welcome page; a signed-in person goes straight to Inicio."""
    if current_account() is not None:
        return redirect(url_for("legajo.inicio"))
    generate_url = current_app.config["ISSUER"] + current_app.config["GENERATE_PASSWORD_PATH"]
    return render_template("relying_party_demo/auth/welcome.html", generate_url=generate_url)


@bp.get("/auth/login")
def login() -> ResponseReturnValue:
    """Send the browser to Passport's authorization endpoint (code + PKCE S256 + nonce).

    fapi2: the request is pushed first (PAR), and the browser carries only its request_uri.
    """
    if current_account() is not None:
        return redirect(url_for("legajo.inicio"))
    if not is_configured():
        return sign_in_error(SignInFailed("not_configured"))
    try:
        if is_fapi2():
            return redirect(fapi.start_authorization(callback_url()))
        response: ResponseReturnValue = provider().authorize_redirect(redirect_uri=callback_url())
        return response
    except SignInFailed as failure:
        return sign_in_error(failure)
    except (requests.RequestException, ValueError, RuntimeError) as error:
        log.warning("discovery failed: %s", type(error).__name__)
        return sign_in_error(SignInFailed("provider_unavailable"))


def check_response_issuer() -> None:
    """RFC 9207 §2.4: the ``iss`` of the response must be Passport's issuer (FAPI 2.0: always)."""
    issuer = request.args.get("iss")
    if issuer is None:
        if is_fapi2() or provider_metadata().get("authorization_response_iss_parameter_supported"):
            raise SignInFailed("issuer_mismatch", "iss missing")
        return
    if issuer != current_app.config["ISSUER"]:
        raise SignInFailed("issuer_mismatch", issuer[:100])


@bp.get("/auth/callback")
def callback() -> ResponseReturnValue:
    """Finish sign-in: check iss, error and state; redeem the code; start the local session."""
    if any(len(value) > MAX_PARAM_LENGTH for value in request.args.values()):
        return sign_in_error(SignInFailed("provider_error", "oversized parameter"))
    if not is_configured():
        return sign_in_error(SignInFailed("not_configured"))
    try:
        check_response_issuer()
        error = request.args.get("error")
        if error:
            state = request.args.get("state")
            if state:
                provider().framework.clear_state_data(session, state)
            raise SignInFailed(
                error if error in ("access_denied", "login_required") else "provider_error",
                error[:60],
            )
        leeway = current_app.config["TOKEN_LEEWAY_SECONDS"]
        if is_fapi2():
            token = fapi.finish_authorization(leeway)
            userinfo = fapi.fetch_userinfo(str(token.get("access_token", "")))
        else:
            token = provider().authorize_access_token(leeway=leeway)
            userinfo = provider().userinfo(token=token)
        identity = services.identity_from_claims(token.get("userinfo") or {}, userinfo)
    except SignInFailed as failure:
        return sign_in_error(failure)
    except MismatchingStateError:
        return sign_in_error(SignInFailed("stale_state"))
    except OAuthError as error:
        return sign_in_error(SignInFailed("provider_error", str(error.error)))
    except (JoseError, AuthlibBaseError) as error:
        return sign_in_error(SignInFailed("invalid_id_token", type(error).__name__))
    except (requests.RequestException, ValueError) as error:
        log.warning("callback failed talking to Passport: %s", type(error).__name__)
        return sign_in_error(SignInFailed("provider_unavailable"))
    if not token.get("userinfo"):
        # Authlib validates the ID token only when the state carried a nonce: it always does
        # for scope openid, so a missing result means no id_token at all.
        return sign_in_error(SignInFailed("invalid_id_token", "no id_token"))
    browser = server_session()
    record, key = services.start_session(browser.record, identity, token)
    browser.rotate(record, key)
    return redirect(url_for("legajo.inicio"))


SIGN_IN_MESSAGES = {
    "access_denied": (
        _l("Usted no autorizó el acceso"),
        _l("No se concedió a AYNI el acceso a sus datos. Puede volver a intentarlo cuando desee."),
    ),
    "login_required": (
        _l("Debe iniciar sesión"),
        _l("Su sesión en Passport no está activa. Inicie sesión nuevamente."),
    ),
    "stale_state": (
        _l("La solicitud de inicio de sesión caducó"),
        _l("Vuelva a la página de inicio e inicie sesión nuevamente."),
    ),
    "issuer_mismatch": (
        _l("Respuesta de autenticación no válida"),
        _l(
            "La respuesta no proviene del servidor de autenticación esperado. "
            "Inicie sesión nuevamente."
        ),
    ),
    "invalid_id_token": (
        _l("No se pudo verificar su identidad"),
        _l("La credencial recibida no es válida. Inicie sesión nuevamente."),
    ),
    "missing_dni": (
        _l("No se pudo verificar su identidad"),
        _l("Passport no entregó su número de DNI. Solicite ayuda a la mesa de ayuda del MINEDU."),
    ),
    "provider_unavailable": (
        _l("Servicio de autenticación no disponible"),
        _l("No pudimos comunicarnos con Passport. Intente de nuevo en unos minutos."),
    ),
    "provider_error": (
        _l("No se pudo iniciar sesión"),
        _l("El servidor de autenticación devolvió un error. Intente de nuevo."),
    ),
    "not_configured": (
        _l("Inicio de sesión no disponible"),
        _l("AYNI aún no está registrado en Passport. Comuníquese con el administrador."),
    ),
}


def sign_in_error(failure: SignInFailed) -> ResponseReturnValue:
    """A Spanish page for a failed sign-in, with a way back; never a traceback."""
    log.info("sign-in failed: %s", failure)
    title, message = SIGN_IN_MESSAGES.get(failure.reason, SIGN_IN_MESSAGES["provider_error"])
    status = 503 if failure.reason in ("provider_unavailable", "not_configured") else 400
    return (
        render_template(
            "relying_party_demo/error.html",
            status=status,
            title=str(title),
            message=str(message),
            retry=True,
        ),
        status,
    )


@bp.post("/auth/logout")
def logout() -> ResponseReturnValue:
    """End the local session, then RP-initiated logout at Passport (id_token_hint)."""
    record = current_account()
    browser = server_session()
    if record is None:
        browser.end()
        return redirect(url_for("auth.welcome"))
    id_token = record.id_token
    services.end_session(record)
    browser.end()
    try:
        result = provider().create_logout_url(
            post_logout_redirect_uri=welcome_url(),
            id_token_hint=id_token,
            client_id=current_app.config["CLIENT_ID"],
        )
    except (requests.RequestException, ValueError, RuntimeError) as error:
        log.warning("end_session_endpoint unavailable: %s", type(error).__name__)
        return redirect(url_for("auth.welcome"))
    return redirect(result["url"])


@bp.post("/auth/backchannel-logout")
def backchannel_logout() -> ResponseReturnValue:
    """OIDC Back-Channel Logout 1.0 §2.5-2.8: validate the logout token, end the sessions."""
    logout_token = request.form.get("logout_token", "")
    try:
        subject, session_id = validate_logout_token(logout_token)
    except InvalidLogoutToken as error:
        log.info("logout token rejected: %s", error)
        response = jsonify(error="invalid_request", error_description="invalid logout_token")
        response.status_code = 400
    except (requests.RequestException, ValueError, RuntimeError) as error:
        log.warning("logout token not checked, JWKS unavailable: %s", type(error).__name__)
        response = jsonify(error="temporarily_unavailable")
        response.status_code = 503
    else:
        services.end_sessions_for(subject, session_id)
        response = current_app.response_class(status=200)
    response.headers["Cache-Control"] = "no-store"
    return response


# A server-to-server POST from Passport: authenticated by the signed logout token, not a
# browser form, so there is no CSRF token to check (Back-Channel Logout 1.0 §2.5).
csrf.exempt(backchannel_logout)
