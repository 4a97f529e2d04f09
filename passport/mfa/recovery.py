"""Recovery codes: ten single-use codes shown once, kept as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import update

from passport.database import utcnow
from passport.extensions import db
from passport.mfa.models import RecoveryCode

RECOVERY_CODE_COUNT = 10
# Unambiguous characters (no 0/O, 1/I/L): codes are read from paper and typed by hand.
_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
_GROUPS = 2
_GROUP_LENGTH = 5  # 10 characters of 31 symbols: ~49 bits, ample for a hashed one-shot code


def new_recovery_code() -> str:
    """A random code like ``7KD3M-Q9XWA``."""
    groups = (
        "".join(secrets.choice(_ALPHABET) for _ in range(_GROUP_LENGTH)) for _ in range(_GROUPS)
    )
    return "-".join(groups)


def canonical(code: str) -> str:
    """The code as hashed: upper case, no separators or spaces."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


def hash_recovery_code(code: str) -> str:
    """SHA-256 hex of the canonical code (high-entropy and single-use: no slow hash needed)."""
    return hashlib.sha256(canonical(code).encode("utf-8")).hexdigest()


def looks_like_recovery_code(code: str) -> bool:
    """True when ``code`` has the shape of a recovery code (not a 6-digit TOTP code)."""
    plain = canonical(code)
    return len(plain) == _GROUPS * _GROUP_LENGTH and all(ch in _ALPHABET for ch in plain)


def replace_recovery_codes(user_id: int) -> list[str]:
    """Delete the user's codes and add a fresh set; return them in clear (no commit)."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    codes = [new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    now = utcnow()
    for code in codes:
        db.session.add(
            RecoveryCode(user_id=user_id, code_hash=hash_recovery_code(code), created_at=now)
        )
    return codes


def use_recovery_code(user_id: int, code: str) -> bool:
    """Spend one unused code of the user; True when it matched (no commit).

    A conditional UPDATE, so two requests racing with the same code cannot both succeed.
    """
    if not looks_like_recovery_code(code):
        return False
    result = db.session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user_id,
            RecoveryCode.code_hash == hash_recovery_code(code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def remaining_recovery_codes(user_id: int) -> int:
    """How many unused recovery codes the user has."""
    count = db.session.scalar(
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None))
    )
    return int(count or 0)


def delete_recovery_codes(user_id: int) -> None:
    """Forget every recovery code of the user (no commit)."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
