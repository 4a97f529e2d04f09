"""Discovery and JWKS answered from precomputed bytes (passport/pipeline.py, oidc/documents.py).

The fast answer must be the answer Flask's views give (a query string sends a request through
Flask), carry an ETag that follows the body (key rotation), and still be logged and counted.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

DISCOVERY = "/.well-known/openid-configuration"
DOCUMENTS = [DISCOVERY, "/.well-known/oauth-authorization-server", "/jwks.json"]


def comparable(answer: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    headers = [(k, v) for k, v in answer.headers.items() if k != "X-Request-Id"]
    return answer.status_code, headers, answer.get_data()


@pytest.mark.parametrize("path", DOCUMENTS)
def test_the_precomputed_answer_is_the_views_answer(client: FlaskClient, path: str) -> None:
    fast = client.get(path)
    through_flask = client.get(path + "?via=flask")
    assert fast.status_code == 200
    assert comparable(fast) == comparable(through_flask)
    assert fast.headers["ETag"].startswith('"')
    assert fast.headers["Access-Control-Allow-Origin"] == "*"
    assert fast.headers["Cache-Control"].startswith("public, max-age=")
    assert fast.headers["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in fast.headers


@pytest.mark.parametrize("path", DOCUMENTS)
def test_https_answers_carry_hsts_as_the_views_do(client: FlaskClient, path: str) -> None:
    fast = client.get(path, base_url="https://localhost")
    through_flask = client.get(path + "?via=flask", base_url="https://localhost")
    assert fast.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert comparable(fast) == comparable(through_flask)


@pytest.mark.parametrize("suffix", ["", "?via=flask"])
@pytest.mark.parametrize("path", DOCUMENTS)
def test_a_matching_etag_gets_304_without_a_body(
    client: FlaskClient, path: str, suffix: str
) -> None:
    etag = client.get(path).headers["ETag"]
    unchanged = client.get(path + suffix, headers={"If-None-Match": f'W/"other", {etag}'})
    assert unchanged.status_code == 304
    assert unchanged.get_data() == b""
    assert unchanged.headers["ETag"] == etag
    stale = client.get(path + suffix, headers={"If-None-Match": '"stale"'})
    assert stale.status_code == 200
    assert stale.get_data()


def test_a_rotation_changes_the_jwks_body_and_its_etag_at_once(
    app: Flask, client: FlaskClient
) -> None:
    from passport.oidc.keys import rotate_keys

    before = client.get("/jwks.json")
    kids_before = {key["kid"] for key in before.get_json()["keys"]}
    created = rotate_keys()
    after = client.get("/jwks.json")
    kids_after = {key["kid"] for key in after.get_json()["keys"]}
    assert {key.kid for key in created} <= kids_after
    assert kids_before < kids_after
    assert after.headers["ETag"] != before.headers["ETag"]
    assert (
        client.get("/jwks.json", headers={"If-None-Match": before.headers["ETag"]}).status_code
        == 200
    )


def test_a_nul_in_the_agent_is_still_refused(client: FlaskClient) -> None:
    answer = client.get(DISCOVERY, headers={"User-Agent": "bad\x00agent"})
    assert answer.status_code == 400


def test_other_methods_are_flasks(client: FlaskClient) -> None:
    assert client.head(DISCOVERY).status_code == 200
    assert client.post(DISCOVERY).status_code == 405


def test_the_answer_is_logged_with_its_route_and_counted(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    from prometheus_client import REGISTRY

    def served() -> float:
        value = REGISTRY.get_sample_value(
            "passport_http_requests_total",
            {"endpoint": "oidc.jwks", "method": "GET", "status": "200"},
        )
        return value or 0.0

    before = served()
    with caplog.at_level(logging.INFO, logger="passport.access"):
        client.get("/jwks.json")
    assert served() == before + 1
    (line,) = [r.access for r in caplog.records if hasattr(r, "access")]  # type: ignore[attr-defined]
    assert line["route"] == "/jwks.json"
    assert line["endpoint"] == "oidc.jwks"
    assert line["status"] == 200
