"""AYNI as a FAPI 2.0 client against the stand-in issuer: the pushed authorization request
and its client assertion (private_key_jwt), the callback's checks, DPoP proofs at the token
and userinfo endpoints with the nonce retry, refresh, logout. The stand-in records what it
receives; these tests verify every signature and claim with AYNI's public key."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs
from urllib.parse import urlsplit

from flask import Flask
from flask.testing import FlaskClient
from joserfc import jws
from joserfc import jwt
from joserfc.jwk import ECKey
from sqlalchemy import select

from tests.helpers import csrf_in
from tests.relying_party_demo.conftest import BASE_URL
from tests.relying_party_demo.conftest import CLIENT_ID
from tests.relying_party_demo.conftest import StandInIssuer

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def b64_sha256(value: str) -> str:
    digest = hashlib.sha256(value.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def public(key: ECKey) -> ECKey:
    return ECKey.import_key(key.as_dict(private=False))


def check_assertion(assertion: str, key: ECKey, issuer: StandInIssuer) -> dict[str, Any]:
    """Verify a client assertion with AYNI's public key; return its claims."""
    decoded = jwt.decode(assertion, public(key), algorithms=["ES256"])
    assert decoded.header["alg"] == "ES256"
    assert decoded.header["kid"] == key.kid
    claims = dict(decoded.claims)
    assert claims["iss"] == CLIENT_ID
    assert claims["sub"] == CLIENT_ID
    assert claims["aud"] == issuer.url  # FAPI 2.0: the issuer, whatever the endpoint
    assert len(claims["jti"]) >= 20
    now = time.time()
    assert claims["iat"] <= now + 5
    assert now < claims["exp"] <= claims["iat"] + 60
    return claims


def check_proof(
    proof: str, key: ECKey, method: str, url: str, *, access_token: str | None = None
) -> dict[str, Any]:
    """Verify a DPoP proof (RFC 9449 §4.2-4.3) made with AYNI's key; return its claims."""
    header = jws.extract_compact(proof.encode()).protected
    assert header["typ"] == "dpop+jwt"
    assert header["alg"] == "ES256"
    assert set(header["jwk"]) == {"kty", "crv", "x", "y"}  # the public key only, no "d"
    carried = ECKey.import_key(header["jwk"])
    assert carried.thumbprint() == key.thumbprint()
    claims = dict(jwt.decode(proof, carried, algorithms=["ES256"]).claims)
    assert claims["htm"] == method
    assert claims["htu"] == url
    assert abs(claims["iat"] - time.time()) < 5
    assert len(claims["jti"]) >= 20
    if access_token is None:
        assert "ath" not in claims
    else:
        assert claims["ath"] == b64_sha256(access_token)
    return claims


def start_login(client: FlaskClient, issuer: StandInIssuer) -> tuple[dict[str, str], str]:
    """GET /auth/login: return the pushed request's body and the request_uri sent along."""
    response = client.get("/auth/login")
    assert response.status_code == 302, response.get_data(as_text=True)
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == f"{issuer.url}/authorize"
    query = {key: values[0] for key, values in parse_qs(location.query).items()}
    assert set(query) == {"client_id", "request_uri"}  # nothing else crosses the browser
    assert query["client_id"] == CLIENT_ID
    return issuer.par_requests[-1], query["request_uri"]


def id_token(issuer: StandInIssuer, nonce: str, **overrides: Any) -> str:
    now = int(time.time())
    claims = {
        "iss": issuer.url,
        "aud": CLIENT_ID,
        "sub": "sub-rosa",
        "iat": now,
        "exp": now + 600,
        "nonce": nonce,
        "sid": "sid-rosa-1",
        "dni": "40000001",
    }
    claims.update(overrides)
    return issuer.sign(claims)


def queue_tokens(issuer: StandInIssuer, nonce: str, *, bound: bool = True) -> str:
    access_token = secrets.token_urlsafe(16)
    issuer.token_responses.append(
        (
            200,
            {
                "access_token": access_token,
                "token_type": "DPoP" if bound else "Bearer",
                "expires_in": 600,
                "refresh_token": secrets.token_urlsafe(16),
                "id_token": id_token(issuer, nonce),
            },
        )
    )
    issuer.userinfo = {"sub": "sub-rosa", "dni": "40000001", "email": "rosa@example.edu.pe"}
    return access_token


def callback(client: FlaskClient, issuer: StandInIssuer, **params: str) -> Any:
    return client.get("/auth/callback", query_string={"iss": issuer.url, **params})


def test_login_pushes_the_request_with_a_client_assertion_and_pkce(
    fapi_app: Flask, stand_in_issuer: StandInIssuer, ayni_key: ECKey
) -> None:
    client = fapi_app.test_client()
    pushed, request_uri = start_login(client, stand_in_issuer)
    assert request_uri.startswith("urn:ietf:params:oauth:request_uri:")
    assert pushed["response_type"] == "code"
    assert pushed["client_id"] == CLIENT_ID
    assert pushed["redirect_uri"] == f"{BASE_URL}/auth/callback"
    assert pushed["scope"] == "openid profile email dni"
    assert pushed["code_challenge_method"] == "S256"
    assert len(pushed["code_challenge"]) == 43
    assert len(pushed["state"]) >= 20
    assert len(pushed["nonce"]) >= 20
    assert pushed["dpop_jkt"] == ayni_key.thumbprint()  # RFC 9449 §10: the code is bound
    assert pushed["client_assertion_type"] == ASSERTION_TYPE
    assert "client_secret" not in pushed
    check_assertion(pushed["client_assertion"], ayni_key, stand_in_issuer)
    # A second login signs a new assertion (Passport refuses a replayed jti).
    again, _ = start_login(client, stand_in_issuer)
    first_jti = jwt.decode(pushed["client_assertion"], public(ayni_key)).claims["jti"]
    second_jti = jwt.decode(again["client_assertion"], public(ayni_key)).claims["jti"]
    assert first_jti != second_jti
    assert again["state"] != pushed["state"]


def test_a_full_sign_in_uses_private_key_jwt_and_dpop_at_token_and_userinfo(
    fapi_app: Flask, stand_in_issuer: StandInIssuer, ayni_key: ECKey, seeded: dict[str, int]
) -> None:
    from relying_party_demo.auth.services import find_session

    client = fapi_app.test_client()
    pushed, _ = start_login(client, stand_in_issuer)
    access_token = queue_tokens(stand_in_issuer, pushed["nonce"])
    response = callback(client, stand_in_issuer, code="the-code", state=pushed["state"])
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"] == "/inicio"

    (form,) = stand_in_issuer.token_requests
    assert form["grant_type"] == "authorization_code"
    assert form["code"] == "the-code"
    assert form["redirect_uri"] == pushed["redirect_uri"]
    assert b64_sha256(form["code_verifier"]) == pushed["code_challenge"]
    assert form["client_assertion_type"] == ASSERTION_TYPE
    assert "client_secret" not in form
    assert "Authorization" not in stand_in_issuer.token_headers[0]
    token_claims = check_assertion(form["client_assertion"], ayni_key, stand_in_issuer)
    pushed_claims = jwt.decode(pushed["client_assertion"], public(ayni_key)).claims
    assert token_claims["jti"] != pushed_claims["jti"]
    token_proof = check_proof(
        stand_in_issuer.token_headers[0]["Dpop"], ayni_key, "POST", f"{stand_in_issuer.url}/token"
    )
    assert "nonce" not in token_proof

    (userinfo_headers,) = stand_in_issuer.userinfo_requests
    assert userinfo_headers["Authorization"] == f"DPoP {access_token}"
    userinfo_proof = check_proof(
        userinfo_headers["Dpop"],
        ayni_key,
        "GET",
        f"{stand_in_issuer.url}/userinfo",
        access_token=access_token,
    )
    assert userinfo_proof["jti"] != token_proof["jti"]

    record = find_session(client.get_cookie("ayni_session").value)
    assert record is not None
    assert (record.subject, record.dni, record.email) == (
        "sub-rosa",
        "40000001",
        "rosa@example.edu.pe",
    )
    assert "OPCIONES DE LEGAJO" in client.get("/inicio").get_data(as_text=True)


def test_a_dpop_nonce_demanded_by_passport_is_sent_on_one_retry(
    fapi_app: Flask, stand_in_issuer: StandInIssuer, ayni_key: ECKey, seeded: dict[str, int]
) -> None:
    client = fapi_app.test_client()
    pushed, _ = start_login(client, stand_in_issuer)
    queue_tokens(stand_in_issuer, pushed["nonce"])
    stand_in_issuer.dpop_nonce = "nonce-from-passport-1"
    response = callback(client, stand_in_issuer, code="the-code", state=pushed["state"])
    assert response.headers["Location"] == "/inicio"

    first, second = stand_in_issuer.token_requests
    token_url = f"{stand_in_issuer.url}/token"
    refused = check_proof(stand_in_issuer.token_headers[0]["Dpop"], ayni_key, "POST", token_url)
    retried = check_proof(stand_in_issuer.token_headers[1]["Dpop"], ayni_key, "POST", token_url)
    assert "nonce" not in refused
    assert retried["nonce"] == "nonce-from-passport-1"
    assert retried["jti"] != refused["jti"]
    # The retry is a new request: a new client assertion, the same code and verifier.
    assert first["client_assertion"] != second["client_assertion"]
    assert (first["code"], first["code_verifier"]) == (second["code"], second["code_verifier"])
    # Userinfo, on the same host, was sent the token endpoint's nonce at once.
    (userinfo_headers,) = stand_in_issuer.userinfo_requests
    userinfo_proof = check_proof(
        userinfo_headers["Dpop"],
        ayni_key,
        "GET",
        f"{stand_in_issuer.url}/userinfo",
        access_token=userinfo_headers["Authorization"].split()[1],
    )
    assert userinfo_proof["nonce"] == "nonce-from-passport-1"

    # The next sign-in sends the remembered nonce at once: no refusal.
    stand_in_issuer.token_requests.clear()
    stand_in_issuer.token_headers.clear()
    other = fapi_app.test_client()
    pushed, _ = start_login(other, stand_in_issuer)
    queue_tokens(stand_in_issuer, pushed["nonce"])
    assert callback(other, stand_in_issuer, code="c2", state=pushed["state"]).status_code == 302
    assert len(stand_in_issuer.token_requests) == 1


def test_userinfo_asking_for_its_own_nonce_gets_it_on_one_retry(
    fapi_app: Flask, stand_in_issuer: StandInIssuer, ayni_key: ECKey, seeded: dict[str, int]
) -> None:
    client = fapi_app.test_client()
    pushed, _ = start_login(client, stand_in_issuer)
    access_token = queue_tokens(stand_in_issuer, pushed["nonce"])
    stand_in_issuer.dpop_nonce = "token-nonce"
    stand_in_issuer.userinfo_nonce = "userinfo-nonce"
    response = callback(client, stand_in_issuer, code="the-code", state=pushed["state"])
    assert response.headers["Location"] == "/inicio"
    refused, accepted = stand_in_issuer.userinfo_requests  # 401 + WWW-Authenticate, then 200
    url = f"{stand_in_issuer.url}/userinfo"
    first = check_proof(refused["Dpop"], ayni_key, "GET", url, access_token=access_token)
    second = check_proof(accepted["Dpop"], ayni_key, "GET", url, access_token=access_token)
    assert first["nonce"] == "token-nonce"  # the host's latest, a guess
    assert second["nonce"] == "userinfo-nonce"
    assert second["jti"] != first["jti"]


def test_the_nonce_retry_happens_once_only(fapi_app: Flask, stand_in_issuer: StandInIssuer) -> None:
    client = fapi_app.test_client()
    pushed, _ = start_login(client, stand_in_issuer)
    queue_tokens(stand_in_issuer, pushed["nonce"])
    stand_in_issuer.dpop_nonce = "first"
    stand_in_issuer.rotate_nonce = True  # every answer demands yet another nonce
    response = callback(client, stand_in_issuer, code="the-code", state=pushed["state"])
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "No se pudo iniciar sesión" in page
    assert len(stand_in_issuer.token_requests) == 2
    assert stand_in_issuer.userinfo_requests == []


def test_a_token_that_is_not_dpop_bound_is_refused(
    fapi_app: Flask, stand_in_issuer: StandInIssuer
) -> None:
    from relying_party_demo.auth.models import LocalSession
    from relying_party_demo.extensions import db

    client = fapi_app.test_client()
    pushed, _ = start_login(client, stand_in_issuer)
    queue_tokens(stand_in_issuer, pushed["nonce"], bound=False)
    response = callback(client, stand_in_issuer, code="the-code", state=pushed["state"])
    assert response.status_code == 400
    assert "No se pudo iniciar sesión" in response.get_data(as_text=True)
    assert stand_in_issuer.userinfo_requests == []
    assert not [row for row in db.session.scalars(select(LocalSession)) if row.subject]


def test_the_issuer_of_the_response_is_required_and_must_match(
    fapi_app: Flask, stand_in_issuer: StandInIssuer
) -> None:
    client = fapi_app.test_client()
    pushed, _ = start_login(client, stand_in_issuer)
    wrong = callback(
        client, stand_in_issuer, code="c", state=pushed["state"], iss="https://evil.example"
    )
    missing = client.get("/auth/callback", query_string={"code": "c", "state": pushed["state"]})
    for response in (wrong, missing):
        page = response.get_data(as_text=True)
        assert response.status_code == 400
        assert "Respuesta de autenticación no válida" in page
        assert "La respuesta no proviene del servidor de autenticación esperado" in page
    assert stand_in_issuer.token_requests == []


def test_an_id_token_for_another_nonce_is_refused(
    fapi_app: Flask, stand_in_issuer: StandInIssuer
) -> None:
    client = fapi_app.test_client()
    pushed, _ = start_login(client, stand_in_issuer)
    queue_tokens(stand_in_issuer, "another-nonce")
    response = callback(client, stand_in_issuer, code="c", state=pushed["state"])
    assert response.status_code == 400
    assert "No se pudo verificar su identidad" in response.get_data(as_text=True)


def test_a_refused_or_failed_pushed_request_gives_a_spanish_page(
    fapi_app: Flask, stand_in_issuer: StandInIssuer
) -> None:
    client = fapi_app.test_client()
    cases = [
        ((400, {"error": "invalid_client"}), 400, "No se pudo iniciar sesión"),
        ((201, {"expires_in": 60}), 400, "No se pudo iniciar sesión"),  # no request_uri
        ((201, {"request_uri": "x" * 5000}), 400, "No se pudo iniciar sesión"),
        ((201, ["not", "an", "object"]), 503, "Servicio de autenticación no disponible"),
        ((503, "<html>down</html>"), 503, "Servicio de autenticación no disponible"),
        ((200, "not json"), 503, "Servicio de autenticación no disponible"),
    ]
    for par_response, status, title in cases:
        stand_in_issuer.par_response = par_response
        response = client.get("/auth/login")
        page = response.get_data(as_text=True)
        assert response.status_code == status, par_response
        assert title in page
        assert 'href="/auth/login"' in page
        assert "Traceback" not in page


def test_a_passport_without_par_cannot_serve_the_profile(
    fapi_app: Flask, stand_in_issuer: StandInIssuer
) -> None:
    stand_in_issuer.without_metadata = {"pushed_authorization_request_endpoint"}
    response = fapi_app.test_client().get("/auth/login")
    assert response.status_code == 400
    assert "No se pudo iniciar sesión" in response.get_data(as_text=True)
    assert stand_in_issuer.par_requests == []


def test_hostile_callbacks_get_clear_errors_never_a_500(
    fapi_app: Flask, stand_in_issuer: StandInIssuer
) -> None:
    client = fapi_app.test_client()
    pushed, _ = start_login(client, stand_in_issuer)
    cases = [
        {"code": "c", "state": "never-issued"},
        {"code": "c"},
        {"state": pushed["state"]},  # no code: the state is spent
        {"code": "c", "state": pushed["state"]},  # replayed state
        {"code": "c" * 5000, "state": "s"},
        {"code": "\x00\ufffd", "state": "\u202e"},
        {"error": "<script>", "state": "x"},
    ]
    for params in cases:
        response = callback(client, stand_in_issuer, **params)
        page = response.get_data(as_text=True)
        assert response.status_code == 400, params
        assert "Traceback" not in page
        assert "<script>" not in page
    assert stand_in_issuer.token_requests == []


def test_an_expired_access_token_is_refreshed_with_a_dpop_proof(
    fapi_app: Flask, stand_in_issuer: StandInIssuer, ayni_key: ECKey, seeded: dict[str, int]
) -> None:
    from relying_party_demo.auth.services import find_session
    from relying_party_demo.database import utcnow

    client = fapi_app.test_client()
    key = sign_in_locally(client, refresh_token="refresh-1")
    stand_in_issuer.dpop_nonce = "nonce-r"
    stand_in_issuer.token_responses.append(
        (200, {"access_token": "at-2", "token_type": "DPoP", "expires_in": 600})
    )
    assert client.get("/inicio").status_code == 200
    _refused, second = stand_in_issuer.token_requests  # the nonce retry
    assert second["grant_type"] == "refresh_token"
    assert second["refresh_token"] == "refresh-1"
    check_assertion(second["client_assertion"], ayni_key, stand_in_issuer)
    proof = check_proof(stand_in_issuer.token_headers[1]["Dpop"], ayni_key, "POST",
                        f"{stand_in_issuer.url}/token")  # fmt: skip
    assert proof["nonce"] == "nonce-r"
    record = find_session(key)
    assert record is not None
    assert record.access_token_expires_at > utcnow() + timedelta(minutes=5)


def test_a_refresh_answered_with_a_bearer_token_ends_the_session(
    fapi_app: Flask, stand_in_issuer: StandInIssuer, seeded: dict[str, int]
) -> None:
    from relying_party_demo.auth.services import find_session

    client = fapi_app.test_client()
    key = sign_in_locally(client, refresh_token="refresh-1")
    stand_in_issuer.token_responses.append(
        (200, {"access_token": "at-2", "token_type": "Bearer", "expires_in": 600})
    )
    response = client.get("/inicio")
    assert response.headers["Location"] == "/"
    assert find_session(key) is None


def test_logout_still_ends_the_session_at_passport(
    fapi_app: Flask, stand_in_issuer: StandInIssuer, seeded: dict[str, int]
) -> None:
    client = fapi_app.test_client()
    sign_in_locally(client, refresh_token=None)
    page = client.get("/inicio").get_data(as_text=True)
    response = client.post("/auth/logout", data={"csrf_token": csrf_in(page)})
    location = urlsplit(response.headers["Location"])
    assert (
        f"{location.scheme}://{location.netloc}{location.path}" == f"{stand_in_issuer.url}/logout"
    )
    query = parse_qs(location.query)
    assert query["id_token_hint"] == ["header.payload.signature"]
    assert query["client_id"] == [CLIENT_ID]


def test_back_channel_logout_still_ends_the_session(
    fapi_app: Flask, stand_in_issuer: StandInIssuer, seeded: dict[str, int]
) -> None:
    from relying_party_demo.auth.services import find_session

    client = fapi_app.test_client()
    key = sign_in_locally(client, refresh_token=None)
    response = client.post(
        "/auth/backchannel-logout", data={"logout_token": stand_in_issuer.logout_token()}
    )
    assert response.status_code == 200
    assert find_session(key) is None


def sign_in_locally(client: FlaskClient, *, refresh_token: str | None) -> str:
    """A signed-in row whose access token has expired (Rosa, sid-rosa-1)."""
    from relying_party_demo.auth.models import LocalSession
    from relying_party_demo.auth.sessions import hash_key
    from relying_party_demo.auth.sessions import new_key
    from relying_party_demo.database import utcnow
    from relying_party_demo.extensions import db

    now = utcnow()
    key = new_key()
    record = LocalSession(
        key_hash=hash_key(key),
        data={},
        subject="sub-rosa",
        dni="40000001",
        given_name="Rosa Elena",
        family_name="Quispe Huamán",
        sid="sid-rosa-1",
        access_token_expires_at=now - timedelta(minutes=1),
        authenticated_at=now,
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(minutes=30),
    )
    record.id_token = "header.payload.signature"
    record.refresh_token = refresh_token
    db.session.add(record)
    db.session.commit()
    client.set_cookie("ayni_session", key)
    return key


def test_sign_in_is_off_without_a_key(
    fapi_app: Flask, ayni_database_url: str, stand_in_issuer: StandInIssuer, tmp_path: Any
) -> None:
    from tests.relying_party_demo.conftest import make_ayni_app

    app = make_ayni_app(
        ayni_database_url,
        stand_in_issuer.url,
        CLIENT_PROFILE="fapi2",
        CLIENT_SECRET=None,
        PRIVATE_KEY_FILE=str(tmp_path / "absent.json"),
    )
    with app.app_context():
        response = app.test_client().get("/auth/login")
        from relying_party_demo.extensions import db

        db.engine.dispose()
    assert response.status_code == 503
    assert "Inicio de sesión no disponible" in response.get_data(as_text=True)
    assert stand_in_issuer.par_requests == []
