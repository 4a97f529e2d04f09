"""Resource indicators (RFC 8707): `resource` at /authorize and /token narrows the access token."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from passport.cli import cli
from passport.cli import register_groups
from passport.extensions import db
from passport.oidc.errors import InvalidResource
from passport.oidc.models import AuthorizationCode
from passport.oidc.models import OAuthToken
from passport.oidc.models import Resource
from passport.oidc.resources import ResourceInput
from passport.oidc.resources import create_resource
from passport.oidc.resources import get_resource
from passport.oidc.resources import set_resource_disabled
from tests.integration.oidc.conftest import ISSUER
from tests.integration.oidc.conftest import RP
from tests.integration.oidc.conftest import authorize
from tests.integration.oidc.conftest import code_flow
from tests.integration.oidc.conftest import get_code
from tests.integration.oidc.conftest import pkce_pair
from tests.integration.oidc.conftest import query_of
from tests.integration.oidc.conftest import redeem
from tests.integration.oidc.conftest import register_client
from tests.integration.oidc.conftest import sign_in
from tests.integration.oidc.conftest import verify_jwt

BOLETAS = "https://api.example.test/boletas/"
LEGAJOS = "https://api.example.test/legajos/"
SCOPE = "openid profile boletas:read legajos:read offline_access"


def introspect(client: FlaskClient, caller: RP, token: str) -> dict[str, Any]:
    response = client.post("/introspect", data={"token": token}, headers=caller.basic_auth())
    assert response.status_code == 200
    return dict(response.get_json())


def resource_server() -> RP:
    return register_client(
        redirect_uris=[],
        grant_types=["client_credentials"],
        scopes=["boletas:read"],
        is_resource_server=True,
    )


@pytest.fixture
def servers(app: Flask) -> dict[str, RP]:
    """Two APIs, each with its own resource server (the client that introspects)."""
    boletas, legajos = resource_server(), resource_server()
    create_resource(
        ResourceInput(BOLETAS, ["boletas:read"], "jwt", "Boletas", client_id=boletas.client_id)
    )
    create_resource(ResourceInput(LEGAJOS, ["legajos:read"], client_id=legajos.client_id))
    return {"boletas": boletas, "legajos": legajos}


@pytest.fixture
def api_rp(app: Flask) -> RP:
    return register_client(
        skip_consent=True,
        scopes=["openid", "profile", "email", "boletas:read", "legajos:read", "offline_access"],
    )


@pytest.fixture
def signed_in(app: Flask, client: FlaskClient, user: Any) -> None:
    sign_in(app, client, user)


def authorize_error(client: FlaskClient, rp: RP, **params: Any) -> dict[str, str]:
    _, challenge = pkce_pair()
    response = authorize(
        client, rp, code_challenge=challenge, code_challenge_method="S256", **params
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return query_of(response.headers["Location"])


def code_with_resources(
    client: FlaskClient, rp: RP, resources: list[str], scope: str = SCOPE
) -> tuple[str, str]:
    verifier, challenge = pkce_pair()
    code = get_code(
        client,
        rp,
        scope=scope,
        code_challenge=challenge,
        code_challenge_method="S256",
        resource=resources,
    )
    return code, verifier


@pytest.mark.usefixtures("servers", "signed_in")
def test_one_resource_narrows_audience_scopes_and_format(
    client: FlaskClient, api_rp: RP, servers: dict[str, RP]
) -> None:
    tokens = code_flow(client, api_rp, SCOPE, resource=BOLETAS)
    assert tokens["scope"] == "boletas:read"
    claims = verify_jwt(client, tokens["access_token"]).claims  # the resource asks for JWTs
    assert claims["aud"] == BOLETAS
    assert claims["scope"] == "boletas:read"
    assert claims["client_id"] == api_rp.client_id
    assert "id_token" in tokens  # the ID token is still the client's
    body = introspect(client, servers["boletas"], tokens["access_token"])
    assert body["active"] is True
    assert body["aud"] == [BOLETAS]
    assert body["scope"] == "boletas:read"
    # The narrowed token is no key to userinfo (its audience is not Passport).
    info = client.get("/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert info.status_code == 403


@pytest.mark.usefixtures("servers", "signed_in")
def test_the_code_and_the_token_row_keep_the_resources(client: FlaskClient, api_rp: RP) -> None:
    code, verifier = code_with_resources(client, api_rp, [BOLETAS, LEGAJOS])
    stored = db.session.query(AuthorizationCode).one()
    assert stored.resources == [BOLETAS, LEGAJOS]
    body = redeem(client, api_rp, code, code_verifier=verifier).get_json()
    row = db.session.query(OAuthToken).one()
    assert row.resources == [BOLETAS, LEGAJOS]
    assert row.audience == [BOLETAS, LEGAJOS]
    assert row.scope == SCOPE  # the grant, for the refresh grant
    assert row.access_scope == body["scope"] == "boletas:read legajos:read"


@pytest.mark.usefixtures("servers", "signed_in")
def test_token_request_narrows_to_one_authorized_resource(
    client: FlaskClient, api_rp: RP, servers: dict[str, RP]
) -> None:
    code, verifier = code_with_resources(client, api_rp, [BOLETAS, LEGAJOS])
    response = redeem(client, api_rp, code, code_verifier=verifier, resource=LEGAJOS)
    assert response.status_code == 200, response.get_json()
    tokens = response.get_json()
    assert tokens["scope"] == "legajos:read"
    assert introspect(client, servers["legajos"], tokens["access_token"])["aud"] == [LEGAJOS]
    # Another resource server does not see it (RFC 8707 §2: the audience is not theirs).
    assert introspect(client, servers["boletas"], tokens["access_token"]) == {"active": False}
    # The refresh grant may name any resource of the authorization, one at a time.
    response = client.post(
        "/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "resource": BOLETAS,
        },
        headers=api_rp.basic_auth(),
    )
    assert response.status_code == 200, response.get_json()
    refreshed = response.get_json()
    assert refreshed["scope"] == "boletas:read"
    assert verify_jwt(client, refreshed["access_token"]).claims["aud"] == BOLETAS


@pytest.mark.usefixtures("servers", "signed_in")
def test_resource_at_token_outside_the_authorization_is_invalid_target(
    client: FlaskClient, api_rp: RP
) -> None:
    code, verifier = code_with_resources(client, api_rp, [BOLETAS])
    response = redeem(client, api_rp, code, code_verifier=verifier, resource=LEGAJOS)
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_target"


@pytest.mark.usefixtures("servers", "signed_in")
def test_resource_at_token_without_any_at_authorize_is_invalid_target(
    client: FlaskClient, api_rp: RP
) -> None:
    verifier, challenge = pkce_pair()
    code = get_code(
        client, api_rp, scope=SCOPE, code_challenge=challenge, code_challenge_method="S256"
    )
    response = redeem(client, api_rp, code, code_verifier=verifier, resource=BOLETAS)
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_target"


@pytest.mark.usefixtures("servers", "signed_in")
def test_refresh_with_a_resource_outside_the_grant_is_invalid_target(
    client: FlaskClient, api_rp: RP
) -> None:
    tokens = code_flow(client, api_rp, SCOPE, resource=BOLETAS)
    response = client.post(
        "/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "resource": LEGAJOS,
        },
        headers=api_rp.basic_auth(),
    )
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_target"


@pytest.mark.usefixtures("servers", "signed_in")
@pytest.mark.parametrize(
    "resource",
    [
        "https://api.example.test/desconocida/",  # not registered
        "/boletas/",  # relative
        "api.example.test/boletas/",  # no scheme: relative too
        BOLETAS + "#frag",  # fragment (RFC 8707 §2)
        "https://api.example.test/ boletas",  # whitespace
        "https://" + "a" * 600 + ".test/",  # too long
    ],
)
def test_bad_resource_at_authorize_is_invalid_target_for_the_client(
    client: FlaskClient, api_rp: RP, resource: str
) -> None:
    query = authorize_error(client, api_rp, scope=SCOPE, resource=resource)
    assert query["error"] == "invalid_target"
    assert query["state"] == "st-123"
    assert query["iss"] == ISSUER
    assert db.session.query(AuthorizationCode).count() == 0


@pytest.mark.usefixtures("servers", "signed_in")
def test_resource_whose_scopes_the_request_lacks_is_invalid_target(
    client: FlaskClient, api_rp: RP
) -> None:
    query = authorize_error(client, api_rp, scope="openid profile legajos:read", resource=BOLETAS)
    assert query["error"] == "invalid_target"


@pytest.mark.usefixtures("servers", "signed_in")
def test_scopes_the_client_is_not_registered_for_do_not_fit_a_resource(
    client: FlaskClient,
) -> None:
    rp = register_client(skip_consent=True, scopes=["openid", "profile", "legajos:read"])
    # boletas:read is asked for but is not the client's: dropped, so the resource does not fit.
    query = authorize_error(client, rp, scope="openid boletas:read", resource=BOLETAS)
    assert query["error"] == "invalid_target"


@pytest.mark.usefixtures("servers", "signed_in")
def test_a_disabled_resource_is_unknown(client: FlaskClient, api_rp: RP) -> None:
    set_resource_disabled(db.session.query(Resource).filter_by(identifier=BOLETAS).one(), True)
    query = authorize_error(client, api_rp, scope=SCOPE, resource=BOLETAS)
    assert query["error"] == "invalid_target"


@pytest.mark.usefixtures("servers", "signed_in")
def test_the_issuer_is_a_resource_for_userinfo(client: FlaskClient, api_rp: RP) -> None:
    tokens = code_flow(client, api_rp, SCOPE, resource=[BOLETAS, ISSUER])
    assert tokens["scope"] == "openid profile boletas:read"
    claims = verify_jwt(client, tokens["access_token"]).claims
    assert claims["aud"] == [BOLETAS, ISSUER]
    info = client.get("/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert info.status_code == 200
    assert info.get_json()["given_name"]


@pytest.mark.usefixtures("servers", "signed_in")
def test_resource_survives_the_login_page(
    app: Flask, client: FlaskClient, api_rp: RP, user: Any
) -> None:
    """A pending request keeps its resources across the sign-in (a list in the stored JSON)."""
    browser = app.test_client()
    _, challenge = pkce_pair()
    response = authorize(
        browser,
        api_rp,
        scope=SCOPE,
        code_challenge=challenge,
        code_challenge_method="S256",
        resource=[BOLETAS, LEGAJOS],
    )
    assert response.status_code == 302
    assert "/ingresar" in response.headers["Location"]
    authz_id = query_of(response.headers["Location"])["authz"]
    sign_in(app, browser, user)
    resumed = browser.get(f"/authorize/resume?authz={authz_id}")
    assert resumed.status_code == 302
    assert "code" in query_of(resumed.headers["Location"])
    assert db.session.query(AuthorizationCode).one().resources == [BOLETAS, LEGAJOS]


@pytest.mark.usefixtures("servers", "signed_in")
def test_a_pushed_request_may_name_several_resources(client: FlaskClient, api_rp: RP) -> None:
    """RFC 9126 §2.1 takes every authorization parameter, and RFC 8707 §2 repeats
    `resource`: a client that must push (FAPI 2.0) can still ask for two APIs."""
    from tests.integration.oidc.pushed import pushed_with_pkce

    request_uri, _verifier = pushed_with_pkce(
        client, api_rp, scope=SCOPE, resource=[BOLETAS, LEGAJOS]
    )
    response = client.get(
        "/authorize", query_string={"client_id": api_rp.client_id, "request_uri": request_uri}
    )
    assert "code" in query_of(response.headers["Location"]), response.headers["Location"]
    assert db.session.query(AuthorizationCode).one().resources == [BOLETAS, LEGAJOS]


@pytest.mark.usefixtures("servers", "signed_in")
def test_a_pushed_request_still_refuses_other_repeated_parameters(
    client: FlaskClient, api_rp: RP
) -> None:
    from tests.integration.oidc.pushed import push

    response = push(client, api_rp, scope=[SCOPE, "openid"])
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_request"


@pytest.mark.usefixtures("servers", "signed_in")
def test_without_resource_nothing_changes(
    client: FlaskClient, api_rp: RP, servers: dict[str, RP]
) -> None:
    tokens = code_flow(client, api_rp, SCOPE)
    assert tokens["scope"] == SCOPE
    row = db.session.query(OAuthToken).one()
    assert (row.resources, row.audience, row.access_scope) == (None, None, None)
    body = introspect(client, servers["boletas"], tokens["access_token"])
    assert body["active"] is True  # a resource server still sees unnarrowed tokens
    assert body["aud"] == api_rp.client_id


def test_a_disabled_resource_stops_its_tokens_at_introspection_by_its_server(
    app: Flask, client: FlaskClient, api_rp: RP, servers: dict[str, RP], user: Any
) -> None:
    sign_in(app, client, user)
    tokens = code_flow(client, api_rp, SCOPE, resource=LEGAJOS)
    assert introspect(client, servers["legajos"], tokens["access_token"])["active"] is True
    set_resource_disabled(db.session.query(Resource).filter_by(identifier=LEGAJOS).one(), True)
    assert introspect(client, servers["legajos"], tokens["access_token"]) == {"active": False}
    # Its own client still may (RFC 7662: a client introspects its own tokens).
    assert introspect(client, api_rp, tokens["access_token"])["active"] is True


# --- Registration ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("identifier", "scopes", "field"),
    [
        ("/relative/", ["boletas:read"], "identifier"),
        ("https://api.example.test/#x", ["boletas:read"], "identifier"),
        ("https://api.example.test/?a=1", ["boletas:read"], "identifier"),
        ("http://api.example.test/", ["boletas:read"], "identifier"),
        ("https://user:pw@api.example.test/", ["boletas:read"], "identifier"),
        (ISSUER, ["boletas:read"], "identifier"),
        ("https://api.example.test/", [], "scopes"),
        ("https://api.example.test/", ["openid"], "scopes"),
        ("https://api.example.test/", ["boletas read"], "scopes"),
    ],
)
def test_registration_refuses_bad_resources(
    app: Flask, identifier: str, scopes: list[str], field: str
) -> None:
    with pytest.raises(InvalidResource) as refused:
        create_resource(ResourceInput(identifier, scopes))
    assert refused.value.field == field


def test_registration_refuses_a_duplicate_and_a_client_that_is_no_resource_server(
    app: Flask, rp: RP
) -> None:
    row = create_resource(ResourceInput("https://api.example.test/", ["boletas:read"]))
    assert get_resource(row.id).identifier == "https://api.example.test/"
    with pytest.raises(InvalidResource):
        create_resource(ResourceInput("https://api.example.test/", ["legajos:read"]))
    with pytest.raises(InvalidResource) as refused:
        create_resource(
            ResourceInput("https://b.example.test/", ["boletas:read"], client_id=rp.client_id)
        )
    assert refused.value.field == "client_id"


# --- CLI ---------------------------------------------------------------------------------


@pytest.fixture
def run(app: Flask) -> Any:
    register_groups()
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(cli, list(args))


def test_cli_creates_and_lists_resources_as_json(run: Any) -> None:
    result = run(
        "resources",
        "create",
        "--identifier",
        "https://api.example.test/",
        "--scope",
        "boletas:read legajos:read",
        "--access-token-format",
        "jwt",
        "--json",
    )
    assert result.exit_code == 0, result.output
    created = json.loads(result.output)
    assert created["identifier"] == "https://api.example.test/"
    assert created["scope"] == "boletas:read legajos:read"
    assert created["access_token_format"] == "jwt"
    assert created["is_disabled"] is False
    listed = run("resources", "list", "--json")
    assert listed.exit_code == 0, listed.output
    body = json.loads(listed.output)
    assert [r["identifier"] for r in body["resources"]] == ["https://api.example.test/"]
    plain = run("resources", "list")
    assert "https://api.example.test/\tboletas:read legajos:read\tjwt\tenabled" in plain.output


@pytest.mark.parametrize(
    "args",
    [
        ("--identifier", "api.example.test", "--scope", "boletas:read"),
        ("--identifier", "https://api.example.test/#f", "--scope", "boletas:read"),
        ("--identifier", "https://api.example.test/", "--scope", "nada:read"),
        (
            "--identifier",
            "https://api.example.test/",
            "--scope",
            "boletas:read",
            "--client-id",
            "x",
        ),
    ],
)
def test_cli_refuses_in_one_line(run: Any, args: tuple[str, ...]) -> None:
    result = run("resources", "create", *args)
    assert result.exit_code == 1
    assert result.output.strip().count("\n") == 0
    assert result.output.startswith("passport: ")


def test_deleting_the_resource_server_keeps_the_resource_without_a_server(
    app: Flask, servers: dict[str, RP]
) -> None:
    from passport.audit.services import Actor
    from passport.oidc.client_admin import remove_client

    remove_client(servers["boletas"].client_id, action=Actor())
    db.session.expire_all()
    row = db.session.query(Resource).filter_by(identifier=BOLETAS).one()
    assert row.client_pk is None


def test_client_credentials_may_name_a_resource(
    client: FlaskClient, servers: dict[str, RP]
) -> None:
    service = register_client(
        redirect_uris=[],
        grant_types=["client_credentials"],
        scopes=["boletas:read", "legajos:read"],
    )
    form = {"grant_type": "client_credentials", "resource": LEGAJOS}
    response = client.post("/token", data=form, headers=service.basic_auth())
    assert response.status_code == 200, response.get_json()
    tokens = response.get_json()
    assert tokens["scope"] == "legajos:read"
    assert introspect(client, servers["legajos"], tokens["access_token"])["aud"] == [LEGAJOS]
    assert introspect(client, servers["boletas"], tokens["access_token"]) == {"active": False}
    for resource in ("https://api.example.test/otra/", ISSUER, "relativa"):
        form = {"grant_type": "client_credentials", "resource": resource}
        refused = client.post("/token", data=form, headers=service.basic_auth())
        assert refused.status_code == 400
        assert refused.get_json()["error"] == "invalid_target"
