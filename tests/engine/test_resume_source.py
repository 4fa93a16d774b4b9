"""A resumed import goes on in the file it began with, or not at all: its checkpoint is a byte offset,
which in another file points at other records or into the middle of one."""

import shutil
from pathlib import Path

import pytest

from impex.domain.status import A, S
from support import codes, define, rejects, run_job, table_rows, write

COLUMNS = [{"name": "id", "type": "integer", "required": True}, {"name": "name"}]


def people(n: int, name: str = "N") -> str:
    return "id,name\n" + "".join(f"{i},{name}{i}\n" for i in range(1, n + 1))


def paused_at(store, settings, source: Path, records: int) -> int:
    """Run an import of ``source`` and pause it once ``records`` records are in: the job's id."""
    definition = define(source=str(source), columns=COLUMNS, chunk_rows=100, reconciliation={"keys": ["id"]})

    def pause(progress):
        if progress.counters.read >= records and store.status_of(progress.job_id) is S.RUNNING:
            store.transition(progress.job_id, A.PAUSE, actor="tester")

    status, job_id = run_job(store, settings, definition, on_progress=pause)
    assert status is S.PAUSED
    return job_id


def read_in_small_chunks(source: Path, commit: str) -> dict:
    return define(source=str(source), columns=COLUMNS, chunk_rows=500, chunk_bytes=64 * 1024, commit=commit)


CHANGES = {
    "cut short": lambda path: path.write_bytes(path.read_bytes()[:1500]),
    "replaced by a smaller one": lambda path: write(path, "id,name\n" + "5000,X\n" * 50),
    "rewritten with longer records": lambda path: write(path, people(1000, "Name ")),
    "same size, other bytes": lambda path: write(path, people(1000, "M")),
    "grown": lambda path: path.write_bytes(path.read_bytes() + b"1001,N1001\n"),
}


@pytest.mark.parametrize("change", CHANGES)
def test_a_resume_whose_source_file_changed_stops_with_errors_saying_so_and_imports_nothing_more(
    store, settings, data_dir, tmp_path, change
):
    source = write(tmp_path / "people.csv", people(1000))
    job_id = paused_at(store, settings, source, 300)
    before = table_rows(data_dir)
    assert len(before) == 300
    CHANGES[change](source)
    store.transition(job_id, A.START, actor="tester")
    status, _ = run_job(store, settings, job_id)
    assert status is S.FINISHED_WITH_ERRORS
    assert table_rows(data_dir) == before and rejects(store, job_id) == []
    line = next(line for line in store.journal_lines(job_id) if line.code == "run.source_changed")
    assert line.params["path"] == str(source) and line.params["size_then"] == len(people(1000))
    assert "changed since the run began" in line.text
    # A new run imports the file as it is now.
    store.transition(job_id, A.START, actor="tester")
    assert run_job(store, settings, job_id)[0] is S.FINISHED


def test_a_copy_of_the_same_bytes_resumes_as_the_file_itself_would(store, settings, data_dir, tmp_path):
    source = write(tmp_path / "people.csv", people(1000))
    job_id = paused_at(store, settings, source, 300)
    copy = tmp_path / "copy.csv"
    shutil.copyfile(source, copy)  # a new file, a new modification time, the same bytes
    copy.replace(source)
    store.transition(job_id, A.START, actor="tester")
    assert run_job(store, settings, job_id)[0] is S.FINISHED
    assert table_rows(data_dir) == [(i, f"N{i}") for i in range(1, 1001)]
    assert "run.source_changed" not in codes(store, job_id)


@pytest.mark.parametrize("commit", ["incremental", "atomic"])
def test_a_file_another_program_appends_to_while_it_is_read_stops_the_run_with_errors_saying_so(
    store, settings, data_dir, tmp_path, commit
):
    source = write(tmp_path / "people.csv", people(20_000))
    definition = read_in_small_chunks(source, commit)
    appended = []

    def append_half_a_line(progress):
        if not appended:
            appended.append(True)
            with source.open("ab") as writer:
                writer.write(b"20001,Half a na")

    status, job_id = run_job(store, settings, definition, on_progress=append_half_a_line)
    assert appended and status is S.FINISHED_WITH_ERRORS
    # What was read is the file as it was when the run began: never the half-written line.
    rows = table_rows(data_dir)
    assert rows == ([(i, f"N{i}") for i in range(1, 20_001)] if commit == "incremental" else [])
    line = next(line for line in store.journal_lines(job_id) if line.code == "run.source_changed")
    assert line.params["size_then"] == len(people(20_000))
    assert line.params["size_now"] == len(people(20_000)) + len("20001,Half a na")


@pytest.mark.parametrize("commit", ["incremental", "atomic"])
def test_a_file_deleted_while_it_is_read_is_read_to_its_end_all_the_same_and_the_journal_says_so(
    store, settings, data_dir, tmp_path, commit
):
    source = write(tmp_path / "people.csv", people(20_000))
    definition = read_in_small_chunks(source, commit)

    def delete(progress):  # as a clean-up job would: the run has the file open
        source.unlink(missing_ok=True)

    status, job_id = run_job(store, settings, definition, on_progress=delete)
    assert not source.exists() and status is S.FINISHED
    assert table_rows(data_dir) == [(i, f"N{i}") for i in range(1, 20_001)]
    line = next(line for line in store.journal_lines(job_id) if line.code == "run.source_gone")
    assert line.level == "warning" and line.params["path"] == str(source)
    assert line.text.endswith("the run had it open and read all of it")
