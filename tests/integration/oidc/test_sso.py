"""One sign-in serves every client."""

from __future__ import annotations

from tests.integration.oidc.conftest import authorize
from tests.integration.oidc.conftest import query_of
from tests.integration.oidc.conftest import redeem
from tests.integration.oidc.conftest import register_client
from tests.integration.oidc.conftest import sign_in
from tests.integration.oidc.conftest import verify_jwt


def test_second_client_gets_its_code_without_a_new_login(app, client, user) -> None:
    ayni = register_client(name="AYNI", skip_consent=True)
    boleta = register_client(name="Mi boleta", skip_consent=True)
    sid = sign_in(app, client, user)
    first = query_of(authorize(client, ayni, prompt="none").headers["Location"])
    second = query_of(authorize(client, boleta, prompt="none").headers["Location"])
    one = verify_jwt(client, redeem(client, ayni, first["code"]).get_json()["id_token"]).claims
    two = verify_jwt(client, redeem(client, boleta, second["code"]).get_json()["id_token"]).claims
    assert one["sub"] == two["sub"] == user.sub
    assert one["sid"] == two["sid"] == sid
    assert one["auth_time"] == two["auth_time"]


def test_ended_session_means_login_again(app, client, user) -> None:
    from passport.extensions import db
    from passport.login.models import SSOSession
    from passport.login.sessions import end_sso_session

    rp = register_client(skip_consent=True)
    sign_in(app, client, user)
    end_sso_session(db.session.scalars(db.select(SSOSession)).one(), "logout")
    query = query_of(authorize(client, rp, prompt="none").headers["Location"])
    assert query["error"] == "login_required"
