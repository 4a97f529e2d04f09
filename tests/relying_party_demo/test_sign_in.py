"""Sign-in against a stand-in issuer: the authorization request, the callback's checks,
logout and token refresh. The real Passport dance is in tests/integration."""

from __future__ import annotations

import secrets
import time
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs
from urllib.parse import urlsplit

from flask.testing import FlaskClient
from sqlalchemy import select

from tests.helpers import csrf_in
from tests.relying_party_demo.conftest import BASE_URL
from tests.relying_party_demo.conftest import CLIENT_ID
from tests.relying_party_demo.conftest import SignIn
from tests.relying_party_demo.conftest import StandInIssuer


def start_login(client: FlaskClient, issuer: StandInIssuer) -> dict[str, str]:
    """GET /auth/login and return the authorization request's parameters."""
    response = client.get("/auth/login")
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == f"{issuer.url}/authorize"
    return {key: values[0] for key, values in parse_qs(location.query).items()}


def id_token(issuer: StandInIssuer, expected_nonce: str, **overrides: Any) -> str:
    now = int(time.time())
    claims = {
        "iss": issuer.url,
        "aud": CLIENT_ID,
        "sub": "sub-rosa",
        "iat": now,
        "exp": now + 600,
        "nonce": expected_nonce,
        "sid": "sid-rosa-1",
        "dni": "40000001",
        "given_name": "Rosa Elena",
        "family_name": "Quispe Huamán",
    }
    claims.update(overrides)
    return issuer.sign({k: v for k, v in claims.items() if v is not None})


# The tokens the stand-in issuer handed out, to look for in the session table.
ISSUED: list[str] = []


def queue_tokens(issuer: StandInIssuer, expected_nonce: str, **overrides: Any) -> None:
    tokens = {
        "access_token": secrets.token_urlsafe(16),
        "token_type": "Bearer",
        "expires_in": 600,
        "refresh_token": secrets.token_urlsafe(16),
        "id_token": id_token(issuer, expected_nonce, **overrides),
    }
    ISSUED[:] = [tokens["access_token"], tokens["refresh_token"], tokens["id_token"]]
    issuer.token_responses.append((200, tokens))
    issuer.userinfo = {"sub": "sub-rosa", "dni": "40000001", "email": "rosa@example.edu.pe"}


def assert_no_token_in_clear(session_id: int) -> None:
    """The session row, read as stored, holds none of the issued tokens (nor a piece of one)."""
    from sqlalchemy import text

    from relying_party_demo.extensions import db

    row = db.session.execute(
        text("SELECT * FROM local_sessions WHERE id = :id"), {"id": session_id}
    ).one()
    stored = " ".join(str(value) for value in row)
    assert ISSUED
    for token in ISSUED:
        for piece in token.split("."):  # an ID token's parts, each base64url
            assert piece not in stored
    mapping = row._mapping
    assert mapping["sealed_id_token"]
    assert mapping["sealed_refresh_token"]
    assert "access_token" not in mapping


def callback(client: FlaskClient, issuer: StandInIssuer, **params: str):  # type: ignore[no-untyped-def]
    query = {"iss": issuer.url, **params}
    return client.get("/auth/callback", query_string=query)


def test_login_sends_an_authorization_code_request_with_pkce_s256_state_and_nonce(
    ayni_client: FlaskClient, stand_in_issuer: StandInIssuer
) -> None:
    params = start_login(ayni_client, stand_in_issuer)
    assert params["response_type"] == "code"
    assert params["client_id"] == CLIENT_ID
    assert params["redirect_uri"] == f"{BASE_URL}/auth/callback"
    assert params["scope"] == "openid profile email dni"
    assert params["code_challenge_method"] == "S256"
    assert len(params["code_challenge"]) == 43
    assert len(params["state"]) >= 20
    assert len(params["nonce"]) >= 20
    # The cookie names a server-side row; the state and verifier never reach the browser.
    cookie = ayni_client.get_cookie("ayni_session")
    assert cookie is not None
    assert params["state"] not in cookie.value
    assert len(cookie.value) == 43
    assert cookie.http_only


def test_a_full_sign_in_starts_a_server_side_session_with_a_new_cookie(
    ayni_client: FlaskClient, stand_in_issuer: StandInIssuer, seeded: dict[str, int]
) -> None:
    from relying_party_demo.auth.services import find_session

    params = start_login(ayni_client, stand_in_issuer)
    before = ayni_client.get_cookie("ayni_session").value
    queue_tokens(stand_in_issuer, params["nonce"])
    response = callback(ayni_client, stand_in_issuer, code="abc", state=params["state"])
    assert response.headers["Location"] == "/inicio"
    after = ayni_client.get_cookie("ayni_session").value
    assert after != before  # no session fixation
    assert find_session(before) is None
    record = find_session(after)
    assert record is not None
    assert (record.subject, record.dni, record.sid) == ("sub-rosa", "40000001", "sid-rosa-1")
    assert record.email == "rosa@example.edu.pe"
    assert record.refresh_token
    assert_no_token_in_clear(record.id)
    (request,) = stand_in_issuer.token_requests
    assert request["grant_type"] == "authorization_code"
    assert len(request["code_verifier"]) >= 43
    assert "OPCIONES DE LEGAJO" in ayni_client.get("/inicio").get_data(as_text=True)


def test_an_id_token_for_another_nonce_or_audience_is_refused(
    ayni_client: FlaskClient, stand_in_issuer: StandInIssuer
) -> None:
    from relying_party_demo.auth.models import LocalSession
    from relying_party_demo.extensions import db

    for overrides in ({"nonce": "other"}, {"aud": "other-client"}, {"exp": int(time.time()) - 900}):
        params = start_login(ayni_client, stand_in_issuer)
        queue_tokens(stand_in_issuer, params["nonce"], **overrides)
        response = callback(ayni_client, stand_in_issuer, code="abc", state=params["state"])
        assert response.status_code == 400, overrides
        assert "No se pudo verificar su identidad" in response.get_data(as_text=True)
    assert not [r for r in db.session.scalars(select(LocalSession)) if r.subject]


def test_an_id_token_without_dni_is_refused(
    ayni_client: FlaskClient, stand_in_issuer: StandInIssuer
) -> None:
    params = start_login(ayni_client, stand_in_issuer)
    queue_tokens(stand_in_issuer, params["nonce"], dni=None)
    stand_in_issuer.userinfo = {"sub": "sub-rosa"}
    response = callback(ayni_client, stand_in_issuer, code="abc", state=params["state"])
    assert response.status_code == 400
    assert "no entregó su número de DNI" in response.get_data(as_text=True)


def test_errors_from_passport_give_a_spanish_page_with_a_way_back(
    ayni_client: FlaskClient, stand_in_issuer: StandInIssuer
) -> None:
    cases = {
        "access_denied": "Usted no autorizó el acceso",
        "login_required": "Debe iniciar sesión",
        "server_error": "No se pudo iniciar sesión",
    }
    for error, title in cases.items():
        params = start_login(ayni_client, stand_in_issuer)
        response = callback(ayni_client, stand_in_issuer, error=error, state=params["state"])
        page = response.get_data(as_text=True)
        assert response.status_code == 400
        assert title in page
        assert 'href="/auth/login"' in page
        assert 'href="/"' in page
        assert "Traceback" not in page


def test_a_stale_or_unknown_state_is_refused(
    ayni_client: FlaskClient, stand_in_issuer: StandInIssuer
) -> None:
    response = callback(ayni_client, stand_in_issuer, code="abc", state="never-issued")
    assert response.status_code == 400
    assert "La solicitud de inicio de sesión caducó" in response.get_data(as_text=True)
    # Replaying a state that was already used is stale too.
    params = start_login(ayni_client, stand_in_issuer)
    callback(ayni_client, stand_in_issuer, error="access_denied", state=params["state"])
    replay = callback(ayni_client, stand_in_issuer, code="abc", state=params["state"])
    assert "caducó" in replay.get_data(as_text=True)
    assert stand_in_issuer.token_requests == []


def test_the_rfc_9207_issuer_of_the_response_must_match(
    ayni_client: FlaskClient, stand_in_issuer: StandInIssuer
) -> None:
    params = start_login(ayni_client, stand_in_issuer)
    wrong = callback(
        ayni_client, stand_in_issuer, code="abc", state=params["state"], iss="http://evil.test"
    )
    assert wrong.status_code == 400
    assert "Respuesta de autenticación no válida" in wrong.get_data(as_text=True)
    missing = ayni_client.get(
        "/auth/callback", query_string={"code": "abc", "state": params["state"]}
    )
    assert "Respuesta de autenticación no válida" in missing.get_data(as_text=True)
    assert stand_in_issuer.token_requests == []


def csrf_token_of(page: str) -> str:
    token = csrf_in(page)
    assert token is not None
    return token


def test_logout_ends_the_local_session_and_goes_to_passports_end_session(
    ayni_client: FlaskClient,
    stand_in_issuer: StandInIssuer,
    seeded: dict[str, int],
    sign_in: SignIn,
) -> None:
    from relying_party_demo.auth.services import find_session

    key = sign_in("40000001", id_token="the.id.token")
    token = csrf_token_of(ayni_client.get("/inicio").get_data(as_text=True))
    response = ayni_client.post("/auth/logout", data={"csrf_token": token})
    location = urlsplit(response.headers["Location"])
    assert (
        f"{location.scheme}://{location.netloc}{location.path}" == f"{stand_in_issuer.url}/logout"
    )
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert query["id_token_hint"] == "the.id.token"
    assert query["post_logout_redirect_uri"] == f"{BASE_URL}/"
    assert query["client_id"] == CLIENT_ID
    assert find_session(key) is None
    assert ayni_client.get("/inicio").headers["Location"] == "/"


def test_logout_without_the_csrf_token_is_refused(
    ayni_client: FlaskClient, seeded: dict[str, int], sign_in: SignIn
) -> None:
    from relying_party_demo.auth.services import find_session

    key = sign_in("40000001")
    response = ayni_client.post("/auth/logout")
    assert response.status_code == 400
    assert "La página ha caducado" in response.get_data(as_text=True)
    assert find_session(key) is not None


def test_an_expired_access_token_is_refreshed(
    ayni_client: FlaskClient,
    stand_in_issuer: StandInIssuer,
    seeded: dict[str, int],
    sign_in: SignIn,
) -> None:
    from relying_party_demo.auth.services import find_session
    from relying_party_demo.database import utcnow

    key = sign_in(
        "40000001",
        refresh_token="refresh-1",
        access_token_expires_at=utcnow() - timedelta(minutes=1),
    )
    stand_in_issuer.token_responses.append(
        (200, {"access_token": "access-2", "token_type": "Bearer", "expires_in": 600})
    )
    assert ayni_client.get("/inicio").status_code == 200
    (request,) = stand_in_issuer.token_requests
    assert request["grant_type"] == "refresh_token"
    assert request["refresh_token"] == "refresh-1"
    record = find_session(key)
    assert record is not None
    assert record.access_token_expires_at > utcnow()
    assert record.refresh_token == "refresh-1"  # Passport sent no new one: the old one stays


def test_a_refused_refresh_ends_the_local_session(
    ayni_client: FlaskClient,
    stand_in_issuer: StandInIssuer,
    seeded: dict[str, int],
    sign_in: SignIn,
) -> None:
    from relying_party_demo.auth.services import find_session
    from relying_party_demo.database import utcnow

    key = sign_in(
        "40000001",
        refresh_token="refresh-revoked",
        access_token_expires_at=utcnow() - timedelta(minutes=1),
    )
    stand_in_issuer.token_responses.append((400, {"error": "invalid_grant"}))
    assert ayni_client.get("/boletas").headers["Location"] == "/"
    assert find_session(key) is None


def test_sign_in_when_passport_is_unreachable_gives_a_spanish_page(
    ayni_app: Any, ayni_database_url: str
) -> None:
    from tests.relying_party_demo.conftest import make_ayni_app

    app = make_ayni_app(ayni_database_url, "http://127.0.0.1:9", HTTP_TIMEOUT_SECONDS=2)
    response = app.test_client().get("/auth/login")
    assert response.status_code == 503
    assert "Servicio de autenticación no disponible" in response.get_data(as_text=True)


def test_an_id_token_signed_with_a_newly_published_key_is_accepted_after_a_jwks_refresh(
    ayni_client: FlaskClient, stand_in_issuer: StandInIssuer, seeded: dict[str, int]
) -> None:
    from joserfc.jwk import RSAKey

    params = start_login(ayni_client, stand_in_issuer)
    queue_tokens(stand_in_issuer, params["nonce"])
    assert (
        callback(ayni_client, stand_in_issuer, code="a", state=params["state"]).status_code == 302
    )
    rotated = RSAKey.generate_key(2048, parameters={"kid": "rotated-for-id-token", "use": "sig"})
    stand_in_issuer.published = [stand_in_issuer.key, rotated]
    previous_key, stand_in_issuer.key = stand_in_issuer.key, rotated
    try:
        ayni_client.delete_cookie("ayni_session")
        before = stand_in_issuer.jwks_requests
        params = start_login(ayni_client, stand_in_issuer)
        queue_tokens(stand_in_issuer, params["nonce"])
        response = callback(ayni_client, stand_in_issuer, code="b", state=params["state"])
        assert response.headers["Location"] == "/inicio"
        assert stand_in_issuer.jwks_requests == before + 1
    finally:
        stand_in_issuer.key = previous_key
