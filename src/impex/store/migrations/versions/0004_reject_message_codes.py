"""A reject's message as a code and its parameters, so that the web can say it in its own language.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    # Nullable: the rejects stored before keep only their English message, and show it.
    with op.batch_alter_table("rejects") as batch:
        batch.add_column(sa.Column("message_code", sa.String(64), nullable=True))
        batch.add_column(sa.Column("message_params", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("rejects") as batch:
        batch.drop_column("message_params")
        batch.drop_column("message_code")
