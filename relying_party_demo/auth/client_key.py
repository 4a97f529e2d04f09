"""AYNI's own key pair (FAPI 2.0 profile): one EC P-256 key signs its client assertions
(private_key_jwt, RFC 7523) and its DPoP proofs (RFC 9449).

One key for both purposes: it is one secret to keep and rotate, the same in every worker and
across restarts (so a DPoP-bound token stays usable wherever the next request lands), and the
two kinds of JWT cannot pass for each other (a proof has ``typ: dpop+jwt`` and no
``iss``/``sub``/``aud``/``exp``; an assertion has no ``jwk`` header). Passport learns the public
half by value at registration (``passport clients create --jwks-json``): no ``jwks_uri`` for
Passport to fetch, so nothing to allow through its outbound rule.

The key comes from ``AYNI_PRIVATE_JWK`` (the JWK as JSON) or from a file
(``AYNI_PRIVATE_KEY_FILE``, default ``instance/ayni-private-jwk.json``, written 0600 by
``ayni keys generate``).
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from joserfc.errors import JoseError
from joserfc.jwk import ECKey

from minedu_sso.settings.ayni import ConfigError

KEY_FILE_NAME = "ayni-private-jwk.json"
CURVE = "P-256"
ALGORITHM = "ES256"


def key_file(settings: Mapping[str, Any], instance_path: str) -> Path:
    """Where the private key file is (``AYNI_PRIVATE_KEY_FILE`` or the instance folder)."""
    chosen = settings.get("PRIVATE_KEY_FILE")
    return Path(chosen) if chosen else Path(instance_path) / KEY_FILE_NAME


def generate_key() -> ECKey:
    """A new P-256 key whose ``kid`` is its RFC 7638 thumbprint."""
    key = ECKey.generate_key(CURVE, private=True)
    return ECKey.import_key(key.as_dict(private=True, kid=key.thumbprint()))


def parse_key(text: str, source: str) -> ECKey:
    """A private P-256 JWK from JSON text; ConfigError naming ``source`` otherwise."""
    try:
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("kty") != "EC" or data.get("crv") != CURVE:
            raise ValueError("not an EC P-256 JWK")
        if not data.get("d"):
            raise ValueError("a public key, the private part (d) is missing")
        key = ECKey.import_key(data)
    except (ValueError, TypeError, JoseError) as error:
        raise ConfigError(f"{source} is not a private EC P-256 JWK: {error}") from None
    if not key.kid:
        key = ECKey.import_key({**data, "kid": key.thumbprint()})
    return key


def load_key(settings: Mapping[str, Any], instance_path: str) -> ECKey | None:
    """The configured private key; None when there is none (sign-in is then off)."""
    if settings.get("PRIVATE_JWK"):
        return parse_key(settings["PRIVATE_JWK"], "AYNI_PRIVATE_JWK")
    path = key_file(settings, instance_path)
    if not path.is_file():
        return None
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"cannot read the key file {path}: {error.strerror}") from None
    return parse_key(text, str(path))


def key_file_problem(settings: Mapping[str, Any], instance_path: str) -> str | None:
    """Why the configured key cannot be trusted as stored (missing, readable by others)."""
    if settings.get("PRIVATE_JWK"):
        return None
    path = key_file(settings, instance_path)
    if not path.is_file():
        return f"no private key (AYNI_PRIVATE_JWK unset, no {path}; run `ayni keys generate`)"
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        return f"the key file {path} is readable by others (chmod 600)"
    return None


def write_key(path: Path, key: ECKey, *, replace: bool) -> None:
    """Write the private JWK, readable by its owner only; FileExistsError unless ``replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(key.as_dict(private=True))
    target = path.with_name(path.name + ".new") if replace else path
    if replace:
        target.unlink(missing_ok=True)
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(text)
    if replace:
        os.replace(target, path)


def public_jwk(key: ECKey) -> dict[str, Any]:
    """The public half, as registered at Passport and sent in DPoP proofs."""
    return dict(key.as_dict(private=False))


def public_jwks(key: ECKey) -> dict[str, Any]:
    """The public JWK Set to register at Passport (``--jwks-json``)."""
    jwk = public_jwk(key)
    jwk.update({"use": "sig", "alg": ALGORITHM})
    return {"keys": [jwk]}
