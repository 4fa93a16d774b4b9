"""An export's PostgreSQL source: what to select, in which order, and where a resume starts.

A table is read in the order of its ``order_by`` columns then its primary key (never a physical row
address). When every ordering column is NOT NULL and the key completes the order, each chunk carries
the ordering values of its last row as text, and a resume reads ``WHERE (order) > (those values)``:
rows inserted or deleted before that point meanwhile cannot shift it. Otherwise (no primary key,
nullable ordering columns) a resume skips the rows already written with OFFSET; a table without a
key is then ordered by its whole row, so that rows that tie are identical ones. A query keeps its own
order, which may not be total: its resume reads it again from the first row (see export_resume).
"""

from __future__ import annotations

from collections.abc import Iterator

import polars as pl
import pyarrow as pa

from impex.domain.definitions import QuerySource, TableSource
from impex.engine.export_readers import ResumeKey, refuse_doubled
from impex.targets import Connection
from impex.targets.base import TargetError
from impex.targets.pg_source import PostgresReader, as_plain, literal, pg_type, plain_type
from impex.targets.pg_temporal import unrenderable
from impex.targets.sql import enclosable, quote, quote_table, quoted_list

CHUNK_BYTES = 2 * 1024 * 1024  # per chunk, as for SQLite: bigger ones cost peak RSS, not speed
KEY_PREFIX = "_impex_key"
TEXT_PREFIX = "_impex_text"
# The driver's text of numeric's specials, and the server's (COPY's), which an import reads back.
NUMERIC_SPECIALS = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}


class PostgresExportSource:
    """Chunks of a table or query of a PostgreSQL database, each with the resume key of its last row."""

    date_columns: tuple[str, ...] = ()  # PostgreSQL dates are dates: the CSV writer formats them
    timestamp_columns: tuple[str, ...] = ()

    def __init__(self, connection: Connection, source: TableSource | QuerySource) -> None:
        self.source = source
        self.reader = PostgresReader(connection.url, connection.password)
        self.order: list[str] = []
        self.key_types: list[str] = []  # the ordering columns' types, when a resume goes by key
        self.filter = ""
        self.numeric_columns: tuple[str, ...] = ()  # exact decimals, read as text
        # date and timestamp columns → the hidden column of their values the writer cannot render
        # (see pg_temporal), in a chunk that holds any
        self.server_texts: dict[str, str] = {}
        self.total_order = isinstance(source, TableSource)  # by its key, or by its whole row
        try:
            if isinstance(source, TableSource):
                self._describe_table(source)
            else:
                self._describe_query(source)
        except BaseException:
            self.reader.close()
            raise

    def _describe_table(self, source: TableSource) -> None:
        reader, table = self.reader, source.table
        if not reader.table_exists(table):
            folded = table.lower() != table and reader.table_exists(table.lower())
            hint = _lower_case_hint("table", [table.lower()] if folded else [])
            raise TargetError(f"source table {table} does not exist in {reader.where}{hint}")
        declared = {c.name: c for c in reader.columns(table)}
        names = list(source.columns or declared)
        missing = [n for n in (*names, *source.order_by) if n not in declared]
        if missing:
            hint = _lower_case_hint("column", [n.lower() for n in missing if n.lower() in declared])
            raise TargetError(f"source table {table} has no column(s) {', '.join(missing)}{hint}")
        key = reader.primary_key(table)
        order = [*source.order_by, *(k for k in key if k not in source.order_by)]
        self.filter = f"({enclosable(source.filter)})" if source.filter else ""
        schema = reader.result_schema(f"SELECT {quoted_list(names)} FROM {quote_table(table)}")
        t = quote_table(table)  # no alias: a filter may name the table (items.id, a correlated subquery)
        self.select = f"SELECT {self._columns(schema, t)}"
        if key and all(declared[c].not_null for c in order):
            self.key_types = [declared[c].pg_type for c in order]
            hidden = ", ".join(f"{t}.{quote(c)}::text AS {KEY_PREFIX}{i}" for i, c in enumerate(order))
            self.select += f", {hidden}"
        self.select += f" FROM {t}"
        # ROW(t.*): the whole row, even where a column bears the table's name
        self.order = [f"{t}.{quote(c)}" for c in order] if key else [*map(quote, order), f"ROW({t}.*)::text"]
        self.names = names

    def _describe_query(self, source: QuerySource) -> None:
        query = enclosable(source.query)
        schema = self.reader.result_schema(query)
        refuse_doubled(schema.names)
        self.select = f"SELECT {self._columns(schema, 'q')} FROM ({query}) AS q"
        self.names = schema.names

    def column_names(self) -> list[str]:
        return list(self.names)

    def check(self) -> None:
        """Plan the export's whole query, its filter and order too, and read no row (see SqliteSource)."""
        self.reader.result_schema(self._sql(0, None))

    def _sql(self, start: int, key: ResumeKey | None) -> str:
        conditions = [self.filter] if self.filter else []
        by_key = key is not None and len(key) == len(self.key_types) > 0
        if by_key:
            assert key is not None
            values = ", ".join(f"{literal(v)}::{t}" for v, t in zip(key, self.key_types, strict=True))
            conditions.append(f"({', '.join(self.order)}) > ({values})")
        sql = self.select + (f" WHERE {' AND '.join(conditions)}" if conditions else "")
        if self.order:
            sql += f" ORDER BY {', '.join(self.order)}"
        limit = self.source.limit if isinstance(self.source, TableSource) else None
        if limit is not None:
            sql += f" LIMIT {max(0, limit - start)}"
        if start and not by_key:
            sql += f" OFFSET {start}"
        return sql

    def chunks(
        self, start: int, chunk_rows: int, key: ResumeKey | None = None
    ) -> Iterator[tuple[pl.DataFrame, ResumeKey | None]]:
        """The rows from row ``start`` on (after ``key`` when given), as frames of at most
        ``chunk_rows`` rows with the resume key of their last row (None: resume by OFFSET)."""
        buffer: list[pa.RecordBatch] = []
        rows = size = 0
        for batch in self.reader.stream(self._sql(start, key)):
            batch = as_plain(batch)
            while batch.num_rows:
                take = min(batch.num_rows, chunk_rows - rows)
                part, batch = batch.slice(0, take), batch.slice(take)
                buffer.append(part)
                rows, size = rows + part.num_rows, size + part.nbytes
                if rows >= chunk_rows or size >= CHUNK_BYTES:
                    yield self._split(buffer)
                    buffer, rows, size = [], 0, 0
        if buffer:
            yield self._split(buffer)

    def _split(self, batches: list[pa.RecordBatch]) -> tuple[pl.DataFrame, ResumeKey | None]:
        table, texts = unrenderable(pa.Table.from_batches(batches))
        frame = pl.from_arrow(table)
        assert isinstance(frame, pl.DataFrame)
        if texts:
            frame = frame.with_columns(
                pl.Series(self.server_texts[name], values, dtype=pl.String) for name, values in texts.items()
            )
        frame = _numeric_specials(frame, self.numeric_columns)
        if not self.key_types:
            return frame, None
        hidden = [f"{KEY_PREFIX}{i}" for i in range(len(self.key_types))]
        last = frame.select(hidden).row(-1)
        return frame.drop(hidden), tuple(str(v) for v in last)

    def _columns(self, schema: pa.Schema, alias: str) -> str:
        """The select list: each column as the driver reads it, or as the server's output text of it."""
        self.numeric_columns = tuple(f.name for f in schema if pg_type(f) == "numeric")
        temporal = [f.name for f in schema if pg_type(f) in ("date", "timestamp", "timestamptz")]
        self.server_texts = {name: f"{TEXT_PREFIX}{i}" for i, name in enumerate(temporal)}
        if alias == "q" and all(plain_type(f) for f in schema):
            return "q.*"  # also takes a query's columns that share a name
        return ", ".join(
            f"{alias}.{quote(f.name)}"
            if plain_type(f)
            else f"{as_text(f'{alias}.{quote(f.name)}', f)} AS {quote(f.name)}"
            for f in schema
        )

    def close(self) -> None:
        self.reader.close()


def _lower_case_hint(kind: str, found: list[str]) -> str:
    """What to add to 'no such table (or column)' when ``found`` are the names meant, in lower case:
    impex quotes names, and one created without quotes is kept in lower case."""
    if not found:
        return ""
    return (
        f" (there is a {kind} {', '.join(found)}: PostgreSQL keeps a name written without double quotes "
        "in lower case)"
    )


def _numeric_specials(frame: pl.DataFrame, numeric: tuple[str, ...]) -> pl.DataFrame:
    """The numeric columns' NaN and infinities as the server writes them, in the columns holding one
    (a number's text holds no 'n': a quick look, where replacing every value costs twice the writing)."""
    special = [n for n in numeric if frame.get_column(n).str.contains("n", literal=True).any()]
    return frame.with_columns(pl.col(special).replace(NUMERIC_SPECIALS)) if special else frame


def as_text(column: str, field: pa.Field) -> str:
    """A column as the server's text of it, as COPY writes it: its ::text, but for an inet, whose
    ::text adds the netmask (10.0.0.1/32) that its output text leaves out."""
    if pg_type(field) == "inet":
        return f"CASE WHEN {column} IS NOT NULL THEN format('%s', {column}) END"
    return f"{column}::text"
