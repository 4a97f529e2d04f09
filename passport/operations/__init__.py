"""The operations capability: /healthz, /readyz, /metrics and the request metrics hooks.

``/metrics`` is answered only to the networks in ``METRICS_ALLOW`` (``PASSPORT_METRICS_ALLOW``,
comma-separated CIDRs; loopback by default) and is a 404 to everybody else, so its existence
is not advertised. The caller's address is the one ``security/network.py`` trusts (after
``TRUSTED_PROXY_COUNT`` proxy hops).
"""

from __future__ import annotations

import ipaddress

from flask import Blueprint
from flask import Flask
from flask import Response
from flask import abort
from flask import current_app

from minedu_sso.settings import ConfigError
from passport.security.network import Network

bp = Blueprint("operations", __name__)

ENDPOINTS = {"operations.healthz", "operations.readyz", "operations.metrics"}


@bp.get("/healthz", endpoint="healthz")
def healthz_view() -> Response:
    """Liveness."""
    from passport.operations.health import healthz as answer

    return answer()


@bp.get("/readyz", endpoint="readyz")
def readyz_view() -> Response:
    """Readiness."""
    from passport.operations.health import readyz as answer

    return answer()


@bp.get("/metrics", endpoint="metrics")
def metrics_view() -> Response:
    """Prometheus exposition, to the allowed networks only."""
    from passport.operations.metrics import metrics_response
    from passport.security.network import client_ip
    from passport.security.network import is_in_networks

    if not is_in_networks(client_ip(), current_app.extensions["passport.metrics_allow"]):
        abort(404)
    return metrics_response()


def parse_allow(values: tuple[str, ...]) -> tuple[Network, ...]:
    """The ``METRICS_ALLOW`` CIDRs; a bad one stops start-up with a one-line message."""
    networks: list[Network] = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise ConfigError(f"PASSPORT_METRICS_ALLOW: {value!r} is not a network") from None
    return tuple(networks)


def init_app(app: Flask) -> None:
    """Register the endpoints and the per-request metrics hooks."""
    from passport.extensions import csrf
    from passport.extensions import db
    from passport.oidc.signals import tokens_issued
    from passport.operations import metrics as prometheus
    from passport.signals import database_unavailable

    tokens_issued.connect(prometheus.on_tokens_issued, sender=app)
    database_unavailable.connect(prometheus.on_database_unavailable, sender=app)
    app.extensions["passport.metrics_allow"] = parse_allow(app.config["METRICS_ALLOW"])
    app.register_blueprint(bp)
    for view in (healthz_view, readyz_view, metrics_view):
        csrf.exempt(view)
    # Probes and scrapes are JSON/text and never throttled (no per-request limiter work).
    app.extensions.setdefault("passport.json_endpoints", set()).update(
        {"operations.healthz", "operations.readyz"}
    )
    app.extensions.setdefault("passport.unlimited_endpoints", set()).update(ENDPOINTS)
    # First of the before-request hooks (only the UTF-8 check, added later, comes before it).
    app.before_request_funcs.setdefault(None, []).insert(0, prometheus.start_timer)
    # after_request hooks run in reverse order: registered early, this one runs last.
    app.after_request_funcs.setdefault(None, []).insert(0, prometheus.observe_request)
    # Answers given before Flask's request machinery (passport/pipeline.py) are counted too.
    observers = getattr(app, "answer_observers", None)
    if observers is not None:
        observers.append(prometheus.observe_answer)
    prometheus.instruments()  # every series is exposed (at 0) from the first scrape
    prometheus.install_audit_hooks()
    with app.app_context():
        for engine in db.engines.values():
            prometheus.track_pool(engine)
