"""Bulk import from the console: upload and preview, then confirm; all or nothing.

The file goes through the same parser and validator as ``passport users import``
(passport/accounts/importing.py), with the signed-in admin as actor, so the rule of every
write path applies to preview and confirmation alike (``territory.change_refusal``): a scoped
admin's rows stay in its territory and never change an admin account; a row for a DNI it
cannot see is answered as a new DNI and held for a national admin. The confirmation imports
the stored file in one transaction that also queues the activation mails
(passport/accounts/mail_queue.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import replace
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete
from sqlalchemy import select
from sqlalchemy import update

from passport.accounts.errors import ReasonRequiredError
from passport.accounts.importing import ImportReport
from passport.accounts.importing import import_users
from passport.accounts.mail_queue import batch_progress
from passport.accounts.territory import acting_user
from passport.accounts.territory import clean_reason
from passport.accounts.territory import is_reason_required
from passport.admin.models import UserImport
from passport.audit.services import Actor
from passport.database import utcnow
from passport.extensions import db


class ImportNotFoundError(Exception):
    """No pending upload of this admin has this token (unknown, expired or confirmed)."""


def _ttl() -> timedelta:
    return timedelta(minutes=current_app.config["ADMIN_IMPORT_TTL_MINUTES"])


def forget_expired_uploads() -> int:
    """Delete uploads never confirmed within the TTL (their files hold personal data)."""
    result = db.session.execute(
        delete(UserImport).where(
            UserImport.confirmed_at.is_(None), UserImport.created_at < utcnow() - _ttl()
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Preview:
    """A checked upload waiting for confirmation, and what it would do."""

    upload: UserImport
    report: ImportReport


def preview_import(content: bytes, filename: str, *, actor: Actor) -> Preview:
    """Check the whole file as the import would (writing no user); keep it for confirmation.

    Raises InvalidImportError (every problem, nothing kept) or ReasonRequiredError.
    """
    why = clean_reason(actor.reason)
    if why is None and is_reason_required("import", acting_user(actor)):
        raise ReasonRequiredError("import")
    report = import_users(content, dry_run=True, actor=replace(actor, reason=why))
    forget_expired_uploads()
    upload = UserImport(
        actor_user_id=actor.user_id,
        filename=filename[:255] or "import.csv",
        content=content,
        reason=why,
    )
    db.session.add(upload)
    db.session.commit()
    return Preview(upload, report)


def find_upload(token: str, *, actor: Actor) -> UserImport:
    """The admin's own upload with this token; ImportNotFoundError otherwise."""
    upload = db.session.scalar(
        select(UserImport).where(
            UserImport.token == token, UserImport.actor_user_id == actor.user_id
        )
    )
    if upload is None:
        raise ImportNotFoundError(token)
    return upload


def confirm_import(token: str, *, actor: Actor) -> UserImport:
    """Import a previewed file for real, queueing its activation mails; all or nothing.

    Raises ImportNotFoundError (unknown, someone else's, expired or already confirmed) or
    InvalidImportError (the data changed since the preview; nothing written).
    """
    upload = find_upload(token, actor=actor)
    if upload.confirmed_at is not None or upload.created_at < utcnow() - _ttl():
        raise ImportNotFoundError(token)
    content = upload.content or b""
    # Claim the upload in the import's own transaction: of two confirmations, one imports.
    claimed = db.session.execute(
        update(UserImport)
        .where(UserImport.id == upload.id, UserImport.confirmed_at.is_(None))
        .values(confirmed_at=utcnow(), content=None)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        db.session.rollback()
        raise ImportNotFoundError(token)
    actor = replace(actor, reason=upload.reason)  # the reason given with the file
    actor.record("users.import_confirmed", details={"batch": upload.token})
    try:
        report = import_users(content, actor=actor, mail_batch=upload.token)
    except Exception:
        db.session.rollback()  # the claim too: nothing of this confirmation stays
        raise
    db.session.refresh(upload)
    upload.report = {
        "created": len(report.created),
        "updated": len(report.updated),
        "unchanged": len(report.unchanged),
    }
    db.session.commit()
    return upload


def import_progress(upload: UserImport) -> dict[str, int]:
    """Counts of the upload's activation mails by status (pending, sent, failed, cancelled)."""
    return batch_progress(upload.token)
