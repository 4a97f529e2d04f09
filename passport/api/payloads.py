"""Reading request bodies of the admin API (JSON objects, bounded in size); their members are
checked by the models of passport/api/schemas.py."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask import request

from passport import json_input
from passport.accounts.errors import FieldError
from passport.api.problems import ApiError
from passport.api.problems import FieldProblem


def is_json_media_type(mimetype: str) -> bool:
    """application/json or a +json type (RFC 6839 §3.1)."""
    return mimetype == "application/json" or (
        mimetype.startswith("application/") and mimetype.endswith("+json")
    )


def read_json_object() -> dict[str, Any]:
    """The request body as a JSON object; ApiError 413, 415 or 400 otherwise."""
    limit = int(current_app.config["API_MAX_BODY_BYTES"])
    if request.content_length is not None and request.content_length > limit:
        raise ApiError(413, f"The body exceeds {limit} bytes.")
    if not is_json_media_type(request.mimetype):
        raise ApiError(415, "The body must be application/json.")
    raw = request.get_data(cache=True)
    if len(raw) > limit:
        raise ApiError(413, f"The body exceeds {limit} bytes.")
    try:
        body = json_input.loads(raw.decode("utf-8"))  # RFC 8259 §8.1: UTF-8 only
    except ValueError:
        raise ApiError(400, "The body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise ApiError(400, "The body must be a JSON object.")
    return body


def invalid_fields(errors: list[FieldError]) -> ApiError:
    """The 422 problem for the account validator's field errors."""
    return ApiError(
        422,
        "The request has invalid members.",
        errors=[FieldProblem(error.field, error.reason) for error in errors],
    )
