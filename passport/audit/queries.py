"""Reading the audit log: filters, pages and a CSV export safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Integer
from sqlalchemy import Select
from sqlalchemy import String
from sqlalchemy import column
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import table

from passport.audit.models import AuditEvent
from passport.caches import Cache
from passport.caches import app_cache
from passport.database import page_number
from passport.extensions import db

PAGE_SIZE = 50
EVENT_TYPES_TTL_SECONDS = 60.0
EVENT_TYPES_CACHE = "audit.event_types"
EXPORT_BATCH = 500
# A spreadsheet runs a cell starting with these, or with any control character, as a formula
# (CSV injection). AYNI's exports apply the same rule (relying_party_demo/exports/cells.py).
FORMULA_PREFIXES = ("=", "+", "-", "@")
CSV_COLUMNS = (
    "id",
    "occurred_at",
    "event",
    "outcome",
    "actor_dni",
    "subject_dni",
    "client_id",
    "ip_address",
    "user_agent",
    "details",
    "hash",
)

# The people an event names, read by id from the "users" table (the table the foreign keys
# in audit/models.py name): the audit log sits below accounts and does not import it.
_people = table("users", column("id", Integer), column("dni", String))
_actor = _people.alias("actor")
_subject = _people.alias("subject")


@dataclass(frozen=True)
class AuditFilter:
    """What the admin asked for; dates are whole days in the deployment's time zone."""

    actor_dni: str | None = None
    subject_dni: str | None = None
    event: str | None = None
    client_id: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    zone: str = "America/Lima"

    def as_dict(self) -> dict[str, str]:
        """The filters given, as text (for links and the audit event of an export)."""
        values = {
            "actor": self.actor_dni,
            "subject": self.subject_dni,
            "event": self.event,
            "client": self.client_id,
            "from": self.date_from.isoformat() if self.date_from else None,
            "to": self.date_to.isoformat() if self.date_to else None,
        }
        return {key: value for key, value in values.items() if value}


@dataclass
class AuditRow:
    """One event with the DNIs of its actor and subject."""

    event: AuditEvent
    actor_dni: str | None
    subject_dni: str | None


@dataclass
class AuditPage:
    """A page of events, newest first (the shape the console's pager reads).

    ``next_args`` / ``previous_args`` carry the keyset (``antes`` / ``despues``: an event id)
    the pager adds to its links, so a page far back costs what the first one does.
    """

    items: list[AuditRow]
    number: int
    has_next: bool
    has_previous: bool = field(default=False)
    next_args: dict[str, int] = field(default_factory=dict)
    previous_args: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.has_previous = self.has_previous or self.number > 1
        if self.items:
            self.next_args = {"antes": self.items[-1].event.id}
            self.previous_args = {"despues": self.items[0].event.id}


def _day_start(day: date, zone: str) -> datetime:
    return datetime.combine(day, time.min, ZoneInfo(zone)).astimezone(UTC)


def filtered(audit_filter: AuditFilter) -> Select[AuditEvent, str, str]:
    """Events with their actor's and subject's DNI, filtered."""
    query = (
        select(AuditEvent, _actor.c.dni, _subject.c.dni)
        .outerjoin(_actor, _actor.c.id == AuditEvent.actor_user_id)
        .outerjoin(_subject, _subject.c.id == AuditEvent.subject_user_id)
    )
    if audit_filter.actor_dni:
        query = query.where(_actor.c.dni == audit_filter.actor_dni)
    if audit_filter.subject_dni:
        dni = audit_filter.subject_dni
        query = query.where(or_(AuditEvent.subject_dni == dni, _subject.c.dni == dni))
    if audit_filter.event:
        query = query.where(AuditEvent.event == audit_filter.event)
    if audit_filter.client_id:
        query = query.where(AuditEvent.client_id == audit_filter.client_id)
    if audit_filter.date_from:
        query = query.where(
            AuditEvent.occurred_at >= _day_start(audit_filter.date_from, audit_filter.zone)
        )
    if audit_filter.date_to:
        end = _day_start(audit_filter.date_to + timedelta(days=1), audit_filter.zone)
        query = query.where(AuditEvent.occurred_at < end)
    return query


def _rows(result: Any) -> list[AuditRow]:
    return [
        AuditRow(event, actor, subject or event.subject_dni) for event, actor, subject in result
    ]


def search_events(
    audit_filter: AuditFilter,
    page: int = 1,
    *,
    before: int | None = None,
    after: int | None = None,
) -> AuditPage:
    """One page of matching events, newest first.

    ``before`` (the events older than that id) or ``after`` (newer) read the page through the
    primary key (keyset); ``page`` alone skips ``(page - 1) * PAGE_SIZE`` rows (links from
    before keysets existed).
    """
    page = page_number(page)
    query = filtered(audit_filter)
    if after is not None:
        query = query.where(AuditEvent.id > after).order_by(AuditEvent.id)
        rows = _rows(db.session.execute(query.limit(PAGE_SIZE + 1)).all())
        newer = len(rows) > PAGE_SIZE
        rows = rows[:PAGE_SIZE][::-1]
        return AuditPage(items=rows, number=page, has_next=True, has_previous=newer)
    if before is not None:
        query = query.where(AuditEvent.id < before).order_by(AuditEvent.id.desc())
    else:
        query = query.order_by(AuditEvent.id.desc()).offset((page - 1) * PAGE_SIZE)
    rows = _rows(db.session.execute(query.limit(PAGE_SIZE + 1)).all())
    return AuditPage(items=rows[:PAGE_SIZE], number=page, has_next=len(rows) > PAGE_SIZE)


def event_types() -> list[str]:
    """Every event name in the log, for the filter's list.

    Read as a skip scan of the ``event`` index (one probe per distinct name, not a pass over
    the log), and cached per process for a minute.
    """
    cache: Cache[tuple[str, ...]] = app_cache(EVENT_TYPES_CACHE, 1)
    _, names = cache.get(EVENT_TYPES_CACHE)
    if names is None:
        found: list[str] = []
        name = db.session.scalar(select(func.min(AuditEvent.event)))
        while name is not None:
            found.append(name)
            name = db.session.scalar(
                select(func.min(AuditEvent.event)).where(AuditEvent.event > name)
            )
        names = tuple(found)
        cache.set(EVENT_TYPES_CACHE, names, EVENT_TYPES_TTL_SECONDS)
    return list(names)


def iter_events(audit_filter: AuditFilter) -> Iterator[AuditRow]:
    """Every matching event in id order, read in batches (keyset: flat memory)."""
    after = 0
    while True:
        query = filtered(audit_filter).where(AuditEvent.id > after).order_by(AuditEvent.id)
        rows = _rows(db.session.execute(query.limit(EXPORT_BATCH)).all())
        if not rows:
            return
        yield from rows
        after = rows[-1].event.id
        for row in rows:  # keep memory flat on a long log
            db.session.expunge(row.event)


def safe_cell(value: Any) -> str:
    """Text for a CSV cell that a spreadsheet shows rather than runs."""
    text = "" if value is None else str(value)
    runnable = text.startswith(FORMULA_PREFIXES) or (
        bool(text) and unicodedata.category(text[0]) == "Cc"
    )
    return "'" + text if runnable else text


def csv_lines(rows: Iterator[AuditRow]) -> Iterator[str]:
    """The CSV export, one line at a time (header first)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush(values: list[str]) -> str:
        writer.writerow(values)
        line = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return line

    yield flush(list(CSV_COLUMNS))
    for row in rows:
        event = row.event
        yield flush(
            [
                safe_cell(value)
                for value in (
                    event.id,
                    event.occurred_at.astimezone(UTC).isoformat(),
                    event.event,
                    event.outcome,
                    row.actor_dni,
                    row.subject_dni,
                    event.client_id,
                    event.ip_address,
                    event.user_agent,
                    json.dumps(event.details, ensure_ascii=False, sort_keys=True)
                    if event.details
                    else "",
                    event.hash,
                )
            ]
        )
