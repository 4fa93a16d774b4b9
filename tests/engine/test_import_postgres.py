"""Import runs end to end into a real PostgreSQL, through a named connection whose password comes
from the environment: rows, rejects (the database's own refusals too), pause and resume."""

import json
import secrets
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from impex.definitions_io import load_definition
from impex.domain.status import A, S
from impex.settings import load_settings
from pg_support import fresh_named_schema, sql_runner
from support import define, make_contacts, rejects, run_job, write

PASSWORD_VAR = "IMPEX_TEST_PG_PASSWORD"
COLUMNS = [
    {"name": "id", "type": "integer", "required": True},
    {"name": "name", "required": True, "max_length": 40},
    {"name": "email", "max_length": 60},
    {"name": "age", "type": "integer"},
    {"name": "joined", "type": "date"},
]


@pytest.fixture
def pg_schema():
    with fresh_named_schema() as named:
        yield named


@pytest.fixture
def schema(pg_schema):
    return pg_schema[0]


@pytest.fixture
def sql(schema):
    with sql_runner(schema=schema) as run:
        yield run


@pytest.fixture
def password(monkeypatch):
    """A password in the environment (trust auth ignores it; it must still never be shown)."""
    value = f"pw-{secrets.token_hex(8)}"
    monkeypatch.setenv(PASSWORD_VAR, value)
    return value


@pytest.fixture
def pg_settings(data_dir: Path, tmp_path: Path, pg_schema, password):
    _, url = pg_schema
    connections = write(
        tmp_path / "connections.yaml",
        f"pg:\n  url: {url}\n  password_env: {PASSWORD_VAR}\n"
        f"down:\n  url: postgresql://impex@127.0.0.1:1/nowhere\n  password_env: {PASSWORD_VAR}\n",
    )
    overrides = {"data_dir": str(data_dir), "progress_seconds": 0.0, "connections_file": str(connections)}
    return load_settings(overrides, env={})


def contacts_job(source: Path, table: str = "contacts", **fields):
    fields.setdefault("reconciliation", {"keys": ["id"], "doubles": "reject"})
    return define(source=str(source), target={"table": table, "connection": "pg"}, columns=COLUMNS, **fields)


def paused_after_its_first_chunk(store, settings, definition) -> int:
    """Run the job, pausing it as its first chunk's progress comes: the job's id."""
    paused = []

    def pause_once(progress):
        if not paused:
            paused.append(progress.counters.read)
            store.transition(progress.job_id, A.PAUSE, actor="tester")

    status, job_id = run_job(store, settings, definition, pause_once)
    assert status is S.PAUSED and paused == [definition["chunk_rows"]]
    return job_id


def started_again(store, settings, job_id: int) -> None:
    store.transition(job_id, A.START, actor="tester")
    status, _ = run_job(store, settings, job_id)
    assert status is S.FINISHED


def everything_shown(store, job_id: int) -> str:
    lines = store.journal_lines(job_id, limit=10**6)
    runs = store.runs_of(job_id)
    shown = [line.text + json.dumps(line.params) for line in lines]
    shown += [str(r) for r in runs] + [str(r) for run in runs for r in store.rejects_of(run.id, limit=10**6)]
    return "\n".join(shown)


def test_an_import_into_postgresql_loads_the_rows_and_never_shows_the_password(
    store, pg_settings, tmp_path, sql, password
):
    source = make_contacts(tmp_path / "contacts.csv", 3000)
    status, job_id = run_job(store, pg_settings, contacts_job(source, chunk_rows=700))
    assert status is S.FINISHED
    run = store.runs_of(job_id)[-1]
    c = run.counters
    assert c.read == 3000 and c.inserted + c.rejected == 3000 and c.rejected > 0
    assert sql("SELECT count(*), count(DISTINCT id) FROM contacts") == [(c.inserted, c.inserted)]
    types = sql(
        "SELECT data_type FROM information_schema.columns WHERE table_name = 'contacts' "
        "AND table_schema = current_schema() ORDER BY ordinal_position"
    )
    assert [t for (t,) in types] == ["bigint", "character varying", "character varying", "bigint", "date"]
    assert password not in everything_shown(store, job_id)


def test_timestamps_with_a_utc_offset_land_in_utc_in_a_timestamp_without_time_zone(
    store, pg_settings, tmp_path, sql
):
    source = write(tmp_path / "moments.csv", "id,at\n1,2024-01-05T10:30:00Z\n2,2024-07-05T10:30:00.5+02:00\n")
    columns = [{"name": "id", "type": "integer"}, {"name": "at", "type": "timestamp"}]
    job = define(
        source=str(source),
        target={"table": "moments", "connection": "pg"},
        columns=columns,
        format={"timestamp_format": "%Y-%m-%dT%H:%M:%S%.f%z"},
    )
    status, _ = run_job(store, pg_settings, job)
    assert status is S.FINISHED
    assert sql("SELECT id, at::text, pg_typeof(at)::text FROM moments ORDER BY id") == [
        (1, "2024-01-05 10:30:00", "timestamp without time zone"),
        (2, "2024-07-05 08:30:00.5", "timestamp without time zone"),
    ]


def test_rows_the_database_refuses_become_constraint_rejects_with_their_line(
    store, pg_settings, tmp_path, sql
):
    sql(
        "CREATE TABLE contacts (id bigint PRIMARY KEY, name varchar(40) NOT NULL, email varchar(60), "
        "age bigint CHECK (age < 65), joined date)"
    )
    source = write(
        tmp_path / "people.csv",
        'id,name,email,age,joined\n1,Ann,a@x,30,2020-01-01\n2,"Bob\nBobson",b@x,66,2020-01-02\n'
        "3,Cy,c@x,40,2020-01-03\n4,Dee,d@x,99,2020-01-04\n5,Eve,e@x,50,2020-01-05\n",
    )
    status, job_id = run_job(store, pg_settings, contacts_job(source))
    assert status is S.FINISHED
    assert sql("SELECT id FROM contacts ORDER BY id") == [(1,), (3,), (5,)]
    assert rejects(store, job_id) == [
        (2, 3, "constraint", b'2,"Bob\nBobson",b@x,66,2020-01-02'),
        (4, 6, "constraint", b"4,Dee,d@x,99,2020-01-04"),
    ]
    first = store.rejects_of(store.runs_of(job_id)[-1].id)[0]
    assert (first.column, first.value) == ("age", "66")
    assert first.message.startswith(
        "line 3: refused by the database: column age = '66': new row for relation"
    )
    assert "contacts_age_check" in first.message
    assert store.runs_of(job_id)[-1].counters.rejected == 2


def test_nan_and_infinities_go_into_float_columns_as_postgresql_reads_them_and_a_decimal_refuses_them(
    store, pg_settings, tmp_path, sql
):
    source = write(
        tmp_path / "specials.csv",
        "id,f,d\n1,NaN,1.5\n2,Infinity,2\n3,-Infinity,3\n4,inf,4\n5,-INF,5\n6,nan,6\n7,2.5,NaN\n8,1e400,8\n",
    )
    columns = [
        {"name": "id", "type": "integer"},
        {"name": "f", "type": "float"},
        {"name": "d", "type": "decimal"},
    ]
    definition = define(source=str(source), target={"table": "t", "connection": "pg"}, columns=columns)
    status, job_id = run_job(store, pg_settings, definition)
    assert status is S.FINISHED
    assert sql("SELECT id, f::text FROM t ORDER BY id") == [
        (1, "NaN"),
        (2, "Infinity"),
        (3, "-Infinity"),
        (4, "Infinity"),
        (5, "-Infinity"),
        (6, "NaN"),
    ]
    assert [(r[0], r[2]) for r in rejects(store, job_id)] == [(7, "type_error"), (8, "type_error")]
    refused = store.rejects_of(store.runs_of(job_id)[-1].id)[0]
    assert refused.message == (
        "line 8: column d: 'NaN' is no exact number, and a decimal column holds only those: "
        "declare the column float for NaN and infinities"
    )


def test_pause_after_the_first_chunk_then_start_ends_as_an_uninterrupted_run(
    store, pg_settings, tmp_path, sql
):
    source = make_contacts(tmp_path / "contacts.csv", 2500)
    sql(
        "CREATE TABLE paused (id bigint PRIMARY KEY, name varchar(40), email varchar(60), age bigint "
        "CHECK (age < 68), joined date)"
    )
    sql("CREATE TABLE straight (LIKE paused INCLUDING ALL)")
    _, straight = run_job(store, pg_settings, contacts_job(source, "straight", chunk_rows=600))
    job_id = paused_after_its_first_chunk(store, pg_settings, contacts_job(source, "paused", chunk_rows=600))
    assert sql("SELECT count(*) FROM paused")[0][0] < 600
    started_again(store, pg_settings, job_id)
    assert sql("SELECT * FROM paused ORDER BY id") == sql("SELECT * FROM straight ORDER BY id")
    assert rejects(store, job_id) == rejects(store, straight)
    assert store.runs_of(job_id)[-1].counters == store.runs_of(straight)[-1].counters
    assert any(r[2] == "constraint" for r in rejects(store, job_id))


@pytest.mark.parametrize(
    "reconciliation",
    [
        {"keys": ["id"], "operation": "insert_or_update", "doubles": "reject"},  # rows go out as upserts
        {"keys": ["id"], "operation": "insert", "duplicates": "reject"},  # the table is asked
        {"keys": ["id"], "operation": "insert_only_new", "doubles": "last_wins"},
    ],
    ids=["upsert", "insert", "insert_only_new"],
)
def test_a_load_into_a_full_table_paused_then_started_ends_as_an_uninterrupted_run(
    store, pg_settings, tmp_path, sql, reconciliation
):
    source = make_contacts(tmp_path / "contacts.csv", 2500)  # doubles near and far back
    for table in ("paused", "straight"):
        sql(
            f"CREATE TABLE {table} (id bigint PRIMARY KEY, name varchar(40), email varchar(60), "
            "age bigint CHECK (age < 68), joined date)"
        )
        sql(f"INSERT INTO {table} SELECT i, 'old', NULL, 1, NULL FROM generate_series(1, 3000, 3) i")
    _, straight = run_job(
        store, pg_settings, contacts_job(source, "straight", chunk_rows=600, reconciliation=reconciliation)
    )
    definition = contacts_job(source, "paused", chunk_rows=600, reconciliation=reconciliation)
    job_id = paused_after_its_first_chunk(store, pg_settings, definition)
    started_again(store, pg_settings, job_id)
    assert sql("SELECT * FROM paused ORDER BY id") == sql("SELECT * FROM straight ORDER BY id")
    assert rejects(store, job_id) == rejects(store, straight)
    assert store.runs_of(job_id)[-1].counters == store.runs_of(straight)[-1].counters
    c = store.runs_of(straight)[-1].counters
    assert c.inserted and (c.updated or c.duplicates or c.unchanged)  # the table had a say


def test_a_second_file_updates_the_table_through_insert_or_update(store, pg_settings, tmp_path, sql):
    first = write(tmp_path / "a.csv", "id,name,email,age,joined\n1,Ann,a@x,30,\n2,Bob,b@x,31,\n")
    run_job(store, pg_settings, contacts_job(first))
    second = write(
        tmp_path / "b.csv", "id,name,email,age,joined\n2,Bob,b@x,32,\n3,Cy,c@x,40,\n1,Ann,a@x,30,\n"
    )
    definition = contacts_job(second, reconciliation={"keys": ["id"], "operation": "insert_or_update"})
    status, job_id = run_job(store, pg_settings, definition)
    assert status is S.FINISHED
    c = store.runs_of(job_id)[-1].counters
    assert (c.inserted, c.updated, c.unchanged) == (1, 1, 1)
    assert sql("SELECT id, age FROM contacts ORDER BY id") == [(1, 30), (2, 32), (3, 40)]


def test_insert_or_update_into_a_full_table_keeps_the_last_double_and_rejects_what_the_table_refuses(
    store, pg_settings, tmp_path, sql
):
    sql(
        "CREATE TABLE contacts (id bigint PRIMARY KEY, name text, email text, "
        "age bigint CHECK (age < 65), joined date)"
    )
    sql("INSERT INTO contacts SELECT i, 'n' || i, NULL, 20, NULL FROM generate_series(1, 4) i")
    second = write(  # chunks of two: the double of 3 comes two chunks later; 5 is new, 2 too old
        tmp_path / "b.csv",
        "id,name,email,age,joined\n1,n1,,20,\n3,first,,21,\n2,old,,70,\n5,new,,30,\n3,last,,22,\n",
    )
    reconciliation = {"keys": ["id"], "operation": "insert_or_update", "doubles": "last_wins"}
    status, job_id = run_job(
        store, pg_settings, contacts_job(second, chunk_rows=2, reconciliation=reconciliation)
    )
    assert status is S.FINISHED
    assert sql("SELECT id, name, age FROM contacts ORDER BY id") == [
        (1, "n1", 20),
        (2, "n2", 20),
        (3, "last", 22),
        (4, "n4", 20),
        (5, "new", 30),
    ]
    c = store.runs_of(job_id)[-1].counters
    assert (c.inserted, c.updated, c.unchanged, c.rejected, c.doubles) == (1, 2, 1, 1, 1)
    assert [(r[0], r[1], r[2]) for r in rejects(store, job_id)] == [(3, 4, "constraint")]


def test_an_atomic_import_into_postgresql(store, pg_settings, tmp_path, sql):
    source = make_contacts(tmp_path / "contacts.csv", 1200)
    status, job_id = run_job(store, pg_settings, contacts_job(source, commit="atomic", chunk_rows=500))
    assert status is S.FINISHED, [line.text for line in store.journal_lines(job_id)][-3:]
    c = store.runs_of(job_id)[-1].counters
    assert sql("SELECT count(*) FROM contacts") == [(c.inserted,)] and c.inserted > 1000
    stage = (
        "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename ~ '^_impex_stage'"
    )
    assert sql(stage) == [(0,)]


def test_a_connection_that_cannot_be_opened_says_where_but_not_the_password(
    store, pg_settings, tmp_path, password
):
    source = write(tmp_path / "f.csv", "id\n1\n")
    job_id = run_job(
        store, pg_settings, define(source=str(source), target={"table": "t", "connection": "down"})
    )[1]
    assert store.status_of(job_id) is S.FINISHED_WITH_ERRORS
    error = next(line for line in store.journal_lines(job_id) if line.code == "run.error")
    assert "postgresql://impex@127.0.0.1:1/nowhere" in error.params["error"]
    assert password not in everything_shown(store, job_id)


@pytest.mark.parametrize("kind", ["VIEW", "MATERIALIZED VIEW"])
def test_a_view_as_the_target_is_refused_before_a_row_is_read(store, pg_settings, tmp_path, sql, kind):
    sql(
        f"CREATE {kind} contacts AS SELECT 1 AS id, 'x'::text AS name, 'e'::text AS email, 2 AS age, "
        "now()::date AS joined"
    )
    source = write(tmp_path / "a.csv", "id,name,email,age,joined\n1,Ann,a@x,30,\n")
    status, job_id = run_job(store, pg_settings, contacts_job(source))
    assert status is S.FINISHED_WITH_ERRORS
    errors = [line.params["error"] for line in store.journal_lines(job_id) if line.code == "run.error"]
    assert errors == ["contacts is a view, not a table: impex loads tables"]
    assert store.runs_of(job_id)[-1].counters.read == 0


def test_a_delete_the_database_refuses_rejects_those_rows_and_deletes_the_others(
    store, pg_settings, tmp_path, sql
):
    sql("CREATE TABLE parent (id bigint PRIMARY KEY)")
    sql("INSERT INTO parent SELECT generate_series(1, 5)")
    sql("CREATE TABLE child (id bigint PRIMARY KEY, parent_id bigint REFERENCES parent)")
    sql("INSERT INTO child VALUES (10, 1), (20, 2)")
    source = write(tmp_path / "gone.csv", "id\n4\n1\n5\n9\n2\n")
    definition = define(
        source=str(source),
        target={"table": "parent", "connection": "pg"},
        columns=[{"name": "id", "type": "integer"}],
        reconciliation={"keys": ["id"], "operation": "delete"},
    )
    status, job_id = run_job(store, pg_settings, definition)
    assert status is S.FINISHED
    assert sql("SELECT id FROM parent ORDER BY id") == [(1,), (2,), (3,)]
    assert [(r[0], r[1], r[2]) for r in rejects(store, job_id)] == [
        (2, 3, "constraint"),
        (4, 5, "key_not_found"),
        (5, 6, "constraint"),
    ]
    message = store.rejects_of(store.runs_of(job_id)[-1].id)[0].message
    assert message.startswith("line 3: refused by the database: column id = '1': update or delete on table")
    assert "child_parent_id_fkey" in message
    c = store.runs_of(job_id)[-1].counters
    assert (c.deleted, c.rejected) == (2, 3)


def test_a_failed_run_leaves_no_table_of_its_own_behind(store, pg_settings, tmp_path, sql):
    sql("CREATE TABLE contacts (id bigint PRIMARY KEY, name text, email text, age bigint, joined date)")
    sql("INSERT INTO contacts VALUES (100, 'old', NULL, 1, NULL)")  # not empty: the run keeps its keys
    source = write(tmp_path / "bad.csv", "id,name,email,age,joined\n1,a,,1,\n2,b,,x,\n")
    for commit in ("incremental", "atomic"):
        definition = contacts_job(source, commit=commit, errors={"max_rejects": 0})
        status, _ = run_job(store, pg_settings, definition)
        assert status is S.FINISHED_WITH_ERRORS
        names = sql("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1")
        assert names == [("_impex_checkpoint",), ("contacts",)]


def test_a_table_needing_a_value_the_job_does_not_give_is_refused_before_a_row_is_read(
    store, pg_settings, tmp_path, sql
):
    sql(
        "CREATE TABLE contacts (id bigint PRIMARY KEY, name text, email text, age bigint, joined date, "
        "region text NOT NULL, n serial, made timestamptz NOT NULL DEFAULT now())"
    )
    source = write(tmp_path / "c.csv", "id,name,email,age,joined\n1,a,,1,\n")
    status, job_id = run_job(store, pg_settings, contacts_job(source))
    assert status is S.FINISHED_WITH_ERRORS
    error = next(line for line in store.journal_lines(job_id) if line.code == "run.error").params["error"]
    assert error.startswith("table contacts needs a value in column(s) region (NOT NULL, no default)")
    assert sql("SELECT count(*) FROM contacts") == [(0,)]


@pytest.mark.parametrize("doubles", ["reject", "last_wins"])
def test_a_run_paused_after_a_refused_record_ends_as_one_that_never_stopped(
    store, pg_settings, tmp_path, sql, doubles
):
    for table in ("paused", "straight"):  # empty: a resume rebuilds the keys applied from the table
        sql(f"CREATE TABLE {table} (id bigint PRIMARY KEY, name text CHECK (name <> 'bad'))")
    source = write(tmp_path / "f.csv", "id,name\n1,bad\n2,x\n1,good\n")

    def job(table):
        return define(
            source=str(source),
            target={"table": table, "connection": "pg"},
            columns=[{"name": "id", "type": "integer"}, {"name": "name"}],
            reconciliation={"keys": ["id"], "doubles": doubles},
            chunk_rows=1,
        )

    _, straight = run_job(store, pg_settings, job("straight"))
    job_id = paused_after_its_first_chunk(store, pg_settings, job("paused"))
    started_again(store, pg_settings, job_id)
    assert sql("SELECT * FROM paused ORDER BY id") == sql("SELECT * FROM straight ORDER BY id")
    assert rejects(store, job_id) == rejects(store, straight)
    assert store.runs_of(job_id)[-1].counters == store.runs_of(straight)[-1].counters


BAD_VALUES = {  # by column: a value its type refuses, and the database's words
    "mood": ("angry {i}", 'invalid input value for enum mood: "angry {i}"'),
    "tag": ("tag-{i}", 'invalid input syntax for type uuid: "tag-{i}"'),
    "payload": ("{{{i}", 'invalid input syntax for type json: Expected string or "}}", but found "{i}".'),
}


def typed_events(path: Path, rows: int) -> tuple[Path, list[tuple[int, int, str, str, str]]]:
    """A file of events, every seventh with a value its column's type refuses (each value its
    own): the file, and its rejects as (record, line, column, value, message)."""
    lines, refused = ["id,mood,tag,payload"], []
    for i in range(1, rows + 1):
        values = {"mood": "ok", "tag": f"00000000-0000-0000-0000-{i:012d}", "payload": f'"{{""n"": {i}}}"'}
        if i % 7 == 3:
            column = list(BAD_VALUES)[i % 3]
            value, words = (text.format(i=i) for text in BAD_VALUES[column])
            values[column] = value
            message = f"line {i + 1}: refused by the database: column {column} = '{value}': {words}"
            refused.append((i, i + 1, column, value, message))
        lines.append(f"{i},{values['mood']},{values['tag']},{values['payload']}")
    return write(path, "\n".join(lines) + "\n"), refused


@pytest.mark.parametrize("paused", [False, True], ids=["straight", "paused_after_its_first_chunk"])
def test_many_values_an_enum_a_uuid_or_a_jsonb_refuses_are_each_rejected_with_their_reason_in_one_run(
    store, pg_settings, tmp_path, sql, paused
):
    sql("CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')")
    sql("CREATE TABLE events (id bigint PRIMARY KEY, mood mood, tag uuid, payload jsonb)")
    source, refused = typed_events(tmp_path / "events.csv", 700)
    job = define(
        source=str(source),
        target={"table": "events", "connection": "pg"},
        columns=[{"name": "id", "type": "integer"}, {"name": "mood"}, {"name": "tag"}, {"name": "payload"}],
        reconciliation={"keys": ["id"]},
        chunk_rows=200,
    )
    if paused:
        job_id = paused_after_its_first_chunk(store, pg_settings, job)
        started_again(store, pg_settings, job_id)
    else:
        status, job_id = run_job(store, pg_settings, job)
        assert status is S.FINISHED
    run = store.runs_of(job_id)[-1]
    got = store.rejects_of(run.id, limit=10**6)
    assert [(r.record_no, r.line_no, r.column, r.value, r.message) for r in got] == refused
    assert {r.reason for r in got} == {"constraint"}
    assert run.counters.inserted == 700 - len(refused) == 600
    kept = {i for i in range(1, 701)} - {r[0] for r in refused}
    assert sql("SELECT id FROM events ORDER BY id") == [(i,) for i in sorted(kept)]
    assert sql("SELECT count(*) FROM events WHERE payload ->> 'n' = id::text AND tag IS NOT NULL") == [(600,)]


def test_a_yaml_job_file_puts_its_constants_remaps_and_transformed_text_in_postgresql_as_written(
    store, pg_settings, tmp_path, sql
):
    """NO stays Norway's code, on/off are a boolean's, 1.50 a decimal whatever the decimal comma,
    and a text upper-cased to more characters (straße → STRASSE) fits a varchar counted in characters."""
    write(tmp_path / "countries.csv", "id,name,country\n1,straße,NO\n2,ΟΔΥΣΣΕΥΣ,no\n3,😀,DE\n")
    job = write(
        tmp_path / "job.yaml",
        "kind: import\nname: countries\nsource: countries.csv\ntarget: {table: countries, connection: pg}\n"
        "format: {decimal_separator: ','}\n"
        "columns:\n"
        "  - {name: id, type: integer}\n"
        "  - {name: name, transforms: [upper], max_length: 8}\n"
        "  - {name: code, source: country}\n"
        "  - {name: member, source: country, type: boolean, remap: {NO: off, 'no': on, DE: yes}}\n"
        "  - {name: price, type: decimal, precision: 6, scale: 2, constant: 1.50}\n"
        "  - {name: fee, type: decimal, precision: 6, scale: 2, constant: '2,25'}\n"
        "  - {name: region, constant: NO}\n"
        "  - {name: day, type: date, constant: 2024-01-05}\n",
    )
    status, job_id = run_job(store, pg_settings, load_definition(job).model_dump(mode="json"))
    assert status is S.FINISHED, [line.params.get("error") for line in store.journal_lines(job_id)]
    assert sql("SELECT * FROM countries ORDER BY id") == [
        (1, "STRASSE", "NO", False, Decimal("1.50"), Decimal("2.25"), "NO", date(2024, 1, 5)),
        (2, "ΟΔΥΣΣΕΥΣ", "no", True, Decimal("1.50"), Decimal("2.25"), "NO", date(2024, 1, 5)),
        (3, "😀", "DE", True, Decimal("1.50"), Decimal("2.25"), "NO", date(2024, 1, 5)),
    ]
    assert sql(
        "SELECT character_maximum_length FROM information_schema.columns WHERE table_name = 'countries' "
        "AND column_name = 'name' AND table_schema = current_schema()"
    ) == [(8,)]


COMPUTED = (
    "CREATE TABLE accounts (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text, "
    "domain text GENERATED ALWAYS AS (split_part(email, '@', 2)) STORED, n serial, "
    "made timestamptz DEFAULT now())"
)
IDENTITY = "id (GENERATED ALWAYS AS IDENTITY)"
GENERATED = "domain (GENERATED ALWAYS AS (split_part(email, '@'::text, 2)) STORED)"


@pytest.mark.parametrize(
    ("header", "operation", "named"),
    [
        ("id,email", "insert", IDENTITY),
        ("id,email", "insert_or_update", IDENTITY),
        ("email,domain", "insert", GENERATED),
        ("id,email,domain", "update", GENERATED),
    ],
    ids=["identity", "identity_upsert", "generated", "generated_in_an_update"],
)
def test_a_job_writing_a_column_the_database_fills_itself_is_refused_before_a_row_is_read(
    store, pg_settings, tmp_path, sql, header, operation, named
):
    sql(COMPUTED)
    sql("INSERT INTO accounts (email) VALUES ('old@x.org')")
    names = header.split(",")
    source = write(tmp_path / "a.csv", f"{header}\n{','.join(['5', 'a@y.org', 'y.org'][-len(names) :])}\n")
    definition = define(
        source=str(source),
        target={"table": "accounts", "connection": "pg"},
        columns=[{"name": n, "type": "integer" if n == "id" else "string"} for n in names],
        reconciliation={"keys": ["id"] if "id" in names else [], "operation": operation},
    )
    status, job_id = run_job(store, pg_settings, definition)
    assert status is S.FINISHED_WITH_ERRORS
    error = next(line for line in store.journal_lines(job_id) if line.code == "run.error").params["error"]
    assert error.startswith(
        f"table accounts fills column(s) {named} itself: take them out of the job's columns"
    )
    assert ("GENERATED BY DEFAULT" in error) is (named == IDENTITY)
    assert store.runs_of(job_id)[-1].counters.read == 0
    assert sql("SELECT id, email, domain FROM accounts") == [(1, "old@x.org", "x.org")]


def test_the_columns_the_database_fills_are_filled_by_it_and_an_update_may_match_on_the_identity(
    store, pg_settings, tmp_path, sql
):
    sql(COMPUTED)
    added = write(tmp_path / "new.csv", "email\na@x.org\nb@y.org\n")
    columns = [{"name": "email"}]
    status, _ = run_job(
        store,
        pg_settings,
        define(source=str(added), target={"table": "accounts", "connection": "pg"}, columns=columns),
    )
    assert status is S.FINISHED
    changed = write(tmp_path / "changed.csv", "id,email\n2,c@z.org\n")
    definition = define(
        source=str(changed),
        target={"table": "accounts", "connection": "pg"},
        columns=[{"name": "id", "type": "integer"}, *columns],
        reconciliation={"keys": ["id"], "operation": "update"},
    )
    status, _ = run_job(store, pg_settings, definition)
    assert status is S.FINISHED
    assert sql("SELECT id, email, domain, n, made IS NOT NULL FROM accounts ORDER BY id") == [
        (1, "a@x.org", "x.org", 1, True),
        (2, "c@z.org", "z.org", 2, True),
    ]


@pytest.mark.parametrize("commit", ["incremental", "atomic"])
@pytest.mark.parametrize(
    ("operation", "expected"), [("update", (0, 1, 1, 1)), ("insert_or_update", (1, 1, 1, 0))]
)
def test_a_key_the_table_holds_on_several_rows_updates_them_all_and_counts_its_record_once(
    store, pg_settings, tmp_path, sql, commit, operation, expected
):
    sql("CREATE TABLE t (id bigint, v text)")  # no primary key: the job's key is not unique
    sql("INSERT INTO t VALUES (1, 'a'), (1, 'b'), (2, 'c')")
    path = write(tmp_path / "f.csv", "id,v\n1,z\n2,c\n3,d\n")
    definition = define(
        source=str(path),
        target={"table": "t", "connection": "pg"},
        columns=[{"name": "id", "type": "integer"}, {"name": "v"}],
        reconciliation={"keys": ["id"], "operation": operation},
        commit=commit,
    )
    status, job_id = run_job(store, pg_settings, definition)
    assert status is S.FINISHED
    c = store.runs_of(job_id)[-1].counters
    assert (c.inserted, c.updated, c.unchanged, c.rejected) == expected
    assert (
        sql("SELECT id, v FROM t ORDER BY id, v") == [(1, "z"), (1, "z"), (2, "c")] + [(3, "d")] * expected[0]
    )


def test_a_table_dropped_while_its_run_is_paused_ends_the_run_with_errors_at_start(
    store, pg_settings, tmp_path, sql
):
    """Start does not make a new table for the rest of the file, which would be said to hold all of it."""
    source = make_contacts(tmp_path / "contacts.csv", 2000)
    job_id = paused_after_its_first_chunk(store, pg_settings, contacts_job(source, chunk_rows=600))
    sql("DROP TABLE contacts")
    store.transition(job_id, A.START, actor="tester")
    assert run_job(store, pg_settings, job_id)[0] is S.FINISHED_WITH_ERRORS
    [error] = [line for line in store.journal_lines(job_id) if line.code == "run.error"]
    assert error.params["error"].startswith(
        "table contacts is gone: it was dropped or renamed since the run began, after its first 600 records"
    )
    assert sql("SELECT to_regclass('contacts') IS NULL") == [(True,)]
    seen = (
        "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() "
        "AND tablename LIKE '\\_impex\\_seen%'"
    )
    assert sql(seen) == [(0,)]


@pytest.fixture
def other_schema(sql):
    """A second schema, outside the connection's search path."""
    with fresh_named_schema() as (name, _):
        yield name


def test_a_table_named_with_its_schema_takes_the_rows_there_and_not_in_the_search_path(
    store, pg_settings, tmp_path, sql, other_schema
):
    for where in (other_schema, None):  # the same table name in both schemas, one row each
        table = f"{where}.contacts" if where else "contacts"
        sql(
            f"CREATE TABLE {table} (id bigint PRIMARY KEY, name varchar(40) NOT NULL, email varchar(60), "
            "age bigint CHECK (age < 65), joined date)"
        )
        sql(f"INSERT INTO {table} VALUES (1, 'Old', 'old@x', 20, '2019-01-01')")
    source = write(
        tmp_path / "people.csv",
        "id,name,email,age,joined\n1,Ann,a@x,30,2020-01-01\n2,Bob,b@x,66,2020-01-02\n3,Cy,c@x,40,2020-01-03\n",
    )
    upsert = {"keys": ["id"], "operation": "insert_or_update"}
    status, job_id = run_job(
        store, pg_settings, contacts_job(source, f"{other_schema}.contacts", reconciliation=upsert)
    )
    assert status is S.FINISHED
    assert sql(f"SELECT id, name FROM {other_schema}.contacts ORDER BY id") == [(1, "Ann"), (3, "Cy")]
    assert sql("SELECT id, name FROM contacts ORDER BY id") == [(1, "Old")]
    assert rejects(store, job_id) == [(2, 3, "constraint", b"2,Bob,b@x,66,2020-01-02")]


def test_a_missing_table_named_with_its_schema_is_created_in_that_schema(
    store, pg_settings, tmp_path, sql, other_schema
):
    source = make_contacts(tmp_path / "contacts.csv", 50)
    status, job_id = run_job(store, pg_settings, contacts_job(source, f"{other_schema}.people"))
    assert status is S.FINISHED
    inserted = store.runs_of(job_id)[-1].counters.inserted
    assert sql(f"SELECT count(*) FROM {other_schema}.people") == [(inserted,)]
    assert sql("SELECT to_regclass('people') IS NULL") == [(True,)]


def test_a_schema_that_does_not_exist_ends_the_run_with_errors_naming_it(store, pg_settings, tmp_path, sql):
    source = make_contacts(tmp_path / "contacts.csv", 5)
    status, job_id = run_job(store, pg_settings, contacts_job(source, "nowhere_schema.contacts"))
    assert status is S.FINISHED_WITH_ERRORS
    assert 'schema "nowhere_schema" does not exist' in everything_shown(store, job_id)


def journal_of(store, job_id: int, code: str) -> list[str]:
    return [line.text for line in store.journal_lines(job_id, limit=10**6) if line.code == code]


def numbered(tmp_path: Path, ids: range) -> Path:
    return write(tmp_path / "numbered.csv", "id,name\n" + "".join(f"{i},n{i}\n" for i in ids))


NUMBERED = [{"name": "id", "type": "integer"}, {"name": "name"}]


def test_a_serial_key_imported_as_written_moves_its_sequence_on_so_the_next_row_numbered_by_it_fits(
    store, pg_settings, tmp_path, sql
):
    sql("CREATE TABLE numbered (id serial PRIMARY KEY, name text)")
    job = define(
        source=str(numbered(tmp_path, range(1, 251))),
        target={"table": "numbered", "connection": "pg"},
        columns=NUMBERED,
        chunk_rows=100,
    )
    status, job_id = run_job(store, pg_settings, job)
    assert status is S.FINISHED
    assert sql("INSERT INTO numbered (name) VALUES ('later') RETURNING id") == [(251,)]
    assert journal_of(store, job_id, "table.sequence_moved") == [
        "Sequence numbered_id_seq of column id moved on to 250, the largest value the table "
        "holds: the next number it gives is not one of an imported row"
    ]


def test_an_identity_column_without_an_index_has_its_sequence_moved_on_once_an_atomic_run_ends(
    store, pg_settings, tmp_path, sql
):
    sql("CREATE TABLE numbered (id bigint GENERATED BY DEFAULT AS IDENTITY, name text)")
    job = define(
        source=str(numbered(tmp_path, range(10, 0, -1))),
        target={"table": "numbered", "connection": "pg"},
        columns=NUMBERED,
        commit="atomic",
    )
    assert run_job(store, pg_settings, job)[0] is S.FINISHED
    assert sql("INSERT INTO numbered (name) VALUES ('later') RETURNING id") == [(11,)]


def test_a_sequence_ahead_of_the_imported_values_is_left_where_it_is(store, pg_settings, tmp_path, sql):
    sql("CREATE TABLE numbered (id serial PRIMARY KEY, name text)")
    sql("SELECT setval('numbered_id_seq', 1000)")
    job = define(
        source=str(numbered(tmp_path, range(1, 6))),
        target={"table": "numbered", "connection": "pg"},
        columns=NUMBERED,
    )
    status, job_id = run_job(store, pg_settings, job)
    assert status is S.FINISHED and journal_of(store, job_id, "table.sequence_moved") == []
    assert sql("INSERT INTO numbered (name) VALUES ('later') RETURNING id") == [(1001,)]


def test_a_sequence_the_connection_may_not_move_is_said_at_the_start_and_the_import_goes_on(
    store, data_dir, tmp_path, sql, schema
):
    role = f"impex_limited_{secrets.token_hex(4)}"
    sql("CREATE TABLE numbered (id serial PRIMARY KEY, name text)")
    sql(f"CREATE ROLE {role} LOGIN")
    try:
        sql(f"GRANT USAGE, CREATE ON SCHEMA {schema} TO {role}")
        sql(f"GRANT SELECT, INSERT ON numbered TO {role}")
        url = f"postgresql://{role}@127.0.0.1:5432/test?options=-csearch_path%3D{schema}"
        connections = write(tmp_path / "connections.yaml", f"pg: {url}\n")
        settings = load_settings(
            {"data_dir": str(data_dir), "progress_seconds": 0.0, "connections_file": str(connections)}, env={}
        )
        job = define(
            source=str(numbered(tmp_path, range(1, 6))),
            target={"table": "numbered", "connection": "pg"},
            columns=NUMBERED,
        )
        status, job_id = run_job(store, settings, job)
        assert status is S.FINISHED
        assert journal_of(store, job_id, "table.sequence_unmoved") == [
            "Sequence numbered_id_seq numbers column id, which the job writes, and this "
            "connection may not move it on (no UPDATE privilege on it): a row it numbers later may take "
            "the number of an imported row"
        ]
        assert sql("SELECT count(*) FROM numbered") == [(5,)]
    finally:
        sql(f"DROP OWNED BY {role}")
        sql(f"DROP ROLE {role}")
