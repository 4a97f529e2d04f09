"""admin console: scoped admins and the mail queue

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 23:05:00

"""

import sqlalchemy as sa
from alembic import op

import passport.database

# revision identifiers, used by Alembic.
revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("admin_dre", sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column("admin_ugel", sa.String(length=120), nullable=True))

    op.create_table(
        "admin_activity",
        sa.Column("sso_session_id", sa.Integer(), nullable=False),
        sa.Column("last_seen_at", passport.database.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["sso_session_id"],
            ["sso_sessions.id"],
            name=op.f("fk_admin_activity_sso_session_id_sso_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("sso_session_id", name=op.f("pk_admin_activity")),
    )


def downgrade():
    op.drop_table("admin_activity")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("admin_ugel")
        batch_op.drop_column("admin_dre")
