"""Export runs from a real PostgreSQL, through a named connection, each test in a fresh schema:
tables and queries, the order of the primary key, exact pause and resume, and a source no query
can change."""

from pathlib import Path
from typing import Any

import pytest

from impex.domain.definitions import TableSource
from impex.domain.status import A, S
from impex.engine.preflight import Refused, check_export_source
from impex.settings import load_settings
from pg_support import fresh_named_schema, fresh_schema, sql_runner
from support import codes, define, pause_once_and_meddle, run_job, write


@pytest.fixture
def pg_url():
    with fresh_schema() as url:
        yield url


@pytest.fixture
def sql(pg_url):
    with sql_runner(pg_url) as run:
        yield run


@pytest.fixture
def pg_settings(data_dir: Path, tmp_path: Path, pg_url):
    connections = write(tmp_path / "connections.yaml", f"pg: {pg_url}\n")
    overrides = {"data_dir": str(data_dir), "progress_seconds": 0.0, "connections_file": str(connections)}
    return load_settings(overrides, env={})


def export(out: Path, source: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    return {
        "kind": "export",
        "name": "pg export",
        "source": {"connection": "pg", **(source or {"table": "t"})},
        "output": str(out),
        **fields,
    }


def journal_error(store, job_id: int) -> str:
    return next(line for line in store.journal_lines(job_id) if line.code == "run.error").params["error"]


def many(sql, rows: int, table: str = "t", key: bool = True) -> None:
    primary = " PRIMARY KEY" if key else ""
    sql(f"CREATE TABLE {table} (id bigint{primary}, name text, score numeric(12, 3), note text)")
    # inserted in a shuffled order: the table's physical order is not the key's
    sql(
        f"INSERT INTO {table} SELECT i, 'Name ' || i, i / 4.0, CASE WHEN i % 7 = 0 THEN 'note, ' || i END "
        f"FROM generate_series(1, {rows}) i ORDER BY md5(i::text)"
    )


def test_a_table_is_written_in_primary_key_order_with_every_type_as_text_it_reads_back_as(
    store, pg_settings, sql, tmp_path
):
    sql(
        "CREATE TABLE t (id int PRIMARY KEY, name varchar(20), price numeric(30, 10), ok boolean, "
        "born date, seen timestamp, doc jsonb, u uuid, big bigint, r real)"
    )
    sql(
        "INSERT INTO t VALUES (2, 'Bob \"B\", Jr', 12345678901234567890.0123456789, false, '1999-12-31', "
        "'2024-01-31 08:05:09', '{\"a\": [1, 2]}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', "
        "9007199254740993, 1.5), "
        "(1, 'Ann', 0.1, true, NULL, NULL, NULL, NULL, NULL, NULL)"
    )
    out = tmp_path / "out.csv"
    status, job_id = run_job(store, pg_settings, export(out))
    assert status is S.FINISHED, journal_error(store, job_id)
    assert out.read_text() == (
        "id,name,price,ok,born,seen,doc,u,big,r\n"
        "1,Ann,0.1000000000,true,,,,,,\n"
        '2,"Bob ""B"", Jr",12345678901234567890.0123456789,false,1999-12-31,2024-01-31 08:05:09,'
        '"{""a"": [1, 2]}",a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11,9007199254740993,1.5\n'
    )
    assert store.runs_of(job_id)[-1].counters.written == 2


def test_columns_filter_order_by_limit_and_formats(store, pg_settings, sql, tmp_path):
    many(sql, 10)
    out = tmp_path / "out.csv"
    source = {"table": "t", "columns": ["score", "id"], "filter": "id % 2 = 0", "order_by": ["score"]}
    run_job(store, pg_settings, export(out, {**source, "limit": 3}))
    assert out.read_text() == "score,id\n0.500,2\n1.000,4\n1.500,6\n"
    fmt = {"delimiter": ";", "decimal_separator": ",", "header": False}
    run_job(store, pg_settings, export(out, {**source, "limit": 2}, format=fmt))
    assert out.read_text() == "0,500;2\n1,000;4\n"


def test_a_query_is_exported_in_its_own_order_and_an_empty_one_writes_its_header(
    store, pg_settings, sql, tmp_path
):
    many(sql, 5)
    out = tmp_path / "out.csv"
    query = "WITH a AS (SELECT id, upper(name) AS n FROM t) SELECT n, id * 10 AS x FROM a ORDER BY id DESC;"
    status, job_id = run_job(store, pg_settings, export(out, {"query": query}))
    assert status is S.FINISHED, journal_error(store, job_id)
    assert out.read_text() == "n,x\nNAME 5,50\nNAME 4,40\nNAME 3,30\nNAME 2,20\nNAME 1,10\n"
    run_job(
        store,
        pg_settings,
        export(out, {"query": "SELECT name AS who, now() - now() AS d FROM t WHERE false"}),
    )
    assert out.read_text() == "who,d\n"


def test_a_missing_table_or_column_is_a_clear_error(store, pg_settings, sql, tmp_path):
    many(sql, 3)
    status, job_id = run_job(store, pg_settings, export(tmp_path / "o.csv", {"table": "nope"}))
    assert status is S.FINISHED_WITH_ERRORS and "source table nope does not exist" in journal_error(
        store, job_id
    )
    _, job_id = run_job(
        store, pg_settings, export(tmp_path / "o.csv", {"table": "t", "columns": ["id", "wat"]})
    )
    assert "source table t has no column(s) wat" in journal_error(store, job_id)
    _, job_id = run_job(store, pg_settings, export(tmp_path / "o.csv", {"query": "SELECT * FROM nope"}))
    assert 'relation "nope" does not exist' in journal_error(store, job_id)
    assert not (tmp_path / "o.csv").exists()


def test_a_table_or_column_named_in_another_case_than_postgresql_keeps_it_is_named_back(
    store, pg_settings, sql, tmp_path
):
    sql("CREATE TABLE customers (id int PRIMARY KEY, name text)")  # unquoted: kept as customers, name
    status, job_id = run_job(store, pg_settings, export(tmp_path / "o.csv", {"table": "Customers"}))
    assert status is S.FINISHED_WITH_ERRORS
    error = journal_error(store, job_id)
    assert error.startswith("source table Customers does not exist in ")
    assert error.endswith(
        " (there is a table customers: PostgreSQL keeps a name written without double quotes in lower case)"
    )
    source = {"table": "customers", "columns": ["id", "Name"]}
    _, job_id = run_job(store, pg_settings, export(tmp_path / "o.csv", source))
    assert journal_error(store, job_id) == (
        "source table customers has no column(s) Name (there is a column name: PostgreSQL keeps a name "
        "written without double quotes in lower case)"
    )
    assert not list(tmp_path.glob("o.csv*"))


def test_a_query_or_filter_ending_in_a_comment_is_exported(store, pg_settings, sql, tmp_path):
    many(sql, 2)
    out = tmp_path / "out.csv"
    query = "SELECT id FROM t ORDER BY id -- the ids"
    status, job_id = run_job(store, pg_settings, export(out, {"query": query}))
    assert status is S.FINISHED, journal_error(store, job_id)
    assert out.read_text() == "id\n1\n2\n"
    source = {"table": "t", "columns": ["id"], "filter": "id > 1 -- the last"}
    status, job_id = run_job(store, pg_settings, export(out, source))
    assert status is S.FINISHED, journal_error(store, job_id)
    assert out.read_text() == "id\n2\n"


def test_a_query_giving_two_columns_one_name_is_a_clear_error(store, pg_settings, sql, tmp_path):
    many(sql, 3)
    query = "SELECT t.id, u.id, t.name FROM t JOIN t AS u USING (id)"
    status, job_id = run_job(store, pg_settings, export(tmp_path / "o.csv", {"query": query}))
    assert status is S.FINISHED_WITH_ERRORS
    assert journal_error(store, job_id) == (
        "the export query gives more than one column named id: give each its own name (… AS another_name)"
    )


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ({}, 'id,note,code\n1,"",""\n2,,\n'),
        ({"null_value": "NULL"}, 'id,note,code\n1,"NULL","NULL"\n2,NULL,NULL\n'),
        ({"null_value": "\\N", "quoting": "all"}, '"id","note","code"\n"1","\\N","\\N"\n"2",\\N,\\N\n'),
    ],
)
def test_a_text_equal_to_the_null_value_is_quoted_and_a_null_is_written_bare(
    store, pg_settings, sql, tmp_path, fmt, expected
):
    sql("CREATE TABLE t (id int PRIMARY KEY, note text, code varchar(10))")
    marker = fmt.get("null_value", "")
    sql("INSERT INTO t VALUES (1, %s, %s), (2, NULL, NULL)", (marker, marker))
    out = tmp_path / "out.csv"
    status, job_id = run_job(store, pg_settings, export(out, format=fmt))
    assert status is S.FINISHED, journal_error(store, job_id)
    assert out.read_text() == expected


def test_an_empty_text_and_a_null_stay_apart_through_an_export_and_an_import_without_null_markers(
    store, pg_settings, sql, tmp_path
):
    sql("CREATE TABLE t (id int PRIMARY KEY, note text)")
    sql("INSERT INTO t VALUES (1, ''), (2, NULL)")
    out = tmp_path / "out.csv"
    run_job(store, pg_settings, export(out, format={"quoting": "all"}))
    back = define(
        source=str(out),
        target={"table": "back", "connection": "pg"},
        columns=[{"name": "id", "type": "integer"}, {"name": "note"}],
        format={"null_values": []},
    )
    status, job_id = run_job(store, pg_settings, back)
    assert status is S.FINISHED, journal_error(store, job_id)
    assert sql("SELECT id, note FROM back ORDER BY id") == [(1, ""), (2, None)]


def test_quoting_none_refuses_a_text_equal_to_the_null_value(store, pg_settings, sql, tmp_path):
    sql("CREATE TABLE t (id int PRIMARY KEY, note text)")
    sql("INSERT INTO t VALUES (1, 'x'), (2, NULL), (3, 'NULL')")
    out = tmp_path / "out.csv"
    fmt = {"quoting": "none", "null_value": "NULL"}
    status, job_id = run_job(store, pg_settings, export(out, format=fmt, chunk_rows=2))
    assert status is S.FINISHED_WITH_ERRORS
    assert journal_error(store, job_id) == (
        "row 3, column note: 'NULL' is the null value, which quoting 'none' would write as a null "
        "(the file would not read back): use quoting 'minimal'"
    )
    assert not list(tmp_path.glob("out.csv*"))


@pytest.mark.parametrize(
    "source",
    [
        {"query": "WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x"},
        {"query": "SELECT nextval('s')"},
        {"query": "SELECT set_config('transaction_read_only', 'off', true), sneak()"},
        {"query": "SELECT sneak()"},
        {"table": "t", "filter": "sneak() > 0"},
    ],
)
def test_a_query_that_tries_to_write_is_refused_and_changes_nothing(
    store, pg_settings, sql, tmp_path, source
):
    many(sql, 3)
    sql("CREATE SEQUENCE s")
    sql("CREATE FUNCTION sneak() RETURNS int LANGUAGE sql AS 'INSERT INTO t (id) VALUES (99) RETURNING 1'")
    status, job_id = run_job(store, pg_settings, export(tmp_path / "o.csv", source))
    assert status is S.FINISHED_WITH_ERRORS
    error = journal_error(store, job_id)
    says = ("an export only reads", "read-write mode must be set", "data-modifying statement")
    assert any(phrase in error for phrase in says), error
    assert sql("SELECT count(*), max(id) FROM t") == [(3, 3)]
    assert sql("SELECT last_value, is_called FROM s") == [(1, False)]


def pause_every_chunk(store, settings, definition: dict[str, Any], out: Path, between=None) -> int:
    """Run, pausing at each chunk boundary and starting again, until finished; returns the pauses."""
    pauses = 0

    def pause(progress):
        if store.status_of(progress.job_id) is S.RUNNING:
            store.transition(progress.job_id, A.PAUSE, actor="tester")

    status, job_id = run_job(store, settings, definition, on_progress=pause)
    while status is S.PAUSED:
        pauses += 1
        assert not out.exists()
        if between:
            between(pauses)
        store.transition(job_id, A.START, actor="tester")
        status, _ = run_job(store, settings, job_id, on_progress=pause)
    assert status is S.FINISHED and "run.resumed" in codes(store, job_id)
    assert "export.restarted" not in codes(store, job_id), "the rows read again were the file's"
    assert not list(out.parent.glob(out.name + ".part*")), "no partial file, no resume key left behind"
    return pauses


@pytest.mark.parametrize(
    ("source", "resume"),
    [
        ({"table": "t"}, "key"),
        ({"table": "t", "filter": "id % 3 <> 0", "limit": 450}, "key"),
        ({"table": "t", "order_by": ["name"]}, "key"),
        ({"table": "t", "order_by": ["note"]}, "offset"),  # nullable
        ({"table": "nokey"}, "offset"),
        # its order may not be total: read again from the first row, and compared with the file
        ({"query": "SELECT id, note FROM t ORDER BY id DESC"}, "again"),
    ],
)
def test_pause_and_resume_at_every_chunk_neither_loses_nor_repeats_a_row(
    store, pg_settings, sql, tmp_path, monkeypatch, source, resume
):
    many(sql, 1000)
    many(sql, 1000, "nokey", key=False)
    sql("ALTER TABLE t ALTER COLUMN name SET NOT NULL")
    reference, out = tmp_path / "reference.csv", tmp_path / "out.csv"
    run_job(store, pg_settings, export(reference, source, chunk_rows=97))
    statements: list[str] = []
    from impex.engine import export_source

    real = export_source.PostgresExportSource._sql
    monkeypatch.setattr(
        export_source.PostgresExportSource,
        "_sql",
        lambda s, *a: statements.append(real(s, *a)) or statements[-1],
    )
    assert pause_every_chunk(store, pg_settings, export(out, source, chunk_rows=97), out) >= 4
    assert out.read_bytes() == reference.read_bytes()
    resumed = statements[1:]
    assert all((" OFFSET " in s) == (resume == "offset") for s in resumed), resumed[-1]
    assert all((" > (" in s) == (resume == "key") for s in resumed), resumed[-1]


def test_a_resume_by_key_is_not_shifted_by_rows_inserted_and_deleted_before_it(
    store, pg_settings, sql, tmp_path
):
    many(sql, 1000)
    reference, out = tmp_path / "reference.csv", tmp_path / "out.csv"
    run_job(store, pg_settings, export(reference, chunk_rows=100))
    expected = reference.read_text().splitlines()

    def meddle(pause_no: int) -> None:
        sql("INSERT INTO t (id, name) VALUES (%s, 'early')", (-pause_no,))  # before the resume point
        sql("DELETE FROM t WHERE id = %s", (pause_no,))  # already written

    pause_every_chunk(store, pg_settings, export(out, chunk_rows=100), out, between=meddle)
    assert out.read_text().splitlines() == expected


@pytest.mark.parametrize(
    ("source", "restarts"),
    [
        ({"query": "SELECT id, name, country FROM t"}, True),  # no order at all
        ({"query": "SELECT id, name, country FROM t ORDER BY country"}, True),  # ties
        # a table without a key is read in the order of its whole row: its ties are equal rows
        ({"table": "nokey", "columns": ["country"]}, False),
    ],
)
def test_rows_that_move_while_an_export_is_paused_are_neither_lost_nor_repeated(
    store, pg_settings, sql, tmp_path, source, restarts
):
    """A query without a total order gives its rows in the order of the table's pages: an UPDATE
    that changes nothing still moves the rows it touches to the end. The resumed export must be
    the export of the rows as they are now, each once: it checks the rows it wrote and, when they
    are not what the query now gives first, writes the file again from its first row."""
    sql("CREATE TABLE t (id int, name text, country text)")
    sql("INSERT INTO t SELECT i, 'Name ' || i, chr(65 + i % 3) FROM generate_series(1, 300) i")
    sql("CREATE TABLE nokey AS SELECT country FROM t")
    out, reference = tmp_path / "out.csv", tmp_path / "reference.csv"

    def move_rows() -> None:
        sql("UPDATE t SET name = name WHERE id <= 30")
        sql("UPDATE nokey SET country = country WHERE country = 'A'")

    job_id = pause_once_and_meddle(store, pg_settings, export(out, source, chunk_rows=40), move_rows)
    run_job(store, pg_settings, export(reference, source, chunk_rows=40))
    lines = out.read_text().splitlines()
    assert sorted(lines) == sorted(reference.read_text().splitlines()), "every row once"
    assert out.read_bytes() == reference.read_bytes()
    assert ("export.restarted" in codes(store, job_id)) == restarts


@pytest.mark.parametrize("chunk_rows", [1, 1000])
def test_infinite_and_far_future_dates_and_timestamps_are_written_as_the_server_writes_them(
    store, pg_settings, sql, tmp_path, chunk_rows
):
    sql("CREATE TABLE t (id int PRIMARY KEY, d date, ts timestamp, tz timestamptz)")
    sql(
        "INSERT INTO t VALUES (1, '2024-01-31', '2024-01-31 08:05:09', '2024-01-31 08:05:09+00'), "
        "(2, 'infinity', 'infinity', 'infinity'), (3, '-infinity', '-infinity', '-infinity'), "
        "(4, '12345-06-07', '294276-12-31 23:59:59', '294276-12-31 23:59:59.5+00'), "
        "(5, '1999-12-31', NULL, '2000-01-01 00:00:00+00')"
    )
    out = tmp_path / "out.csv"
    fmt = {"date_format": "%d.%m.%Y", "timestamp_format": "%d.%m.%Y %H:%M"}
    definition = export(out, {"table": "t", "order_by": ["ts"]}, format=fmt, chunk_rows=chunk_rows)
    status, job_id = run_job(store, pg_settings, definition)
    assert status is S.FINISHED, journal_error(store, job_id)
    assert out.read_text() == (
        "id,d,ts,tz\n"
        "3,-infinity,-infinity,-infinity\n"
        "1,31.01.2024,31.01.2024 08:05,31.01.2024 08:05+00:00\n"
        "4,12345-06-07,294276-12-31 23:59:59,294276-12-31 23:59:59.5+00:00\n"
        "2,infinity,infinity,infinity\n"
        "5,31.12.1999,,01.01.2000 00:00+00:00\n"
    )


@pytest.mark.parametrize("chunk_rows", [1, 1000])
def test_the_default_timestamp_format_keeps_the_fraction_of_a_second_an_import_reads_back(
    store, pg_settings, sql, tmp_path, chunk_rows
):
    sql("CREATE TABLE t (id int PRIMARY KEY, ts timestamp, tz timestamptz)")
    sql(
        "INSERT INTO t VALUES (1, '2024-01-31 08:05:09.123456', '2024-01-31 08:05:09.000001+00'), "
        "(2, '2024-01-31 08:05:09.5', '2024-01-31 08:05:09+00'), (3, '2024-01-31 08:05:09', NULL), "
        "(4, NULL, 'infinity')"
    )
    out = tmp_path / "out.csv"
    status, job_id = run_job(store, pg_settings, export(out, chunk_rows=chunk_rows))
    assert status is S.FINISHED, journal_error(store, job_id)
    assert out.read_text() == (
        "id,ts,tz\n"
        "1,2024-01-31 08:05:09.123456,2024-01-31 08:05:09.000001+00:00\n"
        "2,2024-01-31 08:05:09.500,2024-01-31 08:05:09+00:00\n"
        "3,2024-01-31 08:05:09,\n"
        "4,,infinity\n"
    )
    back = define(
        source=str(out),
        target={"table": "back", "connection": "pg"},
        columns=[{"name": "id", "type": "integer"}, {"name": "ts", "type": "timestamp"}],
    )
    status, job_id = run_job(store, pg_settings, back)
    assert status is S.FINISHED, journal_error(store, job_id)
    assert sql("SELECT count(*) FROM back JOIN t USING (id) WHERE back.ts IS NOT DISTINCT FROM t.ts") == [
        (4,)
    ]


def test_other_types_are_written_as_the_server_writes_them_as_psql_copy_does(
    store, pg_settings, sql, tmp_path
):
    sql("CREATE TABLE t (id int PRIMARY KEY, ip inet, net cidr, ips inet[], b bytea, iv interval, m money)")
    sql(
        "INSERT INTO t VALUES (1, '10.0.0.1', '10.0.0.0/8', '{10.0.0.1,::1}', '\\x00ff', '1 day 02:03', "
        "1.5), (2, '10.0.0.1/24', NULL, '{}', '', '-1 mon', NULL), (3, NULL, NULL, NULL, NULL, NULL, NULL)"
    )
    out = tmp_path / "out.csv"
    status, job_id = run_job(store, pg_settings, export(out))
    assert status is S.FINISHED, journal_error(store, job_id)
    assert out.read_text() == (
        "id,ip,net,ips,b,iv,m\n"
        '1,10.0.0.1,10.0.0.0/8,"{10.0.0.1,::1}",\\x00ff,1 day 02:03:00,$1.50\n'
        "2,10.0.0.1/24,,{},\\x,-1 mons,\n"
        "3,,,,,,\n"
    )


@pytest.mark.parametrize("key", [True, False])
def test_a_filter_may_name_the_table_as_a_correlated_subquery_does(store, pg_settings, sql, tmp_path, key):
    many(sql, 6, table="items", key=key)
    sql("ALTER TABLE items ADD COLUMN items int")  # a column named as its table: the row is still the row
    sql("CREATE TABLE keep (id bigint)")
    sql("INSERT INTO keep VALUES (2), (5), (6)")
    out = tmp_path / "out.csv"
    source = {
        "table": "items",
        "columns": ["id", "name"],
        "filter": "EXISTS (SELECT 1 FROM keep k WHERE k.id = items.id) AND items.id < 6",
    }
    status, job_id = run_job(store, pg_settings, export(out, source, chunk_rows=1))
    assert status is S.FINISHED, journal_error(store, job_id)
    assert out.read_text() == "id,name\n2,Name 2\n5,Name 5\n"


FLOAT_SPECIALS = (
    "INSERT INTO t VALUES (1, 'NaN', 'NaN', 'NaN', 1.5), (2, 'Infinity', 'Infinity', 'Infinity', -2.25), "
    "(3, '-Infinity', '-Infinity', '-Infinity', 1e300), (4, NULL, NULL, NULL, NULL)"
)


def test_nan_and_infinity_are_written_as_psql_copy_writes_them(store, pg_settings, sql, tmp_path):
    # psql -c "\\copy (SELECT * FROM t ORDER BY id) TO STDOUT CSV HEADER" writes these bytes
    sql("CREATE TABLE t (id int PRIMARY KEY, f double precision, r real, n numeric, g double precision)")
    sql(FLOAT_SPECIALS)
    out = tmp_path / "out.csv"
    status, job_id = run_job(store, pg_settings, export(out))
    assert status is S.FINISHED, journal_error(store, job_id)
    assert out.read_text() == (
        "id,f,r,n,g\n"
        "1,NaN,NaN,NaN,1.5\n"
        "2,Infinity,Infinity,Infinity,-2.25\n"
        "3,-Infinity,-Infinity,-Infinity,1e+300\n"
        "4,,,,\n"
    )
    comma = export(out, format={"delimiter": ";", "decimal_separator": ","})
    status, job_id = run_job(store, pg_settings, comma)
    assert status is S.FINISHED, journal_error(store, job_id)
    assert out.read_text().splitlines()[1:3] == ["1;NaN;NaN;NaN;1,5", "2;Infinity;Infinity;Infinity;-2,25"]


def test_a_table_with_nan_and_infinities_survives_an_export_and_an_import(store, pg_settings, sql, tmp_path):
    sql("CREATE TABLE t (id int PRIMARY KEY, f double precision, r real, g double precision)")
    sql(
        "INSERT INTO t VALUES (1, 'NaN', 'NaN', 1.5), (2, 'Infinity', 'Infinity', -2.25), "
        "(3, '-Infinity', '-Infinity', 1e300), (4, NULL, NULL, NULL), (5, 0.1, 0.1, 'NaN')"
    )
    out = tmp_path / "out.csv"
    status, job_id = run_job(store, pg_settings, export(out))
    assert status is S.FINISHED, journal_error(store, job_id)
    floats = [{"name": name, "type": "float"} for name in ("f", "r", "g")]
    back = define(
        source=str(out),
        target={"table": "back", "connection": "pg"},
        columns=[{"name": "id", "type": "integer"}, *floats],
    )
    status, job_id = run_job(store, pg_settings, back)
    assert status is S.FINISHED, journal_error(store, job_id)
    # impex makes a float column double precision: the real read back is compared as a real
    same = (
        "SELECT count(*) FROM back JOIN t USING (id) WHERE back.f IS NOT DISTINCT FROM t.f "
        "AND back.r::real IS NOT DISTINCT FROM t.r AND back.g IS NOT DISTINCT FROM t.g"
    )
    assert sql(same) == [(5,)]


def test_a_table_named_with_its_schema_is_exported_from_that_schema_and_resumes_by_its_key(
    store, pg_settings, sql, tmp_path
):
    with fresh_named_schema() as (other, _):
        many(sql, 300, f"{other}.t")
        many(sql, 3, "t")  # the same name in the search path: not the one asked for
        source = {"table": f"{other}.t", "columns": ["id", "name"], "filter": f"{other}.t.id % 3 = 0"}
        reference, out = tmp_path / "reference.csv", tmp_path / "out.csv"
        status, job_id = run_job(store, pg_settings, export(reference, source))
        assert status is S.FINISHED, journal_error(store, job_id)
        lines = reference.read_text().splitlines()
        assert lines[:3] == ["id,name", "3,Name 3", "6,Name 6"] and len(lines) == 101
        assert pause_every_chunk(store, pg_settings, export(out, source, chunk_rows=40), out) >= 2
        assert out.read_bytes() == reference.read_bytes()


def test_a_filter_the_database_refuses_is_refused_before_a_job_is_saved(pg_settings, sql):
    many(sql, 3)
    with pytest.raises(Refused) as refused:
        check_export_source(pg_settings, TableSource(connection="pg", table="t", filter="age > 18"))
    assert refused.value.code == "source_unreadable"
    assert 'column "age" does not exist' in refused.value.message
    fine = TableSource(connection="pg", table="t", filter="id > 1", order_by=("name",))
    check_export_source(pg_settings, fine)  # planned, not refused
