"""Each reconciliation, doubles and duplicates policy, end to end on a real table."""

import sqlite3
from pathlib import Path

import pytest

from impex.domain.status import S
from support import define, pause_once_and_meddle, rejects, run_job, table_rows, write

COLUMNS = [{"name": "id", "type": "integer", "required": True}, {"name": "v"}]


def load(store, settings, tmp_path: Path, text: str, name: str = "f.csv", **reconciliation):
    path = write(tmp_path / name, "id,v\n" + text)
    rules = {"keys": ["id"], **reconciliation}
    status, job_id = run_job(
        store, settings, define(source=str(path), columns=COLUMNS, reconciliation=rules, chunk_rows=2)
    )
    assert status is S.FINISHED
    return store.runs_of(job_id)[-1].counters, job_id


def test_insert_or_update(store, settings, data_dir, tmp_path):
    load(store, settings, tmp_path, "1,a\n2,b\n")
    c, _ = load(store, settings, tmp_path, "2,B\n3,c\n1,a\n", operation="insert_or_update")
    assert table_rows(data_dir) == [(1, "a"), (2, "B"), (3, "c")]
    assert (c.inserted, c.updated, c.unchanged) == (1, 1, 1)


def test_update_only(store, settings, data_dir, tmp_path):
    load(store, settings, tmp_path, "1,a\n2,b\n")
    c, job_id = load(store, settings, tmp_path, "2,B\n3,c\n", operation="update")
    assert table_rows(data_dir) == [(1, "a"), (2, "B")]
    assert [r[2] for r in rejects(store, job_id)] == ["key_not_found"]
    assert (c.updated, c.rejected) == (1, 1)


def test_insert_only_new(store, settings, data_dir, tmp_path):
    load(store, settings, tmp_path, "1,a\n")
    c, _ = load(store, settings, tmp_path, "1,changed\n2,b\n", operation="insert_only_new")
    assert table_rows(data_dir) == [(1, "a"), (2, "b")]
    assert (c.inserted, c.unchanged) == (1, 1)


def test_delete(store, settings, data_dir, tmp_path):
    load(store, settings, tmp_path, "1,a\n2,b\n3,c\n")
    c, _ = load(store, settings, tmp_path, "1,\n3,\n", operation="delete")
    assert table_rows(data_dir) == [(2, "b")]
    assert c.deleted == 2


def test_doubles_across_chunks_last_wins(store, settings, data_dir, tmp_path):
    c, _ = load(store, settings, tmp_path, "1,a\n2,b\n3,c\n1,z\n1,last\n", doubles="last_wins")
    assert table_rows(data_dir) == [(1, "last"), (2, "b"), (3, "c")]
    assert c.doubles == 2


def test_doubles_across_chunks_rejected_with_their_lines(store, settings, data_dir, tmp_path):
    c, job_id = load(store, settings, tmp_path, "1,a\n2,b\n3,c\n1,z\n", doubles="reject")
    assert table_rows(data_dir) == [(1, "a"), (2, "b"), (3, "c")]
    assert rejects(store, job_id) == [(4, 5, "double", b"1,z")]
    assert (c.doubles, c.rejected, c.inserted) == (1, 1, 3)


def test_doubles_ignored(store, settings, data_dir, tmp_path):
    c, job_id = load(store, settings, tmp_path, "1,a\n1,b\n", doubles="ignore")
    assert table_rows(data_dir) == [(1, "a")] and c.doubles == 1 and rejects(store, job_id) == []


def test_duplicates_rejected_ignored_or_updated(store, settings, data_dir, tmp_path):
    load(store, settings, tmp_path, "1,a\n")
    c, job_id = load(store, settings, tmp_path, "1,b\n2,b\n", duplicates="reject")
    assert rejects(store, job_id) == [(1, 2, "duplicate_key", b"1,b")] and c.duplicates == 1
    c, _ = load(store, settings, tmp_path, "1,c\n", duplicates="ignore")
    assert table_rows(data_dir) == [(1, "a"), (2, "b")]
    c, _ = load(store, settings, tmp_path, "1,d\n", duplicates="update")
    assert table_rows(data_dir) == [(1, "d"), (2, "b")] and c.updated == 1


@pytest.mark.parametrize("commit", ["incremental", "atomic"])
@pytest.mark.parametrize("chunk_rows", [1, 2, 100])
def test_each_later_copy_of_a_key_counts_as_the_update_it_is_wherever_chunks_begin(
    store, settings, data_dir, tmp_path, chunk_rows, commit
):
    load(store, settings, tmp_path, "1,a\n2,b\n")
    path = write(tmp_path / "again.csv", "id,v\n1,a\n1,b\n1,b\n3,c\n3,d\n2,b\n")
    rules = {"keys": ["id"], "operation": "insert_or_update", "doubles": "last_wins"}
    definition = define(
        source=str(path), columns=COLUMNS, reconciliation=rules, chunk_rows=chunk_rows, commit=commit
    )
    status, job_id = run_job(store, settings, definition)
    c = store.runs_of(job_id)[-1].counters
    assert status is S.FINISHED and table_rows(data_dir) == [(1, "b"), (2, "b"), (3, "d")]
    # 1,a unchanged; 1,b updated; 1,b unchanged; 3,c inserted; 3,d updated; 2,b unchanged
    assert (c.inserted, c.updated, c.unchanged, c.doubles) == (1, 2, 3, 3)


def test_a_paused_run_with_big_chunks_resumes_to_the_counters_of_one_that_never_stopped(
    store, settings, data_dir, tmp_path
):
    # A resumed run begins with a smaller first chunk: the chunks after it begin elsewhere.
    ids = list(range(1, 30_001))
    ids[25_000] = 15_000  # record 25,001 repeats record 15,000's key
    path = write(tmp_path / "f.csv", "id,v\n" + "".join(f"{i},r{n}\n" for n, i in enumerate(ids)))
    rules = {"keys": ["id"], "operation": "insert_or_update"}

    def job(table):
        return define(
            source=str(path),
            columns=COLUMNS,
            reconciliation=rules,
            chunk_rows=80_000,
            target={"table": table},
        )

    status, whole = run_job(store, settings, job("t"))
    assert status is S.FINISHED
    paused = pause_once_and_meddle(store, settings, job("t2"), meddle=lambda: None)
    assert store.runs_of(paused)[-1].counters == store.runs_of(whole)[-1].counters
    assert store.runs_of(paused)[-1].counters.updated == 1
    assert table_rows(data_dir, "t2") == table_rows(data_dir)


@pytest.mark.parametrize("commit", ["incremental", "atomic"])
def test_columns_the_job_does_not_name_keep_their_values_and_new_rows_take_their_defaults(
    store, settings, data_dir, tmp_path, commit
):
    with sqlite3.connect(data_dir / "data.db") as c:
        c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT, note TEXT DEFAULT 'none yet')")
        c.execute("INSERT INTO t VALUES (1, 'a', 'kept'), (2, 'b', 'kept too')")
    path = write(tmp_path / "f.csv", "id,v\n1,A\n3,c\n1,AA\n")
    rules = {"keys": ["id"], "operation": "insert_or_update"}
    status, _ = run_job(
        store, settings, define(source=str(path), columns=COLUMNS, reconciliation=rules, commit=commit)
    )
    assert status is S.FINISHED
    assert table_rows(data_dir) == [(1, "AA", "kept"), (2, "b", "kept too"), (3, "c", "none yet")]


@pytest.mark.parametrize("commit", ["incremental", "atomic"])
@pytest.mark.parametrize("chunk_rows", [1, 2, 100])
def test_a_copy_of_a_key_whose_copy_before_was_refused_goes_in_on_its_own(
    store, settings, data_dir, tmp_path, chunk_rows, commit
):
    with sqlite3.connect(data_dir / "data.db") as c:
        c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT CHECK (v <> 'bad'))")
    path = write(tmp_path / "f.csv", "id,v\n1,bad\n1,good\n2,bad\n3,x\n2,fine\n2,finer\n")
    rules = {"keys": ["id"], "operation": "insert_or_update"}
    definition = define(
        source=str(path), columns=COLUMNS, reconciliation=rules, chunk_rows=chunk_rows, commit=commit
    )
    status, job_id = run_job(store, settings, definition)
    c = store.runs_of(job_id)[-1].counters
    assert status is S.FINISHED
    assert table_rows(data_dir) == [(1, "good"), (2, "finer"), (3, "x")]
    assert [(r[0], r[2]) for r in rejects(store, job_id)] == [(1, "constraint"), (3, "constraint")]
    # 1,good and 2,fine: no record applied their key before them; 2,finer updates 2,fine
    assert (c.inserted, c.updated, c.rejected, c.doubles) == (3, 1, 2, 1)


@pytest.mark.parametrize("doubles", ["reject", "ignore", "last_wins"])
def test_a_run_paused_after_a_refused_record_ends_as_one_that_never_stopped(
    store, settings, data_dir, tmp_path, doubles
):
    # The table is empty at the start: a resume rebuilds the keys applied so far from the table,
    # which does not have the refused one.
    with sqlite3.connect(data_dir / "data.db") as c:
        for table in ("t", "t2"):
            c.execute(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, v TEXT CHECK (v <> 'bad'))")
    path = write(tmp_path / "f.csv", "id,v\n1,bad\n2,x\n1,good\n")
    rules = {"keys": ["id"], "doubles": doubles}

    def job(table):
        return define(
            source=str(path), columns=COLUMNS, reconciliation=rules, chunk_rows=1, target={"table": table}
        )

    status, whole = run_job(store, settings, job("t"))
    assert status is S.FINISHED
    paused = pause_once_and_meddle(store, settings, job("t2"), meddle=lambda: None)
    assert table_rows(data_dir, "t2") == table_rows(data_dir)
    assert store.runs_of(paused)[-1].counters == store.runs_of(whole)[-1].counters
    assert rejects(store, paused) == rejects(store, whole)


@pytest.mark.parametrize("commit", ["incremental", "atomic"])
@pytest.mark.parametrize(
    ("operation", "expected"), [("update", (0, 1, 1, 1)), ("insert_or_update", (1, 1, 1, 0))]
)
def test_a_key_the_table_holds_on_several_rows_updates_them_all_and_counts_its_record_once(
    store, settings, data_dir, tmp_path, commit, operation, expected
):
    with sqlite3.connect(data_dir / "data.db") as c:  # no primary key: the job's key is not unique
        c.executescript(
            "CREATE TABLE t (id INTEGER, v TEXT); INSERT INTO t VALUES (1, 'a'), (1, 'b'), (2, 'c');"
        )
    path = write(tmp_path / "f.csv", "id,v\n1,z\n2,c\n3,d\n")
    definition = define(
        source=str(path),
        columns=COLUMNS,
        reconciliation={"keys": ["id"], "operation": operation},
        commit=commit,
    )
    status, job_id = run_job(store, settings, definition)
    assert status is S.FINISHED
    c = store.runs_of(job_id)[-1].counters
    assert (c.inserted, c.updated, c.unchanged, c.rejected) == expected
    assert table_rows(data_dir, order="id, v") == [(1, "z"), (1, "z"), (2, "c")] + [(3, "d")] * expected[0]
