"""The export run: table or query → delimited file, written under a temporary name, renamed when complete.

Resume is exact: at a checkpoint the file is flushed and fsynced, then the store records (rows written,
bytes written). A resume truncates the temporary file to that size and continues the ordered source
at that row, so a stop at any instant neither loses nor repeats a row. A kill -9 would not need the
fsync (written bytes outlive the process), a machine crash does: so checkpoints are taken every few
tens of MB or a fraction of a second, not per chunk, and at every stop. Each chunk of a gzip output is
its own gzip member, so the file truncated at a chunk boundary stays a valid stream.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import os
import time
import urllib.parse
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from itertools import islice
from pathlib import Path
from typing import Any, BinaryIO, TypeVar, Union

import adbc_driver_manager
import adbc_driver_sqlite.dbapi as adbc
import polars as pl
import pyarrow as pa

from impex.domain.counters import Counters
from impex.domain.definitions import ExportJob, OutputFormat, QuerySource, TableSource
from impex.domain.journal import Level
from impex.domain.status import A, Status
from impex.engine.connections import Connection, connection_url
from impex.engine.execution import STOP_CODES, Execution, Progress
from impex.engine.export_source import PostgresExportSource, ResumeKey
from impex.engine.progress import Clock, format_duration
from impex.formats.writer import CsvWriter
from impex.store.records import RunRecord
from impex.targets import sqlite_path
from impex.targets.base import TargetError
from impex.targets.sql import quote, quoted_list, split_refused

T = TypeVar("T")

CHECKPOINT_BYTES = 64 * 1024 * 1024  # fsync + store progress at least this often…
CHECKPOINT_SECONDS = 0.25  # …and at least this often; a resume redoes at most this much
GZIP_LEVEL = 6  # gzip's own default: level 9 costs twice the time for ~1% smaller files


def output_path(template: str, job: str, run_no: int, now: float | None = None) -> Path:
    moment = time.localtime(now)
    safe_job = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in job)
    return Path(
        template.format(
            job=safe_job,
            run=run_no,
            date=time.strftime("%Y%m%d", moment),
            time=time.strftime("%H%M%S", moment),
        )
    )


class GzipMembers:
    """A binary sink that turns what one chunk wrote into one gzip member of ``out``."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.pending = io.BytesIO()

    def write(self, data: bytes) -> int:
        return self.pending.write(data)

    def end_chunk(self) -> None:
        self.out.write(gzip.compress(self.pending.getbuffer(), compresslevel=GZIP_LEVEL, mtime=0))
        self.pending = io.BytesIO()


class ExportRun:
    def __init__(self, ex: Execution) -> None:
        self.ex = ex
        self.job = ExportJob.model_validate(ex.claim.job.definition)
        self.store = ex.store
        self._written = 0

    def log(self, code: str, level: Level = Level.INFO, /, **params: Any) -> None:
        self.store.log(self.ex.job_id, self.ex.run_id, level, code, params, self.ex.actor)

    def execute(self) -> Status:
        try:
            return self._execute()
        except (OSError, ValueError, TargetError, LookupError, pl.exceptions.PolarsError) as error:
            self.log("run.error", Level.ERROR, error=f"{type(error).__name__}: {error}")
            return self.store.transition(
                self.ex.job_id, A.FAIL, actor=self.ex.actor, cause="run.error"
            ).target

    def _execute(self) -> Status:
        job = self.job
        run = self.store.run(self.ex.run_id)
        final = Path(run.output_path) if run.output_path else output_path(job.output, job.name, run.run_no)
        part = final.with_name(final.name + f".part{self.ex.run_id}")
        source = open_source(connection_url(self.ex.settings, job.source.connection), job.source)
        try:
            return self._export(source, run, final, part)
        finally:
            source.close()

    def _export(self, source: Source, run: RunRecord, final: Path, part: Path) -> Status:
        self.keys = ResumeKeys(part)
        written, done_bytes = self._resume_point(run, part)
        final.parent.mkdir(parents=True, exist_ok=True)
        # The final name is fixed before the first byte: {date} and {time} must not move on a resume.
        self.store.record_progress(
            self.ex.run_id,
            Counters(read=written, written=written),
            bytes_done=done_bytes,
            output_path=str(final),
            lease_token=self.ex.claim.lease_token,
        )
        clock = Clock(before=run.active_seconds, records_at_start=written, bytes_at_start=done_bytes)
        with open(part, "r+b" if part.exists() else "wb") as out:
            out.truncate(done_bytes)
            out.seek(done_bytes)
            stopped = self._copy(source, out, written, clock)
            if stopped is None:
                os.fsync(out.fileno())  # the final name promises a complete, durable file
        if stopped is not None:
            return stopped
        os.replace(part, final)
        self.keys.remove()
        counters = Counters(read=self._written, written=self._written)
        self.store.record_progress(
            self.ex.run_id, counters, active_seconds=clock.active(), lease_token=self.ex.claim.lease_token
        )
        self.log("export.file", path=str(final), rows=self._written, bytes=final.stat().st_size)
        self.log("run.summary", **counters.as_dict(), duration=format_duration(clock.active()))
        return self.store.transition(self.ex.job_id, A.FINISH, actor=self.ex.actor).target

    def _resume_point(self, run: RunRecord, part: Path) -> tuple[int, int]:
        """(rows, bytes) already in the partial file, and the journal line that says where the run starts."""
        written, done_bytes = run.counters.written, run.bytes_done
        if not written and not done_bytes:
            options = self.job.model_dump(mode="json", exclude={"name", "kind"}, exclude_defaults=True)
            self.log("run.started", run=run.run_no, by=self.ex.actor, options=options)
            return 0, 0
        size = part.stat().st_size if part.exists() else -1
        reason = "a stop"
        if size < done_bytes:  # only a machine crash loses fsynced bytes: the file starts over
            reason = f"a stop, but {part} is {'gone' if size < 0 else 'shorter than recorded'}"
            written, done_bytes = 0, 0
        self.log("run.resumed", run=run.run_no, record_no=written, line_no=written, reason=reason)
        return written, done_bytes

    def _copy(self, source: Source, out: BinaryIO, written: int, clock: Clock) -> Status | None:
        fmt = self.job.format
        self._written = written
        gz = GzipMembers(out) if fmt.gzip else None
        writer = CsvWriter(gz or out, fmt.model_copy(update={"header": fmt.header and written == 0}))
        checkpoint = Checkpoint(out, time.monotonic())
        for frame, key in source.chunks(written, self.job.chunk_rows, self.keys.at(written)):
            frame = render_dates(frame, source.date_columns, source.timestamp_columns, fmt)
            writer.write(render_numeric(frame, source.numeric_columns, fmt))
            if gz is not None:
                gz.end_chunk()
            self._written += frame.height
            self.keys.passed(self._written, key)
            rate = clock.rate(self._written)
            if checkpoint.due():
                self._checkpoint(checkpoint, clock)
            if self.ex.on_progress:
                counters = Counters(read=self._written, written=self._written)
                self.ex.on_progress(Progress(self.ex.job_id, counters, out.tell(), None, rate, None))
            stop = self.ex.requested_stop()
            if stop is not None:
                self._checkpoint(checkpoint, clock)
                return self._stop(stop)
        if writer.rows_written == 0 and fmt.header and written == 0:
            writer.write(pl.DataFrame(schema={name: pl.String for name in source.column_names()}))
            if gz is not None:
                gz.end_chunk()
        return None

    def _checkpoint(self, checkpoint: Checkpoint, clock: Clock) -> None:
        size = checkpoint.sync()
        self.keys.save()  # before the store counts the rows: the key of every count it may hold
        counters = Counters(read=self._written, written=self._written)
        self.store.record_progress(
            self.ex.run_id,
            counters,
            bytes_done=size,
            rate=clock.rate(self._written),
            active_seconds=clock.active(),
            lease_token=self.ex.claim.lease_token,  # a worker that lost the run cannot move its checkpoint
        )

    def _stop(self, action: A) -> Status:
        if action is A.CHUNK_BOUNDARY_CANCEL:
            run = self.store.run(self.ex.run_id)
            if run.output_path:
                Path(run.output_path + f".part{self.ex.run_id}").unlink(missing_ok=True)
            self.keys.remove()
        params: dict[str, Any] = {"record_no": self._written, "line_no": self._written}
        if action is A.SHUTDOWN:
            params["signal"] = "a shutdown request"
        self.log(STOP_CODES[action], **params)
        return self.store.transition(self.ex.job_id, action, actor=self.ex.actor).target


class Checkpoint:
    """When the file's bytes must be made durable before the store may count them."""

    def __init__(self, out: BinaryIO, now: float) -> None:
        self.out = out
        self.synced_at = now
        self.synced_bytes = out.tell()

    def due(self) -> bool:
        waited = time.monotonic() - self.synced_at
        return waited >= CHECKPOINT_SECONDS or self.out.tell() - self.synced_bytes >= CHECKPOINT_BYTES

    def sync(self) -> int:
        self.out.flush()
        os.fsync(self.out.fileno())
        self.synced_at, self.synced_bytes = time.monotonic(), self.out.tell()
        return self.synced_bytes


ISO_DATE = "%Y-%m-%d"
ISO_TIMESTAMP = "%Y-%m-%d %H:%M:%S"
TIMESTAMP_INPUTS = ("%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M")


def render_dates(
    frame: pl.DataFrame, dates: tuple[str, ...], timestamps: tuple[str, ...], fmt: OutputFormat
) -> pl.DataFrame:
    """SQLite keeps dates as ISO text: reformat those of DATE/TIMESTAMP columns; other text stays as is."""
    exprs = []
    if fmt.date_format != ISO_DATE:
        for name in dates:
            if frame.schema.get(name) == pl.String:
                parsed = pl.col(name).str.to_date(ISO_DATE, strict=False)
                exprs.append(pl.coalesce(parsed.dt.to_string(fmt.date_format), pl.col(name)).alias(name))
    if fmt.timestamp_format != ISO_TIMESTAMP:
        for name in timestamps:
            if frame.schema.get(name) == pl.String:
                parsed = pl.coalesce(
                    [pl.col(name).str.to_datetime(f, strict=False) for f in TIMESTAMP_INPUTS]
                )
                exprs.append(pl.coalesce(parsed.dt.to_string(fmt.timestamp_format), pl.col(name)).alias(name))
    return frame.with_columns(exprs) if exprs else frame


def render_numeric(frame: pl.DataFrame, numeric: tuple[str, ...], fmt: OutputFormat) -> pl.DataFrame:
    """Exact decimals come as text: the decimal separator is applied to that text."""
    if fmt.decimal_separator == "." or not numeric:
        return frame
    return frame.with_columns(
        pl.col(n).str.replace(".", fmt.decimal_separator, literal=True) for n in numeric
    )


class ResumeKeys:
    """Where a resume by key starts: the ordering values of the last row of each recent checkpoint,
    kept beside the partial file (the store counts rows and bytes; this says which row that was).
    A lost or stale file only makes the resume skip rows by OFFSET instead."""

    KEEP = 4  # a crash between this file and the store's write leaves the store's count in it

    def __init__(self, part: Path) -> None:
        self.path = part.with_name(part.name + ".resume")
        self.recent: dict[int, ResumeKey] = {}
        with contextlib.suppress(OSError, ValueError, TypeError):
            saved = json.loads(self.path.read_text(encoding="utf-8"))
            self.recent = {int(rows): tuple(key) for rows, key in saved}
        self.last: tuple[int, ResumeKey] | None = None

    def at(self, rows: int) -> ResumeKey | None:
        return self.recent.get(rows) if rows else None

    def passed(self, rows: int, key: ResumeKey | None) -> None:
        self.last = (rows, key) if key is not None else None

    def save(self) -> None:
        if self.last is None:
            return
        rows, key = self.last
        self.recent[rows] = key
        self.recent = dict(sorted(self.recent.items())[-self.KEEP :])
        temporary = self.path.with_name(self.path.name + ".new")
        temporary.write_text(json.dumps([[r, list(k)] for r, k in self.recent.items()]), encoding="utf-8")
        os.replace(temporary, self.path)

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


READERS = 2  # rowid segments read at once: SQLite and the ADBC driver release the GIL
CHUNK_BYTES = 2 * 1024 * 1024  # per chunk, however wide the rows: bigger ones cost peak RSS, not speed
FIRST_SPAN = 8192  # rows of the first segments, before the rows' width is known
READ_BATCH_ROWS = 16_384  # rows per batch of an ordered stream
TYPE_MISMATCH = "Type mismatch"  # the driver types columns from a query's first batch
# The driver's own, and Arrow's while batches are read (an I/O status becomes a plain OSError)
DRIVER_ERRORS = (adbc_driver_manager.Error, pa.ArrowException, OSError)


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
        if not self.path.is_file():
            raise TargetError(f"source database {self.path} does not exist")
        self.uri = f"file:{urllib.parse.quote(str(self.path.resolve()))}?mode=ro"
        self.date_columns: tuple[str, ...] = ()
        self.timestamp_columns: tuple[str, ...] = ()
        self.numeric_columns: tuple[str, ...] = ()  # SQLite keeps numbers as numbers
        self.rowid_order = False
        with self._cursor() as cur:
            if isinstance(source, TableSource):
                self._describe_table(cur, source)
            else:
                self.select = f"SELECT * FROM ({source.query.strip().rstrip(';')}) AS q"
                self.order = ""
                self.where = ""

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
        text = split_refused(str(error))
        for noise in ("IO: ", "[SQLite] ", "Failed to step query: ", "Failed to prepare query: "):
            text = text.replace(noise, "")
        if "readonly database" in text:
            return f"an export only reads, but its query tried to change the database ({text})"
        if isinstance(self.source, QuerySource) and "syntax error" in text:
            return f"the export query must be one read-only SELECT: {text}"
        return f"source database {self.path.name}: {text}"

    def _describe_table(self, cur: Any, source: TableSource) -> None:
        cur.execute(
            "SELECT type, sql FROM sqlite_master WHERE type IN ('table', 'view') AND name = ? COLLATE NOCASE",
            (source.table,),
        )
        found = cur.fetchall()
        if not found:
            raise TargetError(f"source table {source.table} does not exist in {self.path.name}")
        kind, ddl = found[0]
        cur.execute(f"PRAGMA table_info({quote(source.table)})")
        declared = {row[1]: str(row[2] or "").upper() for row in cur.fetchall()}
        names = list(source.columns or declared)
        missing = [n for n in (*names, *source.order_by) if n not in declared]
        if missing:
            raise TargetError(f"source table {source.table} has no column(s) {', '.join(missing)}")
        self.date_columns = tuple(n for n in names if "DATE" in declared[n] and "TIME" not in declared[n])
        self.timestamp_columns = tuple(n for n in names if "TIME" in declared[n])
        has_rowid = kind == "table" and "WITHOUT ROWID" not in str(ddl).upper()
        self.rowid_order = has_rowid and not source.order_by
        self.table = quote(source.table)
        self.select = f"SELECT {quoted_list(names)} FROM {self.table}"
        self.where = f"({source.filter})" if source.filter else ""
        # rowid last: rows that tie on the order columns keep one order, so a resume is exact
        order = [*map(quote, source.order_by), *(["rowid"] if has_rowid else [])]
        self.order = f" ORDER BY {', '.join(order)}" if order else ""

    def column_names(self) -> list[str]:
        with self._cursor() as cur:
            cur.execute(f"{self.select} LIMIT 0")
            return [d[0] for d in cur.description]

    def chunks(
        self, start: int, chunk_rows: int, key: ResumeKey | None = None
    ) -> Iterator[tuple[pl.DataFrame, ResumeKey | None]]:
        """The rows from row ``start`` (counting from 0) on, in order, as frames of at most ``chunk_rows``
        (a SQLite file is read by rowid: a resume needs no key)."""
        return ((frame, None) for frame in self._frames(start, chunk_rows))

    def _frames(self, start: int, chunk_rows: int) -> Iterator[pl.DataFrame]:
        limit = self.source.limit if isinstance(self.source, TableSource) else None
        remaining = None if limit is None else max(0, limit - start)
        if remaining == 0:
            return iter(())
        if self.rowid_order:
            return self._rowid_chunks(start, chunk_rows, remaining)
        return prefetched(self._ordered_chunks(start, chunk_rows, remaining))

    def close(self) -> None:
        """Nothing stays open between reads."""

    def _rowid_chunks(self, start: int, chunk_rows: int, remaining: int | None) -> Iterator[pl.DataFrame]:
        spans = Spans(chunk_rows)
        with self._cursor() as cur, ThreadPoolExecutor(READERS, "impex-export-read") as pool:
            segments = self._segments(cur, start, spans)
            pending: deque[tuple[int, Future[pl.DataFrame]]] = deque()

            def refill() -> None:
                for lo, hi, rows in islice(segments, READERS - len(pending)):
                    pending.append((rows, pool.submit(self._segment, lo, hi, rows)))

            refill()
            try:
                while pending:
                    rows, future = pending.popleft()
                    refill()  # the next segments are read while this one is written
                    frame = future.result()
                    spans.observe(rows, frame)
                    if remaining is not None:
                        frame = frame.head(remaining)
                        remaining -= frame.height
                    if frame.height:
                        yield frame
                    if remaining == 0:
                        return
            finally:
                for _, future in pending:
                    future.cancel()

    def _segments(self, cur: Any, start: int, spans: Spans) -> Iterator[tuple[int, int | None, int]]:
        """Rowid ranges [lo, hi) of ``spans.rows`` table rows each, from the source's row ``start`` on."""
        where = f" WHERE {self.where}" if self.where else ""
        cur.execute(f"SELECT rowid FROM {self.table}{where} ORDER BY rowid LIMIT 1 OFFSET {start}")
        found = cur.fetchall()
        lo = found[0][0] if found else None
        while lo is not None:
            rows = spans.rows
            # a walk of the rowid b-tree: no column is read
            cur.execute(
                f"SELECT rowid FROM {self.table} WHERE rowid >= ? ORDER BY rowid LIMIT 1 OFFSET ?", (lo, rows)
            )
            found = cur.fetchall()
            hi = found[0][0] if found else None
            yield lo, hi, rows
            lo = hi

    def _segment(self, lo: int, hi: int | None, rows: int) -> pl.DataFrame:
        cond = [f"rowid >= {lo}", *([f"rowid < {hi}"] if hi is not None else []), *filter(None, [self.where])]
        with self._cursor(batch_rows=rows + 1) as cur:  # one batch: one typing of the columns
            cur.execute(f"{self.select} WHERE {' AND '.join(cond)} ORDER BY rowid")
            frame = pl.from_arrow(cur.fetch_arrow_table())
        assert isinstance(frame, pl.DataFrame)
        return frame

    def _ordered_chunks(self, start: int, chunk_rows: int, remaining: int | None) -> Iterator[pl.DataFrame]:
        where = f" WHERE {self.where}" if self.where else ""
        position, restarted_at = start, -1
        while True:
            limit = -1 if remaining is None else remaining - (position - start)
            sql = f"{self.select}{where}{self.order} LIMIT {limit} OFFSET {position}"
            buffer: list[pa.RecordBatch] = []
            with self._cursor(batch_rows=min(chunk_rows, READ_BATCH_ROWS)) as cur:
                cur.execute(sql)
                try:
                    for batch in cur.fetch_record_batch():
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
            return


class Spans:
    """Table rows per segment: as many as keep a chunk under CHUNK_BYTES, at most ``chunk_rows``."""

    def __init__(self, chunk_rows: int) -> None:
        self.most = chunk_rows
        self.rows = min(chunk_rows, FIRST_SPAN)

    def observe(self, rows: int, frame: pl.DataFrame) -> None:
        size = frame.estimated_size()
        self.rows = min(self.most, max(1, int(CHUNK_BYTES * rows // size)) if size else rows * 2)


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

    def column_names(self) -> list[str]:
        return self.source.column_names()

    def chunks(
        self, start: int, chunk_rows: int, key: ResumeKey | None = None
    ) -> Iterator[tuple[pl.DataFrame, ResumeKey | None]]:
        return prefetched(self.source.chunks(start, chunk_rows, key))

    def close(self) -> None:
        self.source.close()


def open_source(connection: Connection, source: TableSource | QuerySource) -> Source:
    """The export's source for a connection: a PostgreSQL database, or a SQLite file."""
    if connection.url.startswith(("postgresql:", "postgres:")):
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
