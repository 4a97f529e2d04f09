"""create second factor tables (TOTP) and recovery codes

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 23:05:00

"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import passport.database  # noqa: F401

# revision identifiers, used by Alembic.
revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
