"""The mail telling a person the help desk removed one of their passkeys."""

from __future__ import annotations

import logging

from flask_babel import lazy_gettext as _l

from passport.accounts.links import absolute_url
from passport.accounts.models import User
from passport.accounts.notifications import brand_context
from passport.audit.services import record_event
from passport.extensions import db
from passport.mail import MailDeliveryError
from passport.mail import send_message
from passport.mail.messages import render_mail

log = logging.getLogger(__name__)


def send_removed_notice(user: User, passkey_name: str) -> None:
    """Mail the owner that a passkey was removed; commits, never raises (the removal stands)."""
    if not user.email:
        return
    brand = brand_context()
    subject = _l(
        "%(brand)s - %(platform)s – Se quitó una llave de acceso",
        brand=brand["brand"],
        platform=brand["platform"],
    )
    outcome = "success"
    try:
        mail = render_mail(
            "passkey_removed",
            user.locale,
            subject,
            user=user,
            passkey_name=passkey_name,
            passkeys_url=absolute_url("passkeys.manage"),
            **brand,
        )
        send_message(user.email, mail.subject, mail.text, mail.html)
    except MailDeliveryError:
        log.exception("passkey removal notice for user %s could not be sent", user.id)
        outcome = "failure"
    record_event(
        "mail.sent",
        outcome=outcome,
        subject_user_id=user.id,
        subject_dni=user.dni,
        details={"kind": "passkey_removed"},
    )
    db.session.commit()
