"""Apply the store's Alembic migrations programmatically (no alembic.ini needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa

MIGRATIONS = Path(__file__).parent / "migrations"
# The newest revision in migrations/versions (a test holds the two together). A store already there
# is opened without loading Alembic at all, which keeps every `impex` command quick to start.
HEAD = "0004"
# Several workers may start at once on an empty PostgreSQL store: one migrates, the others wait on
# this transaction-scoped advisory lock and then find the schema at head. (SQLite's BEGIN IMMEDIATE
# serializes them the same way.)
MIGRATION_LOCK = 0x1A9E7_0001


def current_revision(engine: sa.Engine) -> str | None:
    with engine.connect() as connection:
        return _revision(connection)


def _revision(connection: sa.Connection) -> str | None:
    if not sa.inspect(connection).has_table("alembic_version"):
        return None
    return connection.scalar(sa.text("SELECT version_num FROM alembic_version"))


def alembic_config(connection: sa.Connection) -> Any:
    from alembic.config import Config  # only needed when the schema must change

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def upgrade(engine: sa.Engine) -> None:
    """Bring the store to HEAD. An empty database gets the declared schema at once, stamped at HEAD
    (what the migrations produce, as a test holds), without loading Alembic: a first run starts
    0.15 s sooner."""
    if current_revision(engine) == HEAD:
        return
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(sa.select(sa.func.pg_advisory_xact_lock(MIGRATION_LOCK)))
        revision = _revision(connection)
        if revision == HEAD:  # another process migrated while we waited
            return
        if revision is None and not sa.inspect(connection).get_table_names():
            _create(connection)
            return
        _migrate(connection)


def upgrade_by_migrations(engine: sa.Engine) -> None:
    """Bring the store to HEAD through Alembic's migrations, even an empty one."""
    with engine.begin() as connection:
        _migrate(connection)


def _migrate(connection: sa.Connection) -> None:
    from alembic import command

    command.upgrade(alembic_config(connection), "head")


def _create(connection: sa.Connection) -> None:
    from impex.store.schema import metadata

    metadata.create_all(connection)
    version = sa.Table(
        "alembic_version",
        sa.MetaData(),
        sa.Column("version_num", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
    )
    version.create(connection)
    connection.execute(version.insert().values(version_num=HEAD))
