"""HTTP views of the oidc capability: thin adapters from requests to the services."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from authlib.common.urls import add_params_to_uri
from flask import Blueprint
from flask import Response
from flask import current_app
from flask import g
from flask import make_response
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from flask_wtf.csrf import validate_csrf
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms.validators import ValidationError

from passport.audit.services import record_event
from passport.database import utcnow
from passport.extensions import db
from passport.login.sessions import SessionFacts
from passport.login.sessions import current_session_facts
from passport.login.sessions import current_sso_session
from passport.login.sessions import end_sso_session
from passport.mfa.assurance import ACR_MFA
from passport.mfa.assurance import ACR_PHISHING_RESISTANT
from passport.mfa.services import session_has_second_factor
from passport.mfa.services import user_has_passkey
from passport.mfa.services import user_has_totp
from passport.oidc import authorization as authz
from passport.oidc.acr import acr_request
from passport.oidc.discovery import provider_metadata_json
from passport.oidc.documents import etag_of
from passport.oidc.documents import matches
from passport.oidc.errors import InvalidClientMetadata
from passport.oidc.keys import key_ring
from passport.oidc.registration import RegistrationDenied
from passport.oidc.scope_labels import SCOPE_DESCRIPTIONS
from passport.oidc.scope_labels import describe_claims
from passport.oidc.userinfo import BearerError
from passport.oidc.userinfo import fresh_nonce_headers
from passport.oidc.userinfo import presented_token
from passport.oidc.userinfo import userinfo_response
from passport.security.headers import allow_form_action
from passport.security.ratelimits import spend_anonymous_authorize

bp = Blueprint("oidc", __name__)

PAGE_ERRORS = {
    "unknown_client": _l("La aplicación que lo envió aquí no está registrada en Passport."),
    "invalid_redirect_uri": _l(
        "La dirección de retorno de la aplicación no está registrada. Por seguridad, no lo "
        "enviaremos allí."
    ),
    "invalid_request": _l("La solicitud de la aplicación no es válida."),
    "expired": _l("La solicitud venció. Vuelva a la aplicación e inténtelo otra vez."),
    "invalid_request_uri": _l(
        "La solicitud venció o ya fue usada. Vuelva a la aplicación e inténtelo otra vez."
    ),
    "invalid_request_object": _l("La solicitud firmada de la aplicación no es válida."),
    "request_uri_not_supported": _l("La solicitud de la aplicación no es válida."),
}
# Refusals of request objects and request_uri (RFC 9101, RFC 9126) that name their code.
CODED_PAGE_ERRORS = ("invalid_request_uri", "invalid_request_object", "request_uri_not_supported")
ISSUER_REL = "http://openid.net/specs/connect/1.0/issuer"
JSON_HEADERS = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def json_response(body: dict[str, Any], status: int = 200, **headers: str) -> Response:
    """A JSON response that caches nowhere."""
    response = Response(json.dumps(body), status=status, mimetype="application/json")
    response.headers.update(JSON_HEADERS)
    response.headers.update(headers)
    return response


def use_ui_locales(locales: list[str]) -> None:
    """Render this response in the first supported ui_locale (OIDC Core §3.1.2.1)."""
    if locales:
        g.ui_locale = locales[0]


def error_page(reason: str, status: int = 400) -> ResponseReturnValue:
    """The Spanish page for requests that must not go back to the client."""
    message = PAGE_ERRORS.get(reason, PAGE_ERRORS["invalid_request"])
    # The RFC code too, for the application's developers and the help desk.
    code = reason if reason in CODED_PAGE_ERRORS else None
    return render_template("passport/oidc/error.html", message=message, code=code), status


def respond_to_client(
    redirect_uri: str, params: list[tuple[str, str]], mode: str
) -> WerkzeugResponse:
    """Send parameters to the client: query string or an auto-submitted form (form_post)."""
    allow_form_action(redirect_uri)
    if mode == "form_post":
        page = Response(
            render_template("passport/oidc/form_post.html", action=redirect_uri, params=params)
        )
        page.headers["Cache-Control"] = "no-store"
        return page
    response = redirect(add_params_to_uri(redirect_uri, params), code=302)
    response.headers["Cache-Control"] = "no-store"
    return response


def error_to_client(error: authz.AuthorizationError) -> WerkzeugResponse:
    """An authorization error response, with state and iss."""
    return respond_to_client(
        error.redirect_uri, error.params(current_app.config["ISSUER"]), error.response_mode
    )


# --- Discovery and keys ---------------------------------------------------------------


@bp.get("/.well-known/openid-configuration")
@bp.get("/.well-known/oauth-authorization-server")
def discovery() -> Response:
    """OIDC Discovery 1.0 §4 / RFC 8414 §3."""
    body = provider_metadata_json(current_app)
    response = Response(body, mimetype="application/json")
    response.headers["Cache-Control"] = (
        f"public, max-age={current_app.config['DISCOVERY_CACHE_SECONDS']}"
    )
    response.headers["Access-Control-Allow-Origin"] = "*"
    return conditional(response, body)


@bp.get("/.well-known/webfinger")
def webfinger() -> Response:
    """OIDC Discovery §2: the issuer for any account (never says whether it exists)."""
    resource = request.args.get("resource", "")
    if not resource or len(resource) > 512:
        return json_response(
            {"error": "invalid_request", "error_description": "Missing resource."}, 400
        )
    body = {
        "subject": resource,
        "links": [{"rel": ISSUER_REL, "href": current_app.config["ISSUER"]}],
    }
    response = Response(json.dumps(body), mimetype="application/jrd+json")
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/jwks.json")
def jwks() -> Response:
    """The published keys (next, active and still-needed retired ones)."""
    body = key_ring().jwks_json
    response = Response(body, mimetype="application/jwk-set+json")
    # Short enough that a "next" key is seen well before it signs (rotation delay >> this).
    response.headers["Cache-Control"] = (
        f"public, max-age={current_app.config['JWKS_CACHE_SECONDS']}"
    )
    response.headers["Access-Control-Allow-Origin"] = "*"
    return conditional(response, body)


def conditional(response: Response, body: bytes) -> Response:
    """The same ETag as the precomputed answer (oidc/documents.py); 304 when it matches."""
    etag = etag_of(body)
    response.headers["ETag"] = etag
    if matches(request.headers.get("If-None-Match"), etag):
        response.status_code = 304
        response.set_data(b"")
        for name in ("Content-Type", "Content-Length"):
            response.headers.pop(name, None)
    return response


# --- Authorization endpoint -----------------------------------------------------------


@bp.route("/authorize", methods=["GET", "POST"])
def authorize() -> ResponseReturnValue:
    """OIDC Core §3.1.2: validate, then sign in / consent / issue a code."""
    params = request.args if request.method == "GET" else request.form
    return process_authorization(params, pending=None)


@bp.get("/authorize/resume")
def resume() -> ResponseReturnValue:
    """Where login sends the browser back (interfaces.md: resume_url)."""
    pending = authz.load_pending(request.args.get("authz"))
    if pending is None:
        return error_page("expired")
    return process_authorization(MultiDict(pending.params), pending=pending)


class PageNeededError(Exception):
    """The request cannot finish without one of Passport's pages (consent, a second step...)."""


def complete_after_sign_in(authz_id: str) -> WerkzeugResponse | None:
    """The answer to a sign-in that resumes ``authz_id``, when no other page is needed.

    interfaces.md: ``passport.complete_authorization``, called by login right after it starts
    the SSO session. The answer goes straight to the client (its redirect with the code, or an
    error it must see), which spares a teacher's phone the round trip through
    ``/authorize/resume``. None when the request needs a page or is gone: login then redirects
    to the resume URL, which decides as always. Nothing is written before that decision.
    """
    pending = authz.load_pending(authz_id)
    if pending is None:
        return None
    try:
        return make_response(
            process_authorization(MultiDict(pending.params), pending=pending, pages=False)
        )
    except PageNeededError:
        return None


@bp.post("/par")
def pushed_authorization() -> Response:
    """RFC 9126 §2: a pushed authorization request (passport.oidc.par)."""
    key_ring()  # id_token_hint needs the keys; load them before any write
    response: Response = current_app.extensions["passport.oidc.server"].create_endpoint_response(
        "pushed_authorization"
    )
    return response


def process_authorization(
    params: MultiDict[str, str], pending: Any | None, *, pages: bool = True
) -> ResponseReturnValue:
    """The decision shared by /authorize and its resumption after login.

    With ``pages=False`` only answers for the client are given: where a page of Passport's
    would be shown, ``PageNeededError`` is raised before anything is written.
    """
    key_ring()  # load keys before any write (id_token_hint needs them)
    try:
        req = authz.parse_authorization_request(
            params, source="front" if pending is None else "stored"
        )
    except authz.AuthorizationPageError as error:
        if not pages:
            raise PageNeededError from error
        return error_page(error.reason)
    except authz.AuthorizationError as error:
        return error_to_client(error)
    use_ui_locales(req.ui_locales)
    session = current_session_facts()
    if session is None and pending is None:
        # Anyone can make Passport store a pending request: throttled per address.
        spend_anonymous_authorize()
    satisfied_after = pending.requires_auth_after if pending is not None else None
    if authz.needs_login(req, session, satisfied_after):
        if "none" in req.prompts:
            return error_to_client(req.fail("login_required", "The user is not signed in."))
        if pending is not None and session is not None:
            # Resumed and signed in, yet still not acceptable (another person than the
            # id_token_hint names, or no fresh sign-in): answer rather than loop.
            return error_to_client(req.fail("login_required", "A new sign-in is required."))
        if not pages:
            raise PageNeededError
        requires_after = utcnow() if authz.forces_login(req) or session is not None else None
        authz_id = authz.save_pending(req, requires_after)
        target = f"{request.script_root}/ingresar?{urlencode({'authz': authz_id})}"
        return redirect(target, code=302)
    if session is None:  # unreachable: needs_login is True without a session
        return error_page("invalid_request")
    step_up = second_factor_decision(req, session, pending, pages)
    if step_up is not None:
        return step_up
    if authz.needs_consent(session.user_id, req):
        if "none" in req.prompts:
            return error_to_client(req.fail("consent_required", "Consent is required."))
        if not pages:
            raise PageNeededError
        authz_id = pending.authz_id if pending is not None else authz.save_pending(req, None)
        return render_consent(req, authz_id)
    if pending is not None:
        authz.discard_pending(pending)
    return respond_to_client(req.redirect_uri, authz.issue_code(req, session), req.response_mode)


def second_factor_decision(
    req: authz.AuthorizationRequest, session: SessionFacts, pending: Any | None, pages: bool
) -> ResponseReturnValue | None:
    """Send the person through the step-up when the request's acr asks for two steps.

    None lets the flow continue: no acr request, already met, or voluntary and unreachable
    (the ID token's ``acr`` then says what was achieved, OIDC Core §3.1.2.1).
    """
    wanted = acr_request(req.raw, req.claims)
    if wanted is None or session.acr == ACR_PHISHING_RESISTANT:
        return None
    if wanted.prefers_phishing_resistant:
        if user_has_passkey(session.user_id):
            return step_up_to(req, pending, "passkeys.step_up", pages)
        if wanted.insists_on_phishing_resistant:
            return refuse_acr(req, pending)
    if session_has_second_factor(session):
        return None
    if wanted.is_essential and wanted.accepts(session.acr):
        return None
    if not wanted.is_essential and not wanted.prefers_second_factor:
        return None
    if ACR_MFA in wanted.values and user_has_totp(session.user_id):
        return step_up_to(req, pending, "mfa.step_up", pages)
    if wanted.is_essential:
        return refuse_acr(req, pending)
    return None


def step_up_to(
    req: authz.AuthorizationRequest, pending: Any | None, endpoint: str, pages: bool
) -> ResponseReturnValue:
    """Send the person to prove a factor at ``endpoint``, resuming this request after."""
    if "none" in req.prompts:
        return error_to_client(req.fail("interaction_required", "A second factor is needed."))
    if not pages:
        raise PageNeededError
    authz_id = pending.authz_id if pending is not None else authz.save_pending(req, None)
    resume_path = f"{request.script_root}/authorize/resume?{urlencode({'authz': authz_id})}"
    return redirect(url_for(endpoint, next=resume_path), code=302)


def refuse_acr(req: authz.AuthorizationRequest, pending: Any | None) -> ResponseReturnValue:
    """OIDC Core §5.5.1.1: an acr that must be met and cannot be fails the authentication."""
    if pending is not None:
        authz.discard_pending(pending)
        db.session.commit()
    return error_to_client(req.fail("access_denied", "The requested acr cannot be met."))


def render_consent(req: authz.AuthorizationRequest, authz_id: str) -> ResponseReturnValue:
    """The consent page listing the requested data in plain words."""
    allow_form_action(req.redirect_uri)
    items = [SCOPE_DESCRIPTIONS.get(scope, scope) for scope in req.scopes]
    response = Response(
        render_template(
            "passport/oidc/consent.html",
            client_name=req.client.name,
            items=items,
            # OIDC Core §5.5: data asked for one by one, beyond what the scopes above release.
            claim_items=describe_claims(req.extra_claims),
            authz=authz_id,
        )
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/authorize/consent")
def consent() -> ResponseReturnValue:
    """The person's answer on the consent page (CSRF-protected form)."""
    pending = authz.load_pending(request.form.get("authz"))
    if pending is None:
        return error_page("expired")
    try:
        req = authz.parse_authorization_request(MultiDict(pending.params), source="stored")
    except authz.AuthorizationPageError as error:
        return error_page(error.reason)
    except authz.AuthorizationError as error:
        return error_to_client(error)
    use_ui_locales(req.ui_locales)
    session = current_sso_session()
    if session is None:
        authz.discard_pending(pending)
        db.session.commit()
        return error_to_client(req.fail("login_required", "The session ended."))
    authz.discard_pending(pending)
    if request.form.get("decision") != "allow":
        record_event(
            "consent.denied",
            outcome="failure",
            actor_user_id=session.user_id,
            subject_user_id=session.user_id,
            client_id=req.client.client_id,
        )
        db.session.commit()
        return error_to_client(req.fail("access_denied", "The user denied the request."))
    authz.remember_consent(session.user, req)
    return respond_to_client(req.redirect_uri, authz.issue_code(req, session), req.response_mode)


# --- Token, userinfo, revocation, introspection ---------------------------------------


@bp.post("/token")
def token() -> Response:
    """RFC 6749 §3.2, through Authlib's grants."""
    key_ring()
    response: Response = current_app.extensions["passport.oidc.server"].create_token_response()
    return response


@bp.route("/userinfo", methods=["GET", "POST"])
def userinfo() -> Response:
    """OIDC Core §5.3: Bearer or DPoP header, or form body on POST (RFC 6750 §2.1-2.2)."""
    form_token = request.form.get("access_token") if request.method == "POST" else None
    presented = presented_token(request.headers.get("Authorization"), form_token)
    try:
        body = userinfo_response(presented)
    except BearerError as error:
        response = json_response(
            {"error": error.error or "invalid_request", "error_description": error.description},
            error.status,
        )
        response.headers.update(error.headers())
        return response
    response = json_response(body)
    response.headers.update(fresh_nonce_headers(presented))
    return response


@bp.post("/revoke")
def revoke() -> Response:
    """RFC 7009."""
    response: Response = current_app.extensions["passport.oidc.server"].create_endpoint_response(
        "revocation"
    )
    return response


@bp.post("/introspect")
def introspect() -> Response:
    """RFC 7662."""
    response: Response = current_app.extensions["passport.oidc.server"].create_endpoint_response(
        "introspection"
    )
    return response


# --- RP-Initiated Logout 1.0 ----------------------------------------------------------


@bp.route("/end-session", methods=["GET", "POST"])
def end_session() -> ResponseReturnValue:
    """RP-Initiated Logout 1.0 §2-§3; a confirmation form unless the hint proves the RP."""
    from passport.oidc.logout import LogoutRequestError
    from passport.oidc.logout import parse_logout_request

    params = request.args if request.method == "GET" else request.form
    key_ring()
    try:
        logout = parse_logout_request(params)
    except LogoutRequestError:
        return render_template("passport/oidc/logout_error.html"), 400
    use_ui_locales(logout.ui_locales)
    session = current_sso_session()
    confirmed = request.method == "POST" and request.form.get("logout") == "yes"
    if confirmed:
        try:
            validate_csrf(request.form.get("csrf_token"))
        except (ValidationError, CSRFError):
            return render_template("passport/oidc/logout_error.html"), 400
    elif session is not None and not logout.can_skip_confirmation(session):
        if logout.post_logout_redirect_uri:
            allow_form_action(logout.post_logout_redirect_uri)
        response = Response(render_template("passport/oidc/logout_confirm.html", logout=logout))
        response.headers["Cache-Control"] = "no-store"
        return response
    if session is not None:
        end_sso_session(session, "rp_logout" if logout.client else "logout")
    if logout.post_logout_redirect_uri:
        params_out = [("state", logout.state)] if logout.state is not None else []
        target = add_params_to_uri(logout.post_logout_redirect_uri, params_out)
        return redirect(target, code=302)
    return render_template("passport/oidc/logged_out.html")


# --- Dynamic client registration (RFC 7591 / RFC 7592) --------------------------------


def bearer_token() -> str | None:
    """The Bearer token of the Authorization header."""
    header = request.headers.get("Authorization", "")
    return header[7:].strip() or None if header[:7].lower() == "bearer " else None


def registration_error(error: Exception) -> Response:
    """RFC 7591 §3.2.2 errors and RFC 6750 token errors."""
    if isinstance(error, RegistrationDenied):
        response = json_response(
            {"error": "invalid_token", "error_description": "Invalid access token."}, 401
        )
        response.headers["WWW-Authenticate"] = 'Bearer realm="passport", error="invalid_token"'
        return response
    field = error.field if isinstance(error, InvalidClientMetadata) else "body"
    code = "invalid_redirect_uri" if "redirect_uri" in field else "invalid_client_metadata"
    description = str(error).encode("ascii", "replace").decode("ascii")
    return json_response({"error": code, "error_description": description}, 400)


def json_body() -> Any:
    """The JSON request body, or None when it is not JSON."""
    if not request.is_json:
        return None
    return request.get_json(silent=True)


@bp.post("/register")
def register() -> Response:
    """RFC 7591 §3.1 (requires an initial access token)."""
    from passport.oidc.registration import register_client

    try:
        body = register_client(bearer_token(), json_body())
    except (RegistrationDenied, InvalidClientMetadata) as error:
        return registration_error(error)
    return json_response(body, 201)


@bp.route("/register/<client_id>", methods=["GET", "PUT", "DELETE"])
def manage_registration(client_id: str) -> Response:
    """RFC 7592 §2 read, update and delete."""
    from passport.oidc import registration

    token = bearer_token()
    try:
        if request.method == "GET":
            return json_response(registration.read_client(client_id, token))
        if request.method == "PUT":
            return json_response(registration.replace_client(client_id, token, json_body()))
        registration.delete_client(client_id, token)
    except (RegistrationDenied, InvalidClientMetadata) as error:
        return registration_error(error)
    return Response(status=204)
