"""create second factor tables (TOTP) and recovery codes

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 23:05:00

"""

import sqlalchemy as sa
from alembic import op

import passport.database

# revision identifiers, used by Alembic.
revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "totp_credentials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("secret_encrypted", sa.String(length=255), nullable=False),
        sa.Column("confirmed_at", passport.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_used_step", sa.Integer(), nullable=True),
        sa.Column("created_at", passport.database.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_totp_credentials_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_totp_credentials")),
        sa.UniqueConstraint("user_id", name=op.f("uq_totp_credentials_user_id")),
    )
    op.create_table(
        "recovery_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", passport.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", passport.database.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_recovery_codes_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_recovery_codes_code_hash")),
    )
    with op.batch_alter_table("recovery_codes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recovery_codes_user_id"), ["user_id"], unique=False)

    op.create_table(
        "second_factor_challenges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("authz_id", sa.String(length=128), nullable=True),
        sa.Column("next_url", sa.String(length=2000), nullable=True),
        sa.Column("client_id", sa.String(length=64), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", passport.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", passport.database.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_second_factor_challenges_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_second_factor_challenges")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_second_factor_challenges_token_hash")),
    )
    with op.batch_alter_table("second_factor_challenges", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_second_factor_challenges_expires_at"), ["expires_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_second_factor_challenges_user_id"), ["user_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("second_factor_challenges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_second_factor_challenges_user_id"))
        batch_op.drop_index(batch_op.f("ix_second_factor_challenges_expires_at"))

    op.drop_table("second_factor_challenges")
    with op.batch_alter_table("recovery_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recovery_codes_user_id"))

    op.drop_table("recovery_codes")
    op.drop_table("totp_credentials")
