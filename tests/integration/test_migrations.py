"""The migrations build exactly the schema the models describe, on every backend."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask

from passport.database import Base
from passport.extensions import db


def test_models_and_migrations_agree(app: Flask) -> None:
    import passport.models  # noqa: F401  (every table on the metadata)

    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_upgrade_is_idempotent(app: Flask) -> None:
    from flask_migrate import upgrade

    upgrade()
    upgrade()
    with db.engine.connect() as connection:
        heads = MigrationContext.configure(connection).get_current_heads()
    assert len(heads) == 1
