"""resource indicators (RFC 8707) and claims consented one by one (OIDC Core §5.5)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 14:45:00

``resources`` registers the APIs a token may be narrowed to (identifier, accepted scopes,
token format, the resource server that introspects). Codes keep the resources they were
authorized for; a token row keeps the grant's resources, the access token's audience and
its narrowed scopes. A consent keeps the claims allowed through the `claims` parameter.
"""

import sqlalchemy as sa
from alembic import op

import passport.database

# revision identifiers, used by Alembic.
revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "resources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("identifier", sa.String(length=512), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=True),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("access_token_format", sa.String(length=10), nullable=False),
        sa.Column("client_pk", sa.Integer(), nullable=True),
        sa.Column("is_disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", passport.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", passport.database.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_pk"],
            ["oauth_clients.id"],
            name=op.f("fk_resources_client_pk_oauth_clients"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resources")),
        sa.UniqueConstraint("identifier", name=op.f("uq_resources_identifier")),
    )
    with op.batch_alter_table("oauth_authorization_codes") as batch:
        batch.add_column(sa.Column("resources", sa.JSON(), nullable=True))
    with op.batch_alter_table("oauth_tokens") as batch:
        batch.add_column(sa.Column("resources", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("audience", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("access_scope", sa.String(length=1000), nullable=True))
    with op.batch_alter_table("oauth_consents") as batch:
        batch.add_column(sa.Column("claims", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("oauth_consents") as batch:
        batch.drop_column("claims")
    with op.batch_alter_table("oauth_tokens") as batch:
        batch.drop_column("access_scope")
        batch.drop_column("audience")
        batch.drop_column("resources")
    with op.batch_alter_table("oauth_authorization_codes") as batch:
        batch.drop_column("resources")
    op.drop_table("resources")
