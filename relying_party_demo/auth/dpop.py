"""DPoP proofs (RFC 9449), which Authlib's client does not make, and the server's nonces.

A proof is a JWT signed with AYNI's key, carrying the public key in its header: ``typ``
``dpop+jwt``, ``htm`` and ``htu`` (the request's method and URL without query or fragment), a
fresh ``jti``, ``iat``, the server's ``nonce`` once it asked for one (§8), and ``ath`` (the
access token's SHA-256) when it goes with an access token (§7).
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

from joserfc import jwt
from joserfc.jwk import ECKey
from joserfc.util import urlsafe_b64encode

from relying_party_demo.auth.client_key import ALGORITHM

NONCE_HEADER = "DPoP-Nonce"
USE_DPOP_NONCE = "use_dpop_nonce"
# The members of a P-256 public JWK (RFC 7518 §6.2.1): nothing else goes in the header.
PUBLIC_MEMBERS = ("kty", "crv", "x", "y")


def target_uri(url: str) -> str:
    """``htu``: the URL without its query and fragment (RFC 9449 §4.2)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def access_token_hash(access_token: str) -> str:
    """``ath``: base64url of the SHA-256 of the access token's ASCII (RFC 9449 §4.2)."""
    digest = hashlib.sha256(access_token.encode("ascii")).digest()
    return urlsafe_b64encode(digest).decode("ascii")


def make_proof(
    key: ECKey,
    method: str,
    url: str,
    *,
    access_token: str | None = None,
    nonce: str | None = None,
) -> str:
    """A DPoP proof for one request."""
    public = key.as_dict(private=False)
    header = {
        "typ": "dpop+jwt",
        "alg": ALGORITHM,
        "jwk": {name: public[name] for name in PUBLIC_MEMBERS},
    }
    claims: dict[str, object] = {
        "jti": secrets.token_urlsafe(24),
        "htm": method.upper(),
        "htu": target_uri(url),
        "iat": int(time.time()),
    }
    if nonce is not None:
        claims["nonce"] = nonce
    if access_token is not None:
        claims["ath"] = access_token_hash(access_token)
    return jwt.encode(header, claims, key, algorithms=[ALGORITHM])


def origin(url: str) -> str:
    """Scheme and authority of a URL."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class NonceCache:
    """The latest ``DPoP-Nonce`` each endpoint sent (RFC 9449 §8), per process.

    Kept per endpoint URL, since an authorization server and a resource server may hand out
    different nonces; an endpoint that gave none yet is sent its host's latest (Passport's
    token and userinfo endpoints share theirs, which saves a round trip). A wrong or stale
    nonce only costs one retry, so workers need not share them.
    """

    MAX_LENGTH = 512

    def __init__(self) -> None:
        self.nonces: dict[str, str] = {}
        self.lock = threading.Lock()

    def get(self, url: str) -> str | None:
        """The nonce to send to ``url``: its own, else its host's latest, else none."""
        with self.lock:
            return self.nonces.get(target_uri(url)) or self.nonces.get(origin(url))

    def remember(self, url: str, nonce: str | None) -> bool:
        """Keep a nonce ``url`` sent; True when it is new to it (a retry can use it)."""
        if not nonce or len(nonce) > self.MAX_LENGTH or not nonce.isprintable():
            return False
        with self.lock:
            previous = self.nonces.get(target_uri(url))
            self.nonces[target_uri(url)] = nonce
            self.nonces[origin(url)] = nonce
        return nonce != previous
