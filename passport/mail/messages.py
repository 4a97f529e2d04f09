"""Building and sending messages: a plain-text part and an HTML part, rendered in a locale."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask import render_template
from flask_babel import force_locale
from flask_babel.speaklater import LazyString
from flask_mail import Message

from passport.mail.errors import MailDeliveryError
from passport.mail.transports import MailTransport


@dataclass(frozen=True)
class RenderedMail:
    """A subject and its two bodies, ready to send."""

    subject: str
    text: str
    html: str


def current_transport() -> MailTransport:
    """The transport chosen at start-up from MAIL_BACKEND."""
    transport: MailTransport = current_app.extensions["passport.mail_transport"]
    return transport


def send_message(to: str, subject: str, text: str, html: str | None = None) -> None:
    """Send one message to one address through the configured transport."""
    message = Message(subject=subject, recipients=[to], body=text, html=html)
    # Flask-Mail refuses newlines in headers only when sending over SMTP; refuse them for
    # every transport so no header can be injected through a subject or an address.
    if message.has_bad_headers():
        raise MailDeliveryError("refusing a message with a newline in a header")
    current_transport().send(message)


def mail_language(locale: str | None) -> str:
    """The catalogue language for a user's locale ("es-PE" -> "es"), Spanish by default."""
    language = (locale or "").replace("_", "-").split("-")[0].lower()
    return language if language in current_app.config["LANGUAGES"] else "es"


def render_mail(
    template: str, locale: str | None, subject: str | LazyString, **context: Any
) -> RenderedMail:
    """Render ``passport/mail/<template>.txt`` and ``.html`` in the user's language.

    ``subject`` is a translatable string, translated here in the same language.
    """
    with force_locale(mail_language(locale)):
        return RenderedMail(
            subject=str(subject),
            text=render_template(f"passport/mail/{template}.txt", **context),
            html=render_template(f"passport/mail/{template}.html", **context),
        )
