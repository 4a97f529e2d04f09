"""PKCE (RFC 7636) at the token endpoint: S256 only, required for public clients."""

from __future__ import annotations

from tests.integration.oidc.conftest import get_code
from tests.integration.oidc.conftest import pkce_pair
from tests.integration.oidc.conftest import register_client
from tests.integration.oidc.conftest import sign_in


def public_redeem(client, rp, code, verifier=None):
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": rp.redirect_uri,
        "client_id": rp.client_id,
    }
    if verifier is not None:
        form["code_verifier"] = verifier
    return client.post("/token", data=form)


def test_public_client_redeems_with_the_right_verifier(app, client, user) -> None:
    public = register_client(token_endpoint_auth_method="none", skip_consent=True)
    sign_in(app, client, user)
    verifier, challenge = pkce_pair()
    code = get_code(client, public, code_challenge=challenge, code_challenge_method="S256")
    response = public_redeem(client, public, code, verifier)
    assert response.status_code == 200, response.get_json()
    assert "id_token" in response.get_json()


def test_wrong_verifier_is_invalid_grant(app, client, rp, user) -> None:
    sign_in(app, client, user)
    _, challenge = pkce_pair()
    code = get_code(client, rp, code_challenge=challenge, code_challenge_method="S256")
    other, _ = pkce_pair()
    from tests.integration.oidc.conftest import redeem

    response = redeem(client, rp, code, code_verifier=other)
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_grant"


def test_missing_verifier_when_a_challenge_was_sent_is_refused(app, client, rp, user) -> None:
    from tests.integration.oidc.conftest import redeem

    sign_in(app, client, user)
    _, challenge = pkce_pair()
    code = get_code(client, rp, code_challenge=challenge, code_challenge_method="S256")
    response = redeem(client, rp, code)
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_request"


def test_verifier_without_a_challenge_is_refused(app, client, rp, user) -> None:
    from tests.integration.oidc.conftest import redeem

    sign_in(app, client, user)
    code = get_code(client, rp)
    verifier, _ = pkce_pair()
    response = redeem(client, rp, code, code_verifier=verifier)
    assert response.status_code == 400


def test_public_client_without_verifier_is_refused(app, client, user) -> None:
    public = register_client(token_endpoint_auth_method="none", skip_consent=True)
    sign_in(app, client, user)
    _, challenge = pkce_pair()
    code = get_code(client, public, code_challenge=challenge, code_challenge_method="S256")
    assert public_redeem(client, public, code).status_code == 400
