"""SQL statements per protocol request, pinned: the hot path must not grow round trips unnoticed.

Counted with SQLAlchemy's ``before_cursor_execute`` (each is one round trip; BEGIN and COMMIT
come on top). Warm caches (key ring, client) are the steady state measured here; a request that
is the first after a cache expiry adds the reload. If a change needs one more statement, change
the number here on purpose and say why in the commit.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from passport.extensions import db
from tests.factories import DEFAULT_PASSWORD
from tests.integration.oidc.conftest import RP
from tests.integration.oidc.conftest import authorize
from tests.integration.oidc.conftest import code_flow
from tests.integration.oidc.conftest import get_code
from tests.integration.oidc.conftest import pkce_pair
from tests.integration.oidc.conftest import redeem
from tests.integration.oidc.conftest import refresh
from tests.integration.oidc.conftest import sign_in


@contextmanager
def counting(app: Flask) -> Iterator[dict[str, list[str]]]:
    """Statements run and connections checked out while the block runs."""
    seen: dict[str, list[str]] = {"statements": [], "checkouts": []}
    engine = db.engine

    def on_statement(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen["statements"].append(statement.split("\n")[0][:80])

    def on_checkout(*args: Any) -> None:
        seen["checkouts"].append("checkout")

    event.listen(engine, "before_cursor_execute", on_statement)
    event.listen(engine, "checkout", on_checkout)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", on_statement)
        event.remove(engine, "checkout", on_checkout)


@pytest.fixture
def warm(app: Flask, client: FlaskClient, rp: RP, user: Any) -> None:
    """Signed in, with one flow and one refresh done, so keys and the client are cached."""
    sign_in(app, client, user)
    tokens = code_flow(client, rp, "openid profile offline_access")
    assert refresh(client, rp, tokens["refresh_token"]).status_code == 200
    db.session.remove()


def statements_of(app: Flask, request: Any) -> tuple[Any, dict[str, list[str]]]:
    with counting(app) as seen:
        response = request()
    db.session.remove()
    return response, seen


@pytest.mark.usefixtures("warm")
def test_a_code_flow_costs_five_statements_on_three_connections(
    app: Flask, client: FlaskClient, rp: RP
) -> None:
    verifier, challenge = pkce_pair()
    params = {"scope": "openid profile", "code_challenge": challenge}
    code, authorize = statements_of(
        app, lambda: get_code(client, rp, code_challenge_method="S256", **params)
    )
    response, token = statements_of(app, lambda: redeem(client, rp, code, code_verifier=verifier))
    assert response.status_code == 200, response.get_json()
    access_token = response.get_json()["access_token"]
    response, userinfo = statements_of(
        app, lambda: client.get("/userinfo", headers={"Authorization": f"Bearer {access_token}"})
    )
    assert response.status_code == 200

    # SSO session (with its user) by cookie digest; INSERT the code.
    assert len(authorize["statements"]) == 2, authorize["statements"]
    # UPDATE ... RETURNING redeems the code and reads its user; INSERT the token row.
    assert len(token["statements"]) == 2, token["statements"]
    # The token and its user in one SELECT.
    assert len(userinfo["statements"]) == 1, userinfo["statements"]
    for seen in (authorize, token, userinfo):
        assert len(seen["checkouts"]) == 1  # one connection, one transaction per request


@pytest.mark.usefixtures("warm")
def test_a_refresh_costs_two_statements(app: Flask, client: FlaskClient, rp: RP) -> None:
    tokens = code_flow(client, rp, "openid offline_access")
    db.session.remove()
    response, seen = statements_of(app, lambda: refresh(client, rp, tokens["refresh_token"]))
    assert response.status_code == 200, response.get_json()
    # UPDATE ... RETURNING rotates the token and reads its user; INSERT the new token row.
    assert len(seen["statements"]) == 2, seen["statements"]
    assert len(seen["checkouts"]) == 1


@pytest.mark.usefixtures("warm")
def test_introspection_costs_one_statement(app: Flask, client: FlaskClient, rp: RP) -> None:
    tokens = code_flow(client, rp, "openid")
    db.session.remove()
    response, seen = statements_of(
        app,
        lambda: client.post(
            "/introspect", data={"token": tokens["access_token"]}, headers=rp.basic_auth()
        ),
    )
    assert response.get_json()["active"] is True
    assert len(seen["statements"]) == 1, seen["statements"]


@pytest.mark.usefixtures("warm")
def test_discovery_and_jwks_touch_no_database(app: Flask, client: FlaskClient) -> None:
    for path in ("/.well-known/openid-configuration", "/jwks.json"):
        response, seen = statements_of(app, lambda path=path: client.get(path))
        assert response.status_code == 200
        assert seen["statements"] == [], (path, seen["statements"])
        assert seen["checkouts"] == []


@pytest.mark.usefixtures("warm")
def test_dpop_adds_one_insert_per_proof_on_its_own_connection(
    app: Flask, client: FlaskClient, rp: RP
) -> None:
    """A DPoP proof costs the INSERT of its jti (passport/oidc/dpop.py), committed on a
    connection of its own before the grant writes; a request without a proof costs nothing
    more (the tests above)."""
    from tests.dpop_proofs import DPoPKey

    key = DPoPKey()
    verifier, challenge = pkce_pair()
    code = get_code(
        client,
        rp,
        scope="openid offline_access",
        code_challenge=challenge,
        code_challenge_method="S256",
    )
    db.session.remove()
    response, token = statements_of(
        app,
        lambda: client.post(
            "/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": rp.redirect_uri,
                "code_verifier": verifier,
            },
            headers={**rp.basic_auth(), "DPoP": key.proof("POST", "/token")},
        ),
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    response, userinfo = statements_of(
        app,
        lambda: client.get(
            "/userinfo",
            headers={
                "Authorization": f"DPoP {body['access_token']}",
                "DPoP": key.proof("GET", "/userinfo", access_token=body["access_token"]),
            },
        ),
    )
    assert response.status_code == 200, response.get_json()
    response, rotated = statements_of(
        app,
        lambda: client.post(
            "/token",
            data={"grant_type": "refresh_token", "refresh_token": body["refresh_token"]},
            headers={**rp.basic_auth(), "DPoP": key.proof("POST", "/token")},
        ),
    )
    assert response.status_code == 200, response.get_json()

    # INSERT the proof's jti; then as without DPoP: redeem (with the user), INSERT the token.
    assert len(token["statements"]) == 3, token["statements"]
    assert token["statements"][0].startswith("INSERT INTO oauth_dpop_proof_jtis")
    # The token and its user in one SELECT; INSERT the proof's jti.
    assert len(userinfo["statements"]) == 2, userinfo["statements"]
    # INSERT the jti; rotate (with the user), INSERT the new row.
    assert len(rotated["statements"]) == 3, rotated["statements"]
    for seen in (token, userinfo, rotated):
        assert len(seen["checkouts"]) == 2  # the jti's own transaction, then the request's


@pytest.mark.usefixtures("warm")
def test_a_sign_in_that_resumes_an_authorization_answers_with_the_code_in_ten_statements(
    app: Flask, rp: RP, user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The password POST of the load generator's W6 flow (a fresh browser, CAPTCHA off as
    the harness runs it): the accepted password's audit event and the SSO session are
    written in one transaction, then the resumed request's code in a second one, and the
    browser goes straight to the client."""
    from sqlalchemy import func
    from sqlalchemy import inspect
    from sqlalchemy import select

    from passport.accounts.models import User
    from passport.audit.models import AuditEvent
    from passport.captcha.providers import NullCaptchaProvider
    from passport.login.models import SSOSession
    from tests.helpers import csrf_token

    monkeypatch.setitem(app.extensions, "passport.captcha", NullCaptchaProvider())
    user_id = inspect(user).identity[0]  # detached by the warm-up: read what we need again
    dni = db.session.get(User, user_id).dni
    browser = app.test_client()
    _, challenge = pkce_pair()
    answer = authorize(browser, rp, code_challenge=challenge, code_challenge_method="S256")
    assert answer.status_code == 302
    login = answer.headers["Location"]
    assert "/ingresar?authz=" in login
    sessions_before = db.session.scalar(select(func.count()).select_from(SSOSession))
    form = {"csrf_token": csrf_token(browser, login), "username": dni, "password": DEFAULT_PASSWORD}
    db.session.remove()

    response, seen = statements_of(app, lambda: browser.post(login, data=form))

    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    assert response.headers["Location"].startswith(rp.redirect_uri + "?code=")
    # The pending authorization; the account (FOR UPDATE); TOTP on?; the audit chain's lock
    # (PostgreSQL only: pg_advisory_xact_lock) and newest hash; INSERT the audit event; INSERT
    # the SSO session. Then what /authorize/resume did in a request of its own: the pending
    # authorization, the new session by its digest, DELETE the pending row, INSERT the code.
    chain_lock = 1 if db.engine.dialect.name == "postgresql" else 0
    assert len(seen["statements"]) == 10 + chain_lock, seen["statements"]
    assert len(seen["checkouts"]) == 2  # the sign-in's transaction, then the code's
    accepted = db.session.scalars(
        select(AuditEvent).where(AuditEvent.event == "login_succeeded")
    ).all()
    assert [event.subject_user_id for event in accepted] == [user_id]
    sessions = db.session.scalar(select(func.count()).select_from(SSOSession))
    assert sessions == sessions_before + 1


def test_a_fapi_refresh_keeps_the_token_at_the_same_cost(
    app: Flask, client: FlaskClient, user: Any
) -> None:
    """A FAPI 2.0 client's refresh (no rotation, FAPI 2.0 §5.3.2.1): the same claim UPDATE,
    marking nothing, and the INSERT of the access token's row; on top, as for any such client,
    the INSERTs of the assertion's and the proof's jti, each on a connection of its own."""
    from tests.dpop_proofs import DPoPKey
    from tests.integration.oidc.pushed import key_client
    from tests.integration.oidc.pushed import rsa_key
    from tests.integration.oidc.test_fapi_profile import fapi_tokens
    from tests.integration.oidc.test_fapi_refresh import refresh as fapi_refresh

    key, dpop_key = rsa_key(alg="PS256"), DPoPKey()
    rp = key_client(key, fapi2_profile=True)
    tokens = fapi_tokens(app, client, rp, key, user, dpop_key)
    assert fapi_refresh(client, rp, key, dpop_key, tokens["refresh_token"]).status_code == 200
    db.session.remove()
    response, seen = statements_of(
        app, lambda: fapi_refresh(client, rp, key, dpop_key, tokens["refresh_token"])
    )
    assert response.status_code == 200, response.get_json()
    assert "refresh_token" not in response.get_json()
    assert len(seen["statements"]) == 4, seen["statements"]
    assert seen["statements"][0].startswith("INSERT INTO oauth_client_assertion_jtis")
    assert seen["statements"][1].startswith("INSERT INTO oauth_dpop_proof_jtis")
    assert seen["statements"][2].startswith("UPDATE oauth_tokens")
    assert seen["statements"][3].startswith("INSERT INTO oauth_tokens")
    assert len(seen["checkouts"]) == 3
