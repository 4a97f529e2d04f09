"""Signing keys: creation, rotation, publication (JWKS) and the in-process key ring cache.

A key's life: published as ``next`` (in the JWKS, not yet signing) for
``KEY_ROTATION_DELAY_SECONDS`` so relying parties that cache the JWKS learn it first; then
``active`` (signs); when a newer key of the same algorithm activates, ``retired`` (still
published until every token it signed has expired, then removed by ``keys prune``). States are
derived from ``activates_at`` so every process agrees without coordination; the stored
``state`` column is synchronised whenever the ring is rebuilt.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from datetime import timedelta
from typing import Any

from cryptography.fernet import InvalidToken
from cryptography.fernet import MultiFernet
from flask import Flask
from flask import current_app
from joserfc import jwk
from joserfc import jwt
from sqlalchemy import select

from passport.audit.services import Actor
from passport.caches import Cache
from passport.caches import app_cache
from passport.database import utcnow
from passport.extensions import db
from passport.oidc.errors import KeyDecryptionError
from passport.oidc.models import SigningKey
from passport.oidc.tokens import new_identifier
from passport.security.crypto import SIGNING_KEYS
from passport.security.crypto import fernet_for

SUPPORTED_ALGS = ("RS256", "ES256")
RING_TTL_SECONDS = 30.0


def signing_key_cipher(app: Flask) -> MultiFernet:
    """The cipher protecting private keys at rest (its own HKDF-derived key per key material)."""
    return fernet_for(app, SIGNING_KEYS)


def generate_private_jwk(alg: str) -> jwk.RSAKey | jwk.ECKey:
    """A new private key for ``alg`` (RSA 2048 for RS256, P-256 for ES256)."""
    if alg == "RS256":
        return jwk.RSAKey.generate_key(2048, private=True)
    if alg == "ES256":
        return jwk.ECKey.generate_key("P-256", private=True)
    raise ValueError(f"unsupported signing algorithm {alg!r}")


def max_signed_token_ttl(app: Flask) -> timedelta:
    """The longest lifetime of anything we sign (ID, JWT access and logout tokens)."""
    seconds = max(
        app.config["ID_TOKEN_TTL_SECONDS"],
        app.config["ACCESS_TOKEN_TTL_SECONDS"],
        app.config["LOGOUT_TOKEN_TTL_SECONDS"],
    )
    return timedelta(seconds=seconds + 300)  # plus clock-skew allowance


def create_key(alg: str, activates_at: datetime) -> SigningKey:
    """Generate and store (not commit) a key that activates at ``activates_at``."""
    key = generate_private_jwk(alg)
    kid = new_identifier(16)
    private_pem = key.as_pem(private=True)
    encrypted = signing_key_cipher(current_app).encrypt(private_pem).decode("ascii")
    public = key.as_dict(private=False)
    public.update({"kid": kid, "alg": alg, "use": "sig"})
    now = utcnow()
    row = SigningKey(
        kid=kid,
        alg=alg,
        state="active" if activates_at <= now else "next",
        private_key_encrypted=encrypted,
        public_jwk=public,
        activates_at=activates_at,
    )
    db.session.add(row)
    return row


def ensure_keys() -> list[SigningKey]:
    """Create an immediately active key for every algorithm that has none; commits."""
    created = []
    existing = set(db.session.scalars(select(SigningKey.alg)).all())
    for alg in SUPPORTED_ALGS:
        if alg not in existing:
            created.append(create_key(alg, utcnow()))
    if created:
        db.session.commit()
        invalidate_key_ring()
    return created


def rotate_keys(
    alg: str | None = None, delay_seconds: int | None = None, *, action: Actor | None = None
) -> list[SigningKey]:
    """Publish a new key per algorithm (or just ``alg``), signing after the delay; commits."""
    delay = (
        current_app.config["KEY_ROTATION_DELAY_SECONDS"] if delay_seconds is None else delay_seconds
    )
    activates_at = utcnow() + timedelta(seconds=delay)
    created = [create_key(a, activates_at) for a in ([alg] if alg else SUPPORTED_ALGS)]
    (action or Actor()).record(
        "signing_keys.rotated",
        details={"kids": [k.kid for k in created], "activates_at": activates_at.isoformat()},
    )
    db.session.commit()
    sync_key_states()
    invalidate_key_ring()
    return created


def effective_states(
    keys: list[SigningKey], now: datetime
) -> dict[int, tuple[str, datetime | None]]:
    """State and publish-until time of each key, derived from activation times."""
    ttl = max_signed_token_ttl(current_app)
    result: dict[int, tuple[str, datetime | None]] = {}
    by_alg: dict[str, list[SigningKey]] = {}
    for key in keys:
        by_alg.setdefault(key.alg, []).append(key)
    for group in by_alg.values():
        group.sort(key=lambda k: (k.activates_at, k.id))
        live = [k for k in group if k.activates_at <= now]
        active = live[-1] if live else None
        for index, key in enumerate(group):
            if key.activates_at > now:
                result[key.id] = ("next", None)
            elif key is active:
                result[key.id] = ("active", None)
            else:
                successor = group[index + 1]
                result[key.id] = ("retired", successor.activates_at + ttl)
    return result


def sync_key_states() -> None:
    """Write derived states to the table (for `keys list` and the admin console); commits."""
    now = utcnow()
    keys = list(db.session.scalars(select(SigningKey)).all())
    states = effective_states(keys, now)
    changed = False
    for key in keys:
        state, publish_until = states[key.id]
        if key.state != state:
            key.state = state
            key.retired_at = now if state == "retired" else None
            key.publish_until = publish_until
            changed = True
    if changed:
        db.session.commit()


def prune_keys(*, action: Actor | None = None) -> int:
    """Delete retired keys no token signed by them can still need; commits."""
    now = utcnow()
    keys = list(db.session.scalars(select(SigningKey)).all())
    states = effective_states(keys, now)
    removed = 0
    for key in keys:
        state, publish_until = states[key.id]
        if state == "retired" and publish_until is not None and publish_until <= now:
            db.session.delete(key)
            removed += 1
    (action or Actor()).record("signing_keys.pruned", details={"removed": removed})
    db.session.commit()
    invalidate_key_ring()
    return removed


@dataclass
class KeyRing:
    """What signing and publishing need, parsed once: private keys, JWKS, public keys."""

    signing: dict[str, tuple[str, jwk.Key]]  # alg -> (kid, private key)
    public: dict[str, jwk.Key]  # kid -> public key (every published key)
    jwks_json: bytes
    built_at: float
    valid_until: float  # monotonic time when a next key activates or the TTL ends
    lock: threading.Lock = field(default_factory=threading.Lock)

    def sign(self, claims: dict[str, Any], alg: str = "RS256", typ: str = "JWT") -> str:
        """A compact JWS of ``claims`` with the active key of ``alg``."""
        kid, key = self.signing.get(alg) or self.signing["RS256"]
        header = {"alg": alg if alg in self.signing else "RS256", "kid": kid, "typ": typ}
        return jwt.encode(header, claims, key, algorithms=[header["alg"]])

    def public_key_set(self) -> jwk.KeySet:
        """Every published public key, for verifying our own tokens (id_token_hint)."""
        return jwk.KeySet(list(self.public.values()))


RING_CACHE = "oidc.key_ring"
_ring_build_lock = threading.Lock()


def invalidate_key_ring() -> None:
    """Forget the cached ring of the current app (after rotate/prune in this process)."""
    app_cache(RING_CACHE, 1).discard(RING_CACHE)


def key_ring() -> KeyRing:
    """The cached key ring of the current app, rebuilt every 30 s or when a key activates."""
    cache: Cache[KeyRing] = app_cache(RING_CACHE, 1)
    _, ring = cache.get(RING_CACHE)
    if ring is not None:
        return ring
    # One build at a time: the others wait and take its result.
    with _ring_build_lock:
        _, ring = cache.get(RING_CACHE)
        if ring is None:
            ring = build_key_ring(current_app._get_current_object())  # type: ignore[attr-defined]
            cache.set(RING_CACHE, ring, ring.valid_until - time.monotonic())
        return ring


def build_key_ring(app: Flask) -> KeyRing:
    """Load keys from the database (creating the first ones lazily) and parse them."""
    keys = list(db.session.scalars(select(SigningKey)).all())
    if {k.alg for k in keys} != set(SUPPORTED_ALGS):
        ensure_keys()
        keys = list(db.session.scalars(select(SigningKey)).all())
    now = utcnow()
    states = effective_states(keys, now)
    if any(states[k.id][0] != k.state for k in keys):
        sync_key_states()
    cipher = signing_key_cipher(app)
    signing: dict[str, tuple[str, jwk.Key]] = {}
    public: dict[str, jwk.Key] = {}
    published: list[dict[str, Any]] = []
    next_change = now + timedelta(seconds=RING_TTL_SECONDS)
    for key in keys:
        state, publish_until = states[key.id]
        if state == "retired" and publish_until is not None and publish_until <= now:
            continue
        if state == "next":
            next_change = min(next_change, key.activates_at)
        published.append(key.public_jwk)
        public[key.kid] = jwk.import_key(key.public_jwk)  # dict JWKs carry their kty
        if state == "active":
            try:
                pem = cipher.decrypt(key.private_key_encrypted.encode("ascii"))
            except InvalidToken as error:
                raise KeyDecryptionError(f"cannot decrypt signing key {key.kid}") from error
            key_type = jwk.RSAKey if key.alg == "RS256" else jwk.ECKey
            signing[key.alg] = (key.kid, key_type.import_key(pem, parameters={"kid": key.kid}))
    seconds_left = max(0.0, (next_change - now).total_seconds())
    body = json.dumps({"keys": published}, separators=(",", ":")).encode()
    return KeyRing(
        signing=signing,
        public=public,
        jwks_json=body,
        built_at=time.monotonic(),
        valid_until=time.monotonic() + seconds_left,
    )


def describe_keys() -> list[dict[str, Any]]:
    """Every stored key with its state and dates (for `keys list`)."""
    sync_key_states()
    rows = db.session.scalars(select(SigningKey).order_by(SigningKey.activates_at)).all()
    return [
        {
            "kid": row.kid,
            "alg": row.alg,
            "state": row.state,
            "created_at": row.created_at.isoformat(),
            "activates_at": row.activates_at.isoformat(),
            "retired_at": row.retired_at.isoformat() if row.retired_at else None,
            "publish_until": row.publish_until.isoformat() if row.publish_until else None,
        }
        for row in rows
    ]
