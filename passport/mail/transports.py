"""Mail transports: SMTP (Flask-Mail), an outbox folder of ``.eml`` files, or the log."""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import smtplib
from pathlib import Path
from typing import Protocol

from flask_mail import Message

from passport.database import utcnow
from passport.extensions import mail
from passport.mail.errors import MailDeliveryError

log = logging.getLogger(__name__)


class MailTransport(Protocol):
    """Something that delivers a built message or raises MailDeliveryError."""

    name: str

    def send(self, message: Message) -> None:
        """Deliver ``message``."""
        ...


class SmtpTransport:
    """Production: the SMTP server of the MAIL_* settings, through Flask-Mail."""

    name = "smtp"

    def send(self, message: Message) -> None:
        """Hand the message to the SMTP server."""
        try:
            mail.send(message)
        except (smtplib.SMTPException, OSError) as error:
            raise MailDeliveryError(f"SMTP delivery failed: {type(error).__name__}") from error


class OutboxTransport:
    """Development and tests: each message becomes one ``.eml`` file in a folder."""

    name = "outbox"

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)

    def send(self, message: Message) -> None:
        """Write the message atomically: a hidden temporary file, then a rename."""
        name = f"{utcnow():%Y%m%dT%H%M%S%f}-{secrets.token_hex(4)}.eml"
        temporary = self.folder / f".{name}.tmp"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            temporary.write_bytes(message.as_bytes())
            # os.replace is atomic on POSIX: readers see the whole file or none of it.
            os.replace(temporary, self.folder / name)
        except OSError as error:
            with contextlib.suppress(OSError):
                temporary.unlink()
            raise MailDeliveryError(f"cannot write to the outbox: {error.strerror}") from error


class ConsoleTransport:
    """Development only: the message is logged (links included), never delivered."""

    name = "console"

    def send(self, message: Message) -> None:
        """Log the recipient, the subject and the plain-text part."""
        log.info(
            "mail (console backend) to=%s subject=%s\n%s",
            ", ".join(str(r) for r in message.recipients),
            message.subject,
            message.body,
        )


def transport_from_settings(backend: str, outbox: str | None) -> MailTransport:
    """The transport named by MAIL_BACKEND."""
    from minedu_sso.settings import ConfigError

    if backend == "smtp":
        return SmtpTransport()
    if backend == "outbox":
        if not outbox:
            raise ConfigError("PASSPORT_MAIL_OUTBOX must name a folder for the outbox backend")
        return OutboxTransport(outbox)
    if backend == "console":
        return ConsoleTransport()
    raise ConfigError(f"PASSPORT_MAIL_BACKEND must be smtp, outbox or console, not {backend!r}")
