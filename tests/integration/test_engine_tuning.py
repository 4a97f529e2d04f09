"""Connection tuning: SQLite in WAL mode; PostgreSQL pings only connections that sat idle."""

from __future__ import annotations

import time
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from passport.database import tune_engine


def backend(app: Flask) -> str:
    return sa.make_url(app.config["SQLALCHEMY_DATABASE_URI"]).get_backend_name()


def test_sqlite_runs_in_wal_mode_with_normal_sync(app: Flask) -> None:
    from passport.extensions import db

    if backend(app) != "sqlite":
        pytest.skip("SQLite only")
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL


@pytest.fixture
def pg_engine(app: Flask) -> Any:
    if backend(app) != "postgresql":
        pytest.skip("PostgreSQL only")
    engines: list[sa.Engine] = []

    def build(ping_idle_seconds: float) -> tuple[sa.Engine, list[int]]:
        engine = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"], pool_size=1)
        tune_engine(engine, ping_idle_seconds)
        pings: list[int] = []
        original = engine.dialect.do_ping

        def counting_ping(dbapi_connection: Any) -> bool:
            pings.append(1)
            return bool(original(dbapi_connection))

        engine.dialect.do_ping = counting_ping  # type: ignore[method-assign]
        engines.append(engine)
        return engine, pings

    yield build
    for engine in engines:
        engine.dispose()


def test_a_connection_in_steady_use_is_not_pinged(pg_engine: Any) -> None:
    engine, pings = pg_engine(3600)
    for _ in range(3):
        with engine.connect() as connection:
            assert connection.execute(sa.text("SELECT 1")).scalar() == 1
    assert pings == []


def test_an_idle_connection_is_pinged_and_replaced_when_dead(pg_engine: Any) -> None:
    engine, pings = pg_engine(0.01)
    with engine.connect() as connection:
        pid = connection.execute(sa.text("SELECT pg_backend_pid()")).scalar()
    with engine.connect() as other:  # the same pooled connection: kill it from elsewhere
        other.execute(sa.text("SELECT 1"))
    killer = sa.create_engine(engine.url, poolclass=sa.pool.NullPool)
    with killer.connect() as connection:
        connection.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    killer.dispose()
    time.sleep(0.05)
    # The ping finds the dead connection; the pool opens a new one instead of failing.
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT pg_backend_pid()")).scalar() != pid
    assert pings


USER_BY_DNI = sa.text("SELECT dni FROM users WHERE dni = :dni")


def test_read_first_answers_the_row_or_none(app: Flask) -> None:
    from passport.database import read_first
    from passport.extensions import db
    from tests.factories import make_user

    user = make_user()
    db.session.commit()
    found = read_first(USER_BY_DNI, {"dni": user.dni})
    assert found is not None
    assert found.dni == user.dni
    assert read_first(USER_BY_DNI, {"dni": "00000000"}) is None


def test_read_first_ends_its_own_transaction_on_postgresql(app: Flask) -> None:
    from passport.database import read_first
    from passport.extensions import db

    if backend(app) != "postgresql":
        pytest.skip("PostgreSQL only")
    db.session.remove()
    assert read_first(sa.text("SELECT 1 AS one"), {}) is not None
    assert not db.session().in_transaction()


RENAME = sa.text("UPDATE users SET given_name = 'Otra' WHERE dni = :dni")
NAME_BY_DNI = sa.text("SELECT given_name FROM users WHERE dni = :dni")


def test_writes_after_read_first_are_transactional_again(app: Flask) -> None:
    """The autocommit of the read ends with it: a later write still rolls back."""
    from passport.database import read_first
    from passport.extensions import db
    from tests.factories import make_user

    dni = make_user().dni
    db.session.remove()
    assert read_first(USER_BY_DNI, {"dni": dni}) is not None
    db.session.execute(RENAME, {"dni": dni})
    db.session.rollback()
    assert db.session.execute(NAME_BY_DNI, {"dni": dni}).scalar() == "Rosa Elena"


def test_read_first_inside_a_transaction_sees_its_writes(app: Flask) -> None:
    from passport.database import read_first
    from passport.extensions import db
    from tests.factories import make_user

    dni = make_user().dni
    db.session.execute(RENAME, {"dni": dni})  # written, not committed
    found = read_first(NAME_BY_DNI, {"dni": dni})
    assert found is not None
    assert found.given_name == "Otra"
    db.session.rollback()
    found = read_first(NAME_BY_DNI, {"dni": dni})
    assert found is not None
    assert found.given_name == "Rosa Elena"
