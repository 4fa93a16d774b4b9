"""An import run end to end, in this process, against real SQLite files."""

import gzip
import sqlite3
import string
from pathlib import Path

import pytest

from impex.domain.journal import MESSAGES
from impex.domain.status import A, S
from support import codes, define, rejects, run_job, table_rows, write

PEOPLE = "id,name,age\n1,Ann,30\n2,Bob,x\n3,Cy,40\n4,Dee\n5,Eve,50\n"
COLUMNS = [
    {"name": "id", "type": "integer", "required": True},
    {"name": "name", "max_length": 10},
    {"name": "age", "type": "integer"},
]


@pytest.fixture
def people(tmp_path: Path) -> Path:
    return write(tmp_path / "people.csv", PEOPLE)


def test_good_records_land_and_bad_ones_are_rejected_with_line_and_raw_record(
    store, settings, data_dir, people
):
    status, job_id = run_job(store, settings, define(source=str(people), columns=COLUMNS))
    assert status is S.FINISHED  # finished, with rejects counted
    assert table_rows(data_dir) == [(1, "Ann", 30), (3, "Cy", 40), (5, "Eve", 50)]
    assert rejects(store, job_id) == [
        (2, 3, "type_error", b"2,Bob,x"),
        (4, 5, "wrong_field_count", b"4,Dee"),
    ]
    run = store.runs_of(job_id)[-1]
    assert (run.counters.read, run.counters.inserted, run.counters.rejected) == (5, 3, 2)
    assert codes(store, job_id)[-2:] == ["run.summary", "job.transition"]


def test_the_journal_tells_the_story_of_the_run(store, settings, people):
    _, job_id = run_job(store, settings, define(source=str(people), columns=COLUMNS))
    lines = store.journal_lines(job_id)
    assert [line.code for line in lines if line.code != "run.progress"] == [
        "job.created",
        "job.transition",
        "job.transition",
        "run.started",
        "format.detected",
        "table.created",
        "run.summary",
        "job.transition",
    ]
    summary = next(line for line in lines if line.code == "run.summary")
    assert summary.params["inserted"] == 3 and summary.params["rejected"] == 2
    assert "read 5, inserted 3" in summary.text and "written" not in summary.text


def test_a_missing_file_ends_finished_with_errors_and_says_why(store, settings, tmp_path):
    status, job_id = run_job(store, settings, define(source=str(tmp_path / "nope.csv")))
    assert status is S.FINISHED_WITH_ERRORS
    error = next(line for line in store.journal_lines(job_id) if line.code == "run.error")
    assert error.params["error"] == f"source file not found: {tmp_path / 'nope.csv'}"


def test_a_binary_file_ends_finished_with_errors_naming_it_and_creates_no_table(
    store, settings, data_dir, tmp_path
):
    sheet = tmp_path / "sheet.csv"
    sheet.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512))  # an old Excel file's start
    status, job_id = run_job(store, settings, define(source=str(sheet)))
    assert status is S.FINISHED_WITH_ERRORS
    error = next(line for line in store.journal_lines(job_id) if line.code == "run.error")
    assert (
        "sheet.csv: an Excel 97-2003 workbook (or another old Office file), not a data file"
        in (error.params["error"])
    )
    with sqlite3.connect(data_dir / "data.db") as db:
        assert db.execute("SELECT name FROM sqlite_master WHERE name = 't'").fetchall() == []


def test_an_existing_table_without_the_declared_columns_is_a_clear_error(store, settings, data_dir, people):
    run_job(store, settings, define(source=str(people), columns=COLUMNS[:2]))
    status, job_id = run_job(store, settings, define(source=str(people), columns=COLUMNS))
    assert status is S.FINISHED_WITH_ERRORS
    error = next(line for line in store.journal_lines(job_id) if line.code == "run.error")
    assert "table t has no column(s) age" in error.params["error"]


def test_more_rejects_than_allowed_stops_with_errors(store, settings, people):
    definition = define(source=str(people), columns=COLUMNS, errors={"max_rejects": 1}, chunk_rows=2)
    status, job_id = run_job(store, settings, definition)
    assert status is S.FINISHED_WITH_ERRORS
    assert codes(store, job_id)[-3:] == ["run.threshold", "run.summary", "job.transition"]
    summary = next(line for line in store.journal_lines(job_id) if line.code == "run.summary")
    assert summary.params["rejected"] == 2


def test_a_reject_percentage_threshold(store, settings, people):
    status, _ = run_job(
        store, settings, define(source=str(people), columns=COLUMNS, errors={"max_reject_percent": 10})
    )
    assert status is S.FINISHED_WITH_ERRORS
    status, _ = run_job(
        store,
        settings,
        define(source=str(people), columns=COLUMNS, target={"table": "u"}, errors={"max_reject_percent": 50}),
    )
    assert status is S.FINISHED


def test_stop_at_first_error_keeps_only_the_first_reject(store, settings, people):
    status, job_id = run_job(
        store, settings, define(source=str(people), columns=COLUMNS, errors={"stop_at_first_error": True})
    )
    assert status is S.FINISHED_WITH_ERRORS
    assert [r[:3] for r in rejects(store, job_id)] == [(2, 3, "type_error")]
    [stopped] = [line.text for line in store.journal_lines(job_id) if line.code == "run.first_error"]
    assert stopped.startswith("Stopped at the first error: record 2: line 3: column ")  # the line said once


def test_atomic_mode_writes_nothing_when_the_run_fails(store, settings, data_dir, people):
    definition = define(
        source=str(people), columns=COLUMNS, commit="atomic", chunk_rows=2, errors={"max_rejects": 1}
    )
    status, job_id = run_job(store, settings, definition)
    assert status is S.FINISHED_WITH_ERRORS
    counters = store.runs_of(job_id)[-1].counters
    assert (counters.inserted, counters.updated, counters.deleted) == (0, 0, 0)  # as the table says
    summary = next(line for line in store.journal_lines(job_id) if line.code == "run.summary")
    assert summary.params["inserted"] == 0 and summary.params["read"] > 0
    assert table_rows(data_dir) == []


def test_incremental_mode_keeps_the_chunks_committed_before_the_failure(store, settings, data_dir, people):
    definition = define(source=str(people), columns=COLUMNS, chunk_rows=2, errors={"max_rejects": 1})
    run_job(store, settings, definition)
    assert table_rows(data_dir) == [(1, "Ann", 30), (3, "Cy", 40)]


def test_atomic_mode_applies_everything_at_the_end(store, settings, data_dir, people):
    status, _ = run_job(
        store, settings, define(source=str(people), columns=COLUMNS, commit="atomic", chunk_rows=2)
    )
    assert status is S.FINISHED
    assert table_rows(data_dir) == [(1, "Ann", 30), (3, "Cy", 40), (5, "Eve", 50)]


def test_starting_a_finished_job_again_is_a_new_run_and_the_old_one_stays_readable(store, settings, people):
    _, job_id = run_job(
        store,
        settings,
        define(source=str(people), columns=COLUMNS, reconciliation={"keys": ["id"], "duplicates": "ignore"}),
    )
    store.transition(job_id, A.START, actor="tester")
    status, _ = run_job(store, settings, job_id)
    assert status is S.FINISHED
    first, second = store.runs_of(job_id)
    assert first.counters.inserted == 3 and second.counters.inserted == 0
    assert second.counters.duplicates == 3
    assert len(store.rejects_of(first.id)) == 2 and len(store.rejects_of(second.id)) == 2


def test_pause_takes_effect_at_the_next_chunk_boundary_and_start_resumes(store, settings, data_dir, people):
    definition = define(source=str(people), columns=COLUMNS, chunk_rows=2)
    paused = []

    def pause_once(progress):
        if not paused:
            paused.append(progress.counters.read)
            store.transition(progress.job_id, A.PAUSE, actor="tester")

    status, job_id = run_job(store, settings, definition, on_progress=pause_once)
    assert status is S.PAUSED and paused == [2]
    assert table_rows(data_dir) == [(1, "Ann", 30)]
    store.transition(job_id, A.START, actor="tester")
    status, _ = run_job(store, settings, job_id)
    assert status is S.FINISHED
    assert table_rows(data_dir) == [(1, "Ann", 30), (3, "Cy", 40), (5, "Eve", 50)]
    assert [r[:2] for r in rejects(store, job_id)] == [(2, 3), (4, 5)]
    assert len(store.runs_of(job_id)) == 1
    assert "run.paused" in codes(store, job_id) and "run.resumed" in codes(store, job_id)


def test_cancel_stops_at_the_next_chunk_boundary(store, settings, data_dir, people):
    def cancel(progress):
        if store.status_of(progress.job_id) is S.RUNNING:
            store.transition(progress.job_id, A.CANCEL, actor="tester")

    status, job_id = run_job(
        store, settings, define(source=str(people), columns=COLUMNS, chunk_rows=2), on_progress=cancel
    )
    assert status is S.CANCELED
    assert table_rows(data_dir) == [(1, "Ann", 30)]
    assert store.runs_of(job_id)[-1].outcome is S.CANCELED


def test_cancel_in_atomic_mode_leaves_the_table_untouched(store, settings, data_dir, people):
    def cancel(progress):
        if store.status_of(progress.job_id) is S.RUNNING:
            store.transition(progress.job_id, A.CANCEL, actor="tester")

    status, _ = run_job(
        store,
        settings,
        define(source=str(people), columns=COLUMNS, chunk_rows=2, commit="atomic"),
        on_progress=cancel,
    )
    assert status is S.CANCELED
    assert table_rows(data_dir) == []


def test_progress_lines_carry_records_rate_share_of_the_file_and_eta(store, settings, people):
    _, job_id = run_job(store, settings, define(source=str(people), columns=COLUMNS, chunk_rows=2))
    progress = [line for line in store.journal_lines(job_id) if line.code == "run.progress"]
    assert progress, "settings.progress_seconds is 0 in tests: every chunk logs its progress"
    assert [p.params["read"] for p in progress] == [2, 4, 5]
    assert progress[-1].params["percent"] == 100.0
    assert set(progress[0].params) == {"read", "rate", "percent", "eta"}


def test_a_compressed_source_logs_progress_without_a_share_of_the_file(store, settings, tmp_path):
    source = tmp_path / "people.csv.gz"
    source.write_bytes(gzip.compress(PEOPLE.encode()))
    _, job_id = run_job(store, settings, define(source=str(source), columns=COLUMNS, chunk_rows=2))
    progress = [line for line in store.journal_lines(job_id) if line.code.startswith("run.progress")]
    assert {p.code for p in progress} == {"run.progress_unsized"}
    assert progress[-1].text.endswith("records/s") and "None" not in progress[-1].text


def test_every_journal_code_has_an_english_text_for_translation(store, settings, people):
    _, job_id = run_job(store, settings, define(source=str(people), columns=COLUMNS, chunk_rows=2))
    store.transition(job_id, A.START, actor="tester")
    run_job(store, settings, job_id)
    for line in store.journal_lines(job_id):
        fields = {name for _, name, _, _ in string.Formatter().parse(MESSAGES[line.code]) if name}
        assert fields <= set(line.params), (line.code, fields - set(line.params))


def test_doubles_are_still_recognised_after_several_resumes(store, settings, data_dir, tmp_path):
    rows = "".join(f"{i},n{i}\n" for i in range(1, 9))
    path = write(tmp_path / "ids.csv", "id,name\n" + rows + "1,again\n")
    definition = define(
        source=str(path),
        columns=[{"name": "id", "type": "integer"}, {"name": "name"}],
        reconciliation={"keys": ["id"], "doubles": "reject"},
        chunk_rows=2,
    )
    pauses = []

    def pause_each_time(progress):
        if len(pauses) < 3 and progress.counters.read not in pauses:
            pauses.append(progress.counters.read)
            store.transition(progress.job_id, A.PAUSE, actor="tester")

    status, job_id = run_job(store, settings, definition, on_progress=pause_each_time)
    while status is S.PAUSED:
        store.transition(job_id, A.START, actor="tester")
        status, _ = run_job(store, settings, job_id, on_progress=pause_each_time)
    assert status is S.FINISHED and len(pauses) == 3
    assert rejects(store, job_id) == [(9, 10, "double", b"1,again")]
    assert store.runs_of(job_id)[-1].counters.duplicates == 0


def test_a_table_needing_a_value_the_job_does_not_give_is_refused_before_a_row_is_read(
    store, settings, data_dir, people
):
    with sqlite3.connect(data_dir / "data.db") as db:
        db.execute(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, age INTEGER, extra TEXT NOT NULL, "
            "flag INTEGER NOT NULL DEFAULT 0)"
        )
    status, job_id = run_job(store, settings, define(source=str(people), columns=COLUMNS))
    assert status is S.FINISHED_WITH_ERRORS
    error = next(line for line in store.journal_lines(job_id) if line.code == "run.error").params["error"]
    assert error.startswith("table t needs a value in column(s) extra (NOT NULL, no default)")
    assert table_rows(data_dir) == []
