"""What other capabilities call: check an answer, issue a challenge for a page."""

from __future__ import annotations

from flask import current_app

from passport.captcha.providers import CaptchaProvider
from passport.captcha.providers import Challenge


def captcha_provider() -> CaptchaProvider:
    """The app's provider (image, or null when ``CAPTCHA_ENABLED`` is false)."""
    provider: CaptchaProvider = current_app.extensions["passport.captcha"]
    return provider


def is_captcha_enabled() -> bool:
    """True when pages must show, and forms must check, a CAPTCHA."""
    return captcha_provider().is_enabled


def check_captcha(answer: str | None) -> bool:
    """True when solved (or the CAPTCHA is off); consumes the challenge whatever the outcome.

    Case-insensitive; an expired (``CAPTCHA_TTL_SECONDS``), reused or missing challenge fails.
    """
    return captcha_provider().check(answer)


def new_captcha_challenge() -> Challenge | None:
    """Issue this browser's challenge for a page (None when the CAPTCHA is off)."""
    return captcha_provider().new_challenge()
