"""mails and back-channel logouts share one outbox lifecycle (passport/outbox.py)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 13:00:00

Both tables get the same delivery columns: back-channel deliveries gain ``status`` (from their
timestamps) and name their delivery time ``sent_at``; mails gain ``gave_up_at``. Both are
claimed through an index on (status, next_attempt_at). Every row is kept.
"""

import sqlalchemy as sa
from alembic import op

import passport.database

# revision identifiers, used by Alembic.
revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("oauth_backchannel_deliveries") as batch:
        batch.add_column(
            sa.Column("status", sa.String(length=16), nullable=False, server_default="pending")
        )
        batch.alter_column(
            "delivered_at",
            new_column_name="sent_at",
            existing_type=sa.DateTime(timezone=True),
            existing_nullable=True,
        )
        batch.drop_index("ix_oauth_backchannel_deliveries_next_attempt_at")
        batch.create_index(
            "ix_oauth_backchannel_deliveries_status_next_attempt_at",
            ["status", "next_attempt_at"],
            unique=False,
        )
    op.execute("UPDATE oauth_backchannel_deliveries SET status = 'sent' WHERE sent_at IS NOT NULL")
    op.execute(
        "UPDATE oauth_backchannel_deliveries SET status = 'failed'"
        " WHERE sent_at IS NULL AND gave_up_at IS NOT NULL"
    )
    with op.batch_alter_table("oauth_backchannel_deliveries") as batch:
        batch.alter_column("status", existing_type=sa.String(length=16), server_default=None)
    with op.batch_alter_table("outgoing_mails") as batch:
        batch.add_column(
            sa.Column("gave_up_at", passport.database.UTCDateTime(timezone=True), nullable=True)
        )
    # A mail failed for good during its last claim, whose lease end is next_attempt_at: the
    # closest time on record (within one lease) to when it was given up.
    op.execute("UPDATE outgoing_mails SET gave_up_at = next_attempt_at WHERE status = 'failed'")


def downgrade():
    with op.batch_alter_table("outgoing_mails") as batch:
        batch.drop_column("gave_up_at")
    with op.batch_alter_table("oauth_backchannel_deliveries") as batch:
        batch.drop_index("ix_oauth_backchannel_deliveries_status_next_attempt_at")
        batch.create_index(
            "ix_oauth_backchannel_deliveries_next_attempt_at", ["next_attempt_at"], unique=False
        )
        batch.alter_column(
            "sent_at",
            new_column_name="delivered_at",
            existing_type=sa.DateTime(timezone=True),
            existing_nullable=True,
        )
        batch.drop_column("status")
