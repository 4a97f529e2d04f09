"""The admin API's blueprint: thin JSON adapters over ``passport.api.users``.

Every view authenticates the bearer token first (401/403 before any other answer), then
reads its input and calls a service. Errors are problem documents (``problems.py``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint
from flask import Response
from flask import current_app
from flask import request
from flask import url_for

from passport.accounts import administration
from passport.accounts.errors import AccountStateError
from passport.accounts.errors import InvalidUserDataError
from passport.accounts.errors import NotPermittedError
from passport.accounts.errors import UserNotFoundError
from passport.accounts.models import User
from passport.api.auth import READ_SCOPE
from passport.api.auth import WRITE_SCOPE
from passport.api.auth import ApiCaller
from passport.api.auth import authenticate_caller
from passport.api.errors import ConflictingUserError
from passport.api.openapi import openapi_document
from passport.api.payloads import invalid_fields
from passport.api.payloads import read_json_object
from passport.api.problems import API_PREFIX
from passport.api.problems import NO_STORE
from passport.api.problems import ApiError
from passport.api.problems import from_problem
from passport.api.problems import problem_response
from passport.api.schemas import Action
from passport.api.schemas import UserCreate
from passport.api.schemas import parse
from passport.api.users import provision_user
from passport.api.users import refreshed
from passport.api.users import session_json
from passport.api.users import user_json
from passport.audit.services import Actor
from passport.extensions import limiter
from passport.login.sessions import live_sessions
from passport.mail import MailDeliveryError
from passport.oidc.userinfo import BearerError
from passport.oidc.userinfo import fresh_nonce_headers
from passport.oidc.userinfo import presented_token
from passport.security.network import client_ip

bp = Blueprint("api", __name__, url_prefix=API_PREFIX)


def api_rate_limit() -> str:
    """API_RATE_LIMIT, read per request (tests and operators can change it)."""
    return str(current_app.config["API_RATE_LIMIT"])


limiter.limit(api_rate_limit, key_func=client_ip)(bp)


def json_response(body: dict[str, Any], status: int = 200, **headers: str) -> Response:
    """A JSON answer that no cache keeps (it names people)."""
    response = Response(json.dumps(body), status=status, mimetype="application/json")
    response.headers.update(NO_STORE)
    response.headers.update(headers)
    return response


@bp.errorhandler(ApiError)
def answer_problem(problem: ApiError) -> Response:
    """A problem raised by a view or a helper."""
    return from_problem(problem)


@bp.errorhandler(NotPermittedError)
def answer_not_permitted(error: NotPermittedError) -> Response:
    """The write rule refused (passport/accounts/territory.py): 403, never a 500."""
    return problem_response(403, "This change is not permitted.")


@bp.errorhandler(BearerError)
def answer_bearer_error(error: BearerError) -> Response:
    """401 or 403 with the RFC 6750 §3 challenge, as a problem document."""
    return problem_response(error.status, error.description, headers=error.headers())


def authorised(scope: str) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """Run the view only for a token granting ``scope``; the view gets the caller first."""

    def decorate(view: Callable[..., Response]) -> Callable[..., Response]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Response:
            authorization = request.headers.get("Authorization")
            caller = authenticate_caller(authorization, scope)
            response = view(caller, *args, **kwargs)
            response.headers.update(fresh_nonce_headers(presented_token(authorization)))
            return response

        return wrapper

    return decorate


def user_or_404(dni: str) -> User:
    """The user with this DNI; a 404 problem for a malformed or unknown DNI."""
    try:
        return administration.find_user(dni, actor=None)
    except UserNotFoundError:
        raise ApiError(404, "No user has this DNI.") from None


def action_reason() -> str | None:
    """The ``reason`` of an optional JSON body (an empty body, whatever its type: none)."""
    if not request.get_data(cache=True):
        return None
    return parse(Action, read_json_object()).reason


def acting(caller: ApiCaller, reason: str | None = None) -> Actor:
    """The actor of an administration call: the system (national), as this client."""
    return Actor(
        client_id=caller.client_id,
        ip_address=client_ip(),
        user_agent=request.user_agent.string or None,
        reason=reason,
    )


@bp.get("/openapi.json")
def openapi() -> Response:
    """The OpenAPI 3.1 description of this API (public: it holds no data)."""
    response = Response(json.dumps(openapi_document()), mimetype="application/json")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.post("/users")
@authorised(WRITE_SCOPE)
def create(caller: ApiCaller) -> Response:
    """Create a user; the same DNI with the same data answers 200 with the existing user."""
    body = parse(UserCreate, read_json_object())
    try:
        outcome = provision_user(
            body.model_dump(exclude_unset=True, exclude={"send_activation_email"}),
            send_activation_email=body.send_activation_email,
            actor=acting(caller),
        )
    except InvalidUserDataError as error:
        raise invalid_fields(error.errors) from None
    except ConflictingUserError as error:
        raise ApiError(
            409,
            "A user with this DNI exists with different data.",
            extra={"conflicting_fields": error.fields},
        ) from None
    except MailDeliveryError:
        raise ApiError(
            503, "The activation e-mail could not be sent; nothing was created."
        ) from None
    location = url_for("api.get_user", dni=outcome.user.dni)
    return json_response(
        user_json(outcome.user), 201 if outcome.created else 200, Location=location
    )


@bp.get("/users/<dni>")
@authorised(READ_SCOPE)
def get_user(caller: ApiCaller, dni: str) -> Response:
    """One user by DNI."""
    return json_response(user_json(user_or_404(dni)))


@bp.post("/users/<dni>/disable")
@authorised(WRITE_SCOPE)
def disable(caller: ApiCaller, dni: str) -> Response:
    """Disable the user: sessions end and every token is revoked at once."""
    user = user_or_404(dni)
    administration.disable_user(user, actor=acting(caller, action_reason()))
    return json_response(user_json(refreshed(user)))


@bp.post("/users/<dni>/enable")
@authorised(WRITE_SCOPE)
def enable(caller: ApiCaller, dni: str) -> Response:
    """Enable a disabled user (active with a password, else pending)."""
    user = user_or_404(dni)
    administration.enable_user(user, actor=acting(caller, action_reason()))
    return json_response(user_json(refreshed(user)))


@bp.post("/users/<dni>/activation-email")
@authorised(WRITE_SCOPE)
def activation_email(caller: ApiCaller, dni: str) -> Response:
    """Send a pending user a new "Generar tu contraseña" mail (older links die)."""
    user = user_or_404(dni)
    try:
        administration.resend_activation(user, actor=acting(caller, action_reason()))
    except AccountStateError as error:
        raise ApiError(
            409, f"The user is {error.status}; only pending users get this e-mail."
        ) from None
    except MailDeliveryError:
        raise ApiError(503, "The e-mail could not be sent; try again later.") from None
    return json_response(user_json(user), 202)


@bp.get("/users/<dni>/sessions")
@authorised(READ_SCOPE)
def sessions(caller: ApiCaller, dni: str) -> Response:
    """The user's live single sign-on sessions (as Mi cuenta lists them), last seen first."""
    user = user_or_404(dni)
    return json_response({"sessions": [session_json(s) for s in live_sessions(user.id)]})
