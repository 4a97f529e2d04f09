"""The one-time link an admin needs to enrol the second factor.

An admin's TOTP guards the console, so whoever first knows the password (a colleague who set
it, someone who intercepted a reset) must not be the one who enrols it. Granting admin rights
(``administration.grant_admin``, ``passport users grant-admin``, ``users create --admin``)
mails a random, single-use, expiring link to the admin's *verified* address; the enrolment
page of an admin without TOTP works only through a live link of that admin, and the
successful enrolment spends it. Only the token's SHA-256 is stored, and a new link kills the
older ones. People who are not admins enrol from Mi cuenta as before.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete
from sqlalchemy import select
from sqlalchemy import update

from passport.accounts.errors import UnverifiedEmailError
from passport.accounts.links import absolute_url
from passport.accounts.models import User
from passport.accounts.notifications import brand_context
from passport.accounts.notifications import duration_text
from passport.audit.services import record_event
from passport.database import utcnow
from passport.extensions import db
from passport.mail import send_message
from passport.mail.messages import render_mail
from passport.mfa.models import EnrolmentLink

log = logging.getLogger(__name__)

# A real token is 43 characters; anything much longer is not ours.
MAX_TOKEN_LENGTH = 100


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def ttl() -> timedelta:
    return timedelta(hours=int(current_app.config["ADMIN_ENROLMENT_LINK_TTL_HOURS"]))


def issue_enrolment_link(
    user: User, *, actor_user_id: int | None = None, actor_client_id: str | None = None
) -> None:
    """Mail ``user`` a new enrolment link (older ones die); no commit.

    Raises UnverifiedEmailError (nothing sent) or MailDeliveryError.
    """
    if not user.email_verified:
        raise UnverifiedEmailError(user.dni)
    db.session.execute(delete(EnrolmentLink).where(EnrolmentLink.user_id == user.id))
    token = secrets.token_urlsafe(32)
    db.session.add(
        EnrolmentLink(user_id=user.id, token_hash=_hash(token), expires_at=utcnow() + ttl())
    )
    brand = brand_context()
    subject = _l(
        "%(brand)s - %(platform)s – Activar la verificación en dos pasos",
        brand=brand["brand"],
        platform=brand["platform"],
    )
    mail = render_mail(
        "totp_enrolment",
        user.locale,
        subject,
        user=user,
        link=absolute_url("mfa.enrol_with_link", token=token),
        ttl_seconds=int(ttl().total_seconds()),
        duration_text=duration_text,
        **brand,
    )
    send_message(user.email, mail.subject, mail.text, mail.html)
    record_event(
        "mfa.enrolment_link_sent",
        actor_user_id=actor_user_id,
        client_id=actor_client_id,
        subject_user_id=user.id,
        subject_dni=user.dni,
    )
    log.info("second-factor enrolment link mailed to user %s", user.id)


def live_link(user: User, token: str | None) -> EnrolmentLink | None:
    """The unused, unexpired enrolment link of ``user`` with this token, or None."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    return db.session.scalar(
        select(EnrolmentLink).where(
            EnrolmentLink.token_hash == _hash(token),
            EnrolmentLink.user_id == user.id,
            EnrolmentLink.used_at.is_(None),
            EnrolmentLink.expires_at > utcnow(),
        )
    )


def spend_link(link: EnrolmentLink) -> bool:
    """Mark the link used (compare-and-set: of two uses, one wins); no commit."""
    spent = db.session.execute(
        update(EnrolmentLink)
        .where(EnrolmentLink.id == link.id, EnrolmentLink.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return bool(spent.rowcount == 1)  # type: ignore[attr-defined]


def needs_link(user: User) -> bool:
    """An admin enrols the second factor only through an enrolment link."""
    return user.is_admin
