"""A row an existing PostgreSQL table refuses is reported with the column, its value and the
database's reason, also when the database's own error names no column: a value its column's type
refuses in a cast (jsonb, an array, a domain), a check constraint (named, with its columns)."""

import decimal

import polars as pl
import pytest

from impex.domain.counters import Counters
from impex.domain.position import Position
from impex.targets.base import Checkpoint, ChunkWrite, Refusal, RefusedRecord, RunSpec
from impex.targets.postgres import PostgresTarget
from support import staged

EVENTS = (
    "CREATE TABLE events (id bigint PRIMARY KEY, payload jsonb, tags integer[], "
    "amount numeric(5, 2) CONSTRAINT positive CHECK (amount > 0))"
)
BAD_JSON = "column payload = 'not json': invalid input syntax for type json: Token \"not\" is invalid."
BAD_TAGS = "column tags = '{1,x}': invalid input syntax for type integer: \"x\""
NOT_POSITIVE = 'column amount = \'-1.00\': new row for relation "events" violates check constraint "positive"'


def events(start=0):
    """Five rows; the second has a payload that is not JSON, the third a tag that is not an integer,
    the fourth an amount that is not positive."""
    return pl.DataFrame(
        {
            "id": [1, 2, 3, 4, 5],
            "payload": ['{"a": 1}', "not json", "{}", "{}", "[]"],
            "tags": ["{1,2}", "{}", "{1,x}", "{3}", None],
            "amount": [decimal.Decimal(v) for v in ("1.50", "2.00", "3.00", "-1.00", "4.25")],
            "_row": list(range(start, start + 5)),
        },
        schema={
            "id": pl.Int64,
            "payload": pl.String,
            "tags": pl.String,
            "amount": pl.Decimal(10, 2),
            "_row": pl.Int64,
        },
    )


def applied(target, write, *, prepared, atomic=False, table="events"):
    """What the run did with the chunk: its ChunkResult (in atomic mode, the final apply's too)."""
    run = target.open_run(RunSpec("s:1:1", "tok", table, ("id",), atomic=atomic), {})
    got = []

    def finalize(result):
        got.append(result)
        return Checkpoint(Position(1, 1, 1), Counters(inserted=result.inserted))

    run.commit_chunk(run.prepare(write) if prepared else write, finalize)
    if atomic:
        run.finish(finalize)
    return got


@pytest.mark.parametrize("prepared", [False, True], ids=["as_given", "prepared_by_the_reading_thread"])
@pytest.mark.parametrize("operation", ["inserts", "upserts"])
def test_a_value_a_jsonb_an_array_or_a_check_refuses_names_its_column_and_value(
    schema, sql, operation, prepared
):
    sql(EVENTS)
    t = PostgresTarget(schema[1])
    (result,) = applied(t, ChunkWrite(**{operation: events(start=10)}), prepared=prepared)
    t.close()
    assert result.refused == [
        Refusal(11, BAD_JSON, "payload", "not json"),
        Refusal(12, BAD_TAGS, "tags", "{1,x}"),
        Refusal(13, NOT_POSITIVE, "amount", "-1.00"),
    ]
    assert sql("SELECT id FROM events ORDER BY id") == [(1,), (5,)]


def test_a_refused_update_names_its_column_and_value(schema, sql):
    sql(EVENTS)
    sql("INSERT INTO events SELECT i, '{}', '{}', 1 FROM generate_series(1, 5) i")
    t = PostgresTarget(schema[1])
    (result,) = applied(t, ChunkWrite(updates=events()), prepared=False)
    t.close()
    assert [(r.row, r.column, r.value) for r in result.refused] == [
        (1, "payload", "not json"),
        (2, "tags", "{1,x}"),
        (3, "amount", "-1.00"),
    ]
    assert result.refused[0].message == BAD_JSON


@pytest.mark.parametrize("prepared", [False, True], ids=["as_given", "prepared_by_the_reading_thread"])
def test_in_atomic_mode_values_are_refused_when_staged_and_a_check_at_the_end_with_its_line(
    schema, sql, prepared
):
    """The staging table has the table's types, not its constraints."""
    sql(EVENTS)
    t = PostgresTarget(schema[1])
    staging, final = applied(t, ChunkWrite(inserts=staged(events())), prepared=prepared, atomic=True)
    t.close()
    assert staging.refused == [
        Refusal(1, BAD_JSON, "payload", "not json"),
        Refusal(2, BAD_TAGS, "tags", "{1,x}"),
    ]
    assert final.refused_records == [RefusedRecord(4, 5, b"raw 4", NOT_POSITIVE, "amount", "-1.00")]
    assert sql("SELECT id FROM events ORDER BY id") == [(1,), (5,)]


def test_rows_sent_by_binary_copy_name_the_value_a_check_or_a_precision_refuses(schema, sql):
    """Without a jsonb or array column the rows go in by binary COPY: the refused one is read back."""
    sql(
        "CREATE TABLE events (id bigint PRIMARY KEY, "
        "amount numeric(5, 2) CONSTRAINT positive CHECK (amount > 0))"
    )
    t = PostgresTarget(schema[1])
    frame = (
        events()
        .select("id", "amount", "_row")
        .with_columns(
            pl.Series(
                "amount", [decimal.Decimal(v) for v in ("1", "1000", "2", "-1", "3")], pl.Decimal(10, 2)
            )
        )
    )
    (result,) = applied(t, ChunkWrite(inserts=frame), prepared=True)
    t.close()
    overflow = (
        "numeric field overflow: "
        "A field with precision 5, scale 2 must round to an absolute value less than 10^3."
    )
    assert result.refused == [
        Refusal(1, f"column amount = '1000.00': {overflow}", "amount", "1000.00"),
        Refusal(3, NOT_POSITIVE, "amount", "-1.00"),
    ]


def test_a_check_on_several_columns_names_them_all_with_their_values(schema, sql):
    sql(
        "CREATE TABLE events (id bigint PRIMARY KEY, lo bigint, hi bigint, "
        "CONSTRAINT ordered CHECK (lo <= hi))"
    )
    t = PostgresTarget(schema[1])
    frame = pl.DataFrame({"id": [1, 2], "lo": [1, 5], "hi": [2, 3], "_row": [0, 1]})
    (result,) = applied(t, ChunkWrite(inserts=frame), prepared=True)
    t.close()
    check = 'new row for relation "events" violates check constraint "ordered"'
    assert result.refused == [Refusal(1, f"columns lo = '5', hi = '3': {check}", "lo", "5")]


@pytest.mark.parametrize(
    ("ddl", "value", "reason"),
    [
        ("uuid", "nope", 'invalid input syntax for type uuid: "nope"'),
        ("inet", "999.1.1.1", 'invalid input syntax for type inet: "999.1.1.1"'),
        ("mood", "angry", 'invalid input value for enum mood: "angry"'),
        ("positive", "-1", 'value for domain positive violates check constraint "positive_check"'),
    ],
    ids=["uuid", "inet", "enum", "domain"],
)
def test_a_value_its_column_type_refuses_names_the_column(schema, sql, ddl, value, reason):
    sql("CREATE TYPE mood AS ENUM ('sad', 'ok')")
    sql("CREATE DOMAIN positive AS bigint CHECK (VALUE > 0)")
    sql(f"CREATE TABLE events (id bigint PRIMARY KEY, note text, special {ddl})")
    t = PostgresTarget(schema[1])
    frame = pl.DataFrame({"id": [1], "note": ["fine"], "special": [value], "_row": [0]})
    (result,) = applied(t, ChunkWrite(inserts=frame), prepared=True)
    t.close()
    assert result.refused == [Refusal(0, f"column special = '{value}': {reason}", "special", value)]


def test_a_unique_expression_index_names_the_columns_its_expression_reads(schema, sql):
    sql("CREATE TABLE events (id bigint PRIMARY KEY, email text, note text)")
    sql("CREATE UNIQUE INDEX events_email ON events (lower(email))")
    t = PostgresTarget(schema[1])
    frame = pl.DataFrame({"id": [1, 2], "email": ["a@x", "A@X"], "note": ["", ""], "_row": [0, 1]})
    (result,) = applied(t, ChunkWrite(inserts=frame), prepared=True)
    t.close()
    reason = (
        'duplicate key value violates unique constraint "events_email": '
        "Key (lower(email))=(a@x) already exists."
    )
    assert result.refused == [Refusal(1, f"column email = 'A@X': {reason}", "email", "A@X")]


@pytest.mark.parametrize("atomic", [False, True], ids=["incremental", "atomic"])
def test_a_trigger_that_raises_refuses_the_row_with_its_own_words_and_its_name(schema, sql, atomic):
    sql("CREATE TABLE events (id bigint PRIMARY KEY, email text)")
    sql(
        "CREATE FUNCTION no_spam() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF NEW.email LIKE '%spam%' THEN RAISE EXCEPTION 'no spam: %', NEW.email; END IF; "
        "RETURN NEW; END $$"
    )
    sql("CREATE TRIGGER spam_check BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION no_spam()")
    t = PostgresTarget(schema[1])
    frame = pl.DataFrame({"id": [1, 2, 3], "email": ["a@x", "spam@x", "b@x"], "_row": [0, 1, 2]})
    got = applied(t, ChunkWrite(inserts=staged(frame) if atomic else frame), prepared=True, atomic=atomic)
    t.close()
    message = "trigger spam_check on table events: no spam: spam@x"
    if atomic:
        assert got[-1].refused_records == [RefusedRecord(2, 3, b"raw 2", message)]
    else:
        assert got[-1].refused == [Refusal(1, message)]
    assert sql("SELECT id FROM events ORDER BY id") == [(1,), (3,)]


def test_a_deferred_foreign_key_refuses_its_orphans_one_by_one_not_the_whole_commit(schema, sql):
    """Checked at each statement's end, as an immediate key is."""
    sql(
        "CREATE TABLE events (id bigint PRIMARY KEY, "
        "parent bigint REFERENCES events DEFERRABLE INITIALLY DEFERRED)"
    )
    t = PostgresTarget(schema[1])
    frame = pl.DataFrame({"id": [1, 2, 3], "parent": [None, 1, 9], "_row": [0, 1, 2]})
    (result,) = applied(t, ChunkWrite(inserts=frame), prepared=True)
    t.close()
    reason = (
        'insert or update on table "events" violates foreign key constraint "events_parent_fkey": '
        'Key (parent)=(9) is not present in table "events".'
    )
    assert result.refused == [Refusal(2, f"column parent = '9': {reason}", "parent", "9")]
    assert sql("SELECT id FROM events ORDER BY id") == [(1,), (2,)]


MOODS = "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')"
# A trigger counting the rows that reach the table, in statements that fail too: a sequence is not
# rolled back.
REACHED = (
    "CREATE SEQUENCE reached",
    "CREATE FUNCTION count_reached() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN PERFORM nextval('reached'); RETURN NEW; END $$",
    "CREATE TRIGGER reached BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION count_reached()",
)


def moods(rows, every):
    """``rows`` rows, every ``every``-th from the third on with a mood the enum does not have (a
    label of its own, a few of them repeated)."""
    labels = [f"angry {i % 7}" if i % every == 2 else ("sad", "ok", "happy")[i % 3] for i in range(rows)]
    return pl.DataFrame({"id": range(rows), "mood": labels, "_row": range(rows)})


@pytest.mark.parametrize("prepared", [False, True], ids=["as_given", "prepared_by_the_reading_thread"])
@pytest.mark.parametrize("operation", ["inserts", "upserts"])
def test_many_values_an_enum_refuses_are_each_refused_without_sending_the_chunk_again_and_again(
    schema, sql, operation, prepared
):
    """The values the column refuses are found for the whole chunk at once, not by halving it: each
    row the table takes reaches it once, but for the two before the first refused value, which
    reached it in the statement that was refused too."""
    sql(MOODS)
    sql("CREATE TABLE events (id bigint PRIMARY KEY, mood mood)")
    for statement in REACHED:
        sql(statement)
    frame = moods(1000, every=10)
    t = PostgresTarget(schema[1])
    (result,) = applied(t, ChunkWrite(**{operation: frame}), prepared=prepared)
    t.close()
    bad = frame.filter(pl.col("mood").str.starts_with("angry"))
    assert result.refused == [
        Refusal(i, f"column mood = '{m}': invalid input value for enum mood: \"{m}\"", "mood", m)
        for i, m in bad.select("_row", "mood").iter_rows()
    ]
    assert sql("SELECT count(*), min(id), max(id) FROM events WHERE mood IS NOT NULL") == [(900, 0, 999)]
    assert sql("SELECT id FROM events WHERE id % 10 = 2") == []
    assert sql("SELECT last_value FROM reached") == [(2 + 900,)]


def test_in_atomic_mode_many_values_an_enum_refuses_are_each_refused_when_staged(schema, sql):
    sql(MOODS)
    sql("CREATE TABLE events (id bigint PRIMARY KEY, mood mood)")
    frame = moods(1000, every=10)
    t = PostgresTarget(schema[1])
    staging, final = applied(t, ChunkWrite(inserts=staged(frame)), prepared=True, atomic=True)
    t.close()
    bad = frame.filter(pl.col("mood").str.starts_with("angry"))
    assert [(r.row, r.column, r.value) for r in staging.refused] == [
        (i, "mood", m) for i, m in bad.select("_row", "mood").iter_rows()
    ]
    assert final.refused_records == []
    assert sql("SELECT count(*) FROM events") == [(900,)]


@pytest.mark.parametrize("operation", ["inserts", "upserts"])
def test_a_row_with_values_two_columns_refuse_is_refused_for_the_one_the_database_names(
    schema, sql, operation
):
    """PostgreSQL computes a row's values in its table's order, whatever the order of the job's
    columns: the first refused one in that order is named, with the database's words about it."""
    sql(MOODS)
    sql("CREATE TABLE events (id bigint PRIMARY KEY, mood mood, payload jsonb, tag uuid)")
    frame = pl.DataFrame(
        {
            "id": [1, 2, 3],
            "tag": ["nope", "nope", "0b5c4d52-6d4b-4a61-9b3a-6e0f3a3c1b2d"],
            "payload": ["{}", "[", "[1]"],
            "mood": ["angry", "ok", "sad"],
            "_row": [0, 1, 2],
        }
    )
    t = PostgresTarget(schema[1])
    (result,) = applied(t, ChunkWrite(**{operation: frame}), prepared=True)
    t.close()
    assert result.refused == [
        Refusal(0, "column mood = 'angry': invalid input value for enum mood: \"angry\"", "mood", "angry"),
        Refusal(
            1,
            "column payload = '[': invalid input syntax for type json: The input string ended unexpectedly.",
            "payload",
            "[",
        ),
    ]
    assert sql("SELECT id FROM events") == [(3,)]


@pytest.mark.parametrize("operation", ["inserts", "upserts"])
def test_nulls_and_values_a_domain_refuses_are_each_refused_with_the_domain_s_words(schema, sql, operation):
    """A null the domain refuses is the domain column's (the row's key column was named, as a copy
    of the table given the key alone refused it too)."""
    sql("CREATE DOMAIN code AS varchar(3) NOT NULL CHECK (VALUE <> 'xxx')")
    sql("CREATE TABLE events (id bigint PRIMARY KEY, payload jsonb, code code)")
    frame = pl.DataFrame(
        {
            "id": [1, 2, 3, 4, 5, 6],
            "payload": ["{}", "{}", "[]", "{}", "{}", "1"],
            "code": ["abc", None, "xxx", "abcd", None, "ok"],
            "_row": [0, 1, 2, 3, 4, 5],
        }
    )
    t = PostgresTarget(schema[1])
    (result,) = applied(t, ChunkWrite(**{operation: frame}), prepared=True)
    t.close()
    assert result.refused == [
        Refusal(1, "column code = null: domain code does not allow null values", "code", None),
        Refusal(
            2,
            "column code = 'xxx': value for domain code violates check constraint \"code_check\"",
            "code",
            "xxx",
        ),
        Refusal(3, "column code = 'abcd': value too long for type character varying(3)", "code", "abcd"),
        Refusal(4, "column code = null: domain code does not allow null values", "code", None),
    ]
    assert sql("SELECT id FROM events ORDER BY id") == [(1,), (6,)]
