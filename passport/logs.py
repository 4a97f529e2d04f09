"""Passport's request logs: the shared middleware (minedu_sso/logs.py) under ``passport.access``.

The request id is also stored with the audit events, queued mails and back-channel deliveries a
request creates, and bound again when that queued work is done (``bound_request_id``).
"""

from __future__ import annotations

from flask import Flask

from minedu_sso.logs import JsonFormatter
from minedu_sso.logs import bound_request_id
from minedu_sso.logs import carrying_request_id
from minedu_sso.logs import current_request_id
from minedu_sso.logs import install_request_log
from minedu_sso.logs import note

__all__ = [
    "ACCESS_LOGGER",
    "JsonFormatter",
    "bound_request_id",
    "carrying_request_id",
    "current_request_id",
    "init_app",
    "note",
]

ACCESS_LOGGER = "passport.access"


def init_app(app: Flask) -> None:
    """Trust a proxy's request id only behind TRUSTED_PROXY_COUNT proxies."""
    install_request_log(
        app,
        trust_incoming=int(app.config["TRUSTED_PROXY_COUNT"]) > 0,
        logger_name=ACCESS_LOGGER,
    )
