"""request ids: the request that caused an audit event, queued a mail or a back-channel logout

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 12:10:00

Older rows keep an empty request id; an audit event's hash covers the column only when it is
set, so the chain written before this revision still verifies (passport/audit/chain.py).
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TABLES = ("audit_events", "outgoing_mails", "oauth_backchannel_deliveries")


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("request_id", sa.String(length=64), nullable=True))


def downgrade():
    for table in reversed(TABLES):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("request_id")
