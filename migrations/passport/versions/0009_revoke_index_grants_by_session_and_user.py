"""index codes by session and person, tokens by person (revocation policy)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 12:30:00

Ending a session voids its unredeemed codes (by ``sid``); a password reset, a disabled
account and "Revocar acceso" reach a person's codes and tokens (by ``user_id``); Mi cuenta
lists the apps with live tokens of the person. Without these, each is a full table scan.
"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("oauth_authorization_codes") as batch:
        batch.create_index("ix_oauth_authorization_codes_sid", ["sid"], unique=False)
        batch.create_index("ix_oauth_authorization_codes_user_id", ["user_id"], unique=False)
    with op.batch_alter_table("oauth_tokens") as batch:
        batch.create_index("ix_oauth_tokens_user_id", ["user_id"], unique=False)


def downgrade():
    with op.batch_alter_table("oauth_tokens") as batch:
        batch.drop_index("ix_oauth_tokens_user_id")
    with op.batch_alter_table("oauth_authorization_codes") as batch:
        batch.drop_index("ix_oauth_authorization_codes_user_id")
        batch.drop_index("ix_oauth_authorization_codes_sid")
