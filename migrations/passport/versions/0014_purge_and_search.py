"""national scale: indexes for the purge, archived audit segments, a normalised name to search

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 12:45:00

The purge (passport/maintenance/purge.py) finds expired rows through an index on each expiry
column, in small batches. Deleting the oldest audit events leaves an anchor
(``audit_archive_segments``) so the hash chain still verifies. ``users.search_name`` is the
full name without accents, lower case (passport/accounts/models.py keeps it): the console's
name search reads it; on PostgreSQL a trigram index serves ``LIKE '%word%'`` and a pattern
index the DNI prefix (the unique index does not, under a non-C collation).
"""

import unicodedata

import sqlalchemy as sa
from alembic import op

import passport.database

# revision identifiers, used by Alembic.
revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

BACKFILL_BATCH = 5000


def _search_name(given: str, family: str) -> str:
    # A copy of passport.accounts.models.search_name_of as it is at this revision.
    text = unicodedata.normalize("NFKD", f"{given} {family}")
    return "".join(c for c in text if not unicodedata.combining(c)).casefold()


def upgrade():
    bind = op.get_bind()
    postgresql = bind.dialect.name == "postgresql"
    op.create_table(
        "audit_archive_segments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("first_id", sa.Integer(), nullable=False),
        sa.Column("last_id", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=True),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("oldest_at", passport.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("newest_at", passport.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("archived_at", passport.database.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_archive_segments") as batch:
        batch.create_index("ix_audit_archive_segments_last_id", ["last_id"], unique=False)
    with op.batch_alter_table("oauth_authorization_codes") as batch:
        batch.create_index("ix_oauth_authorization_codes_expires_at", ["expires_at"])
    # A token row is dead after its refresh expiry, else its access expiry.
    op.create_index(
        "ix_oauth_tokens_dead_after", "oauth_tokens", ["refresh_expires_at", "access_expires_at"]
    )
    with op.batch_alter_table("sso_sessions") as batch:
        batch.create_index("ix_sso_sessions_expires_at", ["expires_at"])
        batch.create_index("ix_sso_sessions_ended_at", ["ended_at"])
    with op.batch_alter_table("oauth_initial_access_tokens") as batch:
        batch.create_index("ix_oauth_initial_access_tokens_expires_at", ["expires_at"])

    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("search_name", sa.String(length=202), nullable=True))
    users = sa.table(
        "users",
        sa.column("id", sa.Integer()),
        sa.column("given_name", sa.String()),
        sa.column("family_name", sa.String()),
        sa.column("search_name", sa.String()),
    )
    after = 0
    while True:
        rows = bind.execute(
            sa.select(users.c.id, users.c.given_name, users.c.family_name)
            .where(users.c.id > after)
            .order_by(users.c.id)
            .limit(BACKFILL_BATCH)
        ).all()
        if not rows:
            break
        bind.execute(
            users.update()
            .where(users.c.id == sa.bindparam("row_id"))
            .values(search_name=sa.bindparam("name")),
            [{"row_id": r.id, "name": _search_name(r.given_name, r.family_name)} for r in rows],
        )
        after = rows[-1].id
    # The user list's order (surnames, names), so a page is read from an index, not sorted.
    op.create_index("ix_users_family_given_id", "users", ["family_name", "given_name", "id"])
    if postgresql:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_index(
        "ix_users_search_name_trgm",
        "users",
        ["search_name"],
        postgresql_using="gin",
        postgresql_ops={"search_name": "gin_trgm_ops"},
    )
    op.create_index(
        "ix_users_dni_prefix", "users", ["dni"], postgresql_ops={"dni": "varchar_pattern_ops"}
    )
    # The console's counts per status of a territory (national: the whole index, not the table).
    op.create_index("ix_users_dre_status", "users", ["dre", "status"])
    op.create_index("ix_users_ugel_status", "users", ["ugel", "status"])


def downgrade():
    op.drop_index("ix_users_ugel_status", table_name="users")
    op.drop_index("ix_users_dre_status", table_name="users")
    op.drop_index("ix_users_dni_prefix", table_name="users")
    op.drop_index("ix_users_search_name_trgm", table_name="users")
    op.drop_index("ix_users_family_given_id", table_name="users")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("search_name")
    with op.batch_alter_table("oauth_initial_access_tokens") as batch:
        batch.drop_index("ix_oauth_initial_access_tokens_expires_at")
    with op.batch_alter_table("sso_sessions") as batch:
        batch.drop_index("ix_sso_sessions_ended_at")
        batch.drop_index("ix_sso_sessions_expires_at")
    op.drop_index("ix_oauth_tokens_dead_after", table_name="oauth_tokens")
    with op.batch_alter_table("oauth_authorization_codes") as batch:
        batch.drop_index("ix_oauth_authorization_codes_expires_at")
    op.drop_table("audit_archive_segments")
