"""self-service password-link requests go through the mail queue

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 12:00:00

"Generar contraseña" and "¿Olvidaste la contraseña?" queue the typed DNI (``dni``, no
``user_id`` yet); the sender decides, after the response, whether an account gets a mail.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("outgoing_mails") as batch:
        batch.add_column(sa.Column("dni", sa.String(length=8), nullable=True))
        batch.alter_column("user_id", existing_type=sa.Integer(), nullable=True)


def downgrade():
    # Requests the sender never resolved name no account: they cannot outlive the column.
    op.execute("DELETE FROM outgoing_mails WHERE user_id IS NULL")
    with op.batch_alter_table("outgoing_mails") as batch:
        batch.alter_column("user_id", existing_type=sa.Integer(), nullable=False)
        batch.drop_column("dni")
