"""Helpers for the login tests: the known CAPTCHA for every test, extra apps, page comparison."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.test import TestResponse

from tests.conftest import make_test_app
from tests.helpers import CAPTCHA
from tests.helpers import CSRF_FIELD


@pytest.fixture(autouse=True)
def known_captcha(known_captcha: str) -> str:
    """Every test here reads the known CAPTCHA answer (tests/helpers.py)."""
    return known_captcha


def body_without_noise(response: TestResponse) -> str:
    """The page minus what legitimately differs between two renders (image, token, DNI)."""
    text = response.get_data(as_text=True)
    text = re.sub(r'src="data:image/png;base64,[^"]+"', 'src=""', text)
    text = CSRF_FIELD.sub('name="csrf_token" type="hidden" value=""', text)
    return re.sub(r'value="[0-9]{8}"', 'value=""', text)


@pytest.fixture
def fresh_app_factory(database_url: str, outbox_dir: Path) -> Iterator[Any]:
    """Build extra apps on the test database; the shared limiter is re-bound afterwards."""
    built: list[Flask] = []

    def build(**overrides: Any) -> Flask:
        app = make_test_app(database_url, outbox_dir, CAPTCHA_TEST_ANSWER=CAPTCHA, **overrides)
        built.append(app)
        return app

    yield build
    if built:
        # Flask-Limiter keeps one storage per limiter object: give it back to an in-process
        # one so later tests do not count against Redis or another app's settings.
        make_test_app(database_url, outbox_dir)
