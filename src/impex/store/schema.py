"""The metadata store's tables (SQLAlchemy Core). Migrations in ``migrations/`` must produce exactly this."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

meta = sa.Table(
    "impex_meta",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

jobs = sa.Table(
    "jobs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("definition", sa.Text, nullable=False),  # JSON of the validated definition
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("queue", sa.String(64), nullable=False, server_default="default"),
    sa.Column("owner", sa.String(100), nullable=False, server_default="system"),
    sa.Column("current_run_id", sa.Integer, nullable=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.Index("ix_jobs_status_queue", "status", "queue"),
)

COUNTER_COLUMNS = (
    "read",
    "inserted",
    "updated",
    "unchanged",
    "deleted",
    "rejected",
    "doubles",
    "duplicates",
    "written",
)

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("job_id", sa.Integer, sa.ForeignKey("jobs.id"), nullable=False),
    sa.Column("run_no", sa.Integer, nullable=False),
    sa.Column("outcome", sa.String(32), nullable=True),  # the status it ended with; NULL while active
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("started_at", sa.Float, nullable=True),
    sa.Column("ended_at", sa.Float, nullable=True),
    sa.Column("active_seconds", sa.Float, nullable=False, server_default="0"),
    sa.Column("worker", sa.String(200), nullable=True),
    sa.Column("lease_token", sa.String(64), nullable=True),
    sa.Column("lease_expires_at", sa.Float, nullable=True),
    *(sa.Column(name, sa.BigInteger, nullable=False, server_default="0") for name in COUNTER_COLUMNS),
    sa.Column("bytes_total", sa.BigInteger, nullable=True),
    sa.Column("bytes_done", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("rate", sa.Float, nullable=True),
    sa.Column("eta_seconds", sa.Float, nullable=True),
    sa.Column("output_path", sa.Text, nullable=True),
    sa.UniqueConstraint("job_id", "run_no", name="uq_runs_job_run_no"),
)

journal = sa.Table(
    "journal",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("job_id", sa.Integer, sa.ForeignKey("jobs.id"), nullable=False),
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id"), nullable=True),
    sa.Column("ts", sa.Float, nullable=False),
    sa.Column("level", sa.String(16), nullable=False),
    sa.Column("code", sa.String(64), nullable=False),
    sa.Column("params", sa.Text, nullable=False),  # JSON
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Index("ix_journal_job_id", "job_id", "id"),
)

rejects = sa.Table(
    "rejects",
    metadata,
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id"), primary_key=True),
    sa.Column("record_no", sa.BigInteger, primary_key=True),
    sa.Column("line_no", sa.BigInteger, nullable=False),
    sa.Column("raw", sa.LargeBinary, nullable=False),
    sa.Column("reason", sa.String(32), nullable=False),
    sa.Column("column_name", sa.String(200), nullable=True),
    sa.Column("value", sa.Text, nullable=True),
    sa.Column("message", sa.Text, nullable=False),  # in English
    # Migration 0004: the message as a code and its JSON parameters, for the web to translate; null in
    # rejects stored before, which show their English message.
    sa.Column("message_code", sa.String(64), nullable=True),
    sa.Column("message_params", sa.Text, nullable=True),
    # Migration 0003: the reject pages filter by reason and/or column and page in record order.
    sa.Index("ix_rejects_run_reason", "run_id", "reason", "record_no"),
    sa.Index("ix_rejects_run_column", "run_id", "column_name", "record_no"),
    sa.Index("ix_rejects_run_reason_column", "run_id", "reason", "column_name", "record_no"),
)

# People who use the web UI and the REST API (migration 0002).
users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(100), nullable=False, unique=True),
    sa.Column("password_hash", sa.Text, nullable=False),  # argon2id, never the password
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
)

# Tokens for scripts: only a SHA-256 of each token is kept, so the table leaks nothing usable.
api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("label", sa.String(200), nullable=False, server_default=""),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("last_used_at", sa.Float, nullable=True),
)
