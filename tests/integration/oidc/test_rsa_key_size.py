"""RSA signing keys of clients have at least 2048 bits (RFC 7518 §3.3/§3.5, FAPI 2.0 §5.4.1).

One rule, ``client_validation.client_signing_key_allowed``: at registration (``jwks``), for the
keys that verify client assertions and request objects (``client_public_keys``, which also
covers keys fetched from a ``jwks_uri``), and for a DPoP proof's ``jwk``, for every client.
"""

from __future__ import annotations

import base64
import warnings

import pytest
from joserfc import jwk

from passport.oidc.client_validation import client_signing_key_allowed
from passport.oidc.client_validation import rsa_modulus_bits
from passport.oidc.errors import InvalidClientMetadata
from tests.dpop_proofs import DPoPKey
from tests.integration.oidc.conftest import register_client
from tests.integration.oidc.conftest import sign_in
from tests.integration.oidc.pushed import key_client
from tests.integration.oidc.pushed import without_alg
from tests.integration.oidc.test_dpop_token import new_code
from tests.integration.oidc.test_dpop_token import redeem_with


def short_rsa_key(bits: int = 1024) -> jwk.RSAKey:
    with warnings.catch_warnings():  # joserfc warns about keys under 2048 bits
        warnings.simplefilter("ignore")
        return jwk.RSAKey.generate_key(bits, parameters={"kid": f"rsa-{bits}"}, private=True)


def test_the_rule_measures_the_modulus() -> None:
    for bits, allowed in ((1024, False), (2040, False), (2048, True), (3072, True)):
        key = short_rsa_key(bits) if bits < 2048 else jwk.RSAKey.generate_key(bits, private=True)
        public = key.as_dict(private=False)
        assert rsa_modulus_bits(public["n"]) == bits
        assert client_signing_key_allowed(None, public) is allowed
    for hostile in (None, "", 12, "***", "A" * 10_000):
        assert client_signing_key_allowed(None, {"kty": "RSA", "n": hostile, "e": "AQAB"}) is False
    exact = base64.urlsafe_b64encode((1 << 2047).to_bytes(256, "big")).rstrip(b"=").decode()
    assert rsa_modulus_bits(exact) == 2048
    ec = jwk.ECKey.generate_key("P-256", private=True).as_dict(private=False)
    assert client_signing_key_allowed(None, ec) is True


def test_registration_refuses_a_short_rsa_key(app) -> None:
    public = without_alg(short_rsa_key().as_dict(private=False))
    with pytest.raises(InvalidClientMetadata) as refused:
        register_client(token_endpoint_auth_method="private_key_jwt", jwks={"keys": [public]})
    assert "2048" in str(refused.value)


def test_registration_through_the_endpoint_answers_invalid_client_metadata(app, client) -> None:
    from passport.oidc.registration import create_initial_access_token

    token = create_initial_access_token(3600, 1)[0]
    public = without_alg(short_rsa_key().as_dict(private=False))
    response = client.post(
        "/register",
        json={
            "redirect_uris": ["https://ayni.example.gob.pe/auth/callback"],
            "token_endpoint_auth_method": "private_key_jwt",
            "jwks": {"keys": [public]},
        },
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["error"] == "invalid_client_metadata"
    assert "2048" in response.get_json()["error_description"]


def test_a_short_key_that_reached_the_key_set_does_not_verify(app) -> None:
    """A key set fetched from a jwks_uri is not checked at registration: the keys that verify
    leave a short RSA key out."""
    from passport.oidc.client_keys import client_public_keys
    from passport.oidc.clients import find_client

    strong = jwk.RSAKey.generate_key(2048, parameters={"kid": "strong"}, private=True)
    rp = key_client(strong)
    registered = find_client(rp.client_id)
    assert registered is not None
    weak = without_alg(short_rsa_key().as_dict(private=False))
    registered.jwks["keys"].append(weak)  # as if served by its jwks_uri
    assert {key.kid for key in client_public_keys(registered)} == {"strong"}


def test_a_dpop_proof_with_a_short_rsa_key_is_refused(app, client, rp, user) -> None:
    sign_in(app, client, user)
    weak = DPoPKey("RS256")
    weak.key = short_rsa_key()
    code, verifier = new_code(client, rp)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        proof = weak.proof("POST", "/token")
    refused = redeem_with(client, rp, code, verifier, proof)
    assert refused.status_code == 400, refused.get_json()
    assert refused.get_json()["error"] == "invalid_dpop_proof"
    strong = DPoPKey("RS256")
    accepted = redeem_with(client, rp, code, verifier, strong.proof("POST", "/token"))
    assert accepted.status_code == 200, accepted.get_json()
