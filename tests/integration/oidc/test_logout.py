"""RP-Initiated Logout 1.0."""

from __future__ import annotations

from passport.extensions import db
from passport.login.models import SSOSession
from tests.helpers import csrf_in
from tests.integration.oidc.conftest import authorize
from tests.integration.oidc.conftest import full_flow
from tests.integration.oidc.conftest import query_of
from tests.integration.oidc.conftest import register_client

LANDING = "https://ayni.example.gob.pe/"


def live_sessions() -> int:
    return len(db.session.scalars(db.select(SSOSession).where(SSOSession.ended_at.is_(None))).all())


def test_valid_hint_and_registered_uri_log_out_and_redirect_at_once(app, client, rp, user) -> None:
    hint = full_flow(app, client, rp, user)["id_token"]
    response = client.get(
        "/end-session",
        query_string={"id_token_hint": hint, "post_logout_redirect_uri": LANDING, "state": "bye"},
    )
    assert response.status_code == 302
    assert response.headers["Location"].startswith(LANDING)
    assert query_of(response.headers["Location"])["state"] == "bye"
    assert live_sessions() == 0
    assert query_of(authorize(client, rp, prompt="none").headers["Location"])["error"] == (
        "login_required"
    )


def test_without_hint_the_person_confirms(app, client, rp, user) -> None:
    full_flow(app, client, rp, user)
    page = client.get(
        "/end-session",
        query_string={"client_id": rp.client_id, "post_logout_redirect_uri": LANDING, "state": "s"},
    )
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert '<form method="post"' in body
    assert 'name="logout" value="yes"' in body
    assert live_sessions() == 1
    response = client.post(
        "/end-session",
        data={
            "csrf_token": csrf_in(body),
            "logout": "yes",
            "client_id": rp.client_id,
            "post_logout_redirect_uri": LANDING,
            "state": "s",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == LANDING + "?state=s"
    assert live_sessions() == 0


def test_confirmation_without_csrf_token_is_refused(app, client, rp, user) -> None:
    full_flow(app, client, rp, user)
    response = client.post("/end-session", data={"logout": "yes"})
    assert response.status_code == 400
    assert live_sessions() == 1


def test_invalid_hint_asks_for_confirmation(app, client, rp, user) -> None:
    full_flow(app, client, rp, user)
    page = client.get("/end-session", query_string={"id_token_hint": "garbage"})
    assert page.status_code == 200
    assert 'name="logout" value="yes"' in page.get_data(as_text=True)
    assert live_sessions() == 1


def test_expired_hint_signed_by_us_is_accepted(app, client, rp, user) -> None:
    from datetime import timedelta

    import time_machine

    from passport.database import utcnow

    hint = full_flow(app, client, rp, user)["id_token"]
    with time_machine.travel(utcnow() + timedelta(minutes=20)):
        from tests.integration.oidc.conftest import sign_in

        sign_in(app, client, user)
        response = client.get(
            "/end-session",
            query_string={"id_token_hint": hint, "post_logout_redirect_uri": LANDING},
        )
    assert response.status_code == 302


def test_unregistered_post_logout_uri_is_never_followed(app, client, rp, user) -> None:
    hint = full_flow(app, client, rp, user)["id_token"]
    response = client.get(
        "/end-session",
        query_string={"id_token_hint": hint, "post_logout_redirect_uri": "https://evil.example/"},
    )
    assert response.status_code == 400
    assert "Location" not in response.headers


def test_client_id_contradicting_the_hint_is_not_trusted(app, client, rp, user) -> None:
    hint = full_flow(app, client, rp, user)["id_token"]
    other = register_client(skip_consent=True, post_logout_redirect_uris=["https://other.gob.pe/"])
    response = client.get(
        "/end-session",
        query_string={
            "id_token_hint": hint,
            "client_id": other.client_id,
            "post_logout_redirect_uri": "https://other.gob.pe/",
        },
    )
    # The hint is ignored: the person is asked.
    assert response.status_code == 200
    assert live_sessions() == 1


def test_logout_without_session_and_without_uri_shows_the_logged_out_page(client) -> None:
    response = client.get("/end-session")
    assert response.status_code == 200
    assert "Cerró su sesión" in response.get_data(as_text=True)


def test_ui_locales_en_renders_in_english_when_available(app, client, rp, user) -> None:
    full_flow(app, client, rp, user)
    page = client.get("/end-session", query_string={"ui_locales": "en"})
    assert page.status_code == 200
