"""Random secrets (codes, tokens, client secrets) and the digests stored in their place."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string


def new_secret(size_bytes: int = 32) -> str:
    """A URL-safe random value with ``size_bytes`` of entropy (256 bits by default)."""
    return secrets.token_urlsafe(size_bytes)


_ALPHANUMERIC = string.ascii_letters + string.digits


def new_identifier(length: int = 24) -> str:
    """A random letters-and-digits identifier (client_id, kid).

    Unlike ``token_urlsafe`` it never starts with ``-``, which a command line would read as
    an option (``passport clients disable -5x...``); 24 characters carry about 143 bits.
    """
    return "".join(secrets.choice(_ALPHANUMERIC) for _ in range(length))


def hash_secret(value: str) -> str:
    """SHA-256 hex digest of a high-entropy secret (no salt or stretching needed)."""
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def secret_matches(value: str, digest: str | None) -> bool:
    """Constant-time comparison of a presented secret with a stored digest."""
    if digest is None:
        return False
    return hmac.compare_digest(hash_secret(value), digest)
