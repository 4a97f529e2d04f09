"""The OpenID Provider metadata (OIDC Discovery 1.0 §3, RFC 8414), built once per app.

Passport states the values (they follow from its own modules); Authlib's metadata models
(OpenIDProviderMetadata with the RFC 9207 and RP-Initiated Logout extensions) validate the
document once when it is first served.
"""

from __future__ import annotations

import json
from typing import Any

from authlib.oauth2 import rfc9101
from authlib.oauth2 import rfc9207
from authlib.oidc import rpinitiated
from authlib.oidc.discovery import OpenIDProviderMetadata
from flask import Flask

from passport.mfa.assurance import ACR_VALUES
from passport.oidc.claims import ID_TOKEN_CLAIMS
from passport.oidc.claims import USER_CLAIMS
from passport.oidc.client_validation import ASSERTION_ALGS
from passport.oidc.client_validation import AUTH_METHODS
from passport.oidc.client_validation import GRANT_TYPES
from passport.oidc.client_validation import ID_TOKEN_ALGS
from passport.oidc.client_validation import OIDC_SCOPES
from passport.oidc.client_validation import REQUEST_OBJECT_ALGS
from passport.oidc.dpop import ALGORITHMS as DPOP_ALGORITHMS

# Endpoint paths, relative to the issuer (which may have a path of its own).
PATHS = {
    "authorization_endpoint": "/authorize",
    "token_endpoint": "/token",
    "userinfo_endpoint": "/userinfo",
    "jwks_uri": "/jwks.json",
    "registration_endpoint": "/register",
    "revocation_endpoint": "/revoke",
    "introspection_endpoint": "/introspect",
    "end_session_endpoint": "/end-session",
    "pushed_authorization_request_endpoint": "/par",
}
# What Authlib's private_key_jwt verification (joserfc defaults) accepts, no more.
METADATA_EXTENSIONS = [
    rfc9207.AuthorizationServerMetadata,
    rfc9101.AuthorizationServerMetadata,
    rpinitiated.OpenIDProviderMetadata,
]


def provider_metadata(app: Flask) -> dict[str, Any]:
    """Every endpoint and every supported value, truthfully."""
    issuer = app.config["ISSUER"]
    metadata: dict[str, Any] = {"issuer": issuer}
    metadata.update({name: issuer + path for name, path in PATHS.items()})
    metadata.update(
        {
            "scopes_supported": [*OIDC_SCOPES, *app.config["API_SCOPES"]],
            "response_types_supported": ["code"],
            "response_modes_supported": ["query", "form_post"],
            "grant_types_supported": list(GRANT_TYPES),
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": list(ID_TOKEN_ALGS),
            "token_endpoint_auth_methods_supported": list(AUTH_METHODS),
            "token_endpoint_auth_signing_alg_values_supported": list(ASSERTION_ALGS),
            "revocation_endpoint_auth_methods_supported": list(AUTH_METHODS),
            "introspection_endpoint_auth_methods_supported": list(AUTH_METHODS),
            "code_challenge_methods_supported": ["S256"],
            "dpop_signing_alg_values_supported": list(DPOP_ALGORITHMS),
            "claims_supported": sorted({*ID_TOKEN_CLAIMS, *USER_CLAIMS}),
            "acr_values_supported": list(ACR_VALUES),
            "claim_types_supported": ["normal"],
            "claims_parameter_supported": True,
            # RFC 9101 by value; a request_uri only as /par hands it out (RFC 9126).
            "request_parameter_supported": True,
            "request_object_signing_alg_values_supported": list(REQUEST_OBJECT_ALGS),
            "request_uri_parameter_supported": False,
            "require_request_uri_registration": False,
            "require_signed_request_object": False,
            "require_pushed_authorization_requests": bool(
                app.config["REQUIRE_PUSHED_AUTHORIZATION_REQUESTS"]
            ),
            "pushed_authorization_request_endpoint_auth_methods_supported": list(AUTH_METHODS),
            "prompt_values_supported": ["none", "login", "consent", "select_account"],
            "display_values_supported": ["page"],
            "ui_locales_supported": list(app.config["LANGUAGES"]),
            "claims_locales_supported": ["es"],
            "authorization_response_iss_parameter_supported": True,
            "backchannel_logout_supported": True,
            "backchannel_logout_session_supported": True,
            "frontchannel_logout_supported": False,
            "frontchannel_logout_session_supported": False,
        }
    )
    return metadata


def validated_metadata(app: Flask) -> OpenIDProviderMetadata:
    """The metadata, checked by Authlib's models (ValueError when a rule is broken)."""
    metadata = OpenIDProviderMetadata(provider_metadata(app))
    metadata.validate(metadata_classes=METADATA_EXTENSIONS)
    return metadata


def provider_metadata_json(app: Flask) -> bytes:
    """The metadata document, validated and serialised once and cached on the app."""
    cached = app.extensions.get("passport.oidc.discovery_json")
    if cached is None:
        cached = json.dumps(validated_metadata(app), separators=(",", ":")).encode()
        app.extensions["passport.oidc.discovery_json"] = cached
    return bytes(cached)
