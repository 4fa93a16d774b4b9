"""The store persists transitions as guarded writes, each with its journal line."""

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from impex.domain.counters import Counters
from impex.domain.rejects import Reason, Reject, said
from impex.domain.status import A, IllegalTransition, S
from impex.store import migrate
from impex.store.connect import create_store_engine
from impex.store.errors import StoreUnavailable
from impex.store.schema import metadata
from impex.store.store import JobNotFound, Store

DEFINITION = {"kind": "import", "name": "contacts", "queue": "default"}


def test_a_new_job_is_editing_with_a_journal_line(store):
    job_id = store.create_job(DEFINITION, owner="ana", actor="ana")
    assert store.status_of(job_id) is S.EDITING
    [line] = store.journal_lines(job_id)
    assert (line.code, line.actor) == ("job.created", "ana")


def test_start_creates_run_one_and_journals_who_did_it(store):
    job_id = store.create_job(DEFINITION)
    t = store.transition(job_id, A.START, actor="ana")
    assert (t.source, t.target) == (S.EDITING, S.QUEUED)
    [run] = store.runs_of(job_id)
    assert run.run_no == 1
    line = store.journal_lines(job_id)[-1]
    assert line.params == {"action": "start", "by": "ana", "source": "editing", "target": "queued"}
    assert line.text == "start by ana: editing → queued"


def test_an_illegal_action_is_refused_and_changes_nothing(store):
    job_id = store.create_job(DEFINITION)
    store.transition(job_id, A.START, actor="ana")
    store.claim_next("w", ["default"], 30)
    store.transition(job_id, A.FINISH, actor="w")
    lines_before = len(store.journal_lines(job_id))
    with pytest.raises(IllegalTransition, match=r"cannot pause job \d+: it is finished"):
        store.transition(job_id, A.PAUSE, actor="ana")
    assert store.status_of(job_id) is S.FINISHED
    assert len(store.journal_lines(job_id)) == lines_before


def test_starting_a_finished_job_begins_a_new_run_and_keeps_the_old_one(store):
    job_id = store.create_job(DEFINITION)
    store.transition(job_id, A.START, actor="ana")
    first = store.claim_next("w", ["default"], 30)
    store.add_rejects(first.run.id, [Reject(1, 2, b"x", Reason.TYPE_ERROR, "a", "x", "bad")])
    store.transition(job_id, A.FINISH, actor="w")
    store.transition(job_id, A.START, actor="ana")
    runs = store.runs_of(job_id)
    assert [r.run_no for r in runs] == [1, 2]
    assert runs[0].outcome is S.FINISHED and runs[1].outcome is None
    assert len(store.rejects_of(runs[0].id)) == 1


def test_resuming_a_paused_job_continues_the_same_run(store):
    job_id = store.create_job(DEFINITION)
    store.transition(job_id, A.START, actor="ana")
    store.claim_next("w", ["default"], 30)
    store.transition(job_id, A.PAUSE, actor="ana")
    store.transition(job_id, A.CHUNK_BOUNDARY_PAUSE, actor="w")
    store.transition(job_id, A.START, actor="ana")
    assert len(store.runs_of(job_id)) == 1


def test_unknown_job_is_reported_by_id(store):
    with pytest.raises(JobNotFound, match="no job 42"):
        store.transition(42, A.START, actor="ana")


def test_the_guard_refuses_a_write_when_another_process_changed_the_status_first(store):
    job_id = store.create_job(DEFINITION)
    store.transition(job_id, A.START, actor="ana")
    with store.engine.begin() as c:  # as if another process canceled it meanwhile
        c.execute(sa.text("UPDATE jobs SET status='canceled' WHERE id=:i"), {"i": job_id})
    with pytest.raises(IllegalTransition):
        store.transition(job_id, A.PAUSE, actor="ana")


def test_rejects_are_keyed_by_run_and_record_so_a_replay_stores_nothing_twice(store):
    job_id = store.create_job(DEFINITION)
    store.transition(job_id, A.START, actor="ana")
    claim = store.claim_next("w", ["default"], 30)
    batch = [Reject(n, n + 1, b"raw", Reason.TOO_LONG, "c", "v", "m") for n in (3, 5)]
    store.add_rejects(claim.run.id, batch)
    store.add_rejects(claim.run.id, batch)
    assert [r.record_no for r in store.rejects_of(claim.run.id)] == [3, 5]
    store.drop_rejects_after(claim.run.id, 3)
    assert [r.record_no for r in store.rejects_of(claim.run.id)] == [3]


def test_counters_are_set_not_added(store):
    job_id = store.create_job(DEFINITION)
    store.transition(job_id, A.START, actor="ana")
    claim = store.claim_next("w", ["default"], 30)
    store.record_progress(claim.run.id, Counters(read=10, inserted=9, rejected=1))
    store.record_progress(claim.run.id, Counters(read=10, inserted=9, rejected=1))
    assert store.run(claim.run.id).counters == Counters(read=10, inserted=9, rejected=1)


def test_a_job_whose_worker_stopped_heartbeating_is_queued_again(store):
    job_id = store.create_job(DEFINITION)
    store.transition(job_id, A.START, actor="ana")
    store.claim_next("w", ["default"], lease_seconds=-1)  # already expired
    recovered = store.recover(actor="worker x", include_shutdown=False)
    assert [(r.job_id, r.transition.target, r.previous_worker) for r in recovered] == [
        (job_id, S.QUEUED, "w")
    ]


def test_a_live_lease_is_left_alone(store):
    job_id = store.create_job(DEFINITION)
    store.transition(job_id, A.START, actor="ana")
    store.claim_next("w", ["default"], lease_seconds=60)
    assert store.recover(actor="worker x", include_shutdown=True) == []
    assert store.status_of(job_id) is S.RUNNING


def test_migrations_produce_exactly_the_declared_schema(store_url):
    engine = create_store_engine(store_url)
    try:
        migrate.upgrade_by_migrations(engine)
        with engine.connect() as c:
            assert compare_metadata(MigrationContext.configure(c), metadata) == []
        assert migrate.current_revision(engine) == migrate.HEAD
    finally:
        engine.dispose()


def test_a_new_store_is_created_with_the_declared_schema_at_the_head_revision(store):
    """Created at once rather than migrated step by step: the same schema, and later migrations
    start from HEAD."""
    with store.engine.connect() as c:
        assert compare_metadata(MigrationContext.configure(c), metadata) == []
    assert migrate.current_revision(store.engine) == migrate.HEAD


def test_opening_the_store_twice_keeps_its_identity(store_url):
    first = Store.open(store_url)
    second = Store.open(store_url)
    try:
        assert first.store_id == second.store_id
    finally:
        first.close()
        second.close()


def test_the_known_head_is_the_newest_migration(store):
    with store.engine.connect() as c:
        head = ScriptDirectory.from_config(migrate.alembic_config(c)).get_current_head()
    assert head == migrate.HEAD
    assert migrate.current_revision(store.engine) == migrate.HEAD


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://impex:S3cret@127.0.0.1:9/impex",
        "postgresql://impex@127.0.0.1:9/impex?sslmode=disable&password=S3cret",
    ],
)
def test_a_store_that_cannot_be_opened_is_named_without_its_password(url):
    with pytest.raises(StoreUnavailable) as refused:
        Store.open(url)
    message = str(refused.value)
    assert message.startswith("cannot open the store postgresql://impex")
    assert "***" in message
    assert "S3cret" not in message


def test_a_store_whose_folder_cannot_be_made_is_refused_saying_why(tmp_path):
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(StoreUnavailable) as refused:
        Store.open(f"sqlite:///{tmp_path / 'file' / 'data' / 'impex.db'}")
    assert str(refused.value).endswith(f"Not a directory: {tmp_path / 'file' / 'data'}")


def test_upgrading_a_store_with_rejects_from_0003_keeps_them_with_their_english_message_and_no_code(
    store_url,
):
    engine = create_store_engine(store_url)
    try:
        with engine.begin() as c:
            command.upgrade(migrate.alembic_config(c), "0003")
            job = "INSERT INTO jobs (name, kind, definition, status, created_at, updated_at) "
            c.execute(sa.text(job + "VALUES ('old', 'import', '{}', 'finished', 0, 0)"))
            c.execute(sa.text("INSERT INTO runs (job_id, run_no, created_at) VALUES (1, 1, 0)"))
            c.execute(
                sa.text(
                    "INSERT INTO rejects (run_id, record_no, line_no, raw, reason, column_name, value, "
                    "message) VALUES (1, 2, 3, :raw, 'type_error', 'age', 'x', :message)"
                ),
                {"raw": b"2,Bob,x", "message": "line 3: column age: 'x' is not an integer"},
            )
    finally:
        engine.dispose()
    store = Store.open(store_url)
    try:
        assert migrate.current_revision(store.engine) == migrate.HEAD
        [old] = store.rejects_of(1)
        assert (old.message, old.code, old.params) == (
            "line 3: column age: 'x' is not an integer",
            None,
            None,
        )
        params = {"line": 5, "column": "age", "value": "y"}
        store.add_rejects(
            1, [said(4, 5, b"4,Di,y", Reason.TYPE_ERROR, "age", "y", "type_error.integer", params)]
        )
        new = store.rejects_of(1, after_record=2)[0]
        assert new.message == "line 5: column age: 'y' is not an integer"
        assert (new.code, new.params) == ("type_error.integer", params)
    finally:
        store.close()
