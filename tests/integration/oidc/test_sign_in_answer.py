"""What the password POST answers when it resumes an authorization request.

When nothing else is needed, the client's own answer comes at once (a code, or an error the
client must see); when a page is needed (consent), the browser goes through
``/authorize/resume`` as before and nothing is written ahead of that page.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlalchemy import select

from passport.extensions import db
from passport.oidc.models import AuthorizationCode
from passport.oidc.models import PendingAuthorization
from tests.factories import make_user
from tests.integration.oidc.conftest import authorize
from tests.integration.oidc.conftest import query_of
from tests.integration.oidc.conftest import redeem
from tests.integration.oidc.conftest import register_client
from tests.integration.oidc.test_login_resume import post_login

pytestmark = pytest.mark.usefixtures("known_captcha")


def count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_the_direct_answer_carries_the_sso_cookie(app, client, rp, user) -> None:
    start = authorize(client, rp)
    _, response = post_login(client, start.headers["Location"], user.dni)
    assert "code" in query_of(response.headers["Location"])
    assert "Set-Cookie" in response.headers
    again = authorize(client, rp)  # signed in: straight to the client, no sign-in page
    assert again.headers["Location"].startswith(rp.redirect_uri + "?")
    assert "code" in query_of(again.headers["Location"])


def test_a_client_that_asks_for_consent_gets_the_page_through_the_resume_url(
    app, client, user
) -> None:
    rp = register_client()  # consent is asked
    start = authorize(client, rp, scope="openid profile")
    _, response = post_login(client, start.headers["Location"], user.dni)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/authorize/resume?authz=")
    assert count(AuthorizationCode) == 0
    assert count(PendingAuthorization) == 1
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    assert 'name="authz"' in page.get_data(as_text=True)


def test_form_post_answers_the_sign_in_with_the_auto_submitted_form(app, client, rp, user) -> None:
    start = authorize(client, rp, response_mode="form_post")
    _, response = post_login(client, start.headers["Location"], user.dni)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert f'action="{rp.redirect_uri}"' in body
    assert 'name="code"' in body
    assert response.headers["Cache-Control"] == "no-store"
    assert "https://ayni.example.gob.pe" in response.headers["Content-Security-Policy"]
    assert count(PendingAuthorization) == 0


def test_an_id_token_hint_for_someone_else_answers_login_required_to_the_client(
    app, client, rp, user
) -> None:
    other = make_user()
    hint = redeem(client, rp, _code_for(client, rp, other)).get_json()["id_token"]
    fresh = app.test_client()
    start = authorize(fresh, rp, id_token_hint=hint, prompt="login")
    _, response = post_login(fresh, start.headers["Location"], user.dni)
    assert response.status_code == 302
    query = query_of(response.headers["Location"])
    assert response.headers["Location"].startswith(rp.redirect_uri + "?")
    assert query["error"] == "login_required"
    assert "code" not in query


def test_a_pending_request_gone_before_the_password_lands_on_the_expired_page(
    app, client, rp, user
) -> None:
    start = authorize(client, rp)
    login_path = start.headers["Location"]
    page = client.get(login_path)
    assert page.status_code == 200
    db.session.execute(PendingAuthorization.__table__.delete())
    db.session.commit()
    from tests.helpers import sign_in

    response = sign_in(client, user.dni, path=login_path)
    assert response.status_code == 302
    assert not response.headers["Location"].startswith(rp.redirect_uri)
    assert count(AuthorizationCode) == 0


def _code_for(client, rp, person) -> str:
    start = authorize(client, rp)
    _, response = post_login(client, start.headers["Location"], person.dni)
    return query_of(response.headers["Location"])["code"]
