"""Consent: plain-words page, remembered per client and scopes, asked again when needed."""

from __future__ import annotations

import re

from tests.helpers import csrf_in
from tests.integration.oidc.conftest import ISSUER
from tests.integration.oidc.conftest import authorize
from tests.integration.oidc.conftest import query_of
from tests.integration.oidc.conftest import register_client
from tests.integration.oidc.conftest import sign_in


def consent_form(response) -> dict[str, str]:
    body = response.get_data(as_text=True)
    assert response.status_code == 200, body[:300]
    assert '<form method="post"' in body
    assert 'name="decision" value="allow"' in body
    assert 'name="decision" value="deny"' in body
    return {
        "csrf_token": csrf_in(body),
        "authz": re.search(r'name="authz" value="([^"]+)"', body).group(1),
    }


def answer(client, form: dict[str, str], decision: str):
    return client.post("/authorize/consent", data={**form, "decision": decision})


def test_consent_page_lists_the_requested_data_in_plain_words(app, client, user) -> None:
    rp = register_client(name="Mi boleta")
    sign_in(app, client, user)
    response = authorize(client, rp, scope="openid email dni")
    body = response.get_data(as_text=True)
    consent_form(response)
    assert "Mi boleta" in body
    assert "Su correo electrónico" in body
    assert "Su número de DNI" in body


def test_allow_issues_a_code_and_is_remembered(app, client, user) -> None:
    rp = register_client()
    sign_in(app, client, user)
    response = answer(client, consent_form(authorize(client, rp, scope="openid email")), "allow")
    query = query_of(response.headers["Location"])
    assert "code" in query
    assert query["state"] == "st-123"
    assert query["iss"] == ISSUER
    again = authorize(client, rp, scope="openid email")
    assert "code" in query_of(again.headers["Location"])
    # A smaller request is covered too.
    assert "code" in query_of(authorize(client, rp, scope="openid").headers["Location"])


def test_deny_returns_access_denied(app, client, user) -> None:
    rp = register_client()
    sign_in(app, client, user)
    response = answer(client, consent_form(authorize(client, rp)), "deny")
    query = query_of(response.headers["Location"])
    assert query["error"] == "access_denied"
    assert query["iss"] == ISSUER


def test_consent_is_asked_again_when_the_scope_grows_or_prompt_is_consent(
    app, client, user
) -> None:
    rp = register_client()
    sign_in(app, client, user)
    answer(client, consent_form(authorize(client, rp, scope="openid")), "allow")
    consent_form(authorize(client, rp, scope="openid email"))
    consent_form(authorize(client, rp, scope="openid", prompt="consent"))


def test_prompt_none_without_consent_is_consent_required(app, client, user) -> None:
    rp = register_client()
    sign_in(app, client, user)
    query = query_of(authorize(client, rp, prompt="none").headers["Location"])
    assert query["error"] == "consent_required"


def test_skip_consent_clients_never_show_the_page(app, client, user) -> None:
    rp = register_client(skip_consent=True)
    sign_in(app, client, user)
    assert "code" in query_of(authorize(client, rp, scope="openid email").headers["Location"])


def test_consent_post_without_csrf_token_is_refused(app, client, user) -> None:
    rp = register_client()
    sign_in(app, client, user)
    form = consent_form(authorize(client, rp))
    response = client.post("/authorize/consent", data={"authz": form["authz"], "decision": "allow"})
    assert response.status_code == 400
    assert "Location" not in response.headers


def test_consent_answer_is_single_use(app, client, user) -> None:
    rp = register_client()
    sign_in(app, client, user)
    form = consent_form(authorize(client, rp))
    assert answer(client, form, "allow").status_code == 302
    assert answer(client, form, "allow").status_code == 400


def test_ui_locales_en_renders_the_consent_page_in_english(app, client, user) -> None:
    rp = register_client(name="Mi boleta")
    sign_in(app, client, user)
    body = authorize(client, rp, scope="openid email", ui_locales="en-US").get_data(as_text=True)
    assert "Mi boleta wants to access your data" in body
    assert "Your e-mail address" in body
    assert 'value="allow"' in body
