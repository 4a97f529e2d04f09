"""Outgoing mail: plain-text + HTML messages, through the transport MAIL_BACKEND names."""

from __future__ import annotations

import logging

from flask import Flask

from passport.mail.errors import MailDeliveryError
from passport.mail.messages import send_message

__all__ = ["MailDeliveryError", "init_app", "send_message"]

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    """Set up Flask-Mail and pick the transport (smtp, outbox or console)."""
    from minedu_sso.settings import ConfigError
    from passport.extensions import mail
    from passport.mail.transports import transport_from_settings

    # The console backend writes live password links into the logs: never in production.
    if app.config["MAIL_BACKEND"] == "console" and app.config.get("ENV") == "production":
        raise ConfigError("refusing to start in production: PASSPORT_MAIL_BACKEND is console")
    mail.init_app(app)
    transport = transport_from_settings(app.config["MAIL_BACKEND"], app.config["MAIL_OUTBOX"])
    app.extensions["passport.mail_transport"] = transport
    if transport.name == "console":
        log.warning("mail is not delivered: the console backend only logs it")
