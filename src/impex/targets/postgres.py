"""PostgreSQL as a target, through psycopg: the connection, its tables and its bulk paths (binary COPY
of rows encoded column by column, no Python tuples in the hot path; Arrow reads). What a run does
with it, chunk by chunk, is in ``pg_run``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import polars as pl
import psycopg
import pyarrow as pa

from impex.targets import Connection, Secrets, redact_url, with_password
from impex.targets.base import ColumnDef, RunSpec, TargetError, run_tables
from impex.targets.pg_copy import HEADER, TRAILER, copy_data, encode_rows, temporary_columns
from impex.targets.pg_fit import as_arrow, column_sql, refusal
from impex.targets.pg_run import CHECKPOINTS, PostgresRun, Sequence
from impex.targets.sql import quote, quote_table, quoted_list

STREAM_ROWS = 10_000  # rows of a streamed query read at once
DDL_LOCK = 0x1A9E7_0002  # advisory lock key: impex's table creations take turns on a database
# Types whose name alone means a length of 1: the same types without a length limit.
UNLIMITED = {"character": "bpchar", "character[]": "bpchar[]", "bit": "bit varying", "bit[]": "bit varying[]"}


class PostgresTarget:
    """A psycopg connection to the target database whose error messages never show the password.

    Rows go in by binary COPY of data encoded column by column (``pg_copy``); statements take
    ``$1``-style parameters."""

    holds_nan = True  # double precision and real keep NaN, as numeric does

    def __init__(self, url: str, password: str | None = None) -> None:
        self.where = redact_url(url)
        self.secrets = Secrets(url, password)
        self.login = Connection(url, password)
        try:
            # Autocommit at the driver level: we issue BEGIN ourselves, so that a failed COPY can be
            # rolled back to its savepoint without the driver opening a transaction of its own.
            self.conn = psycopg.connect(
                with_password(url, password), autocommit=True, cursor_factory=psycopg.RawCursor
            )
        except psycopg.Error as e:
            raise TargetError(f"cannot open PostgreSQL database {self.where}: {self.scrub(e)}") from None
        self.cur = self.conn.cursor()
        self._ensure_checkpoints()

    def scrub(self, error: object) -> str:
        """The driver's message, with any password in it masked."""
        return self.secrets.masked(error)

    def drop_run_tables(self, run_key: str) -> None:
        """A run that will never go on (canceled while no worker held it): its own tables go."""
        for table in run_tables(run_key):
            self.execute(f"DROP TABLE IF EXISTS {quote(table)}")

    def close(self) -> None:
        with contextlib.suppress(psycopg.Error):
            self.cur.close()
            self.conn.close()

    def _ensure_checkpoints(self) -> None:
        self.ddl(
            f"CREATE TABLE IF NOT EXISTS {CHECKPOINTS} (run_key text PRIMARY KEY, token text NOT NULL, "
            "byte_offset bigint NOT NULL, record_no bigint NOT NULL, line_no bigint NOT NULL, "
            "counters jsonb NOT NULL, state jsonb NOT NULL)"
        )

    def ddl(self, sql: str) -> None:
        """Run a CREATE … IF NOT EXISTS that other workers may run at the same instant: PostgreSQL's
        own check is not safe against that (one of them fails on a duplicate catalog entry), so they
        take turns on an advisory lock held to the end of the transaction."""
        self.begin()
        try:
            self.execute("SELECT pg_advisory_xact_lock($1)", (DDL_LOCK,))
            self.execute(sql)
            self.commit()
        except BaseException:
            self.rollback()
            raise

    def begin(self) -> None:
        self.execute("BEGIN")
        # A DEFERRABLE INITIALLY DEFERRED key checked at COMMIT would refuse the whole commit group
        # at once, naming one row: checked at each statement's end, its rows are refused one by one.
        self.execute("SET CONSTRAINTS ALL IMMEDIATE")

    def commit(self) -> None:
        self.execute("COMMIT")

    def rollback(self) -> None:
        with contextlib.suppress(psycopg.Error):  # no transaction was open, or the link is gone
            self.cur.execute("ROLLBACK")

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> psycopg.Cursor[Any]:
        try:
            self.cur.execute(sql, params or None)
        except psycopg.Error as e:
            raise self.error(e) from None
        return self.cur

    def error(self, e: psycopg.Error) -> TargetError:
        """Refused for rows the database will not take, TargetError for anything else."""
        refused = refusal(e, self.scrub)
        if refused is not None:
            return refused
        return TargetError(f"PostgreSQL database {self.where}: {self.scrub(e)}")

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        return list(self.execute(sql, params).fetchall())

    def arrow(self, sql: str, params: tuple[Any, ...] = ()) -> pa.Table:
        """A query's result as an Arrow table (a chunk's worth of rows: it is read whole)."""
        cur = self.execute(sql, params)
        return as_arrow(cur.description or [], cur.fetchall())

    def another(self) -> PostgresTarget:
        """A connection of its own to the same database."""
        return PostgresTarget(self.login.url, self.login.password)

    def read_committed(self, sql: str) -> pa.Table:
        """A big result as committed (this connection's own open transaction is not seen), read by
        the ADBC driver straight into Arrow over a connection of its own: a million keys in about a
        third of the time psycopg's rows take. When no second connection can be had (the role's
        connection limit, say), the result is read here, more slowly."""
        from impex.targets.pg_source import PostgresSession  # its driver loads only when needed

        try:
            session = PostgresSession(self.login.url, self.login.password)
        except TargetError:
            return self.arrow(sql)
        try:
            return session.arrow(sql)
        finally:
            session.close()

    def load_temporary(self, name: str, frame: pl.DataFrame) -> None:
        """``frame`` in a new temporary table ``name`` of its own columns (the statements that read
        it cast to the target's types)."""
        frame, types = temporary_columns(frame)
        rows = encode_rows(frame, types)
        assert rows is not None, types  # temporary_columns picks types with a binary form
        self.load_encoded(name, types, rows)

    def load_encoded(self, name: str, types: dict[str, str], rows: pa.LargeBinaryArray) -> None:
        """Rows encoded for columns of ``types`` in a new temporary table ``name``."""
        columns = ", ".join(f"{quote(c)} {pg}" for c, pg in types.items())
        self.execute(f"DROP TABLE IF EXISTS pg_temp.{quote(name)}")
        self.execute(f"CREATE TEMPORARY TABLE {quote(name)} ({columns})")
        self.copy(f"pg_temp.{quote(name)}", list(types), rows)

    def copy(self, table: str, columns: list[str], rows: pa.LargeBinaryArray) -> None:
        """Binary COPY of rows encoded by ``pg_copy`` into the columns of ``table`` (quoted)."""
        try:
            with self.cur.copy(f"COPY {table} ({quoted_list(columns)}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.write(HEADER)
                copy.write(copy_data(rows))
                copy.write(TRAILER)
        except psycopg.Error as e:
            raise self.error(e) from None

    def table_exists(self, table: str) -> bool:
        return bool(self.rows("SELECT to_regclass($1) IS NOT NULL", (quote_table(table),))[0][0])

    def is_view(self, table: str) -> bool:
        """A view or a materialized view: COPY cannot load either."""
        sql = "SELECT relkind::text FROM pg_class WHERE oid = to_regclass($1)"
        found = self.rows(sql, (quote_table(table),))
        return bool(found) and found[0][0] in ("v", "m")

    def column_types(self, table: str) -> dict[str, str]:
        """Column name → a type its values are cast to, without a length or precision, so that the
        cast never truncates and the column itself refuses what does not fit: a domain's base type
        (a cast to a domain over varchar(5) cuts the text to 5 characters; the domain's checks still
        hold when the value goes into the column), and for character and bit, which without a
        length mean character(1) and bit(1), their unlimited forms."""
        rows = self.rows(
            "WITH RECURSIVE typed(attnum, name, typ) AS ("
            "SELECT attnum, attname::text, atttypid FROM pg_attribute "
            "WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped "
            "UNION ALL SELECT c.attnum, c.name, t.typbasetype FROM typed c "
            "JOIN pg_type t ON t.oid = c.typ WHERE t.typtype = 'd') "
            "SELECT c.name, c.typ::regtype::text FROM typed c JOIN pg_type t ON t.oid = c.typ "
            "WHERE t.typtype <> 'd' ORDER BY c.attnum",
            (quote_table(table),),
        )
        return {name: UNLIMITED.get(pg_type, pg_type) for name, pg_type in rows}

    def table_columns(self, table: str) -> list[str]:
        return list(self.column_types(table))

    def required_columns(self, table: str) -> list[str]:
        """Columns a new row must be given a value for: NOT NULL, no default, not generated."""
        rows = self.rows(
            "SELECT attname::text FROM pg_attribute WHERE attrelid = to_regclass($1) AND attnum > 0 "
            "AND NOT attisdropped AND attnotnull AND NOT atthasdef AND attidentity = '' "
            "AND attgenerated = '' ORDER BY attnum",
            (quote_table(table),),
        )
        return [name for (name,) in rows]

    def computed_columns(self, table: str) -> dict[str, str]:
        """Columns the database fills itself, which a run must not write, with how: a generated
        column (its expression), an identity column GENERATED ALWAYS (whose values a COPY would
        take from the file all the same, without moving its sequence on)."""
        rows = self.rows(
            "SELECT a.attname::text, CASE WHEN a.attidentity = 'a' THEN 'GENERATED ALWAYS AS IDENTITY' "
            "ELSE 'GENERATED ALWAYS AS (' || pg_get_expr(d.adbin, d.adrelid) || ') STORED' END "
            "FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
            "WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped "
            "AND (a.attgenerated <> '' OR a.attidentity = 'a') ORDER BY a.attnum",
            (quote_table(table),),
        )
        return {name: how for name, how in rows}

    def primary_key(self, table: str) -> tuple[str, ...]:
        """The primary key columns, in key order (what an export orders by when told nothing)."""
        rows = self.rows(
            "SELECT a.attname::text FROM pg_index i, unnest(i.indkey) WITH ORDINALITY k(attnum, n), "
            "pg_attribute a WHERE i.indrelid = to_regclass($1) AND i.indisprimary "
            "AND a.attrelid = i.indrelid AND a.attnum = k.attnum ORDER BY k.n",
            (quote_table(table),),
        )
        return tuple(r[0] for r in rows)

    def _indexes(self, table: str) -> list[tuple[list[str], bool]]:
        """The usable (valid, not partial) indexes of the table: their columns in order (None for an
        expression), and whether they are unique."""
        rows = self.rows(
            "SELECT array_agg(a.attname::text ORDER BY k.n), i.indisunique FROM pg_index i "
            "CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY k(attnum, n) "
            "LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
            "WHERE i.indrelid = to_regclass($1) AND i.indisvalid AND i.indpred IS NULL "
            "GROUP BY i.indexrelid, i.indisunique",
            (quote_table(table),),
        )
        return [(list(columns), bool(unique)) for columns, unique in rows if columns]

    def indexed_by(self, table: str, keys: tuple[str, ...]) -> bool:
        """Whether a usable index leads with exactly the key columns, in any order."""
        return any(set(columns[: len(keys)]) == set(keys) for columns, _ in self._indexes(table))

    def unique_on(self, table: str, keys: tuple[str, ...]) -> bool:
        """Whether a usable unique index has exactly the key columns (what ON CONFLICT needs)."""
        return any(
            unique and len(columns) == len(keys) and set(columns) == set(keys)
            for columns, unique in self._indexes(table)
        )

    def sequences(self, table: str) -> list[Sequence]:
        """The ascending sequences that number the table's columns (serial, identity), each with whether
        an index leads with its column (its largest value is then found at once) and whether this
        role may move it on."""
        rows = self.rows(
            "SELECT a.attname::text, s.seqrelid::regclass::text, "
            "has_sequence_privilege(s.seqrelid, 'UPDATE') FROM pg_attribute a "
            "JOIN pg_sequence s ON s.seqrelid = pg_get_serial_sequence($1, a.attname)::regclass "
            "WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped "
            "AND s.seqincrement > 0 ORDER BY a.attnum",
            (quote_table(table),),
        )
        leading = {columns[0] for columns, _ in self._indexes(table)} if rows else set()
        return [Sequence(c, name, c in leading, bool(movable)) for c, name, movable in rows]

    def move_sequence(self, table: str, sequence: Sequence) -> int | None:
        """Set the sequence to the column's largest value when that is past the last it gave (or, never
        used, past its start): the value it was set to, or None when it was ahead already."""
        found = self.rows(
            f"SELECT setval($1::regclass, x.m) FROM (SELECT max({quote(sequence.column)}) AS m "
            f"FROM {quote_table(table)}) x, pg_sequence s WHERE s.seqrelid = $1::regclass "
            "AND x.m > coalesce(pg_sequence_last_value($1::regclass), s.seqstart - 1) AND x.m <= s.seqmax",
            (sequence.name,),
        )
        return int(found[0][0]) if found else None

    def settings(self, names: tuple[str, ...]) -> dict[str, str]:
        reads = ", ".join(f"current_setting(${i + 1})" for i in range(len(names)))
        return dict(zip(names, self.rows(f"SELECT {reads}", names)[0], strict=True))

    def set_local(self, settings: dict[str, str]) -> None:
        """Planner settings until the end of the transaction (or of the savepoint, if rolled back to)."""
        calls = ", ".join(f"set_config(${2 * i + 1}, ${2 * i + 2}, true)" for i in range(len(settings)))
        self.rows(f"SELECT {calls}", tuple(x for pair in settings.items() for x in pair))

    def create_table(self, table: str, columns: list[ColumnDef], keys: tuple[str, ...]) -> None:
        parts = [column_sql(c, keys) for c in columns]
        if keys:
            parts.append(f"PRIMARY KEY ({quoted_list(keys)})")
        self.ddl(f"CREATE TABLE IF NOT EXISTS {quote_table(table)} ({', '.join(parts)})")

    def name_key(self, name: str) -> str:
        return name  # impex quotes every name: PostgreSQL keeps its case

    def is_empty(self, table: str) -> bool:
        return not self.rows(f"SELECT 1 FROM {quote_table(table)} LIMIT 1")

    def committed_records(self, run_key: str) -> int:
        found = self.rows(f"SELECT record_no FROM {CHECKPOINTS} WHERE run_key = $1", (run_key,))
        return int(found[0][0]) if found else 0

    def open_run(self, spec: RunSpec, state: dict[str, Any]) -> PostgresRun:
        """The run's target; a new run's checkpoint starts with ``state``."""
        return PostgresRun(self, spec, state)

    def stream(self, sql: str, params: tuple[Any, ...] = ()) -> Iterator[pa.RecordBatch]:
        """Rows of a query as Arrow batches, read through a server-side cursor in its own
        transaction, so memory does not grow with the result. Parameters are $1, $2…"""
        try:
            with self.conn.transaction(), psycopg.RawServerCursor(self.conn, "impex_stream") as cur:
                cur.execute(sql, params or None)
                while batch := cur.fetchmany(STREAM_ROWS):
                    yield from as_arrow(cur.description or [], batch).to_batches()
        except psycopg.Error as e:
            raise self.error(e) from None
