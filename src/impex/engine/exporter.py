"""The export run: table or query → delimited file, written under a temporary name, renamed when complete.

Resume is exact: at a checkpoint the file is flushed and fsynced, then the store records (rows written,
bytes written). A resume truncates the temporary file to that size and continues the ordered source
at that row, so a stop at any instant neither loses nor repeats a row. A source whose order is not
total (a query) is first read again up to that row and compared with the file; should its rows come
in another order now, the file is written again from its first row (export_resume).
A kill -9 would not need the fsync (written bytes outlive the process), a machine crash does: so
checkpoints are taken every few tens of MB or a fraction of a second, not per chunk, and at every
stop. Each chunk of a gzip output is its own gzip member, so the file truncated at a chunk boundary
stays a valid stream.
"""

from __future__ import annotations

import contextlib
import errno
import gzip
import io
import json
import os
import re
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO

import polars as pl

from impex.domain.counters import Counters
from impex.domain.definitions import ExportJob
from impex.domain.journal import PART_GONE, PART_SHORTER, Level
from impex.domain.status import A, S, Status
from impex.engine.connections import connection_url
from impex.engine.execution import STOP_CODES, Execution, Progress, ends_the_run, technical_error
from impex.engine.export_readers import ResumeKey, Source, open_source
from impex.engine.export_render import write_chunk
from impex.engine.export_resume import Chunks, StoppedWhileComparing, same_rows_then_rest
from impex.engine.final_file import check_replaceable, name_that_fits, temporary_beside, through_link
from impex.engine.progress import Clock, format_duration
from impex.formats.writer import CsvWriter
from impex.store.records import RunRecord

CHECKPOINT_BYTES = 64 * 1024 * 1024  # fsync + store progress at least this often…
CHECKPOINT_SECONDS = 0.25  # …and at least this often; a resume redoes at most this much
GZIP_LEVEL = 6  # gzip's own default: level 9 costs twice the time for ~1% smaller files


def output_path(template: str, job: str, run_no: int, now: float | None = None) -> Path:
    moment = time.localtime(now)
    return Path(
        template.format(
            job=file_name_part(job),
            run=run_no,
            date=time.strftime("%Y%m%d", moment),
            time=time.strftime("%H%M%S", moment),
        )
    )


def file_name_part(job: str) -> str:
    """A job's name as the template's {job} writes it: the characters a file name takes anywhere, and
    never '.' or '..', which would name the folder itself or its parent (out of the folders a web
    job is confined to)."""
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in job)
    return "_" * len(safe) if not safe.strip(".") else safe


@contextlib.contextmanager
def writing(final: Path) -> Iterator[None]:
    """An OSError while the export file is written (a full disk, a file size limit…) said as one
    about that file: the system's words after its name."""
    try:
        yield
    except OSError as error:
        words = error.strerror or re.sub(r"^\[Errno \d+\] | \(os error \d+\)$", "", str(error))
        raise OSError(error.errno or errno.EIO, f"cannot write the export file {final}: {words}") from error


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


def partial_file(final: Path, run_id: int) -> Path:
    """Where run ``run_id`` writes the export until it is complete (then renamed ``final``): beside it,
    named after it, with room for the suffixes of its resume keys."""
    return temporary_beside(final, f".part{run_id}", reserve=len(ResumeKeys.LONGEST_SUFFIX))


def discard_partial(part: Path) -> None:
    """Remove a partial file and its resume keys: its run will not go on (canceled, failed)."""
    part.unlink(missing_ok=True)
    ResumeKeys.discard(part)


class ExportRun:
    def __init__(self, ex: Execution) -> None:
        self.ex = ex
        self.job = ExportJob.model_validate(ex.claim.job.definition)
        self.store = ex.store
        self._written = 0
        self.last_progress_log = time.monotonic()
        self.part: Path | None = None  # the file being written, under a name of this run

    def log(self, code: str, level: Level = Level.INFO, /, **params: Any) -> None:
        self.store.log(self.ex.job_id, self.ex.run_id, level, code, params, self.ex.actor)

    def execute(self) -> Status:
        try:
            return self._execute()
        except BaseException as error:  # a Polars panic too: it is no Exception
            if not ends_the_run(error):
                raise
            if self.part is not None:  # the run is over (Start begins another): nothing half-written stays
                with contextlib.suppress(OSError):
                    discard_partial(self.part)
            self.log("run.error", Level.ERROR, error=technical_error(error))
            counters = Counters(read=self._written, written=self._written)
            self.log("export.summary", **counters.as_dict(), duration="—")
            return self.store.transition(
                self.ex.job_id,
                A.FAIL,
                actor=self.ex.actor,
                lease_token=self.ex.claim.lease_token,
                cause="run.error",
            ).target

    def _execute(self) -> Status:
        job = self.job
        run = self.store.run(self.ex.run_id)
        if run.output_path:
            final = Path(run.output_path)
        else:
            final = through_link(name_that_fits(output_path(job.output, job.name, run.run_no)))
        part = self.part = partial_file(final, self.ex.run_id)
        source = open_source(connection_url(self.ex.settings, job.source.connection), job.source)
        try:
            return self._export(source, run, final, part)
        finally:
            source.close()

    def _export(self, source: Source, run: RunRecord, final: Path, part: Path) -> Status:
        self.keys = ResumeKeys(part)
        written, done_bytes = self._resume_point(run, part)
        check_replaceable(final, "the export file")
        if final.parent.exists() and not final.parent.is_dir():
            raise NotADirectoryError(
                errno.ENOTDIR, f"cannot write the export file {final}: {final.parent} is a file, not a folder"
            )
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            part.touch()
        except OSError as error:  # a file system that takes no file there, a file higher up…
            raise OSError(error.errno, f"cannot write the export file {final}: {error.strerror}") from None
        # The final name is fixed before the first byte: {date} and {time} must not move on a resume.
        self.store.record_progress(
            self.ex.run_id,
            Counters(read=written, written=written),
            bytes_done=done_bytes,
            output_path=str(final),
            lease_token=self.ex.claim.lease_token,
        )
        with writing(final):
            with open(part, "r+b" if part.exists() else "wb") as out:
                out.truncate(done_bytes)
                out.seek(done_bytes)
                began = time.monotonic()
                try:
                    chunks, written = self._chunks(source, out, part, written)
                except StoppedWhileComparing as told:  # the file holds what it held
                    self._written = written
                    return self._stop(told.action)
                before = run.active_seconds + time.monotonic() - began  # the rows read again: active time
                clock = Clock(before=before, records_at_start=written, bytes_at_start=out.tell())
                stopped = self._copy(source, chunks, out, written, clock)
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
        self.log("export.summary", **counters.as_dict(), duration=format_duration(clock.active()))
        return self.store.transition(
            self.ex.job_id, A.FINISH, actor=self.ex.actor, lease_token=self.ex.claim.lease_token
        ).target

    def _resume_point(self, run: RunRecord, part: Path) -> tuple[int, int]:
        """(rows, bytes) already in the partial file, and the journal line that says where the run starts."""
        written, done_bytes = run.counters.written, run.bytes_done
        if not written and not done_bytes:
            options = self.job.model_dump(mode="json", exclude={"name", "kind"}, exclude_defaults=True)
            self.log("run.started", run=run.run_no, by=self.ex.actor, options=options)
            return 0, 0
        size = part.stat().st_size if part.exists() else -1
        reason = self.store.stop_reason(run.id)
        if size < done_bytes:  # only a machine crash loses fsynced bytes: the file starts over
            reason = (PART_GONE if size < 0 else PART_SHORTER).format(reason=reason, path=part)
            written, done_bytes = 0, 0
        self.log("run.resumed", run=run.run_no, record_no=written, line_no=written, reason=reason)
        return written, done_bytes

    def _chunks(self, source: Source, out: BinaryIO, part: Path, written: int) -> tuple[Chunks, int]:
        """The chunks to write, and the rows the file holds before them. A source without a total
        order is read again from its first row and compared with the file (see export_resume)."""
        rows = self.job.chunk_rows
        if not written or source.total_order:
            return source.chunks(written, rows, self.keys.at(written)), written
        rest = same_rows_then_rest(source, part, self.job.format, written, rows, self.ex.requested_stop)
        if rest is not None:
            return rest, written
        self.log("export.restarted", rows=written)
        out.seek(0)
        out.truncate()
        self.store.record_progress(
            self.ex.run_id, Counters(), bytes_done=0, lease_token=self.ex.claim.lease_token
        )
        return source.chunks(0, rows), 0

    def _copy(
        self, source: Source, chunks: Chunks, out: BinaryIO, written: int, clock: Clock
    ) -> Status | None:
        fmt = self.job.format
        self._written = written
        gz = GzipMembers(out) if fmt.gzip else None
        writer = CsvWriter(
            gz or out, fmt.model_copy(update={"header": fmt.header and written == 0}), rows_before=written
        )
        with Checkpoint(out, time.monotonic()) as checkpoint:
            return self._copy_chunks(source, chunks, writer, gz, checkpoint, written, clock)

    def _copy_chunks(
        self,
        source: Source,
        chunks: Chunks,
        writer: CsvWriter,
        gz: GzipMembers | None,
        checkpoint: Checkpoint,
        written: int,
        clock: Clock,
    ) -> Status | None:
        fmt = self.job.format
        warned = False
        for frame, key in chunks:
            write_chunk(writer, frame, source, fmt)
            if writer.first_empty_text is not None and not warned:
                self.log("export.empty_texts", Level.WARNING, row=writer.first_empty_text)
                warned = True
            if gz is not None:
                gz.end_chunk()
            self._written += frame.height
            self.keys.passed(self._written, key)
            rate = clock.rate(self._written)
            if checkpoint.due():  # what the bytes hold now, recorded once they are durable
                checkpoint.start(
                    partial(
                        self._record,
                        rows=self._written,
                        last=self.keys.last,
                        rate=rate,
                        active=clock.active(),
                    )
                )
            now = time.monotonic()
            if now - self.last_progress_log >= self.ex.settings.progress_seconds:
                self.last_progress_log = now
                self.log("export.progress", rows=self._written, rate=round(rate))
            if self.ex.on_progress:
                counters = Counters(read=self._written, written=self._written)
                self.ex.on_progress(
                    Progress(self.ex.job_id, counters, checkpoint.out.tell(), None, rate, None)
                )
            stop = self.ex.requested_stop()
            if stop is not None:
                self._checkpoint(checkpoint, clock)
                return self._stop(stop)
        if writer.rows_written == 0 and written == 0:  # no row at all
            if fmt.header:
                writer.write(pl.DataFrame(schema={name: pl.String for name in source.column_names()}))
            if gz is not None:
                gz.end_chunk()  # a gzip file holds one member at least (an empty one here): 0 bytes is none
        return None

    def _checkpoint(self, checkpoint: Checkpoint, clock: Clock) -> None:
        size = checkpoint.sync()
        self._record(size, self._written, self.keys.last, clock.rate(self._written), clock.active())

    def _record(
        self, size: int, rows: int, last: tuple[int, ResumeKey] | None, rate: float, active: float
    ) -> None:
        """Once ``size`` bytes holding ``rows`` rows are durable: their resume key, then the store."""
        self.keys.save(last)  # before the store counts the rows: the key of every count it may hold
        counters = Counters(read=rows, written=rows)
        self.store.record_progress(
            self.ex.run_id,
            counters,
            bytes_done=size,
            rate=rate,
            active_seconds=active,
            lease_token=self.ex.claim.lease_token,  # a worker that lost the run cannot move its checkpoint
        )

    def _stop(self, action: A) -> Status:
        if action is A.CHUNK_BOUNDARY_CANCEL and self.part is not None:
            discard_partial(self.part)
        params: dict[str, Any] = {"record_no": self._written, "line_no": self._written}
        if action is A.SHUTDOWN:
            params["signal"] = self.ex.shutdown.cause
        self.log(STOP_CODES[action], **params)
        stopped = self.store.transition(
            self.ex.job_id, action, actor=self.ex.actor, lease_token=self.ex.claim.lease_token
        )
        canceled_meanwhile = stopped.target is S.CANCELED and action is not A.CHUNK_BOUNDARY_CANCEL
        if canceled_meanwhile and self.part is not None:
            discard_partial(self.part)
        return stopped.target


class Checkpoint:
    """When the file's bytes must be made durable before the store may count them.

    On the way, the fsync and what follows it (``then``) run in a thread while the next chunks are
    written: the disk and the CPU work at once. A stop syncs in the caller's thread, after the one
    under way. An error of the thread is raised in the caller at the next checkpoint or at the end.
    """

    def __init__(self, out: BinaryIO, now: float) -> None:
        self.out = out
        self.synced_at = now
        self.synced_bytes = out.tell()
        self._pool = ThreadPoolExecutor(1, "impex-export-sync")
        self._pending: Future[None] | None = None

    def __enter__(self) -> Checkpoint:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.wait()
        finally:
            self._pool.shutdown()

    def due(self) -> bool:
        if self._pending is not None:
            if not self._pending.done():
                return False
            self.wait()
        waited = time.monotonic() - self.synced_at
        return waited >= CHECKPOINT_SECONDS or self.out.tell() - self.synced_bytes >= CHECKPOINT_BYTES

    def start(self, then: Callable[[int], None]) -> None:
        """Flush here; fsync, then ``then(size)``, in the thread."""
        self.out.flush()
        size = self.out.tell()
        self.synced_at, self.synced_bytes = time.monotonic(), size
        fd = self.out.fileno()

        def sync_then() -> None:
            os.fsync(fd)
            then(size)

        self._pending = self._pool.submit(sync_then)

    def wait(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def sync(self) -> int:
        self.wait()
        self.out.flush()
        os.fsync(self.out.fileno())
        self.synced_at, self.synced_bytes = time.monotonic(), self.out.tell()
        return self.synced_bytes


class ResumeKeys:
    """Where a resume by key starts: the ordering values of the last row of each recent checkpoint,
    kept beside the partial file (the store counts rows and bytes; this says which row that was).
    A lost or stale file only makes the resume skip rows by OFFSET instead."""

    KEEP = 4  # a crash between this file and the store's write leaves the store's count in it
    LONGEST_SUFFIX = ".resume.new"  # what its names add to the partial file's

    def __init__(self, part: Path) -> None:
        self.part = part
        self.path = self.file_of(part)
        self.recent: dict[int, ResumeKey] = {}
        with contextlib.suppress(OSError, ValueError, TypeError):
            saved = json.loads(self.path.read_text(encoding="utf-8"))
            self.recent = {int(rows): tuple(key) for rows, key in saved}
        self.last: tuple[int, ResumeKey] | None = None

    @staticmethod
    def file_of(part: Path) -> Path:
        return part.with_name(part.name + ".resume")  # (see LONGEST_SUFFIX)

    def at(self, rows: int) -> ResumeKey | None:
        return self.recent.get(rows) if rows else None

    def passed(self, rows: int, key: ResumeKey | None) -> None:
        self.last = (rows, key) if key is not None else None

    def save(self, last: tuple[int, ResumeKey] | None) -> None:
        """Keep ``last`` (a ``self.last`` of the moment the bytes it covers were written)."""
        if last is None:
            return
        rows, key = last
        self.recent[rows] = key
        self.recent = dict(sorted(self.recent.items())[-self.KEEP :])
        temporary = self.temporary_of(self.path)
        temporary.write_text(json.dumps([[r, list(k)] for r, k in self.recent.items()]), encoding="utf-8")
        os.replace(temporary, self.path)

    @staticmethod
    def temporary_of(path: Path) -> Path:
        """Where keys are written before they replace those at ``path`` (see LONGEST_SUFFIX)."""
        return path.with_name(path.name + ".new")

    @classmethod
    def discard(cls, part: Path) -> None:
        """Remove the keys of ``part``, and what a crash while they were saved left."""
        keys = cls.file_of(part)
        keys.unlink(missing_ok=True)
        cls.temporary_of(keys).unlink(missing_ok=True)

    def remove(self) -> None:
        self.discard(self.part)
