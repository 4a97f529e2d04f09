"""admin API, tamper-evident audit chain and governed onboarding

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 23:05:00

Events already in the log keep an empty hash: the chain starts at the first event written
after this revision (passport/audit/chain.py).
"""

import sqlalchemy as sa
from alembic import op

import passport.database

# revision identifiers, used by Alembic.
revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("audit_events") as batch:
        batch.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("hash", sa.String(length=64), nullable=True))
    with op.batch_alter_table("oauth_clients") as batch:
        batch.add_column(sa.Column("description", sa.String(length=500), nullable=True))
        batch.add_column(sa.Column("logo_uri", sa.String(length=2000), nullable=True))
        batch.add_column(sa.Column("pending_scopes", sa.JSON(), nullable=True))
    with op.batch_alter_table("oauth_initial_access_tokens") as batch:
        batch.add_column(sa.Column("label", sa.String(length=120), nullable=True))
        batch.add_column(
            sa.Column("revoked_at", passport.database.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade():
    with op.batch_alter_table("oauth_initial_access_tokens") as batch:
        batch.drop_column("revoked_at")
        batch.drop_column("label")
    with op.batch_alter_table("oauth_clients") as batch:
        batch.drop_column("pending_scopes")
        batch.drop_column("logo_uri")
        batch.drop_column("description")
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_column("hash")
        batch.drop_column("prev_hash")
