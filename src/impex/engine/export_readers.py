"""Where an export's rows come from: a SQLite file opened read-only (a table in rowid order read as
parallel rowid segments, anything else as one ordered query read a chunk ahead), or PostgreSQL
(binary COPY TO STDOUT, read a chunk ahead). Each yields Polars frames of about a chunk's size.
"""

from __future__ import annotations

import contextlib
import urllib.parse
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, Union

import adbc_driver_manager
import adbc_driver_sqlite.dbapi as adbc
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from impex.domain.definitions import QuerySource, TableSource
from impex.engine.connections import Connection
from impex.targets import sqlite_path
from impex.targets.base import TargetError
from impex.targets.sql import driver_words, enclosable, quote
from impex.targets.sqlite_sql import breaks_out, name_key, schema_refusal

if TYPE_CHECKING:  # the PostgreSQL driver is loaded only for a PostgreSQL source
    from impex.engine.export_source import PostgresExportSource

ResumeKey = tuple[str, ...]  # the ordering values of a chunk's last row, as text

T = TypeVar("T")

READERS = 2  # rowid segments read at once: SQLite and the ADBC driver release the GIL
CHUNK_BYTES = 2 * 1024 * 1024  # per chunk, however wide the rows: bigger ones cost peak RSS, not speed
FIRST_SPAN = 8192  # rows of the first segments, before the rows' width is known
MAX_SPARSENESS = 64  # rowids a segment spans per row it is meant to hold, at most
READ_BATCH_ROWS = 16_384  # rows per batch of an ordered stream
ROWID = "_impex_rowid"  # the last segment's rowids, beside its columns: the resume key of its last row
TYPE_MISMATCH = "Type mismatch"  # the driver types columns from a query's first batch
# The driver's own, and Arrow's while batches are read (an I/O status becomes a plain OSError)
DRIVER_ERRORS = (adbc_driver_manager.Error, pa.ArrowException, OSError)
# How the driver writes a REAL in a column it typed as text (values of mixed types): 7 digits, lost;
# an infinity as 'inf', which PostgreSQL would not read back as one.
DRIVER_REAL_TEXT = r"^-?(?:\d\.\d{6}e[+-]\d{2,3}|inf)$"
DRIVER_REAL_LENGTHS = pa.array([3, 4, 12, 13, 14], pa.int64())  # of those texts: the cheap first look


def _holds_driver_reals(values: pa.Array | pa.ChunkedArray) -> bool:
    """Whether text values hold a REAL as the driver writes it: looked for by its pattern only where
    a value has its length (ten times as fast on a column of dates, none of which has)."""
    lengths = pc.cast(pc.binary_length(values), pa.int64())
    if not pc.any(pc.is_in(lengths, value_set=DRIVER_REAL_LENGTHS)).as_py():
        return False
    return bool(pc.any(pc.match_substring_regex(values, DRIVER_REAL_TEXT)).as_py())


class SqliteSource:
    """The export's source: a SQLite file opened read-only (a query cannot change it), read in order.

    A table read in rowid order is cut into rowid segments read in parallel, each one query (so the
    driver types each segment's columns from its own rows). Other sources are one ordered query read
    one chunk ahead; when a later batch's values do not fit the types the driver took from the first
    one (say a column NULL at first, text later), the query restarts at that row.
    """

    def __init__(self, url: str, source: TableSource | QuerySource) -> None:
        if not url.startswith("sqlite:"):
            scheme = url.split(":", 1)[0]
            raise TargetError(
                f"exports read SQLite and PostgreSQL databases, not {scheme!r} "
                f"(connection {source.connection})"
            )
        self.path = Path(sqlite_path(url))
        self.source = source
        refuse_breaking_out(source)
        if not self.path.is_file():
            raise TargetError(f"source database {self.path} does not exist")
        self.uri = f"file:{urllib.parse.quote(str(self.path.resolve()))}?mode=ro"
        self.date_columns: tuple[str, ...] = ()
        self.timestamp_columns: tuple[str, ...] = ()
        self.server_texts: dict[str, str] = {}  # SQLite keeps dates as text: the writer renders all
        self.rowid_order = False
        self.total_order = False  # whether two reads give the rows in one order (see export_resume)
        # Columns holding REAL values among text, or among integers: read as SQLite's exact text of
        # each value.
        self.as_text: set[str] = set()
        self.text_affinity: set[str] = set()  # columns SQLite turns every number into text for
        self.mixed_numbers: set[str] = set()  # columns that may keep integers and reals side by side
        with self._cursor() as cur:
            if isinstance(source, TableSource):
                self._describe_table(cur, source)
            else:
                self.names: list[str] = []  # known once needed (see _select)
                self.source_sql = f"({enclosable(source.query)}) AS q"
                self.order = ""
                self.where = ""

    def _select(self, exact: frozenset[str], rowid: bool = False) -> str:
        """The columns, those in ``exact`` as exact text (a copy of ``as_text``: other threads add to it);
        with ``rowid``, the rowid last, as ROWID."""
        if not exact:
            columns = ", ".join(map(quote, self.names)) if self.names else "*"
        else:
            columns = ", ".join(_exact_text(n) if n in exact else quote(n) for n in self.column_names())
        return f"SELECT {columns}{f', rowid AS {ROWID}' if rowid else ''} FROM {self.source_sql}"

    @property
    def numeric_columns(self) -> tuple[str, ...]:
        """Numbers read as text (integers and reals of one column): the decimal separator is theirs."""
        return tuple(sorted(self.as_text & self.mixed_numbers))

    def _lost_reals(self, data: pa.Table | pa.RecordBatch, exact: frozenset[str]) -> set[str]:
        """Columns (not read as ``exact``) that lose what their values are: text columns holding REAL
        values the driver wrote in its lossy form; columns it typed as floating point although
        they may hold integers too, which it would turn into reals (7.0 for 7, and digits lost past
        2**53) in the chunks that hold a real, and only in those: where chunks are cut would change
        the file (a resume cuts them elsewhere); and columns holding a BLOB, which the driver reads
        as bytes with every other value of the column (a CSV has no bytes)."""
        return {
            field.name
            for field in data.schema
            if field.name not in exact
            and (
                pa.types.is_binary(field.type)
                or pa.types.is_large_binary(field.type)
                or (pa.types.is_floating(field.type) and field.name in self.mixed_numbers)
                or (
                    pa.types.is_string(field.type)
                    and field.name not in self.text_affinity
                    and _holds_driver_reals(data.column(field.name))
                )
            )
        }

    @contextlib.contextmanager
    def _cursor(self, batch_rows: int | None = None) -> Iterator[Any]:
        try:
            conn = adbc.connect(self.uri)
        except adbc_driver_manager.Error as error:
            raise TargetError(self._explain(error)) from None
        cur = conn.cursor()
        try:
            if batch_rows:
                cur.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": str(batch_rows)})
            yield cur
        except DRIVER_ERRORS as error:
            raise TargetError(self._explain(error)) from None
        finally:
            cur.close()
            conn.close()

    def _explain(self, error: Exception) -> str:
        text = driver_words(str(error))
        if "readonly database" in text:
            return f"an export only reads, but its query tried to change the database ({text})"
        if isinstance(self.source, QuerySource) and "syntax error" in text:
            return f"the export query must be one read-only SELECT: {text}"
        return f"source database {self.path.name}: {text}"

    def _describe_table(self, cur: Any, source: TableSource) -> None:
        if (refused := schema_refusal(source.table, self.path.name)) is not None:
            raise TargetError(refused)
        cur.execute(
            "SELECT type, sql FROM sqlite_master WHERE type IN ('table', 'view') AND name = ? COLLATE NOCASE",
            (source.table,),
        )
        found = cur.fetchall()
        if not found:
            raise TargetError(f"source table {source.table} does not exist in {self.path.name}")
        kind, ddl = found[0]
        cur.execute(f"PRAGMA table_info({quote(source.table)})")
        info = cur.fetchall()
        declared = {row[1]: str(row[2] or "").upper() for row in info}
        # SQLite's names are case-blind: a column named ID is the table's id, and is written so
        spelled = {name_key(name): name for name in declared}
        missing = [n for n in (*source.columns, *source.order_by) if name_key(n) not in spelled]
        if missing:
            raise TargetError(f"source table {source.table} has no column(s) {', '.join(missing)}")
        names = [spelled[name_key(n)] for n in source.columns] or list(declared)
        order_by = [spelled[name_key(n)] for n in source.order_by]
        self.text_affinity = {
            n for n, kind in declared.items() if any(t in kind for t in ("CHAR", "CLOB", "TEXT"))
        }
        # SQLite's affinity rules: only a REAL affinity turns every integer into a real.
        real_affinity = {
            n
            for n, kind in declared.items()
            if "INT" not in kind and any(t in kind for t in ("REAL", "FLOA", "DOUB"))
        }
        self.mixed_numbers = set(declared) - self.text_affinity - real_affinity
        self.date_columns = tuple(n for n in names if "DATE" in declared[n] and "TIME" not in declared[n])
        self.timestamp_columns = tuple(n for n in names if "TIME" in declared[n])
        has_rowid = kind == "table" and "WITHOUT ROWID" not in str(ddl).upper()
        self.rowid_order = has_rowid and not order_by
        self.table = quote(source.table)
        self.names = names
        self.source_sql = self.table
        self.where = f"({enclosable(source.filter)})" if source.filter else ""
        # rowid last, or the primary key of a table without rowid (unique, never NULL there): rows that
        # tie on the order columns keep one order, so a resume is exact (a view has neither)
        key = [row[1] for row in sorted(info, key=lambda row: row[5]) if row[5] and kind == "table"]
        self.total_order = has_rowid or bool(key)
        # the table's columns, not the select's: a column read as exact text is an alias of that name
        columns = [*order_by, *(c for c in key if c not in order_by and not has_rowid)]
        order = [*(f"{self.table}.{quote(c)}" for c in columns), *(["rowid"] if has_rowid else [])]
        self.order = f" ORDER BY {', '.join(order)}" if order else ""

    def column_names(self) -> list[str]:
        if not self.names:
            with self._cursor() as cur:
                cur.execute(f"SELECT * FROM {self.source_sql} LIMIT 0")
                self.names = refuse_doubled(_as_given([d[0] for d in cur.description]))
        return self.names

    def check(self) -> None:
        """Plan the export's whole query, its filter and order too, and read no row: what the database
        refuses in them (a column it lacks) is said now, not when a run begins."""
        where = f" WHERE {self.where}" if self.where else ""
        with self._cursor() as cur:
            cur.execute(f"{self._select(frozenset())}{where}{self.order} LIMIT 0")
            cur.fetchall()

    def chunks(
        self, start: int, chunk_rows: int, key: ResumeKey | None = None
    ) -> Iterator[tuple[pl.DataFrame, ResumeKey | None]]:
        """The rows from row ``start`` (counting from 0) on, in order, as frames of at most ``chunk_rows``;
        read in rowid order, each with the rowid of its last row, and from after ``key`` when given (rows
        deleted or inserted before it meanwhile cannot shift it), else skipping ``start`` rows."""
        limit = self.source.limit if isinstance(self.source, TableSource) else None
        remaining = None if limit is None else max(0, limit - start)
        if remaining == 0:
            return iter(())
        if self.rowid_order:
            after = int(key[0]) if key else None
            return self._rowid_chunks(start, after, chunk_rows, remaining)
        return ((frame, None) for frame in prefetched(self._ordered_chunks(start, chunk_rows, remaining)))

    def close(self) -> None:
        """Nothing stays open between reads."""

    def _rowid_chunks(
        self, start: int, after: int | None, chunk_rows: int, remaining: int | None
    ) -> Iterator[tuple[pl.DataFrame, ResumeKey | None]]:
        spans = Spans(chunk_rows)
        with self._cursor() as cur, ThreadPoolExecutor(READERS, "impex-export-read") as pool:
            segments = self._segments(cur, start, after, spans)
            pending: deque[tuple[int, int | None, Future[pl.DataFrame]]] = deque()

            def refill() -> None:
                for lo, hi, rows in islice(segments, READERS - len(pending)):
                    pending.append((rows, hi, pool.submit(self._segment, lo, hi, rows)))

            refill()
            try:
                while pending:
                    rows, hi, future = pending.popleft()
                    refill()  # the next segments are read while this one is written
                    frame = future.result()
                    # the resume key: a segment was read whole up to its end (the last one has no end:
                    # it reads its rows' rowids, to the last row it held)
                    last = hi - 1 if hi is not None else frame.get_column(ROWID).max()
                    frame = frame.drop(ROWID, strict=False)
                    spans.observe(rows, frame)
                    if remaining is not None:
                        frame = frame.head(remaining)
                        remaining -= frame.height
                    if frame.height:
                        yield frame, (str(last),)
                    if remaining == 0:
                        return
            finally:
                for _, _, future in pending:
                    future.cancel()

    def _segments(
        self, cur: Any, start: int, after: int | None, spans: Spans
    ) -> Iterator[tuple[int, int | None, int]]:
        """Rowid ranges [lo, hi) of about ``spans.rows`` table rows each, from the source's row ``start``
        on (the first after rowid ``after`` when given), with the width in rowids of each. The bounds
        are rowid values: no walk of the b-tree (which would read every page); a seek skips a gap in
        the rowids, and the width follows their density."""
        where = [*([self.where] if self.where else []), *([f"rowid > {after}"] if after is not None else [])]
        condition = f" WHERE {' AND '.join(where)}" if where else ""
        skip = f" OFFSET {start}" if after is None else ""
        cur.execute(f"SELECT rowid FROM {self.table}{condition} ORDER BY rowid LIMIT 1{skip}")
        found = cur.fetchall()
        if not found:
            return
        lo = found[0][0]
        cur.execute(f"SELECT max(rowid) FROM {self.table}")
        top = cur.fetchall()[0][0]
        while True:
            width = spans.width()
            if top - lo < width:  # the last one: to the end, rows added meanwhile included
                yield lo, None, width
                return
            yield lo, lo + width, width
            cur.execute(
                f"SELECT rowid FROM {self.table} WHERE rowid >= ? ORDER BY rowid LIMIT 1", (lo + width,)
            )
            found = cur.fetchall()
            if not found:
                return
            lo = found[0][0]

    def _segment(self, lo: int, hi: int | None, rows: int) -> pl.DataFrame:
        cond = [f"rowid >= {lo}", *([f"rowid < {hi}"] if hi is not None else []), *filter(None, [self.where])]
        while True:
            exact = frozenset(self.as_text)
            with self._cursor(batch_rows=rows + 1) as cur:  # one batch: one typing of the columns
                select = self._select(exact, rowid=hi is None)
                cur.execute(f"{select} WHERE {' AND '.join(cond)} ORDER BY rowid")
                table = cur.fetch_arrow_table()
            lost = self._lost_reals(table, exact)
            if not lost:
                frame = pl.from_arrow(table)
                assert isinstance(frame, pl.DataFrame)
                return frame
            self.as_text |= lost

    def _ordered_chunks(self, start: int, chunk_rows: int, remaining: int | None) -> Iterator[pl.DataFrame]:
        where = f" WHERE {self.where}" if self.where else ""
        position, restarted_at = start, -1
        while True:
            limit = -1 if remaining is None else remaining - (position - start)
            exact = frozenset(self.as_text)
            sql = f"{self._select(exact)}{where}{self.order} LIMIT {limit} OFFSET {position}"
            buffer: list[pa.RecordBatch] = []
            lost: set[str] = set()
            with self._cursor(batch_rows=min(chunk_rows, READ_BATCH_ROWS)) as cur:
                cur.execute(sql)
                if isinstance(self.source, QuerySource):
                    refuse_doubled(_as_given([d[0] for d in cur.description]))
                try:
                    for batch in cur.fetch_record_batch():
                        lost = self._lost_reals(batch, exact)
                        if lost:  # read again from this batch on, those columns exactly
                            self.as_text |= lost
                            break
                        if buffer and batch.schema != buffer[0].schema:
                            yield _frame(buffer)
                            position += sum(b.num_rows for b in buffer)
                            buffer = []
                        buffer.append(batch)
                        rows = sum(b.num_rows for b in buffer)
                        if rows >= chunk_rows or sum(b.nbytes for b in buffer) >= CHUNK_BYTES:
                            yield _frame(buffer)
                            position += rows
                            buffer = []
                except DRIVER_ERRORS as error:
                    if TYPE_MISMATCH not in str(error) or restarted_at == position:
                        raise
                    restarted_at = position  # typed again from the rows where the mismatch showed
                    if buffer:
                        yield _frame(buffer)
                        position += sum(b.num_rows for b in buffer)
                    continue
            if buffer:
                yield _frame(buffer)
                position += sum(b.num_rows for b in buffer)
            if not lost:
                return


def refuse_doubled(names: list[str]) -> list[str]:
    """``names``; TargetError when a query gives two columns one name (a file's header names each
    column once, and a frame holds it once)."""
    doubled = sorted({n for n in names if names.count(n) > 1})
    if doubled:
        raise TargetError(
            f"the export query gives more than one column named {', '.join(doubled)}: "
            "give each its own name (… AS another_name)"
        )
    return names


def _as_given(names: list[str]) -> list[str]:
    """A query's column names as it gives them: SQLite names the columns of a subquery (impex reads
    a query as one) apart, the second 'id' as 'id:1', the next 'id:2'…"""
    given = set(names)
    return [
        head if tail.isdigit() and head in given else name
        for name in names
        for head, _, tail in [name.rpartition(":")]
    ]


def refuse_breaking_out(source: TableSource | QuerySource) -> None:
    """TargetError when the query or filter would not stay inside the parentheses it is read in."""
    if isinstance(source, QuerySource):
        what, sql = "query must be one read-only SELECT", enclosable(source.query)
    elif source.filter is not None:
        what, sql = "filter must be one condition", enclosable(source.filter)
    else:
        return
    why = breaks_out(sql)
    if why is not None:
        raise TargetError(f"the export {what}: {why}")


def _exact_text(name: str) -> str:
    """A column as text, its REAL values written exactly: SQLite's own 15 digits when they read back
    as the same number, else 17, an infinity as PostgreSQL writes one (SQLite: 'Inf'); its BLOBs as \\x
    and their bytes in hex, as PostgreSQL writes a bytea. (9e999 is SQLite's literal of infinity.)"""
    c = quote(name)
    return (
        f"CASE WHEN typeof({c}) = 'blob' THEN '\\x' || lower(hex({c})) "
        f"WHEN typeof({c}) <> 'real' THEN {c} WHEN {c} = 9e999 THEN 'Infinity' "
        f"WHEN {c} = -9e999 THEN '-Infinity' WHEN CAST(CAST({c} AS TEXT) AS REAL) = {c} "
        f"THEN CAST({c} AS TEXT) ELSE printf('%!.17g', {c}) END AS {c}"
    )


class Spans:
    """Table rows per segment: as many as keep a chunk under CHUNK_BYTES, at most ``chunk_rows``; and
    the rowids a segment spans to hold them, from the rows per rowid seen so far."""

    def __init__(self, chunk_rows: int) -> None:
        self.most = chunk_rows
        self.rows = min(chunk_rows, FIRST_SPAN)
        self.density = 1.0  # rows per rowid: 1 for the usual dense ids

    def width(self) -> int:
        return max(1, int(self.rows / self.density))

    def observe(self, width: int, frame: pl.DataFrame) -> None:
        if frame.height:
            # at most MAX_SPARSENESS rowids a row: a burst of rows after a sparse stretch stays small
            self.density = max(frame.height / width, 1 / MAX_SPARSENESS)
            size = frame.estimated_size()
            self.rows = min(self.most, max(1, int(CHUNK_BYTES * frame.height // size)) if size else self.rows)


def _frame(batches: list[pa.RecordBatch]) -> pl.DataFrame:
    frame = pl.from_arrow(pa.Table.from_batches(batches))
    assert isinstance(frame, pl.DataFrame)
    return frame


Source = Union[SqliteSource, "PrefetchedPostgres"]


class PrefetchedPostgres:
    """A PostgreSQL source read one chunk ahead in another thread (the driver releases the GIL)."""

    def __init__(self, source: PostgresExportSource) -> None:
        self.source = source
        self.date_columns = source.date_columns
        self.timestamp_columns = source.timestamp_columns
        self.numeric_columns = source.numeric_columns
        self.server_texts = source.server_texts
        self.total_order = source.total_order

    def column_names(self) -> list[str]:
        return self.source.column_names()

    def check(self) -> None:
        self.source.check()

    def chunks(
        self, start: int, chunk_rows: int, key: ResumeKey | None = None
    ) -> Iterator[tuple[pl.DataFrame, ResumeKey | None]]:
        return prefetched(self.source.chunks(start, chunk_rows, key))

    def close(self) -> None:
        self.source.close()


def open_source(connection: Connection, source: TableSource | QuerySource) -> Source:
    """The export's source for a connection: a PostgreSQL database, or a SQLite file."""
    if connection.url.startswith(("postgresql:", "postgres:")):
        from impex.engine.export_source import PostgresExportSource

        return PrefetchedPostgres(PostgresExportSource(connection, source))
    return SqliteSource(connection.url, source)


def prefetched(items: Iterator[T]) -> Iterator[T]:
    """``items`` produced one step ahead in another thread, so that reading overlaps writing."""
    with ThreadPoolExecutor(1, "impex-export-read") as pool:
        future = pool.submit(next, items, None)
        try:
            while (item := future.result()) is not None:
                future = pool.submit(next, items, None)
                yield item
        finally:
            wait([future])
            pool.submit(items.close).result()  # type: ignore[attr-defined]
