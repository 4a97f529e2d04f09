"""CAPTCHA providers: the ``captcha`` package's image and audio, or none when disabled.

A challenge lives in the ``captcha_challenges`` table, referenced from the signed Flask
session by its random id; the row keeps only HMAC-SHA256(SECRET_KEY, id + answer), so neither
the cookie nor the database reveals the answer. The image is drawn once, when the challenge is
issued, and sent inline as a ``data:`` URI (no second request on slow links). The audio cannot
be drawn later from a hash, so asking for it issues a fresh challenge whose WAV is stored with
it (later requests, including range requests, replay the same sound).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any
from typing import Protocol

from captcha.audio import AudioCaptcha
from captcha.image import ImageCaptcha
from flask import current_app
from flask import session as browser_session
from PIL import Image
from sqlalchemy import delete

from passport.captcha.models import CaptchaChallenge
from passport.database import utcnow
from passport.extensions import db
from passport.security.app_secret import secret_keys

SESSION_KEY = "passport_captcha"
# Spoken characters in Latin American Spanish (voices/generate.py); the package's own are
# English. CAPTCHA_VOICE_DIR may point at another folder of the same layout.
SPANISH_VOICES = Path(__file__).resolve().parent / "voices" / "es"
# Longest answer we even look at: anything longer is wrong without hashing it.
MAX_ANSWER_LENGTH = 32
# The widget's input, for the forms it sits in (passport.security.forms.LimitedForm).
ANSWER_FIELD_LIMIT: Mapping[str, int] = MappingProxyType({"captcha": MAX_ANSWER_LENGTH})


@dataclass(frozen=True)
class Challenge:
    """What a page needs to show a challenge."""

    image_data_uri: str
    width: int
    height: int
    length: int


class CaptchaProvider(Protocol):
    """Issues and checks challenges bound to the current browser session."""

    is_enabled: bool

    def new_challenge(self) -> Challenge | None:
        """Issue a challenge for this browser (replacing its previous one); commit."""
        ...

    def check(self, answer: str | None) -> bool:
        """Consume this browser's challenge and say whether ``answer`` solves it; commit."""
        ...

    def audio(self) -> bytes | None:
        """The WAV of this browser's audio challenge (issued on first request); commit."""
        ...


class NullCaptchaProvider:
    """No CAPTCHA (``CAPTCHA_ENABLED=false``, refused in production): everything passes."""

    is_enabled = False

    def new_challenge(self) -> Challenge | None:
        """Nothing to show."""
        return None

    def check(self, answer: str | None) -> bool:
        """Always solved."""
        return True

    def audio(self) -> bytes | None:
        """No audio."""
        return None


def normalize_answer(answer: str) -> str:
    """Case-insensitive comparison form: upper case, no surrounding or inner spaces."""
    return "".join(answer.split()).upper()


class ImageCaptchaProvider:
    """Image (and audio) challenges drawn by the ``captcha`` package, stored hashed."""

    is_enabled = True

    def __init__(
        self,
        *,
        alphabet: str,
        length: int,
        ttl_seconds: int,
        width: int,
        height: int,
        test_answer: str | None = None,
        voice_dir: str | None = None,
    ) -> None:
        self.alphabet = alphabet
        self.length = length
        self.ttl = timedelta(seconds=ttl_seconds)
        self.width = width
        self.height = height
        self.test_answer = test_answer
        self._image = ImageCaptcha(width=width, height=height)
        self._audio = AudioCaptcha(voicedir=voice_dir or str(SPANISH_VOICES))

    # -- answers -----------------------------------------------------------------------------
    def _text(self, alphabet: str | None = None) -> str:
        if self.test_answer:
            return self.test_answer
        chars = alphabet or self.alphabet
        return "".join(secrets.choice(chars) for _ in range(self.length))

    @staticmethod
    def _answer_hash(challenge_id: str, answer: str, key: str | None = None) -> str:
        """HMAC under ``key``, by default the current SECRET_KEY (what new challenges store)."""
        secret = (key if key is not None else current_app.config["SECRET_KEY"]).encode()
        message = f"{challenge_id}:{normalize_answer(answer)}".encode()
        return hmac.new(secret, message, hashlib.sha256).hexdigest()

    def _store(self, text: str, audio_wav: bytes | None = None) -> CaptchaChallenge:
        """Replace this browser's challenge with a new one for ``text`` (caller commits)."""
        now = utcnow()
        previous = browser_session.pop(SESSION_KEY, None)
        if isinstance(previous, str):
            db.session.execute(delete(CaptchaChallenge).where(CaptchaChallenge.id == previous))
        # Abandoned challenges: swept here, on an indexed column, instead of by a cron job.
        db.session.execute(delete(CaptchaChallenge).where(CaptchaChallenge.expires_at < now))
        challenge_id = secrets.token_urlsafe(32)
        challenge = CaptchaChallenge(
            id=challenge_id,
            answer_hash=self._answer_hash(challenge_id, text),
            created_at=now,
            expires_at=now + self.ttl,
            audio_wav=audio_wav,
        )
        db.session.add(challenge)
        browser_session[SESSION_KEY] = challenge_id
        return challenge

    # -- the protocol ------------------------------------------------------------------------
    def new_challenge(self) -> Challenge | None:
        """Issue a challenge and draw its image (a 16-colour PNG of about 2 KB)."""
        text = self._text()
        self._store(text)
        db.session.commit()
        return Challenge(
            image_data_uri=self.image_data_uri(text),
            width=self.width,
            height=self.height,
            length=len(text),
        )

    def image_data_uri(self, text: str) -> str:
        """The challenge image as a ``data:image/png`` URI."""
        image = self._image.generate_image(text)
        # An adaptive 16-colour palette keeps the text legible at a quarter of the bytes.
        small = image.convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
        buffer = io.BytesIO()
        small.save(buffer, "PNG", optimize=True)
        return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")

    def check(self, answer: str | None) -> bool:
        """Single use whatever the outcome; expired or unknown challenges fail."""
        challenge_id = browser_session.pop(SESSION_KEY, None)
        if not isinstance(challenge_id, str):
            return False
        challenge = db.session.get(CaptchaChallenge, challenge_id)
        if challenge is None:
            return False
        expected, expires_at = challenge.answer_hash, challenge.expires_at
        # Deleting by id and counting rows: of two concurrent checks, only one wins.
        deleted = db.session.execute(
            delete(CaptchaChallenge).where(CaptchaChallenge.id == challenge_id)
        )
        db.session.commit()
        if getattr(deleted, "rowcount", 0) != 1 or expires_at <= utcnow():
            return False
        if not answer or len(answer) > MAX_ANSWER_LENGTH:
            return False
        # Any accepted secret: a challenge drawn before a SECRET_KEY rotation still counts.
        return any(
            hmac.compare_digest(expected, self._answer_hash(challenge_id, answer, key))
            for key in secret_keys(current_app)
        )

    def audio(self) -> bytes | None:
        """Replay this browser's audio challenge, or issue one (digits and letters spoken)."""
        challenge_id = browser_session.get(SESSION_KEY)
        if isinstance(challenge_id, str):
            challenge = db.session.get(CaptchaChallenge, challenge_id)
            if challenge is not None and challenge.audio_wav and challenge.expires_at > utcnow():
                return challenge.audio_wav
        spoken = set(self._audio.choices)
        text = self._text("".join(c for c in self.alphabet if c in spoken) or None)
        wav = bytes(self._audio.generate(normalize_answer(text)))
        self._store(text, audio_wav=wav)
        db.session.commit()
        return wav


def build_provider(config: Mapping[str, Any]) -> CaptchaProvider:
    """The provider the settings ask for."""
    if not config["CAPTCHA_ENABLED"]:
        return NullCaptchaProvider()
    return ImageCaptchaProvider(
        alphabet=config["CAPTCHA_ALPHABET"],
        length=config["CAPTCHA_LENGTH"],
        ttl_seconds=config["CAPTCHA_TTL_SECONDS"],
        width=config["CAPTCHA_IMAGE_WIDTH"],
        height=config["CAPTCHA_IMAGE_HEIGHT"],
        test_answer=config.get("CAPTCHA_TEST_ANSWER"),
        voice_dir=config.get("CAPTCHA_VOICE_DIR"),
    )
