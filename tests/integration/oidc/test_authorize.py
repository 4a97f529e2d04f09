"""The authorization endpoint: validation order, errors, iss, prompt, max_age, hints."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from passport.database import utcnow
from tests.integration.oidc.conftest import ISSUER
from tests.integration.oidc.conftest import authorize
from tests.integration.oidc.conftest import full_flow
from tests.integration.oidc.conftest import pkce_pair
from tests.integration.oidc.conftest import query_of
from tests.integration.oidc.conftest import register_client
from tests.integration.oidc.conftest import sign_in


def test_unknown_client_gets_a_page_and_no_redirect(client, rp) -> None:
    response = authorize(client, rp, client_id="nope")
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert "no está registrada" in response.get_data(as_text=True)


def test_unregistered_redirect_uri_gets_a_page_and_no_redirect(client, rp) -> None:
    for uri in (
        "https://evil.example/cb",
        rp.redirect_uri + "/",
        rp.redirect_uri + "?x=1",
        rp.redirect_uri.upper(),
        None,
    ):
        response = authorize(client, rp, redirect_uri=uri)
        assert response.status_code == 400, uri
        assert "Location" not in response.headers


def test_repeated_client_id_gets_a_page(client, rp) -> None:
    response = client.get(
        f"/authorize?client_id={rp.client_id}&client_id={rp.client_id}&response_type=code"
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"response_type": "code id_token"}, "unsupported_response_type"),
        ({"response_type": None}, "invalid_request"),
        ({"scope": "unknown"}, "invalid_scope"),
        ({"request": "eyJhbGciOiJub25lIn0.e30."}, "invalid_request_object"),  # alg none
        ({"request_uri": "https://rp.example/r"}, "request_uri_not_supported"),
        ({"prompt": "none login"}, "invalid_request"),
        ({"max_age": "-1"}, "invalid_request"),
        ({"claims": "not json"}, "invalid_request"),
        ({"id_token_hint": "garbage"}, "invalid_request"),
        ({"code_challenge": "x" * 43, "code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge": "x" * 43}, "invalid_request"),
        ({"response_mode": "fragment"}, "invalid_request"),
        ({"nonce": "n" * 513}, "invalid_request"),
    ],
)
def test_errors_go_back_to_the_client_with_state_and_iss(client, rp, params, error) -> None:
    response = authorize(client, rp, **params)
    assert response.status_code == 302
    assert response.headers["Location"].startswith(rp.redirect_uri + "?")
    query = query_of(response.headers["Location"])
    assert query["error"] == error
    assert query["state"] == "st-123"
    assert query["iss"] == ISSUER


def test_overlong_parameters_are_invalid_requests(client, rp) -> None:
    for params in ({"state": "s" * 4001}, {"login_hint": "1" * 4001}, {"claims": "{" * 4001}):
        response = authorize(client, rp, **params)
        assert query_of(response.headers["Location"])["error"] == "invalid_request"


def test_success_response_carries_code_state_and_iss(app, client, rp, user) -> None:
    sign_in(app, client, user)
    response = authorize(client, rp)
    query = query_of(response.headers["Location"])
    assert query["state"] == "st-123"
    assert query["iss"] == ISSUER
    assert len(query["code"]) >= 40


def test_unknown_parameters_are_ignored(app, client, rp, user) -> None:
    sign_in(app, client, user)
    response = authorize(client, rp, foo="bar", display="page", acr_values="1", claims_locales="es")
    assert "code" in query_of(response.headers["Location"])


def test_post_to_authorization_endpoint_works_like_get(app, client, rp, user) -> None:
    sign_in(app, client, user)
    response = client.post(
        "/authorize",
        data={
            "response_type": "code",
            "client_id": rp.client_id,
            "redirect_uri": rp.redirect_uri,
            "scope": "openid",
            "state": "s",
        },
    )
    assert response.status_code == 302
    assert "code" in query_of(response.headers["Location"])


def test_not_signed_in_goes_to_login_with_a_resumable_request(app, client, rp, user) -> None:
    response = authorize(client, rp, login_hint="12345678", ui_locales="en-US es")
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("/ingresar?authz=")
    authz_id = query_of(location)["authz"]
    pending = app.extensions["passport.pending_authorization"](authz_id)
    assert pending.client_name == "AYNI_SERVIDOR"
    assert pending.login_hint == "12345678"
    assert pending.ui_locales == ["en", "es"]
    sign_in(app, client, user)
    resumed = client.get(pending.resume_url)
    assert resumed.status_code == 302
    assert "code" in query_of(resumed.headers["Location"])


def test_unknown_pending_id_is_none(app) -> None:
    assert app.extensions["passport.pending_authorization"]("nope") is None


def test_prompt_none_without_session_is_login_required(client, rp) -> None:
    query = query_of(authorize(client, rp, prompt="none").headers["Location"])
    assert query["error"] == "login_required"
    assert query["iss"] == ISSUER


def test_prompt_login_forces_a_new_authentication_without_looping(app, client, rp, user) -> None:
    sign_in(app, client, user)
    response = authorize(client, rp, prompt="login")
    assert response.headers["Location"].startswith("/ingresar?authz=")
    pending = app.extensions["passport.pending_authorization"](
        query_of(response.headers["Location"])["authz"]
    )
    # Coming back without signing in again is not enough.
    stale = client.get(pending.resume_url)
    assert query_of(stale.headers["Location"])["error"] == "login_required"


def test_prompt_login_is_satisfied_by_a_fresh_sign_in(app, client, rp, user) -> None:
    sign_in(app, client, user)
    with time_machine.travel(utcnow() + timedelta(seconds=5)):
        response = authorize(client, rp, prompt="login")
        pending = app.extensions["passport.pending_authorization"](
            query_of(response.headers["Location"])["authz"]
        )
    with time_machine.travel(utcnow() + timedelta(seconds=10)):
        sign_in(app, client, user)
        resumed = client.get(pending.resume_url)
        assert "code" in query_of(resumed.headers["Location"])


def test_max_age_exceeded_requires_login_and_is_honoured(app, client, rp, user) -> None:
    sign_in(app, client, user)
    assert "code" in query_of(authorize(client, rp, max_age="600").headers["Location"])
    with time_machine.travel(utcnow() + timedelta(seconds=120)):
        response = authorize(client, rp, max_age="60")
        assert response.headers["Location"].startswith("/ingresar?authz=")
        none = authorize(client, rp, max_age="60", prompt="none")
        assert query_of(none.headers["Location"])["error"] == "login_required"


def test_id_token_carries_auth_time_and_a_new_one_after_reauthentication(
    app, client, rp, user
) -> None:
    from tests.integration.oidc.conftest import verify_jwt

    first = verify_jwt(client, full_flow(app, client, rp, user)["id_token"]).claims
    with time_machine.travel(utcnow() + timedelta(seconds=30)):
        second = verify_jwt(client, full_flow(app, client, rp, user)["id_token"]).claims
    assert second["auth_time"] > first["auth_time"]


def test_id_token_hint_for_another_user_with_prompt_none_is_login_required(
    app, client, rp, user
) -> None:
    from tests.factories import make_user

    hint = full_flow(app, client, rp, user)["id_token"]
    sign_in(app, client, make_user())
    query = query_of(authorize(client, rp, prompt="none", id_token_hint=hint).headers["Location"])
    assert query["error"] == "login_required"
    sign_in(app, client, user)
    query = query_of(authorize(client, rp, prompt="none", id_token_hint=hint).headers["Location"])
    assert "code" in query


def test_form_post_response_mode_renders_an_auto_submitted_form(app, client, rp, user) -> None:
    sign_in(app, client, user)
    response = authorize(client, rp, response_mode="form_post")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert f'action="{rp.redirect_uri}"' in body
    assert 'name="code"' in body
    assert 'name="iss"' in body
    assert "<script>" not in body
    assert "form_post.js" in body


def test_public_client_must_use_pkce(app, client, user) -> None:
    public = register_client(token_endpoint_auth_method="none", skip_consent=True)
    sign_in(app, client, user)
    query = query_of(authorize(client, public).headers["Location"])
    assert query["error"] == "invalid_request"
    _, challenge = pkce_pair()
    response = authorize(client, public, code_challenge=challenge, code_challenge_method="S256")
    assert "code" in query_of(response.headers["Location"])


def test_scopes_the_client_may_not_use_are_dropped(app, client, user) -> None:
    limited = register_client(scopes=["openid", "email"], skip_consent=True)
    tokens = full_flow(app, client, limited, user, scope="openid email dni")
    assert tokens["scope"] == "openid email"
