"""Problem details (RFC 9457): the one error format of the admin API, 404 and 405 included.

Titles and details are short English: API clients are programs, read by developers (as the
``error_description`` of OAuth). Field errors ride in the ``errors`` extension member, one
``{"field", "pointer", "detail"}`` per bad field (RFC 9457 §3's own example).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from flask import Response
from flask import request

PROBLEM_MEDIA_TYPE = "application/problem+json"
# Where the admin API lives; the error renderer answers for every URL under it.
API_PREFIX = "/api/v1"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@dataclass(frozen=True)
class FieldProblem:
    """One invalid member of a request body."""

    field: str
    detail: str

    def as_json(self) -> dict[str, str]:
        """The member of the ``errors`` list (with a JSON Pointer, RFC 6901)."""
        token = self.field.replace("~", "~0").replace("/", "~1")
        return {"field": self.field, "pointer": f"#/{token}", "detail": self.detail}


class ApiError(Exception):
    """An API failure a view raises; ``problem_response`` turns it into the document."""

    def __init__(
        self,
        status: int,
        detail: str | None = None,
        *,
        errors: Sequence[FieldProblem] = (),
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail or HTTPStatus(status).phrase)
        self.status = status
        self.detail = detail
        self.errors = list(errors)
        self.headers = headers or {}
        self.extra = extra or {}


def problem_response(
    status: int,
    detail: str | None = None,
    *,
    errors: Sequence[FieldProblem] = (),
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> Response:
    """An ``application/problem+json`` response; ``type`` is about:blank (RFC 9457 §4.2.1)."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = [error.as_json() for error in errors]
    body.update(extra or {})
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_MEDIA_TYPE)
    response.headers.update(NO_STORE)
    response.headers.update(headers or {})
    return response


def from_problem(problem: ApiError) -> Response:
    """The response for a raised ApiError."""
    return problem_response(
        problem.status,
        problem.detail,
        errors=problem.errors,
        headers=problem.headers,
        extra=problem.extra,
    )


def is_api_request() -> bool:
    """True for URLs under the admin API's prefix."""
    return request.path == API_PREFIX or request.path.startswith(API_PREFIX + "/")


def render_api_error(status: int) -> Response | None:
    """The app's error hook: a problem document for API URLs (404, 405, 413, 429, 500...)."""
    if not is_api_request():
        return None
    try:
        HTTPStatus(status)
    except ValueError:
        status = 500 if status >= 500 else 400
    return problem_response(status)
