"""Passport settings: one class per environment, every key overridable by ``PASSPORT_<KEY>``.

Only this package reads ``os.environ``. A setting is any upper-case class attribute; its
environment variable is ``PASSPORT_`` plus its name (``SECRET_KEY`` ← ``PASSPORT_SECRET_KEY``),
parsed by the attribute's annotated type. ``DATABASE_URL`` is the one exception kept for
SQLAlchemy's own key name (``SQLALCHEMY_DATABASE_URI`` ← ``PASSPORT_DATABASE_URL``).
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
    "BaseConfig",
    "ConfigError",
    "DevelopmentConfig",
    "ProductionConfig",
    "TestingConfig",
    "config_from_env",
]

DEVELOPMENT_SECRET_KEY = "dev-only-secret-key-change-me"  # noqa: S105 - refused in production


class BaseConfig:
    """Defaults: an embedded deployment (SQLite, outbox mail) that needs nothing external."""

    ENV: str = "development"
    SECRET_KEY: str = DEVELOPMENT_SECRET_KEY
    # Previous SECRET_KEY values that still verify (cookies, links, CAPTCHAs; Flask's own name)
    # and, with KEY_ENCRYPTION_KEY unset, still decrypt keys at rest; emptied after a rotation.
    SECRET_KEY_FALLBACKS: tuple[str, ...] = ()
    # None means "a SQLite file in the instance folder", filled in by create_app.
    SQLALCHEMY_DATABASE_URI: str | None = None
    ISSUER: str = "http://127.0.0.1:5000"
    REDIS_URL: str | None = None
    # A pooled PostgreSQL connection idle longer than this is pinged before use (not every one).
    DATABASE_PING_IDLE_SECONDS: int = 10
    # Seconds to wait for a new PostgreSQL connection before the request is answered 503.
    DATABASE_CONNECT_TIMEOUT_SECONDS: int = 5
    # Browsers share cookies between ports of one host: prefix ours (CONTRACT.md).
    SESSION_COOKIE_NAME: str = "passport_session"
    SESSION_COOKIE_HTTPONLY: bool = True
    SESSION_COOKIE_SAMESITE: str = "Lax"
    MAX_CONTENT_LENGTH: int = 1024 * 1024  # 1 MiB: every body but the console's CSV upload
    # The console's CSV upload alone (passport/admin/imports.py): 16 MiB, about 200,000 rows of
    # the usual columns (a 50,000-row roster is about 4 MB).
    IMPORT_MAX_BYTES: int = 16 * 1024 * 1024
    WTF_CSRF_TIME_LIMIT: int | None = None  # the CSRF token lives as long as the session
    BABEL_DEFAULT_LOCALE: str = "es"
    BABEL_DEFAULT_TIMEZONE: str = "America/Lima"
    LANGUAGES: tuple[str, ...] = ("es", "en")

    # Branding and help desk, as in the "Generar tu contraseña" e-mail of the seed.
    BRAND_NAME: str = "MINEDU"
    PLATFORM_NAME: str = "Plataforma de Servicios para el Servidor Público"
    DEFAULT_SYSTEM_NAME: str = "PASSPORT"
    HELPDESK_EMAIL: str = "mesadeayuda@minedu.gob.pe"
    HELPDESK_SUBJECT: str = (
        "Plataforma de Servicios para el Servidor Público – Generación de contraseña"
    )
    HELPDESK_PHONE: str = "615-5800 anexo 50505"
    HELPDESK_HOURS: str = "Atención de lunes a viernes de 9:00 am a 5:00 pm"
    # "Cuerpo:" line of the help-desk paragraph of the mails (accounts capability).
    HELPDESK_BODY: str = "Datos personales, de contacto y el motivo."

    # Mail.
    MAIL_BACKEND: str = "outbox"  # smtp | outbox | console
    MAIL_OUTBOX: str | None = None  # None means "<instance>/outbox"
    MAIL_SERVER: str = "localhost"
    MAIL_PORT: int = 25
    MAIL_USE_TLS: bool = False
    MAIL_USE_SSL: bool = False
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    MAIL_DEFAULT_SENDER: str = "Mensajería del Ministerio de Educación <mailmed@minedu.gob.pe>"

    # Accounts and links.
    ACTIVATION_LINK_TTL_HOURS: int = 24
    RESET_LINK_TTL_MINUTES: int = 60
    # The one-time link an admin needs to enrol the second factor (passport/mfa/enrolment.py).
    ADMIN_ENROLMENT_LINK_TTL_HOURS: int = 24
    PASSWORD_MIN_LENGTH: int = 8
    PASSWORD_MAX_LENGTH: int = 15
    # Argon2id at OWASP's first option (19 MiB, t=2, p=1; README "Password hashing"); a stored
    # hash with other parameters is rehashed at its next sign-in.
    ARGON2_TIME_COST: int = 2
    ARGON2_MEMORY_COST_KIB: int = 19456
    ARGON2_PARALLELISM: int = 1
    # Hashes running at once in one process; the rest queue (0: the CPUs available to it).
    PASSWORD_HASH_CONCURRENCY: int = 0

    # CAPTCHA.
    CAPTCHA_ENABLED: bool = True
    CAPTCHA_TTL_SECONDS: int = 300
    CAPTCHA_LENGTH: int = 5

    # SSO session.
    SSO_COOKIE_NAME: str = "passport_sso"
    SSO_IDLE_TIMEOUT_MINUTES: int = 30
    SSO_ABSOLUTE_TIMEOUT_HOURS: int = 10
    # Adding a passkey needs a sign-in (or re-confirmation) within this many minutes.
    PASSKEY_REAUTH_MINUTES: int = 5

    # Brute force: per-account lockout (Keycloak-style) and per-IP throttling.
    LOCKOUT_FAILURES: int = 5
    LOCKOUT_BASE_SECONDS: int = 60
    LOCKOUT_MAX_SECONDS: int = 3600
    LOCKOUT_FAILURE_RESET_HOURS: int = 12
    LOGIN_RATE_LIMIT: str = "30 per minute"
    TRUSTED_RATE_LIMIT: str = "600 per minute"
    ACCOUNT_RATE_LIMIT: str = "10 per 10 minutes"  # generar / olvidé contraseña
    # /authorize from a browser without a session: each one stores a pending request.
    AUTHORIZE_RATE_LIMIT: str = "60 per minute"
    TRUSTED_NETWORKS: tuple[str, ...] = ()
    TRUSTED_PROXY_COUNT: int = 0  # X-Forwarded-For hops to trust (0 = behind no proxy)

    # --- Operations (passport/operations) ---
    # Networks (CIDRs) that may read /metrics; everybody else gets a 404.
    METRICS_ALLOW: tuple[str, ...] = ("127.0.0.0/8", "::1/128")
    # Seconds a client is asked to wait (Retry-After) when the database does not answer.
    UNAVAILABLE_RETRY_AFTER_SECONDS: int = 10

    # --- Login, CAPTCHA, SSO session (passport/login, passport/captcha; login capability) ---
    # When set, every CAPTCHA challenge's text is this value (tests, the browser test).
    # create_app refuses it in production.
    CAPTCHA_TEST_ANSWER: str | None = None
    # Characters of a challenge: no look-alikes (0/O, 1/I/L, 5/S, 2/Z, 8/B).
    CAPTCHA_ALPHABET: str = "ACDEFGHJKMNPRTUVWXY34679"
    CAPTCHA_IMAGE_WIDTH: int = 150
    CAPTCHA_IMAGE_HEIGHT: int = 50
    # Folder of per-character WAV voices for the audio CAPTCHA (layout of the `captcha`
    # package: one folder per character). None = Passport's Spanish voices (captcha/voices).
    CAPTCHA_VOICE_DIR: str | None = None
    # last_seen_at is written at most this often per session (idle timeout precision).
    SSO_TOUCH_INTERVAL_SECONDS: int = 60
    # Per-IP limits of the CAPTCHA's own URLs: an audio challenge costs about a second of CPU.
    CAPTCHA_AUDIO_RATE_LIMIT: str = "10 per 10 minutes"
    CAPTCHA_REFRESH_RATE_LIMIT: str = "60 per 10 minutes"

    # --- Second factor and Mi cuenta (passport/mfa, passport/account) ---
    # The account label's issuer in authenticator apps ("MINEDU Passport: 12345678").
    TOTP_ISSUER_NAME: str = "MINEDU Passport"
    # Time between a correct password and the second step before the person starts again.
    MFA_CHALLENGE_TTL_SECONDS: int = 300
    # Wrong codes allowed on one second step (each also counts toward the account lockout).
    MFA_CHALLENGE_MAX_ATTEMPTS: int = 5

    # --- Admin console (passport/admin) ---
    # Console inactivity after which the session must prove its second factor again
    # (shorter than SSO_IDLE_TIMEOUT_MINUTES).
    ADMIN_IDLE_TIMEOUT_MINUTES: int = 15
    # An uploaded import file waits this long for its confirmation after the preview.
    ADMIN_IMPORT_TTL_MINUTES: int = 60
    # Outgoing mail queue (bulk-import activation mails; passport/accounts/mail_queue.py).
    MAIL_QUEUE_MAX_ATTEMPTS: int = 5  # then the mail is marked failed
    MAIL_QUEUE_RETRY_SECONDS: int = 60  # first retry delay; doubles on each failure
    # Send queued mails from a thread after the import's response (False: in the worker,
    # after the response; the tests use that to be deterministic).
    MAIL_QUEUE_IN_BACKGROUND: bool = True
    # `passport maintenance purge` (passport/maintenance/purge.py): sent, failed or cancelled
    # mails are kept this long; audit events this long (0 keeps them forever; the oldest
    # are removed with an anchor so the hash chain still verifies).
    MAIL_RETENTION_DAYS: int = 30
    AUDIT_RETENTION_DAYS: int = 1825

    # --- Admin API (passport/api) ---
    API_RATE_LIMIT: str = "300 per minute"  # per client IP, every /api/v1 request
    API_MAX_BODY_BYTES: int = 16 * 1024  # a create body is well under 1 KiB

    # --- OpenID Provider (passport/oidc; owned by the oidc capability) ---
    # Key material for signing keys and TOTP secrets at rest (HKDF-SHA256 per purpose); None =
    # SECRET_KEY. "NEW,OLD": NEW encrypts, both decrypt, until `passport keys reencrypt`.
    KEY_ENCRYPTION_KEY: str | None = None
    SIGNING_KEY_ALG: str = "RS256"  # default algorithm of new keys (RS256 | ES256)
    KEY_ROTATION_DELAY_SECONDS: int = 86400  # a "next" key is published this long before use
    AUTHORIZATION_CODE_TTL_SECONDS: int = 60
    ACCESS_TOKEN_TTL_SECONDS: int = 600
    ID_TOKEN_TTL_SECONDS: int = 600
    REFRESH_TOKEN_TTL_SECONDS: int = 8 * 3600  # bound to the SSO session unless offline_access
    OFFLINE_REFRESH_TOKEN_TTL_SECONDS: int = 30 * 86400
    PENDING_AUTHORIZATION_TTL_SECONDS: int = 900  # time to sign in before /authorize is lost
    # RFC 9126: life of a request_uri from /par (read once by /authorize).
    PUSHED_AUTHORIZATION_REQUEST_TTL_SECONDS: int = 60
    # True: every client must push its authorization requests to /par (RFC 9126 §5).
    REQUIRE_PUSHED_AUTHORIZATION_REQUESTS: bool = False
    LOGOUT_TOKEN_TTL_SECONDS: int = 120
    BACKCHANNEL_TIMEOUT_MS: int = 2000
    BACKCHANNEL_MAX_ATTEMPTS: int = 5
    # Total deadlines (connect, TLS, headers and body) of Passport's own outbound requests.
    JWKS_URI_TIMEOUT_MS: int = 3000
    JWKS_URI_CACHE_SECONDS: int = 300
    # A jwks_uri that failed is not asked again for this long (every process keeps its own).
    JWKS_URI_FAILURE_CACHE_SECONDS: int = 30
    # Fetches of one client's jwks_uri (cache misses), counted in the rate-limit storage.
    JWKS_URI_FETCH_RATE_LIMIT: str = "10 per minute"
    # Production only: internal networks (CIDRs) Passport may call anyway (jwks_uri,
    # back-channel logout); every other loopback, private, link-local... address is refused.
    OUTBOUND_ALLOW: tuple[str, ...] = ()
    DISCOVERY_CACHE_SECONDS: int = 3600
    JWKS_CACHE_SECONDS: int = 600
    # DPoP (RFC 9449, passport/oidc/dpop.py): a proof's iat may be this far from now, either
    # way; with REQUIRE_NONCE every proof must carry a server nonce (DPoP-Nonce; one more
    # round trip for a client's first request, against proofs made in advance).
    DPOP_PROOF_WINDOW_SECONDS: int = 60
    DPOP_REQUIRE_NONCE: bool = False
    CLIENT_CACHE_SECONDS: int = 5  # a disabled client or a new secret takes effect within this
    # Non-OIDC scopes clients may be granted (client_credentials, resource servers).
    API_SCOPES: tuple[str, ...] = ("boletas:read", "legajos:read")


class DevelopmentConfig(BaseConfig):
    """The embedded demo: loopback, SQLite, outbox mail."""


class TestingConfig(BaseConfig):
    """The test suite: cheap Argon2 parameters, CSRF kept on (tests read the token)."""

    ENV: str = "testing"
    TESTING: bool = True
    ARGON2_TIME_COST: int = 1
    ARGON2_MEMORY_COST_KIB: int = 1024
    ARGON2_PARALLELISM: int = 1
    MAIL_BACKEND: str = "outbox"
    MAIL_QUEUE_IN_BACKGROUND: bool = False  # queued mails go out before the test goes on


class ProductionConfig(BaseConfig):
    """PostgreSQL, Redis, real mail; create_app refuses unsafe values."""

    ENV: str = "production"
    SESSION_COOKIE_SECURE: bool = True
    MAIL_BACKEND: str = "smtp"


# What PASSPORT_ENV may name (CONTRACT.md). TestingConfig is not one: the test suite passes
# it to create_app itself. A server started with it would take the development secret key, a
# switched-off CAPTCHA and a fixed CAPTCHA answer without a word, and Flask's TESTING mode.
CONFIGS: dict[str, type[BaseConfig]] = {
    "development": DevelopmentConfig,
    "production": ProductionConfig,
}

# Environment names whose variable is not simply PASSPORT_<KEY>.
ALIASES = {"SQLALCHEMY_DATABASE_URI": "PASSPORT_DATABASE_URL", "ENV": "PASSPORT_ENV"}


def config_from_env(
    environ: Mapping[str, str] | None = None, base: type[BaseConfig] | None = None
) -> dict[str, Any]:
    """Return the settings for ``PASSPORT_ENV`` with every ``PASSPORT_*`` override applied.

    ``base`` (the test suite's ``TestingConfig``) replaces the class ``PASSPORT_ENV`` picks;
    the variable itself must still name a deployable environment when it is set.
    """
    environ = os.environ if environ is None else environ
    name = environment_name(environ, "PASSPORT_ENV", CONFIGS)
    chosen = base or CONFIGS[name]
    settings = settings_from_env(chosen, get_type_hints(chosen), environ, "PASSPORT_", ALIASES)
    if "PASSPORT_ENV" in environ:
        settings["ENV"] = name  # as judged: " Production " must not skip production's checks
    return settings
