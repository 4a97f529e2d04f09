"""AYNI_SERVIDOR settings: every key overridable by ``AYNI_<KEY>`` (CONTRACT.md, AYNI section).

AYNI_SERVIDOR is a separate application (``relying_party_demo``); it shares only the typed
environment parsing with Passport. ``SQLALCHEMY_DATABASE_URI`` is read from
``AYNI_DATABASE_URL`` and ``ENV`` from ``AYNI_ENV``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any
from typing import get_type_hints

from minedu_sso.settings.environment import ConfigError
from minedu_sso.settings.environment import environment_name
from minedu_sso.settings.environment import settings_from_env

__all__ = [
    "AyniConfig",
    "AyniProductionConfig",
    "AyniTestingConfig",
    "ConfigError",
    "ayni_config_from_env",
]

AYNI_DEVELOPMENT_SECRET_KEY = "ayni-dev-only-secret-key-change-me"  # noqa: S105 - refused in prod


class AyniConfig:
    """Defaults: the loopback demo next to a Passport on :5000."""

    ENV: str = "development"
    SECRET_KEY: str = AYNI_DEVELOPMENT_SECRET_KEY
    # None means "a SQLite file in the instance folder", filled in by create_app.
    SQLALCHEMY_DATABASE_URI: str | None = None
    ISSUER: str = "http://127.0.0.1:5000"
    CLIENT_ID: str | None = None
    CLIENT_SECRET: str | None = None
    # "basic": client_secret_basic, front-channel authorization request, Bearer tokens.
    # "fapi2": the FAPI 2.0 Security Profile (private_key_jwt, PAR, PKCE S256, DPoP).
    CLIENT_PROFILE: str = "basic"
    # fapi2: AYNI's own private key (an EC P-256 JWK) as JSON, or a file holding it; unset =
    # the file instance/ayni-private-jwk.json made by `ayni keys generate`.
    PRIVATE_JWK: str | None = None
    PRIVATE_KEY_FILE: str | None = None
    BASE_URL: str = "http://127.0.0.1:5001"
    SCOPE: str = "openid profile email dni"
    # Browsers share cookies between ports of one host: prefix ours (CONTRACT.md).
    SESSION_COOKIE_NAME: str = "ayni_session"
    SESSION_COOKIE_HTTPONLY: bool = True
    SESSION_COOKIE_SAMESITE: str = "Lax"
    SESSION_COOKIE_SECURE: bool = False
    SESSION_IDLE_MINUTES: int = 30
    SESSION_ABSOLUTE_HOURS: int = 10
    MAX_CONTENT_LENGTH: int = 1024 * 1024
    WTF_CSRF_TIME_LIMIT: int | None = None
    BABEL_DEFAULT_LOCALE: str = "es"
    BABEL_DEFAULT_TIMEZONE: str = "America/Lima"
    # Outgoing calls to Passport (discovery, token, userinfo, JWKS).
    HTTP_TIMEOUT_SECONDS: int = 5
    # Clock skew accepted on iat/exp of ID and logout tokens.
    TOKEN_LEEWAY_SECONDS: int = 60
    # Oldest logout token accepted (OIDC Back-Channel Logout 1.0 §2.6: "recent enough").
    LOGOUT_TOKEN_MAX_AGE_SECONDS: int = 300
    # A kid not in our cached JWKS refetches it at most this often (a forged kid cannot
    # make us hammer Passport).
    JWKS_MIN_REFRESH_SECONDS: int = 10
    BOLETAS_PAGE_SIZE: int = 12
    EXPORT_MAX_ROWS: int = 5000
    PASSPORT_NAME: str = "passport"
    GENERATE_PASSWORD_PATH: str = "/generar-contrasena"  # noqa: S105 - a URL path


class AyniTestingConfig(AyniConfig):
    """The test suite: loopback everything, CSRF kept on."""

    ENV: str = "testing"
    TESTING: bool = True
    SECRET_KEY: str = "ayni-test-secret-key-" + "x" * 32
    CLIENT_ID: str | None = "ayni-test-client"
    CLIENT_SECRET: str | None = "ayni-test-secret"  # noqa: S105 - tests only


class AyniProductionConfig(AyniConfig):
    """HTTPS, PostgreSQL; create_app refuses unsafe values."""

    ENV: str = "production"
    SESSION_COOKIE_SECURE: bool = True


# What AYNI_ENV may name. AyniTestingConfig is not one: its secret key and client credentials
# are public (they are in this file); the test suite passes it to create_app itself.
AYNI_CONFIGS: dict[str, type[AyniConfig]] = {
    "development": AyniConfig,
    "production": AyniProductionConfig,
}

AYNI_ALIASES = {"SQLALCHEMY_DATABASE_URI": "AYNI_DATABASE_URL", "ENV": "AYNI_ENV"}


def ayni_config_from_env(
    environ: Mapping[str, str] | None = None, base: type[AyniConfig] | None = None
) -> dict[str, Any]:
    """Return AYNI_SERVIDOR's settings for ``AYNI_ENV`` with every ``AYNI_*`` override."""
    environ = os.environ if environ is None else environ
    name = environment_name(environ, "AYNI_ENV", AYNI_CONFIGS)
    chosen = base or AYNI_CONFIGS[name]
    settings = settings_from_env(chosen, get_type_hints(chosen), environ, "AYNI_", AYNI_ALIASES)
    if "AYNI_ENV" in environ:
        settings["ENV"] = name  # as judged: " Production " must not skip production's checks
    return settings
