"""Each reconciliation, doubles and duplicates policy, end to end on a real table."""

from pathlib import Path

from impex.domain.status import S
from support import define, rejects, run_job, table_rows, write

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
