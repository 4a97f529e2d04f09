"""DPoP (RFC 9449): proofs seen, tokens bound to a key, clients that must bind

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 14:45:00

``oauth_dpop_proof_jtis`` remembers every DPoP proof accepted (the SHA-256 of its key
thumbprint and ``jti``) under a unique constraint, so a replay is refused by every instance
(passport/oidc/dpop.py). ``oauth_tokens.jkt`` is the thumbprint of the key a token is bound
to, ``oauth_authorization_codes.dpop_jkt`` the key that alone may redeem a code (§10);
``oauth_clients.dpop_bound_access_tokens`` the RFC 9449 §5.2 client metadata.
"""

import sqlalchemy as sa
from alembic import op

import passport.database

# revision identifiers, used by Alembic.
revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "oauth_dpop_proof_jtis",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("jti_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", passport.database.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oauth_dpop_proof_jtis")),
        sa.UniqueConstraint("jti_hash", name=op.f("uq_oauth_dpop_proof_jtis_jti_hash")),
    )
    with op.batch_alter_table("oauth_dpop_proof_jtis", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_oauth_dpop_proof_jtis_expires_at"), ["expires_at"], unique=False
        )
    with op.batch_alter_table("oauth_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("jkt", sa.String(length=64), nullable=True))
    with op.batch_alter_table("oauth_authorization_codes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dpop_jkt", sa.String(length=64), nullable=True))
    with op.batch_alter_table("oauth_clients", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "dpop_bound_access_tokens", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
    with op.batch_alter_table("oauth_clients", schema=None) as batch_op:
        batch_op.alter_column("dpop_bound_access_tokens", server_default=None)


def downgrade():
    with op.batch_alter_table("oauth_clients", schema=None) as batch_op:
        batch_op.drop_column("dpop_bound_access_tokens")
    with op.batch_alter_table("oauth_authorization_codes", schema=None) as batch_op:
        batch_op.drop_column("dpop_jkt")
    with op.batch_alter_table("oauth_tokens", schema=None) as batch_op:
        batch_op.drop_column("jkt")
    with op.batch_alter_table("oauth_dpop_proof_jtis", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oauth_dpop_proof_jtis_expires_at"))
    op.drop_table("oauth_dpop_proof_jtis")
