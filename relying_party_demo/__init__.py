"""AYNI_SERVIDOR: the ministry app that shows the legajo and Mi boleta over Passport SSO.

A separate application: it knows Passport only through discovery, tokens and HTTP.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask

from minedu_sso.resources import resource_dir
from minedu_sso.settings.ayni import AYNI_DEVELOPMENT_SECRET_KEY
from minedu_sso.settings.ayni import AyniConfig
from minedu_sso.settings.ayni import ConfigError
from minedu_sso.settings.ayni import ayni_config_from_env

__version__ = "1.0.0"

log = logging.getLogger(__name__)


def create_app(
    config: type[AyniConfig] | None = None, overrides: Mapping[str, Any] | None = None
) -> Flask:
    """Build AYNI_SERVIDOR from a settings class (default: the ``AYNI_*`` environment)."""
    from minedu_sso.logs import install_request_log
    from relying_party_demo import auth
    from relying_party_demo import boletas
    from relying_party_demo import errors
    from relying_party_demo import exports
    from relying_party_demo import legajo
    from relying_party_demo import security
    from relying_party_demo.extensions import babel
    from relying_party_demo.extensions import csrf
    from relying_party_demo.extensions import db
    from relying_party_demo.extensions import migrate

    # Flask's default instance folder: instance/ beside the checkout's packages, or
    # <prefix>/var/relying_party_demo-instance for an installed wheel.
    app = Flask(
        __name__,
        template_folder=resource_dir("relying_party_demo.templates"),
        static_folder="static",
        static_url_path="/static",
    )
    app.config.update(ayni_config_from_env(base=config))
    if overrides:
        app.config.update(overrides)
    fill_instance_defaults(app)
    check_settings(app)
    # JSON access lines with the route pattern: never the callback's code or state.
    # No trusted proxy is configured for the demo, so its request ids are its own.
    install_request_log(app, trust_incoming=False, logger_name="relying_party_demo.access")

    db.init_app(app)
    # Its own version table: even if pointed at Passport's database by mistake, the two
    # migration histories cannot clobber each other.
    migrate.init_app(
        app,
        db,
        directory=resource_dir("relying_party_demo.migrations"),
        render_as_batch=True,
        version_table="ayni_alembic_version",
    )
    csrf.init_app(app)
    babel.init_app(app, locale_selector=lambda: "es")
    for capability in (security, auth, legajo, boletas, exports):
        capability.init_app(app)
    errors.register_error_pages(app)
    app.jinja_env.globals["ayni_version"] = __version__
    return app


def fill_instance_defaults(app: Flask) -> None:
    """Point an unset database at a SQLite file in the instance folder."""
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        instance = Path(app.instance_path)
        instance.mkdir(parents=True, exist_ok=True)
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance / 'ayni.db'}"
    # A logged database error must not quote its parameters (a DNI, a person's data).
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {}).setdefault("hide_parameters", True)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        app.config["SQLALCHEMY_ENGINE_OPTIONS"].setdefault("pool_pre_ping", True)


def check_settings(app: Flask) -> None:
    """Refuse unsafe settings in production; warn about them in development."""
    for key in ("ISSUER", "BASE_URL"):
        value = app.config[key]
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"AYNI_{key} must be an absolute URL, not {value!r}")
        if parts.query or parts.fragment or value.endswith("/"):
            raise ConfigError(f"AYNI_{key} must have no query, fragment or trailing slash")
    problems: list[str] = []
    if app.config["SECRET_KEY"] == AYNI_DEVELOPMENT_SECRET_KEY:
        problems.append("AYNI_SECRET_KEY is the development value")
    problems.extend(client_problems(app))
    if urlsplit(app.config["BASE_URL"]).scheme == "https":
        app.config["SESSION_COOKIE_SECURE"] = True
    if app.config["ENV"] == "production":
        if app.config["BASE_URL"].startswith("http://"):
            problems.append("AYNI_BASE_URL uses http://")
        issuer = urlsplit(app.config["ISSUER"])
        # RFC 8252 §7.3: plain http is tolerable only on loopback.
        if issuer.scheme == "http" and issuer.hostname not in ("127.0.0.1", "localhost", "::1"):
            problems.append("AYNI_ISSUER uses http:// on a non-loopback host")
        if problems:
            raise ConfigError("refusing to start in production: " + "; ".join(problems))
    elif app.config["ENV"] == "development":
        for problem in problems:
            log.warning("development setting: %s", problem)
    elif app.config["ENV"] != "testing":  # testing: only the test suite's AyniTestingConfig
        raise ConfigError(f"ENV must be development or production, not {app.config['ENV']!r}")


def client_problems(app: Flask) -> list[str]:
    """What keeps sign-in from working with the chosen client profile."""
    from relying_party_demo.auth.client import PROFILES
    from relying_party_demo.auth.client_key import key_file_problem

    profile = app.config["CLIENT_PROFILE"]
    if profile not in PROFILES:
        raise ConfigError(
            f"AYNI_CLIENT_PROFILE must be one of {', '.join(PROFILES)}, not {profile!r}"
        )
    problems: list[str] = []
    if profile == "fapi2":
        if not app.config["CLIENT_ID"]:
            problems.append("AYNI_CLIENT_ID is not set (sign-in is off)")
        key_problem = key_file_problem(app.config, app.instance_path)
        if key_problem:
            problems.append(f"{key_problem} (sign-in is off)")
    elif not app.config["CLIENT_ID"] or not app.config["CLIENT_SECRET"]:
        problems.append("AYNI_CLIENT_ID / AYNI_CLIENT_SECRET are not set (sign-in is off)")
    return problems
