"""pushed authorization requests (RFC 9126), request objects (RFC 9101), the FAPI 2.0 profile

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 15:00:00

Three client columns (a client that must push its requests, a FAPI 2.0 client, the alg of its
request objects) and the table of pushed requests: the hash of each request_uri, the validated
parameters, and an expiry (read once by /authorize, which deletes the row).
"""

import sqlalchemy as sa
from alembic import op

import passport.database

# revision identifiers, used by Alembic.
revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("oauth_clients", schema=None) as batch:
        batch.add_column(
            sa.Column(
                "require_pushed_authorization_requests",
                sa.Boolean(),
                nullable=False,
                server_default=sa.false(),
            )
        )
        batch.add_column(
            sa.Column("fapi2_profile", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(
            sa.Column("request_object_signing_alg", sa.String(length=10), nullable=True)
        )
    op.create_table(
        "oauth_pushed_authorizations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_uri_hash", sa.String(length=64), nullable=False),
        sa.Column("client_pk", sa.Integer(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("created_at", passport.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", passport.database.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_pk"],
            ["oauth_clients.id"],
            name=op.f("fk_oauth_pushed_authorizations_client_pk_oauth_clients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oauth_pushed_authorizations")),
        sa.UniqueConstraint(
            "request_uri_hash", name=op.f("uq_oauth_pushed_authorizations_request_uri_hash")
        ),
    )
    with op.batch_alter_table("oauth_pushed_authorizations", schema=None) as batch:
        batch.create_index(
            batch.f("ix_oauth_pushed_authorizations_expires_at"), ["expires_at"], unique=False
        )


def downgrade():
    with op.batch_alter_table("oauth_pushed_authorizations", schema=None) as batch:
        batch.drop_index(batch.f("ix_oauth_pushed_authorizations_expires_at"))
    op.drop_table("oauth_pushed_authorizations")
    with op.batch_alter_table("oauth_clients", schema=None) as batch:
        batch.drop_column("request_object_signing_alg")
        batch.drop_column("fapi2_profile")
        batch.drop_column("require_pushed_authorization_requests")
