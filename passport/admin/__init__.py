"""The admin console under ``/admin``: users, clients, keys and the audit log.

Every view hangs on ``passport.admin.blueprint.bp``; the guard (``guard.py``) refuses each
request unless the browser has a live SSO session of an admin who proved a second factor
recently. Views stay thin: the rules live in the services that the CLI calls too.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Import every view module (each decorates the blueprint), then register it."""
    from passport.admin import audit  # noqa: F401
    from passport.admin import clients  # noqa: F401
    from passport.admin import dashboard  # noqa: F401
    from passport.admin import guard  # noqa: F401  (installs the before-request check)
    from passport.admin import imports
    from passport.admin import keys  # noqa: F401
    from passport.admin import registration_tokens  # noqa: F401
    from passport.admin import resources  # noqa: F401
    from passport.admin import review  # noqa: F401
    from passport.admin import users  # noqa: F401
    from passport.admin.blueprint import bp
    from passport.audit.labels import event_label
    from passport.audit.labels import outcome_label
    from passport.database import utcnow
    from passport.security.forms import field_max_length

    # View modules of the console: one import line each (clients, keys, audit go here).

    app.register_blueprint(bp)
    # The CSV upload's own body limit (IMPORT_MAX_BYTES).
    app.request_class = imports.UploadLimitRequest
    app.jinja_env.globals["admin_endpoints"] = lambda: admin_endpoints(app)
    app.jinja_env.globals["now_utc"] = utcnow
    app.jinja_env.filters["event_label"] = event_label
    app.jinja_env.filters["outcome_label"] = outcome_label
    # An input's maxlength is its field's limit (the form refuses anything longer).
    app.jinja_env.filters["max_length"] = field_max_length


def admin_endpoints(app: Flask) -> frozenset[str]:
    """Endpoint names of the console (the navigation shows only sections that exist)."""
    rules = app.url_map.iter_rules()
    return frozenset(rule.endpoint for rule in rules if rule.endpoint.startswith("admin."))
