"""DPoP proofs (RFC 9449): the one check of a proof, server nonces and the replay record.

No well-kept Python library verifies DPoP proofs on the server side (Authlib has none), so
this module does, with joserfc as the rest of Passport. ``verify_proof`` is used by the token
endpoint (passport.oidc.server) and by every resource endpoint (passport.oidc.userinfo
``check_binding``: /userinfo and the admin API):

- ``typ`` is ``dpop+jwt``; ``alg`` one of ``ALGORITHMS`` (asymmetric: never ``none``/HS*);
  ``jwk`` a public key (no private member) that verifies the signature; for a client's proof,
  alg and key as its profile allows (client_validation: client_signing_algs and
  client_signing_key_allowed, the rules of its assertions and request objects too);
- ``htm`` is the request method and ``htu`` the endpoint's URL as the issuer publishes it
  (``ISSUER`` + the path: behind a reverse proxy the app's own view of the host is not what
  the client called), both without query and fragment, scheme and host compared without case
  and default ports (RFC 9449 §4.3, RFC 3986 §6.2.2-6.2.3);
- ``iat`` within ``DPOP_PROOF_WINDOW_SECONDS`` of now, either way (clock skew both sides);
- ``ath`` is the base64url SHA-256 of the access token when one is presented;
- ``nonce`` is a fresh server nonce when ``DPOP_REQUIRE_NONCE`` (and whenever one is sent);
- the ``jti`` was never seen, by any instance: SHA-256 of thumbprint and jti inserted under a
  unique constraint in its own transaction (``passport.database.insert_once``), kept until
  the proof's ``iat`` leaves the window (then purged by ``passport maintenance purge``).

Nonces are stateless: ``<window>.<HMAC-SHA256(SECRET_KEY, window)>`` where the window is
``NONCE_WINDOW_SECONDS`` long; the current and the previous window are accepted, so every
instance sharing the secret accepts every other's nonce for 5 to 10 minutes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import time
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from typing import Any
from typing import cast
from urllib.parse import urlsplit

from flask import current_app
from flask import request
from joserfc import jwk
from joserfc import jws
from joserfc.errors import JoseError
from sqlalchemy import Table

from passport.database import insert_once
from passport.oidc.client_validation import FapiFlag
from passport.oidc.client_validation import client_signing_algs
from passport.oidc.client_validation import client_signing_key_allowed
from passport.oidc.models import DPoPProofJti

# Asymmetric algorithms only (RFC 9449 §4.2: never none nor a MAC).
ALGORITHMS = (
    "ES256",
    "ES384",
    "ES512",
    "PS256",
    "PS384",
    "PS512",
    "RS256",
    "RS384",
    "RS512",
    "Ed25519",  # RFC 9864's fully specified name
    "EdDSA",  # deprecated by RFC 9864 for Ed25519; still what most clients send
)
# joserfc's registry for these algorithms, with room in the header for an RSA key of up to
# 4096 bits (its default 512 bytes fits only EC and OKP keys).
REGISTRY = jws.JWSRegistry(algorithms=ALGORITHMS)
REGISTRY.max_header_length = 3072
REGISTRY.max_payload_length = 4096
KEY_TYPES = frozenset({"RSA", "EC", "OKP"})
# Members of a private or symmetric JWK (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2).
PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
MAX_PROOF_LENGTH = 8192
MAX_JTI_LENGTH = 255
NONCE_WINDOW_SECONDS = 300
DEFAULT_PORTS = {"http": 80, "https": 443}
JTI_TABLE = cast(Table, DPoPProofJti.__table__)
INVALID_PROOF = "invalid_dpop_proof"
USE_NONCE = "use_dpop_nonce"


class DPoPError(Exception):
    """A refused proof: ``invalid_dpop_proof``, or ``use_dpop_nonce`` (send a fresh nonce)."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


@dataclass(frozen=True)
class Proof:
    """An accepted proof: the thumbprint (RFC 7638) of the key that signed it."""

    jkt: str


def b64url_sha256(value: str) -> str:
    """base64url(SHA-256(value)) without padding (``ath``, RFC 9449 §4.2)."""
    digest = hashlib.sha256(value.encode("ascii", "surrogateescape")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def normalized_uri(uri: str) -> str | None:
    """``scheme://host[:port]/path`` without query and fragment, case and default port
    normalised; None when not an absolute http(s) URI."""
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = parts.hostname
    if scheme not in DEFAULT_PORTS or not host:
        return None
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port in (None, DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    return f"{scheme}://{netloc}{parts.path or '/'}"


def endpoint_url() -> str:
    """The URL of the current request as the client knows it: the issuer plus the path."""
    return str(current_app.config["ISSUER"]).rstrip("/") + request.path


def nonce_for(window: int) -> str:
    """The server nonce of one time window."""
    key = str(current_app.config["SECRET_KEY"]).encode()
    mac = hmac.new(key, f"passport-dpop-nonce:{window}".encode(), hashlib.sha256).digest()
    return f"{window}." + base64.urlsafe_b64encode(mac[:16]).rstrip(b"=").decode("ascii")


def current_nonce() -> str:
    """The nonce to send in ``DPoP-Nonce`` now."""
    return nonce_for(int(time.time()) // NONCE_WINDOW_SECONDS)


def nonce_is_fresh(nonce: Any) -> bool:
    """A nonce of this window or the previous one, made with this deployment's secret."""
    # ASCII only: str.isdigit() also accepts "²" (int() refuses it) and other scripts'
    # digits (compare_digest refuses non-ASCII text): either was a 500.
    if not isinstance(nonce, str) or len(nonce) > 64 or not nonce.isascii():
        return False
    window, _, _ = nonce.partition(".")
    if not window.isdigit():
        return False
    now = int(time.time()) // NONCE_WINDOW_SECONDS
    return int(window) in (now, now - 1) and hmac.compare_digest(nonce, nonce_for(int(window)))


def nonce_required() -> bool:
    """Whether every proof must carry a server nonce (``DPOP_REQUIRE_NONCE``)."""
    return bool(current_app.config["DPOP_REQUIRE_NONCE"])


def _invalid(description: str) -> DPoPError:
    return DPoPError(INVALID_PROOF, description)


def _public_key(header: dict[str, Any]) -> Any:
    """The header's ``jwk``, refused unless a public RSA, EC or OKP key."""
    key = header.get("jwk")
    if not isinstance(key, dict) or key.get("kty") not in KEY_TYPES:
        raise _invalid("The proof's jwk header must be a public key.")
    if PRIVATE_MEMBERS & set(key):
        raise _invalid("The proof's jwk header must not hold a private key.")
    try:
        return jwk.import_key(key)
    except (JoseError, ValueError, TypeError, KeyError):
        raise _invalid("The proof's jwk header is not a usable key.") from None


def client_algorithms(client: FapiFlag) -> list[str]:
    """The proof algorithms ``client`` may use (a FAPI 2.0 client: §5.4.1's list)."""
    return client_signing_algs(client, ALGORITHMS)


def _verified(proof: str, client: FapiFlag | None) -> tuple[dict[str, Any], str]:
    """The claims of a well-formed, correctly signed proof and its key's thumbprint; alg and
    key as ``client`` may use them (None: any of ``ALGORITHMS``)."""
    try:
        header = jws.extract_compact(proof.encode("ascii"), registry=REGISTRY).headers()
    except (JoseError, ValueError, TypeError, UnicodeError):
        raise _invalid("The DPoP proof is not a JWS.") from None
    if header.get("typ") != "dpop+jwt":
        raise _invalid("The proof's typ must be dpop+jwt.")
    alg = header.get("alg")
    if alg not in ALGORITHMS:
        raise _invalid("The proof's alg is not supported.")
    if client is not None and alg not in client_algorithms(client):
        raise _invalid("The proof's alg is not allowed for this client.")
    key = _public_key(header)
    if not client_signing_key_allowed(client, header["jwk"]):
        raise _invalid("The proof's key is not allowed for this client.")
    try:
        payload = jws.deserialize_compact(proof, key, registry=REGISTRY).payload
        claims = json.loads(payload)
        jkt = str(key.thumbprint())
    except (JoseError, ValueError, TypeError):
        raise _invalid("The proof's signature is invalid.") from None
    if not isinstance(claims, dict):
        raise _invalid("The proof's payload must be a JSON object.")
    return claims, jkt


def verify_proof(
    proofs: list[str],
    *,
    method: str,
    url: str,
    access_token: str | None = None,
    client: FapiFlag | None = None,
) -> Proof:
    """Check the DPoP header values of a request (RFC 9449 §4.3); raise DPoPError.

    ``client``: the client whose proof this is (at a resource, the token's), whose profile
    may narrow the algorithms and keys (a FAPI 2.0 client's)."""
    if len(proofs) != 1:
        raise _invalid("Exactly one DPoP header is required.")
    proof = proofs[0]
    if not proof or len(proof) > MAX_PROOF_LENGTH or not proof.isascii():
        raise _invalid("The DPoP proof is malformed.")
    claims, jkt = _verified(proof, client)
    jti, iat = claims.get("jti"), claims.get("iat")
    if not isinstance(jti, str) or not jti or len(jti) > MAX_JTI_LENGTH:
        raise _invalid("The proof needs a jti.")
    if claims.get("htm") != method:
        raise _invalid("The proof's htm is not the request's method.")
    htu, expected = claims.get("htu"), normalized_uri(url)
    if expected is None or not isinstance(htu, str) or normalized_uri(htu) != expected:
        raise _invalid("The proof's htu is not this endpoint's URL.")
    window = int(current_app.config["DPOP_PROOF_WINDOW_SECONDS"])
    now = time.time()
    if not isinstance(iat, int | float) or isinstance(iat, bool):
        raise _invalid("The proof needs an iat.")
    try:
        issued = float(iat)  # a JSON integer of 400 digits is no float: OverflowError
    except OverflowError:
        raise _invalid("The proof's iat is too far from now.") from None
    if not math.isfinite(issued):
        raise _invalid("The proof needs an iat.")
    if abs(now - issued) > window:
        raise _invalid("The proof's iat is too far from now.")
    if access_token is not None and claims.get("ath") != b64url_sha256(access_token):
        raise _invalid("The proof's ath does not match the access token.")
    if ("nonce" in claims or nonce_required()) and not nonce_is_fresh(claims.get("nonce")):
        raise DPoPError(USE_NONCE, "Use the DPoP-Nonce the server sent.")
    record = hashlib.sha256(f"{jkt}:{jti}".encode("utf-8", "surrogatepass")).hexdigest()
    expires_at = datetime.fromtimestamp(issued + window + 1, UTC)
    if not insert_once(JTI_TABLE, {"jti_hash": record, "expires_at": expires_at}):
        raise _invalid("This DPoP proof was used before.")
    return Proof(jkt=jkt)


def request_proofs() -> list[str]:
    """Every ``DPoP`` header value of the current request."""
    return request.headers.getlist("DPoP")


def verify_request_proof(access_token: str | None = None, client: FapiFlag | None = None) -> Proof:
    """The current request's proof, checked against its method and endpoint URL."""
    return verify_proof(
        request_proofs(),
        method=request.method,
        url=endpoint_url(),
        access_token=access_token,
        client=client,
    )
