"""Settings come from PASSPORT_* variables; production refuses unsafe values."""

from __future__ import annotations

import pytest

from config import ConfigError
from config import ProductionConfig
from config import config_from_env


def test_every_setting_is_overridable_by_its_environment_variable() -> None:
    settings = config_from_env(
        {
            "PASSPORT_ISSUER": "https://passport.minedu.gob.pe",
            "PASSPORT_CAPTCHA_ENABLED": "false",
            "PASSPORT_LOCKOUT_FAILURES": "7",
            "PASSPORT_TRUSTED_NETWORKS": "10.0.0.0/8, 192.168.0.0/16",
            "PASSPORT_DATABASE_URL": "postgresql+psycopg://db/passport",
        }
    )
    assert settings["ISSUER"] == "https://passport.minedu.gob.pe"
    assert settings["CAPTCHA_ENABLED"] is False
    assert settings["LOCKOUT_FAILURES"] == 7
    assert settings["TRUSTED_NETWORKS"] == ("10.0.0.0/8", "192.168.0.0/16")
    assert settings["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://db/passport"


def test_defaults_are_the_embedded_development_deployment() -> None:
    settings = config_from_env({})
    assert settings["ENV"] == "development"
    assert settings["MAIL_BACKEND"] == "outbox"
    assert settings["ISSUER"] == "http://127.0.0.1:5000"
    assert settings["CAPTCHA_ENABLED"] is True
    assert settings["REDIS_URL"] is None


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("PASSPORT_ENV", "staging"),
        ("PASSPORT_CAPTCHA_ENABLED", "maybe"),
        ("PASSPORT_MAIL_PORT", "x"),
    ],
)
def test_malformed_values_are_refused_with_the_variable_named(variable: str, value: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        config_from_env({variable: value})


SAFE_PRODUCTION = {
    "SECRET_KEY": "a-long-random-production-secret-0123456789",
    "ISSUER": "https://passport.minedu.gob.pe",
    "SQLALCHEMY_DATABASE_URI": "sqlite://",
}


@pytest.mark.parametrize(
    ("override", "reason"),
    [
        ({"SECRET_KEY": "dev-only-secret-key-change-me"}, "SECRET_KEY"),
        ({"ISSUER": "http://passport.minedu.gob.pe"}, "http://"),
        ({"CAPTCHA_ENABLED": False}, "CAPTCHA"),
    ],
)
def test_production_refuses_unsafe_settings(override: dict[str, object], reason: str) -> None:
    from passport import create_app

    with pytest.raises(ConfigError, match=reason):
        create_app(ProductionConfig, overrides={**SAFE_PRODUCTION, **override})


def test_production_accepts_a_loopback_http_issuer() -> None:
    from passport import create_app

    app = create_app(
        ProductionConfig, overrides={**SAFE_PRODUCTION, "ISSUER": "http://127.0.0.1:5000"}
    )
    assert app.config["ISSUER"] == "http://127.0.0.1:5000"


def test_the_locale_selector_answers_outside_a_request() -> None:
    from passport import select_locale

    assert select_locale() is None
