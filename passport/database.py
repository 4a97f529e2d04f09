"""The declarative base, naming convention and the Flask-SQLAlchemy handle."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from datetime import UTC
from datetime import datetime
from typing import Any

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import JSON
from sqlalchemy import DateTime
from sqlalchemy import Engine
from sqlalchemy import MetaData
from sqlalchemy import Row
from sqlalchemy import Table
from sqlalchemy import event
from sqlalchemy import insert
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.exc import InterfaceError
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import registry
from sqlalchemy.types import TypeDecorator

# Stable constraint names, so Alembic can drop and alter them on every backend.
# The largest id a URL may carry (PostgreSQL INTEGER): a bigger one is a 404 from the route's
# converter, not an overflow error from the driver.
MAX_ID = 2**31 - 1

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite drops the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Base of every Passport model."""

    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime()},
    )


def page_number(page: int) -> int:
    """A list's page number from the URL, between 1 and 100,000.

    Past any real list, and small enough that the OFFSET it becomes fits every database's
    integer (a 23-digit page was an overflow error, a 500, on SQLite and PostgreSQL).
    """
    return max(1, min(page, 100_000))


def utcnow() -> datetime:
    """The current time, timezone-aware UTC (what every column stores)."""
    return datetime.now(UTC)


db = SQLAlchemy(model_class=Base)


def insert_once(table: Any, values: dict[str, Any]) -> bool:
    """Insert a row under a unique constraint in its own committed transaction; False when
    the row is already there (a replayed jti, from this instance or any other).

    Not in the request's transaction: /introspect never commits and a failed /token rolls
    back, which would forget the row and let the same value in again.
    """
    try:
        with db.engine.begin() as connection:
            connection.execute(insert(table).values(**values))
    except IntegrityError:
        return False
    return True


def read_first(statement: Any, params: dict[str, Any]) -> Row[Any] | None:
    """The first row of one read-only statement, in a transaction of its own.

    On PostgreSQL, when the request has not begun a transaction, the statement runs in
    autocommit and the session's transaction ends with it: one round trip instead of BEGIN,
    SELECT, ROLLBACK (a single SELECT sees one snapshot either way). What the request does
    afterwards begins a transaction as usual. Used by /userinfo and /introspect, whose only
    statement this is (issue 13); elsewhere, or inside a transaction, a plain session read.
    """
    session = db.session()  # this request's session (the scoped proxy has no in_transaction)
    if (
        session.in_transaction()
        or session.new
        or session.dirty
        or session.deleted
        or session.get_bind().dialect.name != "postgresql"
    ):
        return session.execute(statement, params).first()
    connection = session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    try:
        return connection.execute(statement, params).first()
    finally:
        session.rollback()  # nothing to roll back: returns the connection, isolation reset


def tune_engine(engine: Engine, ping_idle_seconds: float) -> None:
    """Per-backend connection settings that save work on every request.

    PostgreSQL: a pooled connection is pinged only when it sat idle longer than
    ``ping_idle_seconds``, not on every checkout (``pool_pre_ping`` costs one round trip per
    request). A connection that dies while in steady use fails one statement; SQLAlchemy then
    invalidates the whole pool, so the next checkouts reconnect.
    SQLite: write-ahead log and ``synchronous=NORMAL`` (readers never wait for a writer; a
    commit is durable once checkpointed, consistent always).
    """
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        return

    def remember_checkin(dbapi_connection: Any, record: Any) -> None:
        record.info["checked_in_at"] = time.monotonic()

    def ping_if_idle(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        checked_in_at = record.info.get("checked_in_at")
        if checked_in_at is None or time.monotonic() - checked_in_at <= ping_idle_seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            # The pool discards this connection and checks out (or opens) another.
            raise DisconnectionError(str(error)) from error

    event.listen(engine, "checkin", remember_checkin)
    event.listen(engine, "checkout", ping_if_idle)


def is_database_unavailable(error: BaseException) -> bool:
    """True when ``error`` means the database cannot answer now (not a bug of ours).

    Refused or dropped connections, a server shutting down or starting up, a statement
    cancelled by a timeout (DBAPI ``OperationalError`` / ``InterfaceError``), a connection
    SQLAlchemy found dead, or a pool with no free connection in time. Such a request is
    answered 503; the pool reconnects by itself once the database is back.
    """
    if isinstance(error, (OperationalError, InterfaceError, PoolTimeoutError)):
        return True
    return isinstance(error, DBAPIError) and error.connection_invalidated


def describe_unavailable(error: BaseException) -> str:
    """One line for a log or a terminal: the driver's error class and first message line.

    Not ``str(error)``: SQLAlchemy appends the SQL statement and its parameters.
    """
    cause = getattr(error, "orig", None) or error
    first_line = (str(cause).strip().splitlines() or [""])[0][:200]
    return f"{type(cause).__name__}: {first_line}"


def _sqlite_pragmas(dbapi_connection: Any, record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")  # a no-op (answers "memory") in memory
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


# Rows per statement of ``bulk_insert`` on SQLite (one executemany each).
BULK_CHUNK = 5000


def bulk_insert(session: Any, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert many rows (each naming the same columns) in the session's transaction, fast.

    PostgreSQL: one ``COPY ... FROM STDIN`` (psycopg), values converted by the columns' own
    types as an INSERT would convert them. Elsewhere (SQLite): one ``executemany`` per
    BULK_CHUNK rows. (SQLAlchemy's multi-row INSERT costs about 1 ms per row through psycopg's
    pipelined ``executemany``; COPY about 20 µs.) A constraint violation raises
    ``sqlalchemy.exc.IntegrityError`` either way; the caller rolls back.
    """
    if not rows:
        return
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        for start in range(0, len(rows), BULK_CHUNK):
            session.execute(insert(table), rows[start : start + BULK_CHUNK])
        return
    names = list(rows[0])
    processors = [
        json.dumps if isinstance(table.c[name].type, JSON) else _processor(table, name, connection)
        for name in names
    ]
    columns = ", ".join(f'"{table.c[name].name}"' for name in names)
    cursor = connection.connection.driver_connection.cursor()
    try:
        with cursor.copy(f'COPY "{table.name}" ({columns}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(
                    [
                        value if process is None or value is None else process(value)
                        for process, value in zip(
                            processors, (row[name] for name in names), strict=True
                        )
                    ]
                )
    except connection.dialect.dbapi.IntegrityError as error:
        raise IntegrityError(f"COPY {table.name}", None, error) from error
    finally:
        cursor.close()


def _processor(table: Table, name: str, connection: Any) -> Any:
    """The column type's conversion of a bound value (UTCDateTime, Enum...), or None."""
    return table.c[name].type.bind_processor(connection.dialect)


def reserve_ids(session: Any, table: Table, count: int) -> list[int] | None:
    """On PostgreSQL, ``count`` new ids of ``table`` from its sequence, ascending (to insert
    with ``bulk_insert``); None elsewhere (SQLite numbers inserted rows in order)."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        return None
    return sorted(
        connection.scalars(
            text(
                "SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"
            ),
            {"table": table.name, "n": count},
        )
    )
