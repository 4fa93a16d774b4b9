"""Chunks go into the target as they come and commit together, about every commit_seconds.

Every stop commits first, so pause, cancel and shutdown see exactly what a chunk-by-chunk commit
would leave; a crash loses the chunks not committed yet and redoes them (the kill -9 acceptance test
holds that this is exactly once). Against real SQLite files.
"""

import sqlite3
from pathlib import Path

import pytest

from impex.domain.status import A, S
from impex.settings import load_settings
from support import define, rejects, run_job, table_rows, write

ROWS = "".join(f"{i},name{i},{20 + i}\n" for i in range(1, 21))
PEOPLE = "id,name,age\n" + ROWS.replace("7,name7,27", "7,name7,x")  # record 7: type error
COLUMNS = [
    {"name": "id", "type": "integer", "required": True},
    {"name": "name", "max_length": 10},
    {"name": "age", "type": "integer"},
]


@pytest.fixture
def people(tmp_path: Path) -> Path:
    return write(tmp_path / "people.csv", PEOPLE)


def with_commit_seconds(settings, seconds: float):
    return load_settings({**settings.values, "commit_seconds": seconds})


def visible_rows(data_dir: Path) -> int:
    """What another connection sees of the table: committed rows only."""
    with sqlite3.connect(data_dir / "data.db", timeout=10) as c:
        return int(c.execute("SELECT count(*) FROM t").fetchone()[0])


def test_chunks_written_within_the_interval_become_visible_together_at_the_commit(
    store, settings, data_dir, people
):
    seen: list[int] = []
    status, _ = run_job(
        store,
        with_commit_seconds(settings, 60.0),
        define(source=str(people), columns=COLUMNS, chunk_rows=4),
        on_progress=lambda p: seen.append(visible_rows(data_dir)),
    )
    assert status is S.FINISHED
    assert len(seen) == 5  # a progress report after each of the 5 chunks
    assert seen == [0, 0, 0, 0, 0]  # none committed before the end
    assert len(table_rows(data_dir)) == 19


def test_with_an_interval_of_zero_every_chunk_commits(store, settings, data_dir, people):
    seen: list[int] = []
    run_job(
        store,
        with_commit_seconds(settings, 0.0),
        define(source=str(people), columns=COLUMNS, chunk_rows=4),
        on_progress=lambda p: seen.append(visible_rows(data_dir)),
    )
    assert seen == [4, 7, 11, 15, 19]  # record 7 is rejected


def test_a_pause_commits_the_chunks_written_so_far_and_start_goes_on_from_there(
    store, settings, data_dir, people
):
    settings = with_commit_seconds(settings, 60.0)
    paused: list[int] = []

    def pause_after_two_chunks(progress):
        if progress.counters.read == 8 and not paused:
            paused.append(progress.counters.read)
            store.transition(progress.job_id, A.PAUSE, actor="tester")

    status, job_id = run_job(
        store,
        settings,
        define(source=str(people), columns=COLUMNS, chunk_rows=4),
        on_progress=pause_after_two_chunks,
    )
    assert status is S.PAUSED
    assert visible_rows(data_dir) == 7  # records 1-8 but the rejected 7
    store.transition(job_id, A.START, actor="tester")
    status, _ = run_job(store, settings, job_id)
    assert status is S.FINISHED
    assert [r[0] for r in table_rows(data_dir)] == [i for i in range(1, 21) if i != 7]
    assert [r[:3] for r in rejects(store, job_id)] == [(7, 8, "type_error")]
    run = store.runs_of(job_id)[-1]
    assert (run.counters.read, run.counters.inserted, run.counters.rejected) == (20, 19, 1)


def test_a_database_error_loses_the_chunks_not_committed_and_their_rejects_with_them(
    store, settings, data_dir, people
):
    """The user's own trigger fails on record 14 (not a constraint: nothing to isolate). The chunks
    since the last commit roll back with it, and so do the rejects stored for them: the table and
    the reject list still agree."""
    with sqlite3.connect(data_dir / "data.db") as c:
        c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, age INTEGER)")
        c.execute("CREATE TRIGGER boom BEFORE INSERT ON t WHEN NEW.id = 14 BEGIN SELECT json('{'); END")
    status, job_id = run_job(
        store,
        with_commit_seconds(settings, 60.0),
        define(source=str(people), columns=COLUMNS, chunk_rows=4),
    )
    assert status is S.FINISHED_WITH_ERRORS
    assert table_rows(data_dir) == []
    assert rejects(store, job_id) == []
    run = store.runs_of(job_id)[-1]
    assert (run.counters.read, run.counters.inserted, run.counters.rejected) == (0, 0, 0)
    error = next(line for line in store.journal_lines(job_id, limit=10**6) if line.code == "run.error")
    assert "malformed JSON" in error.text


def test_a_threshold_stop_commits_the_chunks_written_before_it(store, settings, data_dir, people):
    definition = define(source=str(people), columns=COLUMNS, chunk_rows=4, errors={"max_rejects": 0})
    status, job_id = run_job(store, with_commit_seconds(settings, 60.0), definition)
    assert status is S.FINISHED_WITH_ERRORS
    assert [r[0] for r in table_rows(data_dir)] == [1, 2, 3, 4, 5, 6, 8]  # the chunk that crossed it too
    assert [r[0] for r in rejects(store, job_id)] == [7]


def test_a_resumed_run_cuts_its_chunks_where_an_uninterrupted_run_does(store, settings, data_dir, tmp_path):
    """A run's first chunk is smaller than the others; a resumed run's is not, or a threshold stop
    (checked at chunk ends) would come at another record than in a run that never paused."""
    lines = [f"{i},name{i},{i % 90}" for i in range(1, 40_001)]
    lines[20_999] = "21000,name21000,x"  # the second full chunk crosses the threshold
    source = write(tmp_path / "many.csv", "id,name,age\n" + "\n".join(lines) + "\n")

    def job(table: str) -> dict:
        return define(
            source=str(source),
            target={"table": table},
            columns=COLUMNS,
            chunk_rows=16_000,
            errors={"max_rejects": 0},
        )

    assert run_job(store, settings, job("straight"))[0] is S.FINISHED_WITH_ERRORS

    def pause(progress) -> None:
        if store.status_of(progress.job_id) is S.RUNNING:
            store.transition(progress.job_id, A.PAUSE, actor="tester")

    status, job_id = run_job(store, settings, job("resumed"), on_progress=pause)
    assert status is S.PAUSED
    store.transition(job_id, A.START, actor="tester")
    assert run_job(store, settings, job_id)[0] is S.FINISHED_WITH_ERRORS
    straight = table_rows(data_dir, "straight")
    assert len(straight) == 26_000 - 1  # the first chunk (10,000 records) and the next (16,000)
    assert table_rows(data_dir, "resumed") == straight
