"""admin second-factor enrolment links and held out-of-territory requests

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 12:30:00
"""

import sqlalchemy as sa
from alembic import op

import passport.database

# revision identifiers, used by Alembic.
revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "totp_enrolment_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", passport.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", passport.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", passport.database.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_totp_enrolment_links_user_id", "totp_enrolment_links", ["user_id"])
    op.create_index("ix_totp_enrolment_links_expires_at", "totp_enrolment_links", ["expires_at"])
    op.create_table(
        "held_user_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("dni", sa.String(length=8), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("batch", sa.String(length=32), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("created_at", passport.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", passport.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_by_user_id", sa.Integer(), nullable=True),
        sa.Column("resolution", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(["actor_user_id"], ["users.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["resolved_by_user_id"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_held_user_requests_user_id", "held_user_requests", ["user_id"])
    op.create_index("ix_held_user_requests_created_at", "held_user_requests", ["created_at"])


def downgrade():
    op.drop_index("ix_held_user_requests_created_at", table_name="held_user_requests")
    op.drop_index("ix_held_user_requests_user_id", table_name="held_user_requests")
    op.drop_table("held_user_requests")
    op.drop_index("ix_totp_enrolment_links_expires_at", table_name="totp_enrolment_links")
    op.drop_index("ix_totp_enrolment_links_user_id", table_name="totp_enrolment_links")
    op.drop_table("totp_enrolment_links")
