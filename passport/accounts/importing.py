"""``passport users import``: create and update users from a CSV file, all or nothing.

This is how people "registrados en los sistemas de Evaluación Docente" get an account.

The file:

- Text in UTF-8 (the byte-order mark Excel writes with "CSV UTF-8" is fine). Any other
  encoding is refused, naming the line of the first byte that is not UTF-8.
- The first line is the header. The delimiter is ``,`` or ``;`` (Excel in Spanish locales
  saves ``;``), whichever the header uses more. Fields may be quoted with ``"``.
- Columns, in any order, names case-insensitive:

  ==================  ========  ==============================================================
  column              required  content
  ==================  ========  ==============================================================
  ``dni``             yes       8 digits; the key of the upsert
  ``email``           yes       where the "Generar tu contraseña" mail goes
  ``given_name``      yes       nombres
  ``family_name``     yes       apellidos
  ``phone``           no        international form, ``+51987654321`` (spaces, dashes allowed)
  ``dre``             no        DRE name, as in the payroll
  ``ugel``            no        UGEL name, as in the payroll
  ``street_address``  no        address members of the OpenID Connect ``address`` claim
  ``locality``        no
  ``region``          no
  ``postal_code``     no
  ``country``         no
  ==================  ========  ==============================================================

  Any other column is an error (a misspelt header would silently drop data).
- Blank lines are ignored.

What it does:

- Every row is checked first. If any is invalid, nothing is written and every problem is
  reported as (line, column, reason). A DNI twice in the file is an error.
- Upsert by DNI. A new DNI becomes a *pending* user who gets the activation mail (unless
  ``send_email=False``). For an existing DNI, every non-empty cell replaces the stored value;
  an empty optional cell keeps it; the address cells, when any is filled, replace the whole
  address. A changed e-mail is no longer verified. Status, password and admin flag never
  change through an import.
- Every row passes the rule of every write path (``territory.change_refusal``) for the
  acting admin: a scoped admin cannot change an admin account nor move a person out of its
  territory. A scoped admin's row for a DNI that exists outside its territory gets the answer
  of a new DNI (counted as created) and is held for a national admin (``HeldUserRequest``),
  so the file does not reveal where else a DNI exists.
- Importing the same file again changes nothing: "0 created, 0 updated, N unchanged".
- ``dry_run=True`` reports what would happen and writes nothing.
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from typing import Any
from typing import cast

from sqlalchemy import Table
from sqlalchemy import delete
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from passport.accounts import territory
from passport.accounts.errors import InvalidImportError
from passport.accounts.errors import InvalidUserDataError
from passport.accounts.errors import RowError
from passport.accounts.models import HeldUserRequest
from passport.accounts.models import User
from passport.accounts.models import UserNameWord
from passport.accounts.models import UserStatus
from passport.accounts.models import name_word_rows
from passport.accounts.models import new_subject
from passport.accounts.models import search_name_of
from passport.accounts.notifications import send_activation_mail
from passport.accounts.territory import Administered
from passport.accounts.territory import scope_of
from passport.accounts.validation import UserData
from passport.accounts.validation import clean_user_data
from passport.audit.chain import append_events
from passport.audit.services import SYSTEM
from passport.audit.services import Actor
from passport.audit.services import record_event
from passport.database import bulk_insert
from passport.database import reserve_ids
from passport.database import utcnow
from passport.extensions import db
from passport.mail import MailDeliveryError
from passport.twins import columns

# The Core tables written in bulk.
USERS = cast(Table, User.__table__)
NAME_WORDS = cast(Table, UserNameWord.__table__)
HELD = cast(Table, HeldUserRequest.__table__)

REQUIRED_COLUMNS = ("dni", "email", "given_name", "family_name")
ADDRESS_COLUMNS = ("street_address", "locality", "region", "postal_code", "country")
OPTIONAL_COLUMNS = ("phone", "dre", "ugel", *ADDRESS_COLUMNS)
MAX_ROWS = 200_000
# Rows looked up per query (SQLite and PostgreSQL both take this many bound parameters).
LOOKUP_CHUNK = 500
# Rows written per INSERT/UPDATE statement (users, held rows; audit events and mails alike).
WRITE_CHUNK = 1000


@dataclass
class ImportReport:
    """What an import did (or, in a dry run, would do)."""

    dry_run: bool
    created: list[str] = field(default_factory=list)  # DNIs
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    mails_sent: int = 0
    mail_failures: list[str] = field(default_factory=list)  # DNIs whose mail failed
    # DNIs outside a scoped admin's territory, held for a national admin. They are in
    # ``created`` too: the scoped admin's answer is that of a new DNI.
    held: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """ "2 created, 1 updated, 5 unchanged"."""
        return (
            f"{len(self.created)} created, {len(self.updated)} updated, "
            f"{len(self.unchanged)} unchanged"
        )

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view (counts and DNIs)."""
        return {
            "dry_run": self.dry_run,
            "created": len(self.created),
            "updated": len(self.updated),
            "unchanged": len(self.unchanged),
            "created_dnis": self.created,
            "updated_dnis": self.updated,
            "mails_sent": self.mails_sent,
            "mail_failures": self.mail_failures,
        }


@dataclass(frozen=True)
class ImportRow:
    """A valid row: its line and its normalised data (address None when its cells are empty)."""

    line: int
    data: UserData


def decode(source: bytes) -> str:
    """The file as text: UTF-8 with or without a byte-order mark, else InvalidImportError."""
    try:
        return source.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = source[: error.start].count(b"\n") + 1
        raise InvalidImportError(
            [
                RowError(
                    line,
                    None,
                    f"the file is not UTF-8 text (byte 0x{source[error.start]:02x}); "
                    "save it as CSV UTF-8",
                )
            ]
        ) from None


def parse_rows(text: str) -> list[ImportRow]:
    """Check every row; InvalidImportError lists every problem of the file."""
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    errors: list[RowError] = []
    rows: list[ImportRow] = []
    seen: dict[str, int] = {}
    try:
        header = next(reader, None)
        if header is None or not any(cell.strip() for cell in header):
            raise InvalidImportError([RowError(1, None, "the file is empty: a header is expected")])
        columns = [cell.strip().lower() for cell in header]
        errors.extend(_header_errors(columns))
        if errors:
            raise InvalidImportError(errors)
        for cells in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if len(rows) + len(errors) >= MAX_ROWS:
                errors.append(RowError(line, None, f"more than {MAX_ROWS} rows; split the file"))
                break
            if len(cells) != len(columns):
                errors.append(
                    RowError(line, None, f"expected {len(columns)} fields, found {len(cells)}")
                )
                continue
            row = _row(line, dict(zip(columns, cells, strict=True)), errors)
            if row is None:
                continue
            if row.data.dni in seen:
                errors.append(
                    RowError(
                        line, "dni", f"DNI {row.data.dni} is also on line {seen[row.data.dni]}"
                    )
                )
                continue
            seen[row.data.dni] = line
            rows.append(row)
    except csv.Error as error:
        errors.append(RowError(reader.line_num, None, f"malformed CSV: {error}"))
    if errors:
        raise InvalidImportError(errors)
    return rows


def _header_errors(columns: list[str]) -> list[RowError]:
    errors = []
    known = set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS)
    for index, column in enumerate(columns):
        if column not in known:
            errors.append(RowError(1, column or f"column {index + 1}", "unknown column"))
        elif column in columns[:index]:
            errors.append(RowError(1, column, "column appears twice"))
    for column in REQUIRED_COLUMNS:
        if column not in columns:
            errors.append(RowError(1, column, "required column is missing"))
    return errors


def _row(line: int, cells: dict[str, str], errors: list[RowError]) -> ImportRow | None:
    address = {key: cells[key] for key in ADDRESS_COLUMNS if cells.get(key, "").strip()}
    try:
        data = clean_user_data(
            dni=cells["dni"],
            email=cells["email"],
            given_name=cells["given_name"],
            family_name=cells["family_name"],
            phone=cells.get("phone"),
            address=address or None,
            dre=cells.get("dre"),
            ugel=cells.get("ugel"),
        )
    except InvalidUserDataError as error:
        errors.extend(RowError(line, e.field, e.reason) for e in error.errors)
        return None
    return ImportRow(line, data)


@dataclass(frozen=True)
class StoredPerson:
    """What an import reads of an existing user: a Core twin of ``User`` (passport.twins)."""

    id: int
    dni: str
    email: str
    given_name: str
    family_name: str
    phone_number: str | None
    address: dict[str, Any] | None
    dre: str | None
    ugel: str | None
    is_admin: bool


STORED_COLUMNS = columns(StoredPerson, USERS)


def _existing_users(dnis: list[str]) -> dict[str, StoredPerson]:
    found: dict[str, StoredPerson] = {}
    for start in range(0, len(dnis), LOOKUP_CHUNK):
        chunk = dnis[start : start + LOOKUP_CHUNK]
        for row in db.session.execute(select(*STORED_COLUMNS).where(USERS.c.dni.in_(chunk))):
            found[row.dni] = StoredPerson(**row._mapping)
    return found


def changes_for(user: StoredPerson | User, data: UserData) -> dict[str, Any]:
    """The attributes an import row changes on an existing user (empty cells keep values)."""
    wanted: dict[str, Any] = {
        "email": data.email,
        "given_name": data.given_name,
        "family_name": data.family_name,
    }
    for name in ("phone_number", "dre", "ugel", "address"):
        value = getattr(data, name)
        if value is not None:
            wanted[name] = value
    return {name: value for name, value in wanted.items() if getattr(user, name) != value}


def _row_refusals(
    rows: list[ImportRow], existing: dict[str, StoredPerson], actor: User | None
) -> tuple[list[ImportRow], dict[str, dict[str, Any]]]:
    """Check every row against the write rule; InvalidImportError lists the refused ones.

    Returns the rows to hold for a national admin (existing DNIs the actor cannot see) and
    the changes of each existing, visible row.
    """
    scope = scope_of(actor)
    errors: list[RowError] = []
    held: list[ImportRow] = []
    changes: dict[str, dict[str, Any]] = {}
    for row in rows:
        user = existing.get(row.data.dni)
        if user is not None and scope.includes(user):
            changes[row.data.dni] = changes_for(user, row.data)
            refusal = (
                territory.change_refusal(actor, user, changes[row.data.dni])
                if changes[row.data.dni]
                else None
            )
        else:
            # A new DNI, or one this actor cannot see: judged alike, as a creation.
            refusal = territory.change_refusal(
                actor, None, {"dre": row.data.dre, "ugel": row.data.ugel}
            )
            if refusal is None and user is not None:
                held.append(row)
        if refusal is not None:
            errors.append(RowError(row.line, None, refusal.value))
    if errors:
        raise InvalidImportError(errors)
    return held, changes


def import_users(
    source: bytes,
    *,
    dry_run: bool = False,
    send_email: bool = True,
    actor: Actor = SYSTEM,
    mail_batch: str | None = None,
) -> ImportReport:
    """Import a CSV file (format in the module doc); InvalidImportError when any row is bad.

    ``actor`` is who imports (by ``user_id`` an admin, whose territory bounds every row;
    none: the system, national), with the import's reason. With ``mail_batch``, the
    activation mails are queued under that name in the import's transaction (sent later by
    passport/accounts/mail_queue.py) instead of being sent before returning.
    """
    admin = territory.acting_user(actor)
    actor_user_id = actor.user_id
    rows = parse_rows(decode(source))
    report = ImportReport(dry_run=dry_run)
    existing = _existing_users([row.data.dni for row in rows])
    held, all_changes = _row_refusals(rows, existing, admin)
    held_dnis = {row.data.dni for row in held}
    report.held = sorted(held_dnis)
    new_rows: list[UserData] = []
    updates: list[tuple[StoredPerson, dict[str, Any]]] = []
    for row in rows:
        data = row.data
        user = existing.get(data.dni)
        if data.dni in held_dnis:
            report.created.append(data.dni)
        elif user is None:
            report.created.append(data.dni)
            new_rows.append(data)
        elif not all_changes[data.dni]:
            report.unchanged.append(data.dni)
        else:
            report.updated.append(data.dni)
            updates.append((user, all_changes[data.dni]))
    if dry_run:
        db.session.rollback()
        return report
    try:
        events = _apply_updates(updates, actor)
        events += _hold_rows(held, existing, actor, mail_batch)
        new_ids, created_events = _insert_users(new_rows, actor)
        events += created_events
        if send_email and mail_batch is not None:  # held DNIs are no new users: no mail
            from passport.accounts.links import LinkPurpose
            from passport.accounts.mail_queue import enqueue_link_mails

            enqueue_link_mails(
                new_ids, LinkPurpose.ACTIVATION, batch=mail_batch, actor_user_id=actor_user_id
            )
    except IntegrityError:
        db.session.rollback()
        raise InvalidImportError(
            [RowError(None, "dni", "a DNI of the file was created meanwhile; run it again")]
        ) from None
    # Last: the audit chain's lock is held from here to the commit.
    append_events(db.session(), events)
    actor.record(
        "users.imported",
        details={
            "created": len(report.created) - len(report.held),
            "updated": len(report.updated),
            "unchanged": len(report.unchanged),
            **({"held": len(report.held)} if report.held else {}),
            **({"batch": mail_batch} if mail_batch else {}),
        },
    )
    db.session.commit()
    if send_email and mail_batch is None:
        for start in range(0, len(new_ids), LOOKUP_CHUNK):
            chunk = new_ids[start : start + LOOKUP_CHUNK]
            for created in db.session.scalars(select(User).where(User.id.in_(chunk))):
                try:
                    send_activation_mail(created, actor_user_id=actor_user_id)
                    report.mails_sent += 1
                except MailDeliveryError:
                    report.mail_failures.append(created.dni)
    return report


def _apply_updates(
    updates: list[tuple[StoredPerson, dict[str, Any]]], actor: Actor
) -> list[dict[str, Any]]:
    """Update the changed users, WRITE_CHUNK per statement, and their name words; their
    audit events (not yet written)."""
    now = utcnow()
    params: list[dict[str, Any]] = []
    renamed: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for user, changes in updates:
        if "email" in changes:
            changes["email_verified"] = False
        given = changes.get("given_name", user.given_name)
        family = changes.get("family_name", user.family_name)
        params.append(
            {
                "id": user.id,
                **changes,
                "search_name": search_name_of(f"{given} {family}"),
                "updated_at": now,
            }
        )
        if "given_name" in changes or "family_name" in changes:
            renamed.extend(name_word_rows(user.id, given, family, user.dni))
        events.append(
            actor.audit_values(
                "user.updated",
                subject_user_id=user.id,
                subject_dni=user.dni,
                details={"via": "import", "fields": sorted(changes)},
            )
        )
    for start in range(0, len(params), WRITE_CHUNK):
        db.session.execute(update(User), params[start : start + WRITE_CHUNK])
    renamed_ids = sorted({row["user_id"] for row in renamed})
    for start in range(0, len(renamed_ids), LOOKUP_CHUNK):
        chunk = renamed_ids[start : start + LOOKUP_CHUNK]
        db.session.execute(delete(UserNameWord).where(UserNameWord.user_id.in_(chunk)))
    _insert_name_words(renamed)
    return events


def _insert_name_words(rows: list[dict[str, Any]]) -> None:
    bulk_insert(db.session(), NAME_WORDS, rows)


def _insert_users(new_rows: list[UserData], actor: Actor) -> tuple[list[int], list[dict[str, Any]]]:
    """Create the new users as pending, with their name words (``database.bulk_insert``;
    on SQLite a multi-row INSERT per WRITE_CHUNK users, returning their ids); their ids in
    file order and their audit events (not yet written)."""
    now = utcnow()
    values = [_new_user_values(data, now) for data in new_rows]
    reserved = reserve_ids(db.session(), USERS, len(values)) if values else None
    if reserved is not None:
        for row, user_id in zip(values, reserved, strict=True):
            row["id"] = user_id
        bulk_insert(db.session(), USERS, values)
        ids = reserved
    else:
        statement = (
            insert(USERS)
            .returning(USERS.c.id, USERS.c.dni)
            .execution_options(insertmanyvalues_page_size=WRITE_CHUNK)
        )
        ids_by_dni: dict[str, int] = {}
        for start in range(0, len(values), WRITE_CHUNK):
            result = db.session.execute(statement, values[start : start + WRITE_CHUNK])
            ids_by_dni.update({dni: user_id for user_id, dni in result})
        ids = [ids_by_dni[data.dni] for data in new_rows]
    words: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for data, user_id in zip(new_rows, ids, strict=True):
        words.extend(name_word_rows(user_id, data.given_name, data.family_name, data.dni))
        events.append(
            actor.audit_values(
                "user.created",
                subject_user_id=user_id,
                subject_dni=data.dni,
                details={"status": UserStatus.PENDING.value, "via": "import"},
            )
        )
    _insert_name_words(words)
    return ids, events


def _new_user_values(data: UserData, now: datetime) -> dict[str, Any]:
    """A new, pending user's columns (those an ORM insert would fill by default too)."""
    return {
        "sub": new_subject(),
        "dni": data.dni,
        "email": data.email,
        "email_verified": False,
        "given_name": data.given_name,
        "family_name": data.family_name,
        "phone_number": data.phone_number,
        "phone_number_verified": False,
        "address": data.address,
        "locale": "es-PE",
        "dre": data.dre,
        "ugel": data.ugel,
        "status": UserStatus.PENDING,
        "is_admin": False,
        "link_generation": 0,
        "failed_logins": 0,
        "lockouts": 0,
        "created_at": now,
        "updated_at": now,
        "search_name": search_name_of(f"{data.given_name} {data.family_name}"),
    }


def _hold_rows(
    held: list[ImportRow], existing: dict[str, StoredPerson], actor: Actor, batch: str | None
) -> list[dict[str, Any]]:
    """Keep the held rows for a national admin, WRITE_CHUNK per statement; their audit
    events (not yet written)."""
    values = [
        _held_values(row.data, existing[row.data.dni], actor, "import", batch) for row in held
    ]
    bulk_insert(db.session(), HELD, values)
    return [_held_event(existing[row.data.dni], actor, "import") for row in held]


def _held_values(
    data: UserData, user: Administered, actor: Actor, source: str, batch: str | None
) -> dict[str, Any]:
    return {
        "actor_user_id": actor.user_id,
        "user_id": user.id,
        "dni": data.dni,
        "data": asdict(data),
        "source": source,
        "batch": batch,
        "reason": actor.reason,
        "created_at": utcnow(),
    }


def _held_event(user: StoredPerson | User, actor: Actor, source: str) -> dict[str, Any]:
    """The audit event of a held row: the person's own admins see it on the person's page."""
    return actor.audit_values(
        "user.change_held",
        subject_user_id=user.id,
        subject_dni=user.dni,
        details={"via": source},
    )


def hold_request(
    data: UserData,
    user: User,
    actor: Actor,
    source: str,
    batch: str | None = None,
) -> HeldUserRequest:
    """Keep a scoped admin's data for a DNI outside its territory for a national admin; no
    commit. The person's own admins see the event on the person's page."""
    request = HeldUserRequest(**_held_values(data, user, actor, source, batch))
    db.session.add(request)
    record_event(**_held_event(user, actor, source))
    return request
