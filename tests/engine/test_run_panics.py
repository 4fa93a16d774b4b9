"""A panic in Polars (``PanicException``, a BaseException rather than an Exception) ends its run with
errors naming it, keeps the table and the reject list in step, and leaves the worker running others.

No input known to make Polars panic is at hand, so these specs make it panic at the narrowest seam:
the validation of the reading thread, the bulk insert of the target's thread, an export's writing.
"""

from __future__ import annotations

import sqlite3
import threading
from typing import Any

import pytest
from polars.exceptions import PanicException

import impex.engine.exporter as exporter
import impex.engine.importer as importer
from impex.domain.status import TERMINAL, S
from impex.engine.worker import Worker
from impex.settings import Settings
from impex.targets.sqlite import SqliteRun
from support import define, rejects, submit, table_rows, wait_until, write

MARKER = "999"  # the id whose chunk panics


def _file(tmp_path, name: str) -> str:
    """ids 1..100, every tenth one not an integer (a reject), and MARKER in record 61."""
    lines = ["id,v"]
    for i in range(1, 101):
        value = MARKER if i == 61 else f"{i}x" if i % 10 == 5 else str(i)
        lines.append(f"{value},{i}")
    return str(write(tmp_path / name, "\n".join(lines) + "\n"))


def _job(source: str, table: str) -> dict[str, Any]:
    columns = [{"name": "id", "type": "integer"}, {"name": "v", "type": "integer"}]
    return define(source=source, target={"table": table}, columns=columns, chunk_rows=10)


def _assert_ended_with_the_panic_in_step(store, data_dir, job_id: int) -> None:
    assert store.status_of(job_id) is S.FINISHED_WITH_ERRORS
    errors = [line for line in store.journal_lines(job_id) if line.code == "run.error"]
    assert len(errors) == 1 and "PanicException" in errors[0].params["error"]
    assert "polars panicked" in errors[0].params["error"]
    read = store.runs_of(job_id)[-1].counters.read
    assert read < 100
    # What the table holds and what the reject list says are the same records, those counted read.
    kept = [row[0] for row in table_rows(data_dir, "panics")]
    assert kept == [i for i in range(1, read + 1) if i % 10 != 5]
    assert [r[0] for r in rejects(store, job_id)] == [i for i in range(1, read + 1) if i % 10 == 5]


def _serve_until_over(store, settings, *job_ids: int) -> None:
    """One worker runs the jobs until each has ended (a job left running forever fails the spec)."""
    worker = Worker(store, settings, concurrency=1)
    serving = threading.Thread(target=worker.serve)
    serving.start()
    try:
        over = lambda: all(store.status_of(j) in TERMINAL for j in job_ids)  # noqa: E731
        wait_until(over, 30, "both jobs to end")
    finally:
        worker.shutdown.request("the end of the spec")
        serving.join()


def _panic_on_marker(validate):
    def validating(frame, *args: Any, **kwargs: Any):
        if MARKER in frame.get_column(frame.columns[0]).cast(str).to_list():
            raise PanicException("polars panicked reading this chunk")
        return validate(frame, *args, **kwargs)

    return validating


def test_a_panic_while_validating_ends_the_run_with_errors_and_the_worker_goes_on(
    store, settings, data_dir, tmp_path, monkeypatch
):
    monkeypatch.setattr(importer, "validate", _panic_on_marker(importer.validate))
    panics = submit(store, _job(_file(tmp_path, "a.csv"), "panics"))
    fine = submit(store, _job(str(write(tmp_path / "b.csv", "id,v\n1,1\n2,2\n")), "fine"))
    _serve_until_over(store, settings, panics, fine)
    _assert_ended_with_the_panic_in_step(store, data_dir, panics)
    assert store.status_of(fine) is S.FINISHED
    assert table_rows(data_dir, "fine") == [(1, 1), (2, 2)]


@pytest.mark.parametrize("commit_seconds", [0.0, 3600.0])
def test_a_panic_while_writing_ends_the_run_with_errors_and_the_worker_goes_on(
    store, settings, data_dir, tmp_path, monkeypatch, commit_seconds
):
    insert = SqliteRun.insert

    def inserting(self: SqliteRun, frame) -> int:
        if int(MARKER) in frame.get_column("id").to_list():
            raise PanicException("polars panicked writing this chunk")
        return insert(self, frame)

    monkeypatch.setattr(SqliteRun, "insert", inserting)
    settings = Settings({**settings.values, "commit_seconds": commit_seconds})
    panics = submit(store, _job(_file(tmp_path, "a.csv"), "panics"))
    fine = submit(store, _job(str(write(tmp_path / "b.csv", "id,v\n1,1\n2,2\n")), "fine"))
    _serve_until_over(store, settings, panics, fine)
    _assert_ended_with_the_panic_in_step(store, data_dir, panics)
    assert store.status_of(fine) is S.FINISHED
    assert table_rows(data_dir, "fine") == [(1, 1), (2, 2)]


def test_a_panic_while_exporting_ends_the_run_with_errors_leaving_no_file_and_the_worker_goes_on(
    store, settings, data_dir, tmp_path, monkeypatch
):
    with sqlite3.connect(data_dir / "data.db") as c:
        c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, note TEXT)")
        c.executemany("INSERT INTO t VALUES (?, ?)", [(i, f"note {i}") for i in range(1, 1001)])
    write_chunk = exporter.write_chunk

    def writing(writer, frame, *args: Any) -> None:
        if 610 in frame.get_column("id").to_list():
            raise PanicException("polars panicked writing this chunk")
        write_chunk(writer, frame, *args)

    monkeypatch.setattr(exporter, "write_chunk", writing)
    out = tmp_path / "out" / "t.csv"
    panics = submit(
        store,
        {"kind": "export", "name": "t", "source": {"table": "t"}, "output": str(out), "chunk_rows": 100},
    )
    fine = submit(store, _job(str(write(tmp_path / "b.csv", "id,v\n1,1\n")), "fine"))
    _serve_until_over(store, settings, panics, fine)
    assert store.status_of(panics) is S.FINISHED_WITH_ERRORS
    [error] = [line for line in store.journal_lines(panics) if line.code == "run.error"]
    assert error.params["error"] == "PanicException: polars panicked writing this chunk"
    assert list(out.parent.iterdir()) == []
    assert store.status_of(fine) is S.FINISHED
