"""CAPTCHA verification: bound to the browser session, single use, expiring, case-insensitive."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from flask import Flask
from flask import session

from passport.captcha.models import CaptchaChallenge
from passport.captcha.providers import SESSION_KEY
from passport.captcha.providers import ImageCaptchaProvider
from passport.captcha.providers import NullCaptchaProvider
from passport.captcha.providers import normalize_answer
from passport.captcha.services import check_captcha
from passport.captcha.services import new_captcha_challenge
from passport.database import utcnow
from passport.extensions import db
from tests.conftest import make_test_app


@pytest.fixture
def known_answer(app: Flask) -> Iterator[str]:
    """Every challenge reads ``Ab3dE`` while the test runs."""
    provider = app.extensions["passport.captcha"]
    assert isinstance(provider, ImageCaptchaProvider)
    provider.test_answer = "Ab3dE"
    try:
        yield "Ab3dE"
    finally:
        provider.test_answer = None


def test_the_right_answer_passes_once(app: Flask, known_answer: str) -> None:
    with app.test_request_context("/"):
        new_captcha_challenge()
        assert check_captcha(known_answer) is True
        assert check_captcha(known_answer) is False


def test_the_answer_is_case_insensitive(app: Flask, known_answer: str) -> None:
    with app.test_request_context("/"):
        new_captcha_challenge()
        assert check_captcha(" ab3de ") is True


def test_a_wrong_answer_consumes_the_challenge(app: Flask, known_answer: str) -> None:
    with app.test_request_context("/"):
        new_captcha_challenge()
        assert check_captcha("XXXXX") is False
        assert check_captcha(known_answer) is False
        assert db.session.query(CaptchaChallenge).count() == 0


def test_an_expired_challenge_fails(app: Flask, known_answer: str) -> None:
    ttl = app.config["CAPTCHA_TTL_SECONDS"]
    with time_machine.travel(utcnow(), tick=False) as traveller, app.test_request_context("/"):
        new_captcha_challenge()
        traveller.shift(timedelta(seconds=ttl + 1))
        assert check_captcha(known_answer) is False


def test_a_challenge_just_before_expiry_passes(app: Flask, known_answer: str) -> None:
    ttl = app.config["CAPTCHA_TTL_SECONDS"]
    with time_machine.travel(utcnow(), tick=False) as traveller, app.test_request_context("/"):
        new_captcha_challenge()
        traveller.shift(timedelta(seconds=ttl - 1))
        assert check_captcha(known_answer) is True


def test_without_a_challenge_in_the_session_nothing_passes(app: Flask, known_answer: str) -> None:
    with app.test_request_context("/"):
        assert check_captcha(known_answer) is False


def test_a_replayed_session_cannot_reuse_a_solved_challenge(app: Flask, known_answer: str) -> None:
    with app.test_request_context("/"):
        new_captcha_challenge()
        stolen = session[SESSION_KEY]
        assert check_captcha(known_answer) is True
    with app.test_request_context("/"):
        session[SESSION_KEY] = stolen  # an old copy of the signed cookie
        assert check_captcha(known_answer) is False


def test_the_challenge_of_another_browser_does_not_count(app: Flask, known_answer: str) -> None:
    with app.test_request_context("/"):
        new_captcha_challenge()
    with app.test_request_context("/"):
        assert check_captcha(known_answer) is False


def test_the_answer_is_not_stored_anywhere(app: Flask, known_answer: str) -> None:
    with app.test_request_context("/"):
        new_captcha_challenge()
        row = db.session.get(CaptchaChallenge, session[SESSION_KEY])
        assert row is not None
        assert known_answer.upper() not in row.answer_hash
        assert known_answer.upper() not in str(dict(session))


def test_the_image_is_small(app: Flask) -> None:
    with app.test_request_context("/"):
        challenge = new_captcha_challenge()
        assert challenge is not None
        assert challenge.image_data_uri.startswith("data:image/png;base64,")
        assert len(challenge.image_data_uri) < 6000


def test_the_audio_is_a_wav_that_replays_the_same_bytes(app: Flask, known_answer: str) -> None:
    provider = app.extensions["passport.captcha"]
    with app.test_request_context("/"):
        first = provider.audio()
        assert first is not None
        assert first[:4] == b"RIFF"
        assert first[8:12] == b"WAVE"
        assert provider.audio() == first
        assert check_captcha(known_answer) is True


def test_the_audio_replaces_the_image_challenge(app: Flask) -> None:
    provider = app.extensions["passport.captcha"]
    with app.test_request_context("/"):
        new_captcha_challenge()
        image_challenge = session[SESSION_KEY]
        provider.audio()
        assert session[SESSION_KEY] != image_challenge
        assert db.session.get(CaptchaChallenge, image_challenge) is None


def test_answers_are_normalized_without_spaces_and_in_upper_case() -> None:
    assert normalize_answer(" a b3 \t") == "AB3"


def test_the_null_provider_lets_everything_through() -> None:
    provider = NullCaptchaProvider()
    assert provider.check(None) is True
    assert provider.new_challenge() is None


def test_a_disabled_captcha_checks_true(database_url: str, outbox_dir: Path) -> None:
    app = make_test_app(database_url, outbox_dir, CAPTCHA_ENABLED=False)
    with app.test_request_context("/"):
        assert check_captcha(None) is True
        assert new_captcha_challenge() is None


def test_production_refuses_a_test_answer(database_url: str, outbox_dir: Path) -> None:
    from minedu_sso.settings import ConfigError

    with pytest.raises(ConfigError, match="CAPTCHA_TEST_ANSWER"):
        make_test_app(
            database_url,
            outbox_dir,
            ENV="production",
            CAPTCHA_TEST_ANSWER="x",
            ISSUER="https://passport.minedu.gob.pe",
        )


def test_every_character_of_the_alphabet_has_a_spanish_voice(app: Flask) -> None:
    from passport.captcha.providers import SPANISH_VOICES

    spoken = {path.name for path in SPANISH_VOICES.iterdir() if path.is_dir()}
    assert set(app.config["CAPTCHA_ALPHABET"]) <= spoken
    assert set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") <= spoken
    provider = app.extensions["passport.captcha"]
    assert provider._audio._voicedir == str(SPANISH_VOICES)
