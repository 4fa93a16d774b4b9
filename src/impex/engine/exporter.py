"""The export run: table or query → CSV file, written under a temporary name and renamed when complete.

Resumable: after each chunk the file is flushed to disk, then the store records (rows written,
bytes written). A resume truncates the temporary file to that size and continues the ordered query
at that row, so a stop at any instant neither loses nor repeats a row. Each chunk of a gzip output
is its own gzip member, so a truncated file stays a valid stream.
"""

from __future__ import annotations

import gzip
import io
import os
import time
from pathlib import Path
from typing import Any

import polars as pl

from impex.domain.counters import Counters
from impex.domain.definitions import ExportJob, QuerySource, TableSource
from impex.domain.journal import Level
from impex.domain.status import A, Status
from impex.engine.connections import connection_url
from impex.engine.execution import STOP_CODES, Execution, Progress
from impex.engine.progress import Clock, format_duration
from impex.formats.writer import CsvWriter
from impex.targets import open_target
from impex.targets.base import TargetError
from impex.targets.sql import quote, quoted_list


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


def source_sql(source: TableSource | QuerySource) -> str:
    if isinstance(source, QuerySource):
        return f"SELECT * FROM ({source.query.strip().rstrip(';')}) AS q"
    cols = quoted_list(source.columns) if source.columns else "*"
    sql = f"SELECT {cols} FROM {quote(source.table)}"
    if source.filter:
        sql += f" WHERE ({source.filter})"
    order = quoted_list(source.order_by) if source.order_by else "rowid"  # a stable order makes resume exact
    return f"{sql} ORDER BY {order}"


class ExportRun:
    def __init__(self, ex: Execution) -> None:
        self.ex = ex
        self.job = ExportJob.model_validate(ex.claim.job.definition)
        self.store = ex.store

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
        written, done_bytes = run.counters.written, run.bytes_done
        if written or done_bytes:
            self.log("run.resumed", run=run.run_no, record_no=written, line_no=written, reason="a stop")
        else:
            final.parent.mkdir(parents=True, exist_ok=True)
            self.log(
                "run.started",
                run=run.run_no,
                by=self.ex.actor,
                options=job.model_dump(mode="json", exclude={"name", "kind"}, exclude_defaults=True),
            )
        if done_bytes and not part.exists():
            raise OSError(f"cannot resume: the partial file {part} is gone")
        mode = "r+b" if part.exists() else "wb"
        clock = Clock(before=run.active_seconds, records_at_start=written, bytes_at_start=done_bytes)
        session = open_target(connection_url(self.ex.settings, job.source.connection))
        try:
            with open(part, mode) as out:
                out.truncate(done_bytes)
                out.seek(done_bytes)
                stopped = self._copy(session, out, written, clock, str(final))
        finally:
            session.close()
        if stopped is not None:
            return stopped
        os.replace(part, final)
        counters = Counters(read=self._written, written=self._written)
        self.store.record_progress(
            self.ex.run_id, counters, output_path=str(final), active_seconds=clock.active()
        )
        self.log("export.file", path=str(final), rows=self._written, bytes=final.stat().st_size)
        self.log("run.summary", **counters.as_dict(), duration=format_duration(clock.active()))
        return self.store.transition(self.ex.job_id, A.FINISH, actor=self.ex.actor).target

    def _copy(self, session: Any, out: Any, written: int, clock: Clock, final: str) -> Status | None:
        job = self.job
        limit = job.source.limit if isinstance(job.source, TableSource) else None
        remaining = None if limit is None else max(0, limit - written)
        sql = f"{source_sql(job.source)} LIMIT {-1 if remaining is None else remaining} OFFSET {written}"
        header_pending = job.format.header and written == 0
        self._written = written
        buffer: list[pl.DataFrame] = []
        buffered = 0
        for batch in session.stream(sql):
            frame = pl.from_arrow(batch)
            assert isinstance(frame, pl.DataFrame)
            buffer.append(frame)
            buffered += frame.height
            if buffered >= job.chunk_rows:
                header_pending = self._write_chunk(out, pl.concat(buffer), header_pending, clock, final)
                buffer, buffered = [], 0
                stop = self.ex.requested_stop()
                if stop is not None:
                    return self._stop(stop)
        if buffer or header_pending:
            frame = pl.concat(buffer) if buffer else pl.DataFrame()
            self._write_chunk(out, frame, header_pending, clock, final)
        return None

    def _write_chunk(self, out: Any, frame: pl.DataFrame, header: bool, clock: Clock, final: str) -> bool:
        fmt = self.job.format
        data = io.BytesIO()
        target: Any = gzip.GzipFile(fileobj=data, mode="wb", mtime=0) if fmt.gzip else data
        CsvWriter(target, fmt.model_copy(update={"header": header})).write(frame)
        if fmt.gzip:
            target.close()
        out.write(data.getvalue())
        out.flush()
        os.fsync(out.fileno())
        self._written += frame.height
        size = out.tell()
        counters = Counters(read=self._written, written=self._written)
        rate = clock.rate(self._written)
        self.store.record_progress(
            self.ex.run_id,
            counters,
            bytes_done=size,
            rate=rate,
            active_seconds=clock.active(),
            output_path=final,
        )
        if self.ex.on_progress:
            self.ex.on_progress(Progress(self.ex.job_id, counters, size, None, rate, None))
        return False

    def _stop(self, action: A) -> Status:
        if action is A.CHUNK_BOUNDARY_CANCEL:
            run = self.store.run(self.ex.run_id)
            if run.output_path:
                Path(run.output_path + f".part{self.ex.run_id}").unlink(missing_ok=True)
        params: dict[str, Any] = {"record_no": self._written, "line_no": self._written}
        if action is A.SHUTDOWN:
            params["signal"] = "a shutdown request"
        self.log(STOP_CODES[action], **params)
        return self.store.transition(self.ex.job_id, action, actor=self.ex.actor).target
