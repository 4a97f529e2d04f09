"""A tiny DPoP client for the tests (RFC 9449 §4.2): keys and proofs made with joserfc."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from typing import Any

from joserfc import jwk
from joserfc import jws

ISSUER = "http://127.0.0.1:5000"


class DPoPKey:
    """A client's DPoP key pair and the proofs it signs."""

    def __init__(self, alg: str = "ES256", curve: str | None = None) -> None:
        """``curve``: an OKP key's for EdDSA (Ed25519 unless told; Ed25519 and Ed448 name
        their own)."""
        self.alg = alg
        if alg.startswith("ES"):
            self.key: Any = jwk.ECKey.generate_key("P-256")
        elif alg in ("EdDSA", "Ed25519", "Ed448"):
            self.key = jwk.OKPKey.generate_key(curve or ("Ed25519" if alg == "EdDSA" else alg))
        else:
            self.key = jwk.RSAKey.generate_key(2048)

    @property
    def public_jwk(self) -> dict[str, Any]:
        return dict(self.key.as_dict(private=False))

    @property
    def jkt(self) -> str:
        return str(self.key.thumbprint())

    def proof(
        self,
        method: str,
        path: str,
        *,
        access_token: str | None = None,
        nonce: str | None = None,
        issuer: str = ISSUER,
        claims: dict[str, Any] | None = None,
        header: dict[str, Any] | None = None,
        signing_key: Any = None,
    ) -> str:
        """A proof for ``method`` ``issuer + path``; ``claims``/``header`` override fields."""
        payload: dict[str, Any] = {
            "jti": secrets.token_urlsafe(16),
            "htm": method,
            "htu": issuer + path,
            "iat": int(time.time()),
        }
        if access_token is not None:
            payload["ath"] = ath(access_token)
        if nonce is not None:
            payload["nonce"] = nonce
        payload.update(claims or {})
        protected = {"typ": "dpop+jwt", "alg": self.alg, "jwk": self.public_jwk}
        protected.update(header or {})
        protected = {k: v for k, v in protected.items() if v is not None}
        return sign(protected, payload, signing_key or self.key)


def sign(protected: dict[str, Any], payload: dict[str, Any], key: Any) -> str:
    """A compact JWS, with whatever header it is given (hostile ones included)."""
    import json

    from joserfc.jws import JWSRegistry

    registry = JWSRegistry(algorithms=list(JWSRegistry.algorithms))
    body = json.dumps(payload).encode()
    return str(jws.serialize_compact(protected, body, key, registry=registry))


def ath(access_token: str) -> str:
    digest = hashlib.sha256(access_token.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def unsigned(protected: dict[str, Any], payload: dict[str, Any]) -> str:
    """An ``alg: none`` token (no signature)."""
    import json

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part(protected)}.{part(payload)}."
