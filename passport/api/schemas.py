"""The admin API's bodies as pydantic models: they check requests and write the OpenAPI schemas.

A request body is checked by its model (``parse``: members known, required ones present, each
of its JSON type, strictly: no coercion of ``"yes"`` to a boolean), then by the account rules
that the console and the CLI share (passport/accounts/validation.py), which judge the values.
The models carry those rules' bounds into the document (``maxLength`` from the same
constants) without checking them again, so each value keeps the one message it has everywhere.

Why pydantic 2: ``model_json_schema()`` writes JSON Schema 2020-12, which OpenAPI 3.1 uses
as is, and strict mode checks JSON types exactly as the API promises. apispec with
marshmallow writes OpenAPI 3.0 style schemas and its Boolean field takes ``"yes"`` or ``1``,
which this API refuses.
"""

from __future__ import annotations

from types import NoneType
from typing import Any
from typing import Literal
from typing import TypeVar
from typing import get_args

from pydantic import BaseModel
from pydantic import ConfigDict
from pydantic import Field
from pydantic import ValidationError

from passport.accounts.validation import EMAIL_MAX_LENGTH
from passport.accounts.validation import NAME_MAX_LENGTH
from passport.accounts.validation import TERRITORY_MAX_LENGTH
from passport.api.problems import ApiError
from passport.api.problems import FieldProblem

PHONE_MAX_LENGTH = 40
DNI_SCHEMA: dict[str, Any] = {"pattern": "^[0-9]{8}$", "examples": ["12345678"]}
TIMESTAMP: dict[str, Any] = {"format": "date-time"}
# A JSON type's name in a field problem ("must be a string").
TYPE_NAMES = {str: "a string", bool: "a boolean"}


def documented(default: Any = ..., description: str | None = None, **schema: Any) -> Any:
    """A field whose ``schema`` keywords go into the document only (the account rules check
    the value, with their own messages)."""
    return Field(default, description=description, json_schema_extra=schema or None)


class Body(BaseModel):
    """A request body: a JSON object with known members of exact JSON types."""

    model_config = ConfigDict(extra="forbid", strict=True)


class View(BaseModel):
    """A response body: every member always present."""

    model_config = ConfigDict(extra="forbid", strict=True)


class UserCreate(Body):
    """A user to create (idempotent on the DNI)."""

    dni: str = documented(**DNI_SCHEMA)
    email: str = documented(format="email", maxLength=EMAIL_MAX_LENGTH)
    given_name: str = documented(minLength=1, maxLength=NAME_MAX_LENGTH)
    family_name: str = documented(minLength=1, maxLength=NAME_MAX_LENGTH)
    phone: str | None = documented(
        None,
        "International form, e.g. +51987654321 (separators ignored).",
        maxLength=PHONE_MAX_LENGTH,
    )
    dre: str | None = documented(None, maxLength=TERRITORY_MAX_LENGTH)
    ugel: str | None = documented(None, maxLength=TERRITORY_MAX_LENGTH)
    send_activation_email: bool = documented(True, 'Mail "Generar tu contraseña" to a new user.')


class Action(Body):
    """The optional body of an action on a user."""

    reason: str | None = documented(None, "Why, for the audit log (spaces collapsed, cut at 500).")


class User(View):
    """A user as the API shows it (never a password or a lock's internals)."""

    dni: str = documented(**DNI_SCHEMA)
    sub: str = documented(description="The OpenID Connect subject.")
    email: str
    email_verified: bool
    given_name: str
    family_name: str
    phone: str | None
    phone_verified: bool
    dre: str | None
    ugel: str | None
    status: Literal["pending", "active", "disabled"] = documented(
        description="pending: has not generated a password yet."
    )
    created_at: str = documented(**TIMESTAMP)
    updated_at: str = documented(**TIMESTAMP)


class Session(View):
    """A live single sign-on session (never its cookie hash)."""

    sid: str = documented(description="The OpenID Connect session id.")
    created_at: str = documented(**TIMESTAMP)
    last_seen_at: str = documented(**TIMESTAMP)
    expires_at: str = documented(**TIMESTAMP)
    ip_address: str | None
    user_agent: str | None
    device: str = documented(description='Readable browser and system, e.g. "Chrome en Windows".')
    amr: list[str]


class SessionList(View):
    """A user's live sessions, last seen first."""

    sessions: list[Session]


class FieldError(View):
    """One invalid member of a request body."""

    field: str
    pointer: str = documented(description="RFC 6901 JSON Pointer.")
    detail: str


def _no_defaults(schema: dict[str, Any]) -> None:
    """Optional members of a response are left out, never null: the schema names no default."""
    for member in schema.get("properties", {}).values():
        member.pop("default", None)


class Problem(BaseModel):
    """RFC 9457 problem details."""

    # A problem type may define more members (RFC 9457 §3.2).
    model_config = ConfigDict(extra="allow", json_schema_extra=_no_defaults)

    type: str = documented(format="uri-reference")
    title: str
    status: int = documented(minimum=400, maximum=599)
    detail: str = documented(None)
    errors: list[FieldError] = documented(None)
    conflicting_fields: list[str] = documented(None)


MODELS: tuple[type[BaseModel], ...] = (UserCreate, Action, User, Session, SessionList, Problem)


def component_schemas() -> dict[str, Any]:
    """The ``components.schemas`` of the document, one per model (nested ones included)."""
    schemas: dict[str, Any] = {}
    for model in MODELS:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    return schemas


M = TypeVar("M", bound=Body)


def _type_problem(model: type[Body], name: str, value: Any) -> str:
    """Why ``value`` does not fit member ``name`` (its JSON type, or null)."""
    kinds = get_args(model.model_fields[name].annotation) or (model.model_fields[name].annotation,)
    nullable = NoneType in kinds
    if value is None:
        return "must not be null"
    kind = next(kind for kind in kinds if kind is not NoneType)
    return f"must be {TYPE_NAMES.get(kind, getattr(kind, '__name__', 'valid'))}" + (
        " or null" if nullable else ""
    )


def parse(model: type[M], body: dict[str, Any]) -> M:
    """The body as ``model``; ApiError 422 listing each unknown, missing or mistyped member."""
    try:
        return model.model_validate(body)
    except ValidationError as invalid:
        reasons: dict[str, str] = {}
        for error in invalid.errors():
            name = str(error["loc"][0])
            if error["type"] == "extra_forbidden":
                reasons[name] = "is not a known member"
            elif error["type"] == "missing":
                reasons[name] = "is required"
            else:
                reasons.setdefault(name, _type_problem(model, name, body.get(name)))
    # Unknown members first, in the body's order; then the model's, in its order.
    order = [name for name in body if name not in model.model_fields] + list(model.model_fields)
    problems = [FieldProblem(name, reasons[name]) for name in order if name in reasons]
    raise ApiError(422, "The request has invalid members.", errors=problems)
