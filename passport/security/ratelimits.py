"""Per-IP throttling of the sign-in and account forms (Flask-Limiter).

Counts live in-process by default and in Redis when ``REDIS_URL`` is set, so every worker
and every host shares one count per address. Whole schools sign in from one NAT address on
pay-slip day: throttling only answers 429 for a while, it never locks an account (accounts
are locked only by ``lockout.py``, per account), and ``TRUSTED_NETWORKS`` get
``TRUSTED_RATE_LIMIT`` instead. Only POSTs count: showing a form costs nothing to limit.

Protocol endpoints (token, userinfo, JWKS...) carry no per-IP limit; a capability lists them in
``app.extensions["passport.unlimited_endpoints"]`` so the limiter skips its per-request
bookkeeping there. An endpoint in that set must not be given a limit of its own.

The authorization endpoint is one of them, with one exception the view applies itself: a
request from a browser without a session stores a pending request, so those are counted
(``AUTHORIZE_RATE_LIMIT``, ``spend_anonymous_authorize``); so is a public client's push to
/par (passport.oidc.par), which anyone knowing its client_id can make.

Settings: ``LOGIN_RATE_LIMIT`` (POST /ingresar), ``ACCOUNT_RATE_LIMIT`` (POSTs of generar /
olvidé contraseña, one shared budget), ``AUTHORIZE_RATE_LIMIT``, ``CAPTCHA_AUDIO_RATE_LIMIT`` and
``CAPTCHA_REFRESH_RATE_LIMIT`` (the CAPTCHA's own URLs), ``TRUSTED_RATE_LIMIT``, ``REDIS_URL``,
``RATELIMIT_KEY_PREFIX`` (namespace in a shared Redis).
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask import current_app
from flask import g
from flask import request

from passport.extensions import limiter
from passport.security.network import client_ip
from passport.security.network import is_trusted_client

# Seconds a rate-limit call may wait for Redis before the in-memory fallback takes over.
REDIS_TIMEOUT_SECONDS = 0.5


def _login_limit() -> str:
    config = current_app.config
    return str(config["TRUSTED_RATE_LIMIT"] if is_trusted_client() else config["LOGIN_RATE_LIMIT"])


def _account_limit() -> str:
    config = current_app.config
    if is_trusted_client():
        return str(config["TRUSTED_RATE_LIMIT"])
    return str(config["ACCOUNT_RATE_LIMIT"])


#: Decorator for the sign-in view.
login_rate_limit = limiter.shared_limit(
    _login_limit, scope="login", key_func=client_ip, methods=["POST"]
)
#: Decorator for the "generar contraseña" and "olvidé mi contraseña" views (one budget).
account_rate_limit = limiter.shared_limit(
    _account_limit, scope="account", key_func=client_ip, methods=["POST"]
)


def _captcha_limit(setting: str) -> Callable[[], str]:
    def limit() -> str:
        config = current_app.config
        return str(config["TRUSTED_RATE_LIMIT"] if is_trusted_client() else config[setting])

    return limit


#: Decorator for the audio CAPTCHA (CAPTCHA_AUDIO_RATE_LIMIT): each one costs ~1 s of CPU.
captcha_audio_rate_limit = limiter.limit(
    _captcha_limit("CAPTCHA_AUDIO_RATE_LIMIT"), key_func=client_ip
)
#: Decorator for the script's "new code" (CAPTCHA_REFRESH_RATE_LIMIT).
captcha_refresh_rate_limit = limiter.limit(
    _captcha_limit("CAPTCHA_REFRESH_RATE_LIMIT"), key_func=client_ip
)


def _authorize_limit() -> str:
    config = current_app.config
    if is_trusted_client():
        return str(config["TRUSTED_RATE_LIMIT"])
    return str(config["AUTHORIZE_RATE_LIMIT"])


_anonymous_authorize_limit = limiter.limit(
    _authorize_limit, key_func=client_ip, scope="authorize-anonymous"
)
# Set while a view applies a limit itself on an endpoint the middleware skips.
_COUNTING_IN_VIEW = "passport_rate_limit_in_view"


def spend_anonymous_authorize() -> None:
    """Count one /authorize from a browser without a session against its address's budget.

    Raises RateLimitExceeded (429, with Retry-After) once AUTHORIZE_RATE_LIMIT is spent.
    """
    setattr(g, _COUNTING_IN_VIEW, True)
    try:
        with _anonymous_authorize_limit:
            pass
    finally:
        g.pop(_COUNTING_IN_VIEW, None)


@limiter.request_filter
def _skip_unlimited_endpoint() -> bool:
    """Endpoints listed in ``passport.unlimited_endpoints`` carry no limit: skip the work
    (except for a limit the view applies itself, spend_anonymous_authorize)."""
    if g.get(_COUNTING_IN_VIEW):
        return False
    return request.endpoint in current_app.extensions.get("passport.unlimited_endpoints", ())


def init_ratelimits(app: Flask) -> None:
    """Bind the limiter to ``app``: Redis when ``REDIS_URL`` is set, else process memory."""
    config = app.config
    redis_url = config.get("REDIS_URL")
    config.setdefault("RATELIMIT_STORAGE_URI", redis_url or "memory://")
    config.setdefault("RATELIMIT_KEY_PREFIX", "passport")
    config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    config.setdefault("RATELIMIT_STRATEGY", "moving-window")
    # If Redis goes away, keep throttling per process rather than failing every sign-in
    # (why that is safe: passport/operations/health.py); the shared count resumes when
    # Redis answers again (Flask-Limiter re-checks it with a backoff of up to 32 s).
    config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", bool(redis_url))
    if redis_url:
        # A hung Redis must fail fast into that fallback, not hold every sign-in.
        options = config.setdefault("RATELIMIT_STORAGE_OPTIONS", {})
        options.setdefault("socket_timeout", REDIS_TIMEOUT_SECONDS)
        options.setdefault("socket_connect_timeout", REDIS_TIMEOUT_SECONDS)
    limiter.init_app(app)
    skip_unlimited_endpoints(app)


def skip_unlimited_endpoints(app: Flask) -> None:
    """Run Flask-Limiter's before-request check only where a limit can apply.

    Its own request filter (above) is consulted deep inside the check, after the limit
    lists, the exemption scopes and the per-request context were built (~0.1 ms a request);
    this asks the same question first. Limits a view applies itself (``spend_anonymous_authorize``)
    do not go through this hook and are counted as before.
    """
    hooks = app.before_request_funcs.setdefault(None, [])
    check = limiter._check_request_limit
    unlimited = app.extensions.setdefault("passport.unlimited_endpoints", set())

    def check_request_limit() -> None:
        if request.endpoint in unlimited:
            return
        check()

    for index, hook in enumerate(hooks):
        if hook == check:
            hooks[index] = check_request_limit
            return
    raise RuntimeError("Flask-Limiter's before-request check was not found")
