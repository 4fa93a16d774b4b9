"""A resumed SQLite export whose source gives its rows in another order than before the pause (a new
index, rows moved): the file is still the export of the rows as they are, each once."""

import gzip
import io
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from impex.domain.status import A, S
from impex.engine.execution import Progress
from impex.engine.export_resume import SameBytes
from impex.engine.worker import Worker
from support import codes, pause_once_and_meddle, run_job

SETUP = {
    # a query without ORDER BY: SQLite scans the table, or an index that covers the query
    "query": (
        "CREATE TABLE t (name TEXT, country TEXT, pad TEXT)",
        {"query": "SELECT name, country FROM t"},
        "CREATE INDEX by_country ON t (country, name)",
    ),
    # an ORDER BY with ties: rows of one country come in the order of the scan
    "ties": (
        "CREATE TABLE t (name TEXT, country TEXT, pad TEXT)",
        {"query": "SELECT name, country FROM t ORDER BY country"},
        "CREATE INDEX by_country_name ON t (country, name DESC)",
    ),
    # a view has no key
    "view": (
        "CREATE TABLE t (name TEXT, country TEXT, pad TEXT); CREATE VIEW v AS SELECT name, country FROM t",
        {"table": "v"},
        "CREATE INDEX by_country ON t (country, name)",
    ),
    # a table without rowid, read in the order of its primary key
    "without rowid": (
        "CREATE TABLE t (name TEXT PRIMARY KEY, country TEXT, pad TEXT) WITHOUT ROWID",
        {"table": "t", "columns": ["name", "country"]},
        "CREATE INDEX by_country ON t (country)",
    ),
}


def export(out: Path, source: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "kind": "export",
        "name": "order",
        "source": source,
        "output": str(out),
        "chunk_rows": 40,
        **fields,
    }


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("case", SETUP)
def test_an_index_made_while_an_export_is_paused_loses_and_repeats_no_row(
    store, settings, data_dir, tmp_path, case, gz
):
    ddl, source, index = SETUP[case]
    with sqlite3.connect(data_dir / "data.db") as c:
        c.executescript(ddl)
        rows = [(f"Name {i:03}", "ABC"[i * 7 % 3], "x" * 200) for i in range(300)]
        c.executemany("INSERT INTO t VALUES (?, ?, ?)", rows)
    out, reference = tmp_path / "out.csv", tmp_path / "reference.csv"

    def make_index() -> None:
        with sqlite3.connect(data_dir / "data.db") as c:
            c.execute(index)

    fmt = {"gzip": gz}
    job_id = pause_once_and_meddle(store, settings, export(out, source, format=fmt), make_index)
    run_job(store, settings, export(reference, source, format=fmt))
    content = gzip.decompress if gz else bytes
    written, expected = content(out.read_bytes()), content(reference.read_bytes())
    assert sorted(written.splitlines()) == sorted(expected.splitlines()), "every row once"
    assert written == expected
    if case != "without rowid":  # read in the order of its key: the resume goes on where it stopped
        assert "export.restarted" in codes(store, job_id)


def test_the_bytes_of_a_damaged_gzip_file_are_not_the_rows_and_raise_nothing():
    member = gzip.compress(b"a,b\n1,2\n")
    assert SameBytes(gzip.GzipFile(fileobj=io.BytesIO(member))).write(b"a,b\n1,2\n")
    damaged = SameBytes(gzip.GzipFile(fileobj=io.BytesIO(member[:12] + b"garbage" + member[19:])))
    damaged.write(b"a,b\n1,2\n")
    cut = SameBytes(gzip.GzipFile(fileobj=io.BytesIO(member[:-6])))
    cut.write(b"a,b\n1,2\n")
    assert not damaged.same and not cut.all_read()


@pytest.mark.parametrize("gz", [False, True])
def test_a_shutdown_while_a_resumed_query_export_reads_its_rows_again_stops_it_at_a_chunk_boundary(
    store, settings, data_dir, tmp_path, gz
):
    """Reading the rows the file holds again takes as long as writing them: a SIGTERM (or a pause, a
    cancel) waits for one chunk of it, not for all of it, and the file keeps what it held."""
    ddl, source, _index = SETUP["query"]
    with sqlite3.connect(data_dir / "data.db") as c:
        c.executescript(ddl)
        c.executemany("INSERT INTO t VALUES (?, ?, ?)", [(f"Name {i:03}", "A", "x") for i in range(300)])
    out, reference = tmp_path / "out.csv", tmp_path / "reference.csv"
    definition = export(out, source, format={"gzip": gz})

    def pause_after_three_chunks(progress: Progress) -> None:
        if progress.counters.written >= 120 and store.status_of(progress.job_id) is S.RUNNING:
            store.transition(progress.job_id, A.PAUSE, actor="tester")

    status, job_id = run_job(store, settings, definition, on_progress=pause_after_three_chunks)
    assert status is S.PAUSED
    [part] = [p for p in tmp_path.glob("out.csv.part*") if p.suffix != ".resume"]
    held = part.read_bytes()
    store.transition(job_id, A.START, actor="tester")
    worker = Worker(store, settings, concurrency=1)
    worker.shutdown.request("SIGTERM")
    assert worker.run_one(job_id) is S.SERVER_SHUTDOWN
    shutdown = [line for line in store.journal_lines(job_id) if line.code == "run.shutdown"]
    assert [(line.params["record_no"], line.params["signal"]) for line in shutdown] == [(120, "SIGTERM")]
    assert part.read_bytes() == held
    assert run_job(store, settings, job_id)[0] is S.FINISHED
    run_job(store, settings, export(reference, source, format={"gzip": gz}))
    content = gzip.decompress if gz else bytes
    assert content(out.read_bytes()) == content(reference.read_bytes())
