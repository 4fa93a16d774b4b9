"""PostgreSQL as an export source: a session that can only read.

Every read runs in its own ``READ ONLY`` transaction (repeatable read: one snapshot for the whole
stream), so a query that tries to write — a data-modifying CTE, ``nextval()``, a function that
inserts — is refused by the server itself. Rows come through the driver's binary
``COPY (…) TO STDOUT`` as Arrow batches; memory does not grow with the result.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TypeVar

import adbc_driver_manager
import adbc_driver_postgresql.dbapi as adbc
import pyarrow as pa

from impex.targets import Secrets, redact_url, with_password
from impex.targets.base import TargetError
from impex.targets.sql import driver_words, quote_table

A = TypeVar("A", pa.Array, pa.ChunkedArray)
READ_ONLY = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
BATCH_BYTES = 4 * 1024 * 1024  # the driver's batch size hint: a batch is about this big
# Arrow types a CSV writer takes as they come; any other column is read as the server's text.
PLAIN_TYPES = {
    "text",
    "varchar",
    "bpchar",
    "name",
    "int2",
    "int4",
    "int8",
    "float4",
    "float8",
    "bool",
    "date",
    "timestamp",
    "timestamptz",
    "numeric",  # the driver gives its text (an opaque string): exact, never a float
}


DRIVER_NOISE = (
    "[libpq] ",
    "Failed to execute query: ",
    "Failed to prepare query: ",
    "could not begin COPY: ",
    "Execution error [PGRES_FATAL_ERROR]: ",
    "ERROR:  ",
)


@dataclass(frozen=True)
class SourceColumn:
    name: str
    pg_type: str  # as regtype names it, without length or precision
    not_null: bool


class PostgresSession:
    """An ADBC connection to PostgreSQL whose error messages never show the password."""

    def __init__(self, url: str, password: str | None = None) -> None:
        self.where = redact_url(url)
        self.secrets = Secrets(url, password)
        try:
            # Autocommit at the driver level: each read begins its own read-only transaction.
            self.conn = adbc.connect(with_password(url, password), autocommit=True)
        except adbc_driver_manager.Error as e:
            raise TargetError(f"cannot open PostgreSQL database {self.where}: {self.scrub(e)}") from None
        self.cur = self.conn.cursor()

    def scrub(self, error: object) -> str:
        """The driver's message, with any password in it masked."""
        return self.secrets.masked(error)

    def arrow(self, sql: str) -> pa.Table:
        """A query's whole result, read by the driver straight into Arrow; opaque columns (numeric)
        as their text, as in ``as_plain``."""
        try:
            self.cur.execute(sql)
            table = self.cur.fetch_arrow_table()
        except adbc_driver_manager.Error as e:
            raise TargetError(f"PostgreSQL database {self.where}: {self.scrub(e)}") from None
        return pa.table([_storage(c) for c in table.columns], names=table.column_names)

    def close(self) -> None:
        with contextlib.suppress(adbc_driver_manager.Error):
            self.cur.close()
            self.conn.close()


class ReadOnlyRefusal(TargetError):
    """The query tried to change the database."""


class PostgresReader(PostgresSession):
    """A read-only session on a PostgreSQL database."""

    def __init__(self, url: str, password: str | None = None) -> None:
        super().__init__(url, password)
        self._run("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
        self._run("SET standard_conforming_strings = on")  # what ``literal`` relies on

    def scrub(self, error: object) -> str:
        """The driver's message without its noise, password masked."""
        text = driver_words(str(error)).split("\n\nQuery was:")[0].split(". SQLSTATE:")[0]
        for noise in (
            "[libpq] ",
            "Failed to execute query: ",
            "Failed to prepare query: ",
            "could not begin COPY: ",
        ):
            text = text.replace(noise, "")
        text = text.replace("Execution error [PGRES_FATAL_ERROR]: ", "").replace("ERROR:  ", "").strip()
        return super().scrub(text)

    def error(self, e: Exception) -> TargetError:
        text = self.scrub(e)
        if "read-only transaction" in text:
            return ReadOnlyRefusal(
                f"an export only reads, but its query tried to change the database ({text.splitlines()[0]})"
            )
        return TargetError(f"source database {self.where}: {text}")

    def _run(self, sql: str) -> None:
        try:
            self.cur.execute(sql)
        except adbc_driver_manager.Error as e:
            raise self.error(e) from None

    def rows(self, sql: str) -> list[tuple[object, ...]]:
        """A small query's rows (catalog look-ups), in a read-only transaction."""
        return [tuple(row.values()) for batch in self.stream(sql) for row in batch.to_pylist()]

    def table_exists(self, table: str) -> bool:
        return bool(self.rows(f"SELECT to_regclass({literal(quote_table(table))}) IS NOT NULL")[0][0])

    def columns(self, table: str) -> list[SourceColumn]:
        found = self.rows(
            "SELECT attname::text, format_type(atttypid, NULL), attnotnull FROM pg_attribute "
            f"WHERE attrelid = to_regclass({literal(quote_table(table))}) "
            "AND attnum > 0 AND NOT attisdropped "
            "ORDER BY attnum"
        )
        return [SourceColumn(str(n), str(t), bool(nn)) for n, t, nn in found]

    def primary_key(self, table: str) -> tuple[str, ...]:
        """The primary key's columns in key order; empty when the table has none."""
        found = self.rows(
            "SELECT a.attname::text FROM pg_index i, unnest(i.indkey) WITH ORDINALITY k(attnum, n), "
            f"pg_attribute a WHERE i.indrelid = to_regclass({literal(quote_table(table))}) "
            "AND i.indisprimary "
            "AND a.attrelid = i.indrelid AND a.attnum = k.attnum ORDER BY k.n"
        )
        return tuple(str(r[0]) for r in found)

    def result_schema(self, sql: str) -> pa.Schema:
        """The columns a query gives (it is planned, not run)."""
        with self._reading(f"SELECT * FROM ({sql}) AS q LIMIT 0") as reader:
            return reader.schema

    def stream(self, sql: str) -> Iterator[pa.RecordBatch]:
        """A query's rows as Arrow batches, through COPY (…) TO STDOUT in binary, in one read-only
        transaction (a snapshot: rows committed meanwhile are not seen)."""
        with self._reading(sql) as reader:
            yield from reader

    @contextlib.contextmanager
    def _reading(self, sql: str) -> Iterator[pa.RecordBatchReader]:
        cur = self.conn.cursor()
        cur.adbc_statement.set_options(**{"adbc.postgresql.batch_size_hint_bytes": str(BATCH_BYTES)})
        try:
            cur.execute(READ_ONLY)
            try:
                cur.execute(sql)
                yield cur.fetch_record_batch()
            except (adbc_driver_manager.Error, pa.ArrowException, OSError) as e:
                raise self.error(e) from None
            finally:
                with contextlib.suppress(adbc_driver_manager.Error):
                    cur.execute("ROLLBACK")  # it only read: nothing to commit
        finally:
            cur.close()


def literal(value: str) -> str:
    """A SQL string literal (standard_conforming_strings is on: only quotes need doubling).
    COPY takes no parameters, so the few values a read needs go in as literals."""
    return "'" + value.replace("'", "''") + "'"


def pg_type(field: pa.Field) -> str:
    """The PostgreSQL type (typname) of a column of a query's result."""
    return (field.metadata or {}).get(b"POSTGRESQL:type", b"").decode()


def plain_type(field: pa.Field) -> bool:
    """Whether a column of a query's result can be written as the driver gives it."""
    return pg_type(field) in PLAIN_TYPES


def as_plain(batch: pa.RecordBatch) -> pa.RecordBatch:
    """Opaque columns (numeric) as their text storage."""
    return pa.RecordBatch.from_arrays([_storage(c) for c in batch.columns], names=batch.schema.names)


def _storage(column: A) -> A:
    """An extension column (the driver's opaque numeric) as its storage, any other as it is."""
    if isinstance(column.type, pa.BaseExtensionType):
        return column.cast(column.type.storage_type)
    return column
