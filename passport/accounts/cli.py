"""``passport users ...``: create, import, unlock, disable, enable, grant-admin, revoke-admin.

Every failure exits non-zero with one line on standard error; ``--json`` prints one JSON
object on standard output.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import UTC
from datetime import datetime
from pathlib import Path
from typing import Any
from typing import NoReturn

import click
from flask.cli import with_appcontext
from flask_babel import force_locale

from passport import json_input
from passport import outbox
from passport.accounts.errors import AccountsError
from passport.accounts.errors import DuplicateDniError
from passport.accounts.errors import InvalidImportError
from passport.accounts.errors import InvalidUserDataError
from passport.accounts.errors import PasswordRejectedError
from passport.accounts.errors import UnverifiedEmailError
from passport.audit.services import Actor
from passport.mail import MailDeliveryError

# The largest import file read (a national roster of teachers is far below it).
MAX_IMPORT_BYTES = 64 * 1024 * 1024


def fail(message: str, code: int = 1) -> NoReturn:
    """Print one line on standard error and exit non-zero."""
    click.echo("passport: " + " ".join(message.split()), err=True)
    sys.exit(code)


def emit(as_json: bool, payload: dict[str, Any], text: str) -> None:
    """Print the JSON object or the human line."""
    click.echo(json.dumps(payload, ensure_ascii=False) if as_json else text)


def describe(error: AccountsError) -> str:
    """One line for an accounts error."""
    if isinstance(error, PasswordRejectedError):
        with force_locale("es"):
            reasons = " ".join(problem.message for problem in error.problems)
        return f"password rejected by the policy: {reasons}"
    if isinstance(error, InvalidUserDataError):
        return "invalid user data: " + "; ".join(f"{e.field} {e.reason}" for e in error.errors)
    return str(error)


@click.group("users")
def users_group() -> None:
    """Accounts: create, import, unlock, disable, enable, grant-admin, revoke-admin."""


@users_group.command("create")
@click.option("--dni", required=True, help="8 digits: the username.")
@click.option("--email", required=True)
@click.option("--given-name", required=True)
@click.option("--family-name", required=True)
@click.option("--phone", default=None, help="International form, e.g. +51987654321.")
@click.option("--address-json", default=None, help="OIDC address claim members as a JSON object.")
@click.option("--dre", default=None)
@click.option("--ugel", default=None)
@click.option("--email-verified", is_flag=True)
@click.option("--phone-verified", is_flag=True)
@click.option("--password", default=None, help="Set it now (the user is active, no mail).")
@click.option("--admin", is_flag=True)
@click.option("--no-email", is_flag=True, help="Do not send the activation mail.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@with_appcontext
def create_command(
    dni: str,
    email: str,
    given_name: str,
    family_name: str,
    phone: str | None,
    address_json: str | None,
    dre: str | None,
    ugel: str | None,
    email_verified: bool,
    phone_verified: bool,
    password: str | None,
    admin: bool,
    no_email: bool,
    as_json: bool,
) -> None:
    """Create a user: pending with the "Generar tu contraseña" mail, or active with --password."""
    from passport.accounts.services import NewUser
    from passport.accounts.services import create_user

    address = None
    if address_json is not None:
        try:
            address = json_input.loads(address_json)
        except ValueError:
            fail("--address-json is not valid JSON")
        if not isinstance(address, dict):
            fail("--address-json must be a JSON object")
    try:
        user = create_user(
            NewUser(
                dni,
                email,
                given_name,
                family_name,
                phone=phone,
                address=address,
                dre=dre,
                ugel=ugel,
                email_verified=email_verified,
                phone_verified=phone_verified,
                password=password,
                is_admin=admin,
            ),
            send_email=not no_email,
        )
    except (InvalidUserDataError, DuplicateDniError, PasswordRejectedError) as error:
        fail(describe(error))
    except UnverifiedEmailError:
        fail(
            "an admin's links go only to a verified e-mail: pass --email-verified once the "
            "address is confirmed; the user was not created"
        )
    except MailDeliveryError as error:
        fail(f"the activation mail could not be sent ({error}); the user was not created")
    if user is None:  # pragma: no cover - only a scoped admin's request is held
        fail("the request was held for a national admin")
    mail_sent = password is None and not no_email
    emit(
        as_json,
        {
            "dni": user.dni,
            "sub": user.sub,
            "status": user.status.value,
            "email": user.email,
            "is_admin": user.is_admin,
            "activation_mail_sent": mail_sent,
            "enrolment_link_sent": user.is_admin,
        },
        f"created user {user.dni} (sub {user.sub}, {user.status.value})"
        + ("; activation mail sent" if mail_sent else "")
        + ("; second-factor enrolment link mailed" if user.is_admin else ""),
    )


@users_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check and report; write nothing.")
@click.option("--no-email", is_flag=True, help="Do not send activation mails to new users.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@with_appcontext
def import_command(file: Path, dry_run: bool, no_email: bool, as_json: bool) -> None:
    """Create or update users from a CSV file, all or nothing (columns: see the README)."""
    from passport.accounts.services import import_users

    try:
        if file.stat().st_size > MAX_IMPORT_BYTES:
            fail(f"{file} is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MiB; split it")
        source = file.read_bytes()
    except OSError as error:
        fail(f"cannot read {file}: {error.strerror}")
    try:
        report = import_users(source, dry_run=dry_run, send_email=not no_email)
    except InvalidImportError as error:
        if as_json:
            emit(
                True,
                {
                    "ok": False,
                    "written": False,
                    "errors": [
                        {"line": e.line, "field": e.field, "reason": e.reason} for e in error.errors
                    ],
                },
                "",
            )
        else:
            for row_error in error.errors:
                click.echo(str(row_error))
        fail(f"{file}: {len(error.errors)} error(s); nothing was written")
    prefix = "dry run: would be " if dry_run else ""
    emit(as_json, {"ok": True, **report.as_dict()}, prefix + report.summary())
    if report.mail_failures:
        fail(
            f"{len(report.mail_failures)} activation mail(s) could not be sent (DNIs "
            f"{', '.join(report.mail_failures)}); those users exist and can use "
            "Generar contraseña"
        )


def _status_command(action: str, dni: str, as_json: bool) -> None:
    from passport.accounts import administration

    # The operator on the server acts as the system (actor None) through the same rules as
    # the console and the API.
    function = {
        "unlock": administration.unlock_user,
        "disable": administration.disable_user,
        "enable": administration.enable_user,
    }[action]
    try:
        changed = function(dni)
    except AccountsError as error:
        fail(describe(error))
    past = {"unlock": "unlocked", "disable": "disabled", "enable": "enabled"}[action]
    if action == "unlock":
        text = f"user {dni} unlocked" if changed else f"user {dni} was not locked; counters reset"
    else:
        text = f"user {dni} {past}" if changed else f"user {dni} was already {past}"
    emit(as_json, {"dni": dni, "action": action, "changed": changed}, text)


@users_group.command("unlock")
@click.argument("dni")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@with_appcontext
def unlock_command(dni: str, as_json: bool) -> None:
    """Clear the lockout and the failed-login count of a user."""
    _status_command("unlock", dni, as_json)


@users_group.command("disable")
@click.argument("dni")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@with_appcontext
def disable_command(dni: str, as_json: bool) -> None:
    """Disable a user: no sign-in, links dead, sessions ended, tokens revoked."""
    _status_command("disable", dni, as_json)


@users_group.command("enable")
@click.argument("dni")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@with_appcontext
def enable_command(dni: str, as_json: bool) -> None:
    """Re-enable a disabled user."""
    _status_command("enable", dni, as_json)


@users_group.command("grant-admin")
@click.argument("dni")
@click.option("--dre", default=None, help="Administer only the users of this DRE.")
@click.option("--ugel", default=None, help="Administer only the users of this UGEL.")
@click.option("--reason", default=None, help="Why (kept in the audit log).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@with_appcontext
def grant_admin_command(
    dni: str, dre: str | None, ugel: str | None, reason: str | None, as_json: bool
) -> None:
    """Make a user an admin: national, or scoped to a DRE and/or a UGEL."""
    from passport.accounts import administration

    try:
        user = administration.grant_admin(dni, dre=dre, ugel=ugel, actor=Actor(reason=reason))
    except AccountsError as error:
        fail(describe(error))
    except MailDeliveryError as error:
        fail(f"the enrolment link could not be mailed ({error}); nothing was changed")
    scope = " / ".join(f"{kind} {name}" for kind, name in (("DRE", dre), ("UGEL", ugel)) if name)
    emit(
        as_json,
        {"dni": user.dni, "is_admin": True, "dre": user.admin_dre, "ugel": user.admin_ugel},
        f"user {user.dni} is now an admin ({scope or 'national'})",
    )


@users_group.command("revoke-admin")
@click.argument("dni")
@click.option("--reason", default=None, help="Why (kept in the audit log).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@with_appcontext
def revoke_admin_command(dni: str, reason: str | None, as_json: bool) -> None:
    """Take a user's admin rights away."""
    from passport.accounts import administration

    try:
        changed = administration.revoke_admin(dni, actor=Actor(reason=reason))
    except AccountsError as error:
        fail(describe(error))
    text = f"user {dni} is no longer an admin" if changed else f"user {dni} was not an admin"
    emit(as_json, {"dni": dni, "is_admin": False, "changed": changed}, text)


@click.group("mail")
def mail_group() -> None:
    """Outgoing mail queue (bulk-import activation mails)."""


@mail_group.command("send-pending")
@click.option("--limit", type=click.IntRange(1, 1_000_000), default=None, help="At most N mails.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@with_appcontext
def send_pending_command(limit: int | None, as_json: bool) -> None:
    """Send the queued mails that are due (run it from cron); exit 1 if any failed for good."""
    from passport.accounts.mail_queue import send_pending

    total = send_pending(limit=limit)
    counts = total.as_dict()
    emit(
        as_json,
        counts,
        f"{counts['sent']} sent, {counts['retried']} to retry, {counts['failed']} failed, "
        f"{counts['cancelled']} no longer needed",
    )
    if total.failed:
        sys.exit(1)


class IsoDateTime(click.ParamType[datetime, Any]):
    """An ISO-8601 date, or date and time; one without an offset is UTC."""

    name = "ISO-8601"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime:
        if isinstance(value, datetime):
            parsed = value
        else:
            try:
                parsed = datetime.fromisoformat(str(value))
            except ValueError:
                self.fail(
                    f"{value!r} is not an ISO-8601 date and time (e.g. 2026-12-06T14:00Z)",
                    param,
                    ctx,
                )
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def audited_requeue_command(
    event: str, *, name: str, noun: str, box: Callable[[], outbox.Outbox[Any]]
) -> click.Command:
    """``name``: an operator puts an outbox's rows given up back in the queue
    (``outbox.Outbox.requeue_failed``), audited as ``event`` in the same transaction."""

    @click.command(name)
    @click.option(
        "--id",
        "ids",
        type=click.IntRange(1, 2**31 - 1),
        multiple=True,
        help="Only this row (repeat).",
    )
    @click.option(
        "--since", type=IsoDateTime(), help="Only rows given up at or after this time (UTC)."
    )
    @click.option("--limit", type=click.IntRange(1, 1_000_000), default=None, help="At most N.")
    @click.option("--reason", default=None, help="Kept in the audit event.")
    @click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
    @with_appcontext
    def command(
        ids: tuple[int, ...],
        since: datetime | None,
        limit: int | None,
        reason: str | None,
        as_json: bool,
    ) -> None:
        from passport.extensions import db

        done = box().requeue_failed(ids or None, since, limit)
        Actor(reason=reason).record(event, details=done.details())
        db.session.commit()
        text = f"{done.requeued} {noun} requeued, {done.skipped} past use skipped"
        emit(as_json, done.as_dict(), text)

    command.help = (
        f"Put the {noun} given up (failed) back in the queue, due now, with every retry again; "
        "rows the purge would delete are skipped."
    )
    return command


def _mails() -> outbox.Outbox[Any]:
    from passport.accounts.mail_queue import MAILS

    return MAILS


mail_group.add_command(
    audited_requeue_command("mail.requeued", name="requeue-failed", noun="mails", box=_mails)
)
