"""Indexes for the web's reject pages: a run's rejects by reason and by column, in record order.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    # Each filter (reason, column, both) reads its rejects in record order straight from an index,
    # counts them from it, and the filter menus list its distinct values by skipping through it.
    op.create_index("ix_rejects_run_reason", "rejects", ["run_id", "reason", "record_no"])
    op.create_index("ix_rejects_run_column", "rejects", ["run_id", "column_name", "record_no"])
    op.create_index(
        "ix_rejects_run_reason_column", "rejects", ["run_id", "reason", "column_name", "record_no"]
    )


def downgrade() -> None:
    op.drop_index("ix_rejects_run_reason_column", "rejects")
    op.drop_index("ix_rejects_run_column", "rejects")
    op.drop_index("ix_rejects_run_reason", "rejects")
