"""One set of models checks the admin API's bodies and writes its OpenAPI schemas."""

from __future__ import annotations

from typing import Any

import pytest

from passport.api import schemas
from passport.api.problems import ApiError
from tests.factories import make_user
from tests.integration.api.conftest import NEW_USER
from tests.integration.api.conftest import bearer


def document(client) -> dict[str, Any]:
    return client.get("/api/v1/openapi.json").get_json()


def reasons(response) -> list[tuple[str, str]]:
    assert response.status_code == 422
    return [(error["field"], error["detail"]) for error in response.get_json()["errors"]]


def test_what_the_document_requires_is_what_the_api_requires(client, write_token) -> None:
    create_schema = document(client)["components"]["schemas"]["UserCreate"]
    response = client.post("/api/v1/users", json={}, headers=bearer(write_token))
    assert [field for field, detail in reasons(response) if detail == "is required"] == (
        create_schema["required"]
    )
    # Every documented member is known to the check, and no other one is.
    known = dict.fromkeys(create_schema["properties"], None)
    response = client.post("/api/v1/users", json={**known, "other": 1}, headers=bearer(write_token))
    unknown = [field for field, detail in reasons(response) if detail == "is not a known member"]
    assert unknown == ["other"]


def test_types_and_nulls_are_checked_exactly_in_a_stable_order(client, write_token) -> None:
    body = {
        "zzz": 1,
        **NEW_USER,
        "dni": None,
        "email": 5,
        "phone": True,
        "send_activation_email": 1,
        "aaa": "x",
    }
    response = client.post("/api/v1/users", json=body, headers=bearer(write_token))
    assert reasons(response) == [
        ("aaa", "is not a known member"),  # in the body's order (the test client sorts keys)
        ("zzz", "is not a known member"),
        ("dni", "must not be null"),
        ("email", "must be a string"),
        ("phone", "must be a string or null"),
        ("send_activation_email", "must be a boolean"),
    ]


def test_an_action_reason_may_be_null_but_not_a_number(client, write_token) -> None:
    user = make_user()
    url = f"/api/v1/users/{user.dni}/disable"
    refused = client.post(url, json={"reason": 5}, headers=bearer(write_token))
    assert reasons(refused) == [("reason", "must be a string or null")]
    done = client.post(url, json={"reason": None}, headers=bearer(write_token))
    assert done.status_code == 200


def test_the_document_schemas_are_the_models(client) -> None:
    served = document(client)["components"]["schemas"]
    for model in (schemas.UserCreate, schemas.Action, schemas.User, schemas.Session):
        generated = model.model_json_schema(ref_template="#/components/schemas/{model}")
        assert served[model.__name__] == generated
    # Bounds come from the account rules' constants, not from a copy.
    from passport.accounts.validation import NAME_MAX_LENGTH

    assert served["UserCreate"]["properties"]["given_name"]["maxLength"] == NAME_MAX_LENGTH


def test_parse_coerces_nothing() -> None:
    with pytest.raises(ApiError) as refused:
        schemas.parse(schemas.UserCreate, {**NEW_USER, "send_activation_email": "true"})
    assert [(p.field, p.detail) for p in refused.value.errors] == [
        ("send_activation_email", "must be a boolean")
    ]


def test_a_view_that_drifts_from_its_model_is_refused() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        schemas.Session.model_validate({"sid": "x", "cookie_hash": "secret"})
