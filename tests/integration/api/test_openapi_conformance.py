"""The admin API against its own OpenAPI document, with schemathesis (in-process WSGI).

Requests are generated from the document (bounded and derandomised, so every run makes the
same ones) and sent with a real client_credentials token; each answer must be no server
error and match the document: status code, media type and body schema.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import schemathesis
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from schemathesis import GenerationMode
from schemathesis.checks import content_type_conformance
from schemathesis.checks import not_a_server_error
from schemathesis.checks import response_schema_conformance
from schemathesis.checks import status_code_conformance

from tests.factories import make_user
from tests.integration.api.conftest import bearer
from tests.integration.api.conftest import issue_token
from tests.integration.oidc.conftest import sign_in

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
MAX_EXAMPLES = 25


def checked_call(headers: dict[str, str] | None = None) -> Callable:
    """Send a case (with ``headers``) and run every check on the answer."""

    def call(case) -> None:
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS, headers=headers)

    return call


def run_cases(strategy, call: Callable) -> None:
    """Send every generated case through ``call``; a failed check fails the test."""

    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def check(case) -> None:
        call(case)

    check()


@pytest.fixture(autouse=True)
def _room_for_every_case(app, monkeypatch) -> None:
    """A few hundred requests per test: more than the production per-IP budget."""
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", "10000 per minute")


@pytest.fixture
def schema(app):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


def test_the_document_is_valid_openapi_3_1(schema) -> None:
    assert schema.raw_schema["openapi"] == "3.1.0"
    operations = {op.ok().label for op in schema.get_all_operations()}
    assert "POST /users" in operations
    assert "GET /users/{dni}/sessions" in operations


def test_the_document_lists_every_route_of_the_api_and_no_other(app, schema) -> None:
    served = {
        (method, rule.rule.removeprefix("/api/v1").replace("<dni>", "{dni}"))
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api.")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    documented = {
        (method.upper(), path)
        for path, item in schema.raw_schema["paths"].items()
        for method in item
        if method != "parameters"
    }
    assert served == documented


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_answers_as_documented(app, schema, api_rp, client, mode) -> None:
    call = checked_call(bearer(issue_token(client, api_rp)))  # read and write
    for result in schema.get_all_operations():
        run_cases(result.ok().as_strategy(generation_mode=mode), call)


def test_operations_on_existing_users_answer_as_documented(app, schema, api_rp, client) -> None:
    # Known DNIs, so the generated calls reach the 200/202/409 paths, not only 404.
    pending = make_user(password=None)
    active = make_user()
    sign_in(app, app.test_client(), active)
    call = checked_call(bearer(issue_token(client, api_rp)))
    for result in schema.get_all_operations():
        operation = result.ok()
        if "{dni}" not in operation.path:
            continue
        for user in (pending, active):
            run_cases(operation.as_strategy(path_parameters={"dni": user.dni}), call)


def test_a_read_token_gets_documented_answers_everywhere(app, schema, read_token) -> None:
    call = checked_call(bearer(read_token))  # writes answer 403
    for result in schema.get_all_operations():
        run_cases(result.ok().as_strategy(), call)


def test_unauthenticated_calls_answer_as_documented(schema) -> None:
    def call(case) -> None:
        response = case.call()
        case.validate_response(response, checks=CHECKS)
        assert response.status_code in (200, 401)  # only the document itself is public

    for result in schema.get_all_operations():
        run_cases(result.ok().as_strategy(), call)
