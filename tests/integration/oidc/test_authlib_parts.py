"""The parts of the provider that Authlib runs besides /token, /revoke and /introspect."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest
from flask import Flask

from passport.oidc import discovery
from passport.oidc.issuance import half_hash


def test_the_discovery_document_passes_authlibs_metadata_models(app: Flask) -> None:
    metadata = discovery.validated_metadata(app)
    assert metadata["authorization_response_iss_parameter_supported"] is True


def test_a_document_breaking_a_discovery_rule_is_refused(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = discovery.provider_metadata

    def without_rs256(owner: Flask) -> dict[str, Any]:
        metadata = real(owner)
        # OIDC Discovery §3: RS256 MUST be among the ID token algorithms.
        metadata["id_token_signing_alg_values_supported"] = ["ES256"]
        return metadata

    monkeypatch.setattr(discovery, "provider_metadata", without_rs256)
    with pytest.raises(ValueError, match="RS256"):
        discovery.validated_metadata(app)


@pytest.mark.parametrize("alg", ["RS256", "ES256"])
def test_at_hash_is_the_left_half_of_the_sha256_digest(alg: str) -> None:
    token = "an-access-token-value"
    digest = hashlib.sha256(token.encode()).digest()
    expected = base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()
    assert half_hash(token, alg) == expected
