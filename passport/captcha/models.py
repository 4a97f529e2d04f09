"""Outstanding CAPTCHA challenges: only a keyed hash of the answer is kept."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import LargeBinary
from sqlalchemy import String
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from passport.database import Base
from passport.database import utcnow


class CaptchaChallenge(Base):
    """One challenge, referenced from the signed Flask session by its random ``id``.

    Deleting the row on the first check makes it single-use even when an old session cookie
    is replayed (the signed cookie alone cannot be revoked).
    """

    __tablename__ = "captcha_challenges"

    id: Mapped[str] = mapped_column(String(43), primary_key=True)
    # HMAC-SHA256(SECRET_KEY, id + upper-cased answer): the answer itself is never stored.
    answer_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    # The spoken version, rendered once on request so replays and range requests agree.
    audio_wav: Mapped[bytes | None] = mapped_column(LargeBinary)
