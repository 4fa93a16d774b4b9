"""A SQLite table's foreign keys hold: a row that breaks one is refused, and its refusal names the
key's columns and values (SQLite says only "FOREIGN KEY constraint failed"), whether the key is
checked at once or only at COMMIT (DEFERRABLE INITIALLY DEFERRED, which impex checks before each
chunk's checkpoint instead), in incremental and in atomic mode. The other rows go in."""

import sqlite3

import polars as pl
import pytest

from impex.domain.counters import Counters
from impex.domain.position import Position
from impex.targets.base import Checkpoint, ChunkWrite, Refusal, RefusedRecord, RunSpec, TargetError
from impex.targets.sqlite import SqliteTarget
from support import staged

DEFERRED = "DEFERRABLE INITIALLY DEFERRED"
ORDERS = """
CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT);
INSERT INTO customers VALUES (1, 'Ann'), (2, 'Bob');
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers (id) {deferred});
"""
EMPLOYEES = """
CREATE TABLE employees (
    id INTEGER PRIMARY KEY, name TEXT, manager_id INTEGER REFERENCES employees (id) {deferred}
);
"""
NO_CUSTOMER = "FOREIGN KEY constraint failed: not present in customers (id)"
NO_MANAGER = "FOREIGN KEY constraint failed: not present in employees (id)"


def ran(path, ddl, table, writes, *, atomic=False):
    """The ChunkResults of a run that applies ``writes`` (one chunk each) and commits them together
    (atomic mode: then applies the staged rows), the table ``ddl`` makes being there."""
    with sqlite3.connect(path) as c:
        c.executescript(ddl)
    t = SqliteTarget(path)
    run = t.open_run(RunSpec("s:1:1", "tok", table, ("id",), atomic=atomic), {})
    got = []

    def finalize(result):
        got.append(result)
        return Checkpoint(Position(len(got), len(got), len(got)), Counters(inserted=result.inserted))

    for write in writes:
        run.apply_chunk(write, finalize)
    run.commit()
    if atomic:
        run.finish(finalize)
    t.close()
    return got


def rows(path, sql):
    with sqlite3.connect(path) as c:
        return c.execute(sql).fetchall()


def orders(ids, customers, start=0):
    return pl.DataFrame(
        {"id": ids, "customer_id": customers, "_row": list(range(start, start + len(ids)))},
        schema={"id": pl.Int64, "customer_id": pl.Int64, "_row": pl.Int64},
    )


def employees(ids, managers, start=0):
    return pl.DataFrame(
        {
            "id": ids,
            "name": [f"e{i}" for i in ids],
            "manager_id": managers,
            "_row": list(range(start, start + len(ids))),
        },
        schema={"id": pl.Int64, "name": pl.String, "manager_id": pl.Int64, "_row": pl.Int64},
    )


@pytest.mark.parametrize("deferred", ["", DEFERRED], ids=["immediate", "deferred"])
def test_an_order_of_a_missing_customer_is_refused_naming_the_column_and_value(tmp_path, deferred):
    path = tmp_path / "shop.db"
    write = ChunkWrite(inserts=orders([10, 11, 12, 13], [1, 99, None, 2]))
    (result,) = ran(path, ORDERS.format(deferred=deferred), "orders", [write])
    assert result.refused == [Refusal(1, f"column customer_id = '99': {NO_CUSTOMER}", "customer_id", "99")]
    assert result.inserted == 3
    assert rows(path, "SELECT id, customer_id FROM orders ORDER BY id") == [(10, 1), (12, None), (13, 2)]


@pytest.mark.parametrize("deferred", ["", DEFERRED], ids=["immediate", "deferred"])
def test_an_update_to_a_missing_customer_is_refused_and_the_order_keeps_its_customer(tmp_path, deferred):
    path = tmp_path / "shop.db"
    ddl = ORDERS.format(deferred=deferred) + "INSERT INTO orders VALUES (10, 1), (11, 1);"
    write = ChunkWrite(updates=orders([10, 11], [98, 2], start=5))
    (result,) = ran(path, ddl, "orders", [write])
    assert result.refused == [Refusal(5, f"column customer_id = '98': {NO_CUSTOMER}", "customer_id", "98")]
    assert rows(path, "SELECT id, customer_id FROM orders ORDER BY id") == [(10, 1), (11, 2)]


def test_a_key_of_several_columns_is_named_with_all_its_columns(tmp_path):
    path = tmp_path / "shop.db"
    ddl = """
    CREATE TABLE rooms (building TEXT, number INTEGER, PRIMARY KEY (building, number));
    INSERT INTO rooms VALUES ('A', 1);
    CREATE TABLE desks (id INTEGER PRIMARY KEY, building TEXT, room INTEGER,
        FOREIGN KEY (building, room) REFERENCES rooms (building, number));
    """
    frame = pl.DataFrame({"id": [1, 2], "building": ["A", "A"], "room": [1, 2], "_row": [0, 1]})
    (result,) = ran(path, ddl, "desks", [ChunkWrite(inserts=frame)])
    message = (
        "columns building = 'A', room = '2': "
        "FOREIGN KEY constraint failed: not present in rooms (building, number)"
    )
    assert result.refused == [Refusal(1, message, "building", "A")]


@pytest.mark.parametrize(
    "deferred",
    ["", DEFERRED, f"ON DELETE RESTRICT {DEFERRED}"],
    ids=["no_action", "deferred", "restrict_which_no_deferring_delays"],
)
def test_deleting_a_customer_with_orders_is_refused_and_the_others_are_deleted(tmp_path, deferred):
    path = tmp_path / "shop.db"
    ddl = (
        ORDERS.format(deferred=deferred)
        + "INSERT INTO customers VALUES (3, 'Cy'); INSERT INTO orders VALUES (10, 1);"
    )
    deletes = pl.DataFrame({"id": [1, 2], "_row": [0, 1]})
    (result,) = ran(path, ddl, "customers", [ChunkWrite(deletes=deletes)])
    message = "column id = '1': FOREIGN KEY constraint failed: still referred to from orders (customer_id)"
    assert result.refused == [Refusal(0, message, "id", "1")]
    assert result.deleted == 1
    assert rows(path, "SELECT id FROM customers ORDER BY id") == [(1,), (3,)]


def test_deleting_a_customer_whose_orders_cascade_deletes_them_too(tmp_path):
    path = tmp_path / "shop.db"
    ddl = ORDERS.format(deferred="ON DELETE CASCADE") + "INSERT INTO orders VALUES (10, 1), (11, 2);"
    (result,) = ran(path, ddl, "customers", [ChunkWrite(deletes=pl.DataFrame({"id": [1], "_row": [0]}))])
    assert (result.refused, result.deleted) == ([], 1)
    assert rows(path, "SELECT id, customer_id FROM orders") == [(11, 2)]


@pytest.mark.parametrize("deferred", ["", DEFERRED], ids=["immediate", "deferred"])
def test_a_parent_from_an_earlier_chunk_is_a_parent_in_a_later_one(tmp_path, deferred):
    """Also in the same table: a manager is an employee."""
    path = tmp_path / "staff.db"
    first = ChunkWrite(inserts=employees([1, 2], [None, 1]))
    second = ChunkWrite(inserts=employees([3, 4], [2, 7]))
    _, result = ran(path, EMPLOYEES.format(deferred=deferred), "employees", [first, second])
    assert result.refused == [Refusal(1, f"column manager_id = '7': {NO_MANAGER}", "manager_id", "7")]
    assert rows(path, "SELECT id, manager_id FROM employees ORDER BY id") == [(1, None), (2, 1), (3, 2)]


def test_a_deferred_key_takes_a_parent_later_in_the_same_chunk_and_refuses_whom_a_refused_row_manages(
    tmp_path,
):
    """Employee 3's manager comes after him; 5's manager (9) never comes, and 6's manager is 5."""
    path = tmp_path / "staff.db"
    write = ChunkWrite(inserts=employees([3, 4, 5, 6], [4, None, 9, 5]))
    (result,) = ran(path, EMPLOYEES.format(deferred=DEFERRED), "employees", [write])
    assert result.refused == [
        Refusal(2, f"column manager_id = '9': {NO_MANAGER}", "manager_id", "9"),
        Refusal(3, f"column manager_id = '5': {NO_MANAGER}", "manager_id", "5"),
    ]
    assert result.inserted == 2
    assert rows(path, "SELECT id, manager_id FROM employees ORDER BY id") == [(3, 4), (4, None)]


def test_an_immediate_key_takes_a_parent_later_in_the_same_chunk_as_postgresql_s_copy_does(tmp_path):
    """SQLite checks an immediate key row by row as the driver inserts; PostgreSQL's COPY at the end
    of the chunk's statement. Employee 3's manager comes after him, 7's manager 8 comes after 7 and
    is managed by 3; 5's manager (9) never comes, and 6's manager is 5."""
    path = tmp_path / "staff.db"
    write = ChunkWrite(inserts=employees([3, 7, 4, 5, 6, 8], [4, 8, None, 9, 5, 3]))
    ddl = EMPLOYEES.format(deferred="") + "INSERT INTO employees VALUES (1, 'boss', NULL);"
    (result,) = ran(path, ddl, "employees", [write])
    assert result.refused == [
        Refusal(3, f"column manager_id = '9': {NO_MANAGER}", "manager_id", "9"),
        Refusal(4, f"column manager_id = '5': {NO_MANAGER}", "manager_id", "5"),
    ]
    assert result.inserted == 4
    assert rows(path, "SELECT id, manager_id FROM employees ORDER BY id") == [
        (1, None),
        (3, 4),
        (4, None),
        (7, 8),
        (8, 3),
    ]


def test_a_deferred_key_refused_in_one_chunk_leaves_the_commit_of_the_others_whole(tmp_path):
    path = tmp_path / "staff.db"
    writes = [ChunkWrite(inserts=employees([1], [None])), ChunkWrite(inserts=employees([2, 3], [8, 1]))]
    first, second = ran(path, EMPLOYEES.format(deferred=DEFERRED), "employees", writes)
    assert (first.refused, [r.row for r in second.refused]) == ([], [0])
    assert rows(path, "SELECT id FROM employees ORDER BY id") == [(1,), (3,)]


@pytest.mark.parametrize("deferred", ["", DEFERRED], ids=["immediate", "deferred"])
def test_in_atomic_mode_the_final_apply_refuses_orphans_with_their_records(tmp_path, deferred):
    """As it refuses a UNIQUE or CHECK failure at the end; a parent anywhere in the file will do."""
    path = tmp_path / "staff.db"
    write = ChunkWrite(inserts=staged(employees([3, 4, 5], [4, None, 9])))
    staging, final = ran(path, EMPLOYEES.format(deferred=deferred), "employees", [write], atomic=True)
    assert staging.refused == []
    message = f"column manager_id = '9': {NO_MANAGER}"
    assert final.refused_records == [RefusedRecord(3, 4, b"raw 3", message, "manager_id", "9")]
    assert rows(path, "SELECT id, manager_id FROM employees ORDER BY id") == [(3, 4), (4, None)]


@pytest.mark.parametrize("deferred", ["", DEFERRED], ids=["immediate", "deferred"])
def test_in_atomic_mode_a_refused_delete_is_a_refused_record_not_a_failed_apply(tmp_path, deferred):
    path = tmp_path / "shop.db"
    ddl = ORDERS.format(deferred=deferred) + "INSERT INTO orders VALUES (10, 2);"
    deletes = staged(pl.DataFrame({"id": [1, 2], "_row": [0, 1]}))
    _, final = ran(path, ddl, "customers", [ChunkWrite(deletes=deletes)], atomic=True)
    message = "column id = '2': FOREIGN KEY constraint failed: still referred to from orders (customer_id)"
    assert final.refused_records == [RefusedRecord(2, 3, b"raw 2", message, "id", "2")]
    assert final.deleted == 1
    assert rows(path, "SELECT id FROM customers") == [(2,)]


def test_in_atomic_mode_a_refused_deferred_update_leaves_the_earlier_updates_of_its_key_out_too(tmp_path):
    path = tmp_path / "shop.db"
    ddl = ORDERS.format(deferred=DEFERRED) + "INSERT INTO orders VALUES (10, 1), (11, 1);"
    updates = staged(orders([10, 10, 11], [2, 99, 2]))
    _, final = ran(path, ddl, "orders", [ChunkWrite(updates=updates)], atomic=True)
    assert [(r.record_no, r.value) for r in final.refused_records] == [(2, "99")]
    assert rows(path, "SELECT id, customer_id FROM orders ORDER BY id") == [(10, 1), (11, 2)]


def test_a_unique_expression_index_names_the_columns_its_expression_reads(tmp_path):
    path = tmp_path / "users.db"
    ddl = """
    CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, name TEXT);
    CREATE UNIQUE INDEX users_email ON users (lower(email) COLLATE NOCASE) WHERE name IS NOT NULL;
    """
    frame = pl.DataFrame({"id": [1, 2], "email": ["a@x", "A@X"], "name": ["a", "b"], "_row": [0, 1]})
    (result,) = ran(path, ddl, "users", [ChunkWrite(inserts=frame)])
    message = "column email = 'A@X': UNIQUE constraint failed: index 'users_email'"
    assert result.refused == [Refusal(1, message, "email", "A@X")]


@pytest.mark.parametrize("atomic", [False, True], ids=["incremental", "atomic"])
def test_a_trigger_that_raises_refuses_the_row_with_its_own_words_and_its_name(tmp_path, atomic):
    path = tmp_path / "users.db"
    ddl = """
    CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);
    CREATE TRIGGER no_spam BEFORE INSERT ON users WHEN new.email LIKE '%spam%'
    BEGIN SELECT RAISE(ABORT, 'no spam, please'); END;
    """
    frame = pl.DataFrame({"id": [1, 2, 3], "email": ["a@x", "spam@x", "b@x"], "_row": [0, 1, 2]})
    write = ChunkWrite(inserts=staged(frame) if atomic else frame)
    got = ran(path, ddl, "users", [write], atomic=atomic)
    message = "trigger no_spam on table users: no spam, please"
    if atomic:
        assert got[-1].refused_records == [RefusedRecord(2, 3, b"raw 2", message)]
    else:
        assert got[-1].refused == [Refusal(1, message)]
    assert rows(path, "SELECT id FROM users ORDER BY id") == [(1,), (3,)]


def test_a_deferred_key_broken_where_impex_does_not_look_fails_the_commit_with_a_clear_error(tmp_path):
    """A customer's code that orders refer to, changed: not a row written or deleted by the key's side."""
    path = tmp_path / "shop.db"
    ddl = f"""
    CREATE TABLE customers (id INTEGER PRIMARY KEY, code TEXT UNIQUE);
    INSERT INTO customers VALUES (1, 'A');
    CREATE TABLE orders (id INTEGER PRIMARY KEY, code TEXT REFERENCES customers (code) {DEFERRED});
    INSERT INTO orders VALUES (10, 'A');
    """
    update = pl.DataFrame({"id": [1], "code": ["B"], "_row": [0]})
    with pytest.raises(TargetError, match="the commit was refused: FOREIGN KEY constraint failed"):
        ran(path, ddl, "customers", [ChunkWrite(updates=update)])
    assert rows(path, "SELECT code FROM customers") == [("A",)]


@pytest.mark.parametrize("atomic", [False, True], ids=["incremental", "atomic"])
def test_rows_that_leave_a_deferred_key_s_column_to_its_default_go_in(tmp_path, atomic):
    """The job need not name every column: one it leaves out takes its default, here no parent."""
    path = tmp_path / "shop.db"
    ddl = ORDERS.format(deferred=DEFERRED).replace("customer_id INTEGER", "note TEXT, customer_id INTEGER")
    notes = pl.DataFrame({"id": [10, 11], "note": ["a", "b"], "_row": [0, 1]})
    write = ChunkWrite(inserts=staged(notes) if atomic else notes)
    results = ran(path, ddl, "orders", [write], atomic=atomic)
    assert [r.refused for r in results] == [[]] * len(results)
    assert [r.refused_records for r in results] == [[]] * len(results)
    assert rows(path, "SELECT id, note, customer_id FROM orders ORDER BY id") == [
        (10, "a", None),
        (11, "b", None),
    ]
