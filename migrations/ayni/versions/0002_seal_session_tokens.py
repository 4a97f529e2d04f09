"""Seal the session table's tokens; stop keeping the access token

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06 12:30:00

The ID and refresh tokens are stored encrypted (relying_party_demo/auth/sealing.py); the
access token, which AYNI never uses, is no longer stored. The sessions open at upgrade time
held their tokens in clear: they end (a person signs in again, at once through Passport's SSO).
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.execute("DELETE FROM local_sessions")
    with op.batch_alter_table("local_sessions") as batch:
        batch.drop_column("id_token")
        batch.drop_column("access_token")
        batch.drop_column("refresh_token")
        batch.add_column(sa.Column("sealed_id_token", sa.Text(), nullable=True))
        batch.add_column(sa.Column("sealed_refresh_token", sa.Text(), nullable=True))


def downgrade():
    op.execute("DELETE FROM local_sessions")
    with op.batch_alter_table("local_sessions") as batch:
        batch.drop_column("sealed_refresh_token")
        batch.drop_column("sealed_id_token")
        batch.add_column(sa.Column("id_token", sa.Text(), nullable=True))
        batch.add_column(sa.Column("access_token", sa.Text(), nullable=True))
        batch.add_column(sa.Column("refresh_token", sa.Text(), nullable=True))
