"""The mails of the accounts capability: "Generar tu contraseña", "Restablecer", lockout."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_babel.speaklater import LazyString

from passport.accounts.errors import UnverifiedEmailError
from passport.accounts.links import LinkPurpose
from passport.accounts.links import absolute_url
from passport.accounts.links import issue_link
from passport.accounts.links import link_ttl_seconds
from passport.accounts.models import User
from passport.audit.services import record_event
from passport.extensions import db
from passport.mail import MailDeliveryError
from passport.mail import send_message
from passport.mail.messages import render_mail

log = logging.getLogger(__name__)

TEMPLATES = {LinkPurpose.ACTIVATION: "activation", LinkPurpose.RESET: "reset"}


def brand_context() -> dict[str, Any]:
    """Brand and help-desk settings every mail shows (the seed's help-desk paragraph)."""
    config = current_app.config
    return {
        "brand": config["BRAND_NAME"],
        "platform": config["PLATFORM_NAME"],
        "helpdesk_email": config["HELPDESK_EMAIL"],
        "helpdesk_subject": config["HELPDESK_SUBJECT"],
        "helpdesk_body": config["HELPDESK_BODY"],
        "helpdesk_phone": config["HELPDESK_PHONE"],
        "helpdesk_hours": config["HELPDESK_HOURS"],
    }


def link_subject(purpose: LinkPurpose, brand: str, platform: str) -> LazyString:
    """The subject of a link mail, as in the seed: "MINEDU - Plataforma ... – Generar ..."."""
    if purpose is LinkPurpose.ACTIVATION:
        return _l(
            "%(brand)s - %(platform)s – Generar tu contraseña", brand=brand, platform=platform
        )
    return _l(
        "%(brand)s - %(platform)s – Restablecer tu contraseña", brand=brand, platform=platform
    )


def duration_text(seconds: int) -> str:
    """ "24 horas", "1 hora", "30 minutos": how long a link lives, in words."""
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return str(ngettext("%(num)s hora", "%(num)s horas", hours))
    minutes = max(seconds // 60, 1)
    return str(ngettext("%(num)s minuto", "%(num)s minutos", minutes))


def send_link_mail(
    user: User,
    purpose: LinkPurpose,
    *,
    actor_user_id: int | None = None,
    actor_client_id: str | None = None,
    via: str = "service",
    forced: bool = False,
    passkeys_removed: int = 0,
) -> None:
    """Issue a new link (older ones die) and mail it; no commit. Raises MailDeliveryError.

    ``forced``: an administrator switched the password off (a reset the person did not ask
    for: the mail says so, and never "ignore this message, your password still works");
    ``passkeys_removed``: how many passkeys that forced reset removed; the reset mail says so
    (and how to register them again) only when there were some.

    An admin account's link goes only to a verified address (UnverifiedEmailError, nothing
    issued): whoever changed the address must not receive the key to the console.
    """
    if user.is_admin and not user.email_verified:
        raise UnverifiedEmailError(user.dni)
    link = issue_link(user, purpose)
    brand = brand_context()
    subject = link_subject(purpose, brand["brand"], brand["platform"])
    ttl = link_ttl_seconds(purpose)
    with_locale: dict[str, Any] = {
        "user": user,
        "link": link,
        "ttl_seconds": ttl,
        "forced": forced,
        "passkeys_removed": passkeys_removed,
        **brand,
    }
    mail = render_mail(
        TEMPLATES[purpose], user.locale, subject, duration_text=duration_text, **with_locale
    )
    send_message(user.email, mail.subject, mail.text, mail.html)
    record_event(
        "mail.sent",
        actor_user_id=actor_user_id,
        client_id=actor_client_id,
        subject_user_id=user.id,
        subject_dni=user.dni,
        details={"kind": purpose.value, "via": via, "generation": user.link_generation},
    )
    log.info("%s mail sent to user %s", purpose.value, user.id)


def _send_and_commit(
    user: User, purpose: LinkPurpose, actor_user_id: int | None, actor_client_id: str | None = None
) -> None:
    try:
        send_link_mail(user, purpose, actor_user_id=actor_user_id, actor_client_id=actor_client_id)
    except (MailDeliveryError, UnverifiedEmailError):
        db.session.rollback()
        raise
    db.session.commit()


def send_activation_mail(
    user: User, *, actor_user_id: int | None = None, actor_client_id: str | None = None
) -> None:
    """Send "Generar tu contraseña" with a new link (older links die); commits."""
    _send_and_commit(user, LinkPurpose.ACTIVATION, actor_user_id, actor_client_id)


def send_reset_mail(user: User, *, actor_user_id: int | None = None) -> None:
    """Send "Restablecer tu contraseña" with a new, shorter-lived link; commits."""
    _send_and_commit(user, LinkPurpose.RESET, actor_user_id)


def lima_time(moment: datetime) -> datetime:
    """``moment`` in the deployment's time zone (BABEL_DEFAULT_TIMEZONE, America/Lima)."""
    return moment.astimezone(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"]))


def send_notice(
    user: User,
    template: str,
    subject: LazyString,
    details: dict[str, Any],
    **context: Any,
) -> None:
    """Send an informational mail (no link to spend) in the user's language; commits, never
    raises: a failure is logged and audited, and the caller's change stands.

    ``details`` go in the ``mail.sent`` audit event (its ``kind`` names the mail).
    """
    outcome = "success"
    try:
        mail = render_mail(template, user.locale, subject, user=user, **brand_context(), **context)
        send_message(user.email, mail.subject, mail.text, mail.html)
    except MailDeliveryError:
        log.exception("%s mail for user %s could not be sent", template, user.id)
        outcome = "failure"
    record_event(
        "mail.sent",
        outcome=outcome,
        subject_user_id=user.id,
        subject_dni=user.dni,
        details=details,
    )
    db.session.commit()


def send_lockout_notice(user: User, locked_until: datetime) -> None:
    """Tell the owner the account is locked until ``locked_until``; commits, never raises.

    The login calls it when it locks an account: a mail failure must not change the login's
    answer (that would tell a locked account from a wrong password), so it is logged and
    audited instead. The commit also carries the caller's pending lockout changes.
    """
    brand = brand_context()
    subject = _l(
        "%(brand)s - %(platform)s – Cuenta bloqueada temporalmente",
        brand=brand["brand"],
        platform=brand["platform"],
    )
    local = lima_time(locked_until)
    send_notice(
        user,
        "lockout",
        subject,
        {"kind": "lockout_notice", "locked_until": locked_until.isoformat()},
        unlock_date=f"{local:%d/%m/%Y}",
        unlock_time=f"{local:%H:%M}",
        forgot_url=absolute_url("accounts.forgot_password"),
    )
