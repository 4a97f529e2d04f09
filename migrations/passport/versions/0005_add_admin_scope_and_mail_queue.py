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
        sa.Column("last_seen_at", passport.database.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["sso_session_id"],
            ["sso_sessions.id"],
            name=op.f("fk_admin_activity_sso_session_id_sso_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("sso_session_id", name=op.f("pk_admin_activity")),
    )

    op.create_table(
        "outgoing_mails",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("batch", sa.String(length=32), nullable=True),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=255), nullable=True),
        sa.Column("created_at", passport.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", passport.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", passport.database.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_user_id"],
            ["users.id"],
            name=op.f("fk_outgoing_mails_actor_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_outgoing_mails_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outgoing_mails")),
    )
    with op.batch_alter_table("outgoing_mails", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outgoing_mails_batch"), ["batch"], unique=False)
        batch_op.create_index(batch_op.f("ix_outgoing_mails_user_id"), ["user_id"], unique=False)
        batch_op.create_index(
            "ix_outgoing_mails_status_next_attempt_at", ["status", "next_attempt_at"], unique=False
        )
    op.create_table(
        "user_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("report", sa.JSON(), nullable=True),
        sa.Column("created_at", passport.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", passport.database.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_user_id"],
            ["users.id"],
            name=op.f("fk_user_imports_actor_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_imports")),
        sa.UniqueConstraint("token", name=op.f("uq_user_imports_token")),
    )
    with op.batch_alter_table("user_imports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_user_imports_actor_user_id"), ["actor_user_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_user_imports_created_at"), ["created_at"], unique=False
        )


def downgrade():
    op.drop_table("user_imports")
    op.drop_table("outgoing_mails")
    op.drop_table("admin_activity")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("admin_ugel")
        batch_op.drop_column("admin_dre")
