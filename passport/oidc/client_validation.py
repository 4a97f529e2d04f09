"""The one validator of client metadata: CLI, dynamic registration and admin console."""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import Protocol
from urllib.parse import urlsplit

from passport.oidc.errors import InvalidClientMetadata

AUTH_METHODS = ("client_secret_basic", "client_secret_post", "private_key_jwt", "none")
GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials")
OIDC_SCOPES = ("openid", "profile", "email", "phone", "address", "dni", "offline_access")
# Passport's own admin API (passport/api): machine clients only, given by an administrator.
ADMIN_SCOPES = ("passport.admin.users:read", "passport.admin.users:write")
ID_TOKEN_ALGS = ("RS256", "ES256")
ACCESS_TOKEN_FORMATS = ("opaque", "jwt")
# Request objects (RFC 9101): asymmetric only (an HS* key would be a shared secret, and Passport
# keeps only hashes of secrets); never "none".
REQUEST_OBJECT_ALGS = ("PS256", "ES256", "RS256")
# private_key_jwt client assertions (RFC 7523): asymmetric only, as request objects, and EdDSA
# with Ed25519 (RFC 9864's fully specified "Ed25519" and the older "EdDSA").
ASSERTION_ALGS = ("PS256", "ES256", "EdDSA", "Ed25519", "RS256")
# FAPI 2.0 Security Profile §5.4.1: a FAPI 2.0 client signs with PS256, ES256 or EdDSA using
# Ed25519 ("Ed25519" is RFC 9864's fully specified name for it); never RS256.
FAPI2_SIGNING_ALGS = ("PS256", "ES256", "EdDSA", "Ed25519")
# ... and "EdDSA" names Ed448 too (RFC 8037): a FAPI 2.0 client's OKP key must be Ed25519.
FAPI2_OKP_CURVES = ("Ed25519",)
# RFC 7518 §3.3/§3.5: RSA signing keys of 2048 bits or more; an absurdly long n is refused
# before it is decoded (16,384 bits is far beyond any key in use).
MIN_RSA_BITS = 2048
SHORT_RSA_KEY = f"RSA keys must have at least {MIN_RSA_BITS} bits"
MAX_RSA_MODULUS_CHARS = 16384 // 6 + 4
MAX_URI_LENGTH = 2000
MAX_URIS = 20
NAME_PATTERN = re.compile(r"^[^\x00-\x1f\x7f]{1,120}$")
# A description may span lines, nothing else from the control range.
DESCRIPTION_PATTERN = re.compile(r"^[^\x00-\x09\x0b\x0c\x0e-\x1f\x7f]{0,500}$")
# Governed onboarding: what a self-registered client gets before an administrator approves more.
BASELINE_SCOPES = ("openid", "profile")
MIN_ACCESS_TOKEN_TTL = 60
MIN_REFRESH_TOKEN_TTL = 300

#: Judges a URI Passport itself will call: None when usable, else the reason it is refused.
CallbackCheck = Callable[[str], str | None]


@dataclass
class ClientMetadata:
    """Validated, normalised client metadata (what a client row is created from)."""

    name: str
    token_endpoint_auth_method: str
    description: str | None = None
    logo_uri: str | None = None
    redirect_uris: list[str] = field(default_factory=list)
    post_logout_redirect_uris: list[str] = field(default_factory=list)
    backchannel_logout_uri: str | None = None
    grant_types: list[str] = field(default_factory=lambda: ["authorization_code"])
    scopes: list[str] = field(default_factory=lambda: ["openid"])
    skip_consent: bool = False
    jwks: dict[str, Any] | None = None
    jwks_uri: str | None = None
    id_token_signed_response_alg: str = "RS256"  # noqa: S105
    access_token_format: str = "opaque"  # noqa: S105
    is_resource_server: bool = False
    # None: the deployment's default lifetime.
    access_token_ttl_seconds: int | None = None
    refresh_token_ttl_seconds: int | None = None
    require_pushed_authorization_requests: bool = False
    fapi2_profile: bool = False
    request_object_signing_alg: str | None = None
    # RFC 9449 §5.2: token requests must carry a DPoP proof.
    dpop_bound_access_tokens: bool = False


def is_loopback_host(hostname: str) -> bool:
    """127.0.0.0/8, ::1 or localhost (RFC 8252 §7.3 and §8.3)."""
    if hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False


def check_uri(
    field_name: str, uri: Any, *, allow_any_http: bool, callback_check: CallbackCheck | None = None
) -> str:
    """An absolute https URI (http only on loopback), without fragment or credentials.

    ``callback_check`` judges a URI Passport itself calls (the outbound policy).
    """
    if not isinstance(uri, str) or not uri or len(uri) > MAX_URI_LENGTH:
        raise InvalidClientMetadata(field_name, "must be a URI of at most 2000 characters")
    if any(ch.isspace() or ord(ch) < 0x20 for ch in uri):
        raise InvalidClientMetadata(field_name, f"{uri!r} contains whitespace")
    try:
        parts = urlsplit(uri)
        hostname = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        raise InvalidClientMetadata(field_name, f"{uri!r} is not a valid URI") from None
    if parts.scheme not in ("https", "http") or not hostname:
        raise InvalidClientMetadata(field_name, f"{uri!r} must be an absolute http(s) URI")
    if parts.fragment or "#" in uri:
        raise InvalidClientMetadata(field_name, f"{uri!r} must not contain a fragment")
    if parts.username or parts.password:
        raise InvalidClientMetadata(field_name, f"{uri!r} must not contain credentials")
    if parts.scheme == "http" and not is_loopback_host(hostname) and not allow_any_http:
        raise InvalidClientMetadata(
            field_name, f"{uri!r} must use https (http only on 127.0.0.1, [::1] or localhost)"
        )
    if callback_check is not None:
        refused = callback_check(uri)
        if refused is not None:
            raise InvalidClientMetadata(field_name, f"{uri!r} is refused: {refused}")
    return uri


def check_uri_list(field_name: str, value: Any, *, allow_any_http: bool) -> list[str]:
    """A list of distinct valid URIs."""
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_URIS:
        raise InvalidClientMetadata(field_name, f"must be a list of at most {MAX_URIS} URIs")
    result: list[str] = []
    for uri in value:
        checked = check_uri(field_name, uri, allow_any_http=allow_any_http)
        if checked not in result:
            result.append(checked)
    return result


def check_choices(field_name: str, value: Any, allowed: tuple[str, ...]) -> list[str]:
    """A non-empty list of distinct values, each one of ``allowed``."""
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise InvalidClientMetadata(field_name, "must be a non-empty list of strings")
    unknown = [v for v in value if v not in allowed]
    if unknown:
        raise InvalidClientMetadata(
            field_name, f"unknown value(s) {', '.join(unknown)}; allowed: {', '.join(allowed)}"
        )
    return list(dict.fromkeys(value))


def check_jwks(value: Any) -> dict[str, Any]:
    """A JWK Set with at least one public key usable for signatures."""
    from joserfc import jwk
    from joserfc.errors import JoseError

    if not isinstance(value, dict) or not isinstance(value.get("keys"), list) or not value["keys"]:
        raise InvalidClientMetadata("jwks", "must be a JWK Set with at least one key")
    for key in value["keys"]:
        if not isinstance(key, dict) or any(k in key for k in ("d", "p", "q", "k")):
            raise InvalidClientMetadata("jwks", "must hold public keys only")
    try:
        jwk.KeySet.import_key_set(value)  # type: ignore[arg-type]
    except (JoseError, ValueError, TypeError, KeyError):
        raise InvalidClientMetadata("jwks", "is not a valid JWK Set") from None
    if not all(client_signing_key_allowed(None, key) for key in value["keys"]):
        raise InvalidClientMetadata("jwks", SHORT_RSA_KEY)
    return value


def check_ttl(field_name: str, value: Any, minimum: int, maximum: int) -> int | None:
    """A lifetime in whole seconds within [minimum, maximum], or None (the default)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise InvalidClientMetadata(field_name, "must be a whole number of seconds")
    try:
        seconds = int(value)
    except ValueError:
        raise InvalidClientMetadata(field_name, "must be a whole number of seconds") from None
    if not minimum <= seconds <= maximum:
        raise InvalidClientMetadata(field_name, f"must be between {minimum} and {maximum}")
    return seconds


def check_description(value: Any) -> str | None:
    """Free text of at most 500 characters (line breaks allowed); blank is None."""
    if value is None:
        return None
    if not isinstance(value, str) or not DESCRIPTION_PATTERN.match(value):
        raise InvalidClientMetadata("description", "must be at most 500 printable characters")
    return value.strip() or None


def validate_client_metadata(
    raw: dict[str, Any],
    *,
    api_scopes: tuple[str, ...] = (),
    allow_admin_scopes: bool = True,
    allow_any_http: bool = False,
    callback_check: CallbackCheck | None = None,
    max_access_token_ttl: int = 3600,
    max_refresh_token_ttl: int = 365 * 86400,
) -> ClientMetadata:
    """Check every field and the rules between them; raise InvalidClientMetadata.

    ``callback_check`` judges the URIs Passport itself calls (back-channel logout, jwks_uri):
    the deployment's outbound policy, so that a client cannot make a production server talk to
    its own or its network's internal services (SSRF). ``allow_admin_scopes`` is False
    for self-registered clients: only an administrator hands out the admin API. Token
    lifetimes may only be shortened below the ``max_*`` given (signing keys are retired on the
    deployment's longest signed-token lifetime).
    """
    name = raw.get("name")
    if not isinstance(name, str) or not NAME_PATTERN.match(name.strip() or ""):
        raise InvalidClientMetadata("name", "must be 1 to 120 printable characters")
    method = raw.get("token_endpoint_auth_method") or "client_secret_basic"
    if method not in AUTH_METHODS:
        raise InvalidClientMetadata(
            "token_endpoint_auth_method",
            f"unknown method {method!r}; allowed: {', '.join(AUTH_METHODS)}",
        )
    grant_types = check_choices(
        "grant_types", raw.get("grant_types") or ["authorization_code"], GRANT_TYPES
    )
    admin_scopes = ADMIN_SCOPES if allow_admin_scopes else ()
    scopes = check_choices(
        "scope", raw.get("scopes") or ["openid"], OIDC_SCOPES + tuple(api_scopes) + admin_scopes
    )
    redirect_uris = check_uri_list(
        "redirect_uris", raw.get("redirect_uris"), allow_any_http=allow_any_http
    )
    post_logout = check_uri_list(
        "post_logout_redirect_uris",
        raw.get("post_logout_redirect_uris"),
        allow_any_http=allow_any_http,
    )
    backchannel = raw.get("backchannel_logout_uri")
    if backchannel is not None:
        backchannel = check_uri(
            "backchannel_logout_uri",
            backchannel,
            allow_any_http=allow_any_http,
            callback_check=callback_check,
        )
    if "authorization_code" in grant_types and not redirect_uris:
        raise InvalidClientMetadata("redirect_uris", "at least one is required for codes")
    if "refresh_token" in grant_types and "authorization_code" not in grant_types:
        raise InvalidClientMetadata("grant_types", "refresh_token needs authorization_code")
    if "client_credentials" in grant_types and method == "none":
        raise InvalidClientMetadata("grant_types", "client_credentials needs a confidential client")
    if set(scopes) & set(ADMIN_SCOPES) and grant_types != ["client_credentials"]:
        # A browser flow must never carry admin rights on behalf of a person.
        raise InvalidClientMetadata("grant_types", "admin scopes need client_credentials alone")
    jwks = raw.get("jwks")
    jwks_uri = raw.get("jwks_uri")
    if jwks is not None and jwks_uri is not None:
        raise InvalidClientMetadata("jwks", "give jwks or jwks_uri, not both")
    if jwks is not None:
        jwks = check_jwks(jwks)
    if jwks_uri is not None:
        jwks_uri = check_uri(
            "jwks_uri",
            jwks_uri,
            allow_any_http=allow_any_http,
            callback_check=callback_check,
        )
    if method == "private_key_jwt" and jwks is None and jwks_uri is None:
        raise InvalidClientMetadata("jwks", "private_key_jwt needs jwks or jwks_uri")
    alg = raw.get("id_token_signed_response_alg") or "RS256"
    if alg not in ID_TOKEN_ALGS:
        raise InvalidClientMetadata(
            "id_token_signed_response_alg", f"must be one of {', '.join(ID_TOKEN_ALGS)}"
        )
    token_format = raw.get("access_token_format") or "opaque"
    if token_format not in ACCESS_TOKEN_FORMATS:
        raise InvalidClientMetadata("access_token_format", "must be opaque or jwt")
    logo_uri = raw.get("logo_uri") or None
    if logo_uri is not None:
        logo_uri = check_uri("logo_uri", logo_uri, allow_any_http=allow_any_http)
    request_object_alg = raw.get("request_object_signing_alg") or None
    if request_object_alg is not None and request_object_alg not in REQUEST_OBJECT_ALGS:
        raise InvalidClientMetadata(
            "request_object_signing_alg", f"must be one of {', '.join(REQUEST_OBJECT_ALGS)}"
        )
    metadata = ClientMetadata(
        name=name.strip(),
        token_endpoint_auth_method=method,
        description=check_description(raw.get("description")),
        logo_uri=logo_uri,
        redirect_uris=redirect_uris,
        post_logout_redirect_uris=post_logout,
        backchannel_logout_uri=backchannel,
        grant_types=grant_types,
        scopes=scopes,
        skip_consent=bool(raw.get("skip_consent", False)),
        jwks=jwks,
        jwks_uri=jwks_uri,
        id_token_signed_response_alg=alg,
        access_token_format=token_format,
        is_resource_server=bool(raw.get("is_resource_server", False)),
        dpop_bound_access_tokens=check_flag(
            "dpop_bound_access_tokens", raw.get("dpop_bound_access_tokens", False)
        ),
        access_token_ttl_seconds=check_ttl(
            "access_token_ttl_seconds",
            raw.get("access_token_ttl_seconds"),
            MIN_ACCESS_TOKEN_TTL,
            max_access_token_ttl,
        ),
        refresh_token_ttl_seconds=check_ttl(
            "refresh_token_ttl_seconds",
            raw.get("refresh_token_ttl_seconds"),
            MIN_REFRESH_TOKEN_TTL,
            max_refresh_token_ttl,
        ),
        require_pushed_authorization_requests=check_flag(
            "require_pushed_authorization_requests",
            raw.get("require_pushed_authorization_requests"),
        ),
        fapi2_profile=check_flag("fapi2_profile", raw.get("fapi2_profile")),
        request_object_signing_alg=request_object_alg,
    )
    if metadata.fapi2_profile:
        fapi2_requirements(metadata)
    return metadata


class FapiFlag(Protocol):
    """A client as client_signing_algs sees it (a RegisteredClient, a client row)."""

    @property
    def fapi2_profile(self) -> bool: ...


def client_signing_algs(client: FapiFlag, supported: Sequence[str]) -> list[str]:
    """The algorithms ``client`` may sign its own JWTs with at an endpoint that supports
    ``supported``: client assertions, request objects and DPoP proofs. The one place of the
    rule: a FAPI 2.0 client is narrowed to FAPI2_SIGNING_ALGS (Security Profile §5.4.1).
    """
    if client.fapi2_profile:
        return [alg for alg in supported if alg in FAPI2_SIGNING_ALGS]
    return list(supported)


def client_signing_key_allowed(client: FapiFlag | None, key: Mapping[str, Any]) -> bool:
    """Whether ``client`` (None: any client) may sign its own JWTs with ``key`` (its JWK
    members), the other half of client_signing_algs. An RSA key has at least 2048 bits for
    every client (RFC 7518 §3.3 and §3.5 for RS256 and PS256; FAPI 2.0 §5.4.1); an EC key's
    size is fixed by its alg's curve (ES256: P-256, checked by joserfc). An alg name says
    nothing of the curve ("EdDSA" is Ed25519 or Ed448), so a FAPI 2.0 client's OKP key must
    be Ed25519 (Security Profile §5.4.1). Applied at registration (``check_jwks``) and to the
    key that verifies: client_keys.client_public_keys (client assertions and request objects,
    also keys fetched from a jwks_uri) and the DPoP proof's jwk (passport.oidc.dpop).
    """
    kty = key.get("kty")
    if kty == "RSA":
        return rsa_modulus_bits(key.get("n")) >= MIN_RSA_BITS
    if kty == "OKP" and client is not None and client.fapi2_profile:
        return key.get("crv") in FAPI2_OKP_CURVES
    return True


def rsa_modulus_bits(n: Any) -> int:
    """The bit length of a JWK's base64url ``n`` (0 when it is not one)."""
    if not isinstance(n, str) or not n or len(n) > MAX_RSA_MODULUS_CHARS:
        return 0
    try:
        raw = base64.urlsafe_b64decode(n + "=" * (-len(n) % 4))
    except (ValueError, binascii.Error):
        return 0
    return int.from_bytes(raw, "big").bit_length()


def check_flag(field_name: str, value: Any) -> bool:
    """A boolean (absent is False); anything else is refused rather than guessed."""
    if value is None:
        return False
    if not isinstance(value, bool):
        raise InvalidClientMetadata(field_name, "must be true or false")
    return value


def fapi2_requirements(metadata: ClientMetadata) -> None:
    """FAPI 2.0 Security Profile §5.3.2 for a client marked ``fapi2_profile``: refuse what
    the profile forbids, switch on what it implies. The one place that says what a FAPI 2.0
    client is at registration (at run time, passport.oidc.authorization: requires_pushed_requests,
    the PKCE rule of parse_authorization_request, code_lifetime).
    """
    if metadata.token_endpoint_auth_method != "private_key_jwt":  # noqa: S105
        raise InvalidClientMetadata(
            "token_endpoint_auth_method", "a FAPI 2.0 client must use private_key_jwt"
        )
    # §5.3.2.2: authorization requests only through PAR.
    metadata.require_pushed_authorization_requests = True
    # §5.3.2.1: sender-constrained access tokens; Passport's means is DPoP (RFC 9449).
    metadata.dpop_bound_access_tokens = True
    # §5.4.1: no RS256 request objects.
    alg = metadata.request_object_signing_alg
    if alg is not None and alg not in client_signing_algs(metadata, REQUEST_OBJECT_ALGS):
        raise InvalidClientMetadata(
            "request_object_signing_alg", "a FAPI 2.0 client must use PS256 or ES256"
        )
