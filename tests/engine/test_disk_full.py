"""A target database on a disk that fills up during an import (a real one: a small tmpfs, which only
root may mount here; elsewhere the spec is skipped): the run ends with errors saying why, and the
table holds exactly the chunks committed before, as the run's counters say, in either commit mode."""

from __future__ import annotations

import contextlib
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from impex.domain.status import S
from impex.settings import load_settings
from support import define, run_job, write

COLUMNS = [{"name": "id", "type": "integer"}, {"name": "name"}, {"name": "note"}]


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB file system."""
    folder = tmp_path / "small"
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(folder)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


@pytest.mark.parametrize("commit", ["incremental", "atomic"])
def test_a_disk_that_fills_up_ends_the_run_with_errors_and_the_table_holds_what_was_committed(
    store, data_dir, tmp_path, small_disk, commit
):
    source = write(
        tmp_path / "people.csv",
        "id,name,note\n" + "".join(f"{i},Name {i},{'x' * 60}\n" for i in range(1, 30_001)),
    )
    connections = write(tmp_path / "connections.yaml", f"small: sqlite:///{small_disk / 'data.db'}\n")
    settings = load_settings(
        {"data_dir": str(data_dir), "connections_file": str(connections), "commit_seconds": 0.0}, env={}
    )
    job = define(
        source=str(source),
        target={"connection": "small", "table": "people"},
        columns=COLUMNS,
        chunk_rows=2_000,
        commit=commit,
    )
    status, job_id = run_job(store, settings, job)
    assert status is S.FINISHED_WITH_ERRORS
    [error] = [line.text for line in store.journal_lines(job_id) if line.code == "run.error"]
    assert error == f"Technical error: SQLite database {small_disk / 'data.db'}: database or disk is full"
    with contextlib.closing(sqlite3.connect(small_disk / "data.db")) as db:  # or the disk stays busy
        ids = [i for (i,) in db.execute("SELECT id FROM people ORDER BY id")]
    counters = store.runs_of(job_id)[-1].counters
    assert len(ids) == counters.inserted and ids == list(range(1, len(ids) + 1))
    if commit == "incremental":  # whole chunks, some of them
        assert len(ids) % 2_000 == 0 and len(ids) > 0
    else:  # all or nothing
        assert ids == []
