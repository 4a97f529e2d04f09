"""Passport: the OpenID Connect identity provider of the education sector."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask

from minedu_sso.resources import resource_dir
from minedu_sso.settings import DEVELOPMENT_SECRET_KEY
from minedu_sso.settings import BaseConfig
from minedu_sso.settings import ConfigError
from minedu_sso.settings import config_from_env
from passport.security.network import is_loopback_http

__version__ = "4.0.0"

log = logging.getLogger(__name__)


def create_app(
    config: type[BaseConfig] | None = None, overrides: Mapping[str, Any] | None = None
) -> Flask:
    """Build the Passport application from a settings class (default: the environment)."""
    from passport import accounts
    from passport import admin
    from passport import api
    from passport import audit
    from passport import captcha
    from passport import errors
    from passport import login
    from passport import logs
    from passport import mfa
    from passport import oidc
    from passport import operations
    from passport import passkeys
    from passport import security
    from passport import selfservice
    from passport.database import tune_engine
    from passport.extensions import babel
    from passport.extensions import csrf
    from passport.extensions import db
    from passport.extensions import migrate
    from passport.json_input import JSONProvider
    from passport.pipeline import CookieSessionInterface
    from passport.pipeline import PassportFlask

    app = PassportFlask(
        __name__,
        # The checkout's templates/ (editable install) or the wheel's copy: one lookup.
        template_folder=resource_dir("passport.templates"),
        static_folder="static",
        static_url_path="/static",
    )
    app.json = JSONProvider(app)
    app.session_interface = CookieSessionInterface()
    app.config.update(config_from_env(base=config))
    if overrides:
        app.config.update(overrides)
    fill_instance_defaults(app)
    check_settings(app)
    # First: its after-request hook then runs last, and its middleware sees every request.
    logs.init_app(app)

    db.init_app(app)
    with app.app_context():
        for engine in db.engines.values():
            tune_engine(engine, app.config["DATABASE_PING_IDLE_SECONDS"])
    migrate.init_app(app, db, directory=resource_dir("passport.migrations"), render_as_batch=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    capabilities = (
        *(security, captcha, audit, accounts, login, mfa, passkeys, selfservice),
        *(oidc, admin, api, operations),
    )
    for capability in capabilities:
        init = getattr(capability, "init_app", None)
        if init is not None:
            init(app)
    errors.register_error_pages(app)
    app.jinja_env.globals["passport_version"] = __version__
    return app


def select_locale() -> str | None:
    """Spanish first; English when the person (or ui_locales) asks for it."""
    from flask import current_app
    from flask import g
    from flask import has_request_context
    from flask import request

    if not has_request_context():  # CLI and mail sent after the response: the default
        return None
    chosen = getattr(g, "ui_locale", None)
    if chosen:
        return str(chosen)
    languages = current_app.config["LANGUAGES"]
    return request.accept_languages.best_match(languages) or languages[0]


def fill_instance_defaults(app: Flask) -> None:
    """Point unset storage settings at the instance folder (SQLite file, mail outbox)."""
    instance = Path(app.instance_path)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        instance.mkdir(parents=True, exist_ok=True)
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance / 'passport.db'}"
    if not app.config.get("MAIL_OUTBOX"):
        app.config["MAIL_OUTBOX"] = str(instance / "outbox")
    options = app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
    # A database error's message would otherwise quote its parameters (a DNI, an e-mail) into
    # the logged traceback.
    options.setdefault("hide_parameters", True)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        # An unreachable server (not a refusing one) must fail fast into a 503, not hold
        # the worker until the kernel gives up on the TCP handshake.
        connect_args = options.setdefault("connect_args", {})
        connect_args.setdefault("connect_timeout", app.config["DATABASE_CONNECT_TIMEOUT_SECONDS"])


def check_settings(app: Flask) -> None:
    """Refuse unsafe settings in production; warn about them elsewhere."""
    problems: list[str] = []
    if app.config["SECRET_KEY"] == DEVELOPMENT_SECRET_KEY:
        problems.append("PASSPORT_SECRET_KEY is the development value")
    issuer = app.config["ISSUER"]
    issuer_parts = urlsplit(issuer)
    if issuer_parts.scheme not in ("http", "https") or not issuer_parts.hostname:
        raise ConfigError(f"PASSPORT_ISSUER must be an absolute URL, not {issuer!r}")
    if issuer_parts.query or issuer_parts.fragment or issuer.endswith("/"):
        raise ConfigError("PASSPORT_ISSUER must have no query, fragment or trailing slash")
    if issuer_parts.scheme == "http" and not is_loopback_http(issuer):
        problems.append("PASSPORT_ISSUER uses http:// on a non-loopback host")
    if not app.config["CAPTCHA_ENABLED"]:
        problems.append("the CAPTCHA is off (PASSPORT_CAPTCHA_ENABLED=false)")
    if app.config.get("CAPTCHA_TEST_ANSWER"):
        problems.append("CAPTCHA_TEST_ANSWER is set (every CAPTCHA reads the same text)")
    environment = app.config["ENV"]
    if environment == "production":
        if problems:
            raise ConfigError("refusing to start in production: " + "; ".join(problems))
        if issuer_parts.scheme == "https":
            app.config["SESSION_COOKIE_SECURE"] = True
    elif environment == "development":
        for problem in problems:
            log.warning("development setting: %s", problem)
    elif environment != "testing":  # testing: only the test suite's own TestingConfig
        raise ConfigError(f"ENV must be development or production, not {environment!r}")
    # Cookies are Secure whenever the issuer is https, whatever the environment.
    if issuer_parts.scheme == "https":
        app.config["SESSION_COOKIE_SECURE"] = True
