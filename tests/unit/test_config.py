"""Settings come from PASSPORT_* variables; production refuses unsafe values."""

from __future__ import annotations

import contextlib

import pytest

from minedu_sso.settings import ConfigError
from minedu_sso.settings import DevelopmentConfig
from minedu_sso.settings import ProductionConfig
from minedu_sso.settings import TestingConfig
from minedu_sso.settings import config_from_env


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


# --- The test settings are the test suite's alone ---------------------------------------


@pytest.mark.parametrize("value", ["testing", " Testing "])
def test_the_environment_cannot_pick_the_test_settings(value: str) -> None:
    with pytest.raises(ConfigError, match="PASSPORT_ENV=testing is only for the test suite"):
        config_from_env({"PASSPORT_ENV": value})
    # Not even under the suite's own class: the variable must name a deployable environment.
    with pytest.raises(ConfigError, match="only for the test suite"):
        config_from_env({"PASSPORT_ENV": value}, base=TestingConfig)


def test_production_spelled_loosely_is_still_production(monkeypatch: pytest.MonkeyPatch) -> None:
    from passport import create_app

    monkeypatch.setenv("PASSPORT_ENV", " Production ")
    monkeypatch.setenv("PASSPORT_DATABASE_URL", "sqlite://")
    monkeypatch.setenv("PASSPORT_ISSUER", "https://passport.minedu.gob.pe")
    assert config_from_env()["ENV"] == "production"
    with pytest.raises(ConfigError, match="refusing to start in production: PASSPORT_SECRET_KEY"):
        create_app()


def test_an_unknown_env_setting_is_refused_not_left_unchecked() -> None:
    from passport import create_app

    with pytest.raises(ConfigError, match="ENV must be development or production"):
        create_app(ProductionConfig, overrides={**SAFE_PRODUCTION, "ENV": "staging"})


def test_production_refuses_a_captcha_test_answer() -> None:
    from passport import create_app

    with pytest.raises(ConfigError, match="CAPTCHA_TEST_ANSWER"):
        create_app(ProductionConfig, overrides={**SAFE_PRODUCTION, "CAPTCHA_TEST_ANSWER": "X"})


def test_development_names_a_captcha_test_answer_in_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from passport import create_app

    with caplog.at_level("WARNING", logger="passport"):
        create_app(
            DevelopmentConfig,
            overrides={"SQLALCHEMY_DATABASE_URI": "sqlite://", "CAPTCHA_TEST_ANSWER": "X"},
        )
    assert "CAPTCHA_TEST_ANSWER is set" in caplog.text


def test_passport_serve_refuses_the_test_settings_in_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # FlaskGroup builds the app (and so judges the settings) before any command runs.
    from click.testing import CliRunner

    import passport.serving
    from passport.cli import cli

    started: list[str] = []
    monkeypatch.setattr(passport.serving, "run_gunicorn", lambda uri, **_: started.append(uri))
    # This process has made its metrics already; a real `serve` makes its folder first.
    monkeypatch.setattr(passport.serving, "metrics_folder", contextlib.nullcontext)
    result = CliRunner().invoke(cli, ["serve"], env={"PASSPORT_ENV": "testing"})
    assert result.exit_code == 2
    assert started == []
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("passport: PASSPORT_ENV=testing is only for the test suite")


def test_passport_serve_refuses_unsafe_production_settings_before_any_worker(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from click.testing import CliRunner

    import passport.serving
    from passport.cli import cli

    started: list[str] = []
    monkeypatch.setattr(passport.serving, "run_gunicorn", lambda uri, **_: started.append(uri))
    # This process has made its metrics already; a real `serve` makes its folder first.
    monkeypatch.setattr(passport.serving, "metrics_folder", contextlib.nullcontext)
    env = {
        "PASSPORT_ENV": "production",
        "PASSPORT_DATABASE_URL": "sqlite://",
        "PASSPORT_ISSUER": "https://passport.minedu.gob.pe",
        "PASSPORT_CAPTCHA_ENABLED": "false",
    }
    result = CliRunner().invoke(cli, ["serve"], env=env)
    assert result.exit_code == 2
    assert started == []
    assert "refusing to start in production" in result.output


def test_ayni_cannot_pick_its_test_settings_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from click.testing import CliRunner

    import relying_party_demo.serving
    from minedu_sso.settings.ayni import AyniTestingConfig
    from minedu_sso.settings.ayni import ayni_config_from_env
    from relying_party_demo.cli import cli as ayni_cli

    with pytest.raises(ConfigError, match="AYNI_ENV=testing is only for the test suite"):
        ayni_config_from_env({"AYNI_ENV": "testing"})
    assert ayni_config_from_env({"AYNI_ENV": " Production "})["ENV"] == "production"
    assert ayni_config_from_env({}, base=AyniTestingConfig)["ENV"] == "testing"
    started: list[str] = []
    monkeypatch.setattr(
        relying_party_demo.serving, "run_gunicorn", lambda uri, **_: started.append(uri)
    )
    result = CliRunner().invoke(ayni_cli, ["serve"], env={"AYNI_ENV": "testing"})
    assert result.exit_code == 2
    assert started == []
    assert result.output.startswith("ayni: AYNI_ENV=testing is only for the test suite")
