"""Every answer of the admin API that is not a success is an RFC 9457 problem document."""

from __future__ import annotations

import pytest

from tests.integration.api.conftest import NEW_USER
from tests.integration.api.conftest import bearer


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status
    assert body["type"] == "about:blank"
    assert body["title"]
    return body


def test_unknown_urls_under_the_api_are_404_problems(client) -> None:
    assert_problem(client.get("/api/v1/nada"), 404)
    assert_problem(client.get("/api/v1"), 404)


def test_pages_outside_the_api_keep_their_html_errors(client) -> None:
    response = client.get("/no-existe")
    assert response.status_code == 404
    assert response.mimetype == "text/html"


def test_a_wrong_method_is_a_405_problem_with_allow(client, write_token) -> None:
    response = client.delete("/api/v1/users/12345678", headers=bearer(write_token))
    assert_problem(response, 405)
    assert "GET" in response.headers["Allow"]


@pytest.mark.parametrize(
    ("content_type", "data"),
    [("text/plain", "{}"), ("application/x-www-form-urlencoded", "dni=12345678"), (None, "")],
)
def test_a_body_that_is_not_json_is_a_415_problem(client, write_token, content_type, data) -> None:
    headers = bearer(write_token)
    if content_type:
        headers["Content-Type"] = content_type
    assert_problem(client.post("/api/v1/users", data=data, headers=headers), 415)


@pytest.mark.parametrize(
    "data",
    [b"{", b"", b"[1, 2]", b'"texto"', b"\xff\xfe{}", b"[" * 5000 + b"]" * 5000, b"NaN"],
)
def test_malformed_json_is_a_400_problem(client, write_token, data) -> None:
    headers = {**bearer(write_token), "Content-Type": "application/json"}
    assert_problem(client.post("/api/v1/users", data=data, headers=headers), 400)


def test_an_oversized_body_is_a_413_problem(app, client, write_token) -> None:
    big = {**NEW_USER, "given_name": "a" * app.config["API_MAX_BODY_BYTES"]}
    assert_problem(client.post("/api/v1/users", json=big, headers=bearer(write_token)), 413)


def test_too_many_requests_is_a_429_problem(app, client, read_token, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", "2 per minute")
    for _ in range(2):
        client.get("/api/v1/users/12345678", headers=bearer(read_token))
    response = client.get("/api/v1/users/12345678", headers=bearer(read_token))
    assert_problem(response, 429)
    assert int(response.headers["Retry-After"]) > 0


def test_an_unexpected_failure_is_a_500_problem_without_details(
    app, client, read_token, monkeypatch
) -> None:
    from passport.api import views

    def explode(*args, **kwargs) -> None:
        raise RuntimeError("secret detail")

    monkeypatch.setattr(views.administration, "find_user", explode)
    body = assert_problem(client.get("/api/v1/users/12345678", headers=bearer(read_token)), 500)
    assert "secret" not in str(body)
