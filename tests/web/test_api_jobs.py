"""The REST API for jobs, against a real SQLite store: every route, role and refused transition."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from impex.domain.journal import Level
from impex.domain.roles import Role
from impex.domain.status import OPERATOR_ACTIONS, TRANSITIONS, A, IllegalTransition, S
from impex.store.store import Store
from impex.store.users import Users
from impex.web.app import create_app
from pg_support import fresh_schema
from support import run_job, write
from web.conftest import PEOPLE, assert_error, import_definition
from web.test_auth import login

ROUTES = [
    ("GET", "/api/jobs"),
    ("POST", "/api/jobs"),
    ("GET", "/api/jobs/1"),
    ("POST", "/api/jobs/1/start"),
    ("POST", "/api/jobs/1/pause"),
    ("POST", "/api/jobs/1/cancel"),
    ("GET", "/api/jobs/1/journal"),
    ("GET", "/api/jobs/1/journal/stream"),
    ("GET", "/api/jobs/1/rejects"),
    ("GET", "/api/jobs/1/rejects/download"),
    ("GET", "/api/jobs/1/output"),
    ("GET", "/api/me"),
    ("POST", "/api/tokens"),
    ("GET", "/api/users"),
    ("POST", "/api/users"),
    ("GET", "/api/connections"),
    ("POST", "/api/connections/default/check"),
]
OPERATOR_ROUTES = [r for r in ROUTES if r[0] == "POST" and r[1].startswith("/api/jobs")]
ADMIN_ROUTES = [
    ("GET", "/api/users"),
    ("POST", "/api/users"),
    ("GET", "/api/connections"),
    ("POST", "/api/connections/default/check"),
]


def create(client, definition=None, *, start=False) -> dict:
    response = client.post(
        "/api/jobs", json={"definition": definition or import_definition(), "start": start}
    )
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
def people(web):
    return write(web.files / "people.csv", PEOPLE)


def test_the_openapi_document_lists_every_route(web):
    paths = web.client().get("/api/openapi.json").json()["paths"]
    for _method, path in ROUTES:
        assert path.replace("/1", "/{job_id}").replace("/default/", "/{name}/") in paths


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_every_route_refuses_an_anonymous_caller_with_401(web, method, path):
    assert_error(web.client().request(method, path), 401, "unauthorized")


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_an_unknown_token_is_401_on_every_route(web, method, path):
    client = web.client(Authorization="Bearer impex_not-a-token")
    assert_error(client.request(method, path), 401, "invalid_token")


@pytest.mark.parametrize(("method", "path"), OPERATOR_ROUTES + ADMIN_ROUTES)
def test_a_viewer_may_not_change_anything(api, method, path):
    error = assert_error(api["viewer"].request(method, path, json={}), 403, "forbidden")
    assert error["details"]["role"] == "viewer"


@pytest.mark.parametrize(("method", "path"), ADMIN_ROUTES)
def test_an_operator_may_not_manage_users(api, method, path):
    assert_error(api["operator"].request(method, path, json={}), 403, "forbidden")


def test_an_operator_creates_a_draft_and_the_journal_names_them(api, people):
    job = create(api["operator"])
    assert (job["status"], job["owner"], job["actions"]) == ("editing", "operator", ["start"])
    assert job["definition"]["source"] == str(people.resolve())
    lines = api["viewer"].get(f"/api/jobs/{job['id']}/journal").json()["items"]
    assert [(line["code"], line["actor"]) for line in lines] == [("job.created", "operator")]


def test_creating_with_start_queues_the_job(api, people):
    job = create(api["operator"], start=True)
    assert job["status"] == "queued"
    assert job["run"]["run_no"] == 1


def test_a_bad_definition_is_422_naming_each_bad_key(api):
    definition = import_definition(chunk_rows=0, colour="red")
    error = assert_error(api["operator"].post("/api/jobs", json={"definition": definition}), 422)
    assert error["code"] == "invalid_definition"
    assert any("chunk_rows" in line for line in error["details"])
    assert any("colour: unknown key" in line for line in error["details"])


def test_a_body_that_is_not_a_definition_is_422(api):
    error = assert_error(api["operator"].post("/api/jobs", json={"start": "soon"}), 422, "validation_error")
    assert {d["location"] for d in error["details"]} >= {"body.definition", "body.start"}


@pytest.mark.parametrize("source", ["/etc/passwd", "../../outside.csv", "sub/../../escape.csv"])
def test_files_outside_the_configured_folders_are_refused(api, web, source):
    response = api["operator"].post("/api/jobs", json={"definition": import_definition(source)})
    details = assert_error(response, 422, "path_not_allowed")["details"]
    assert details == {"path": source, "folders": [str(web.files.resolve())]}


def test_export_files_are_confined_too(api):
    definition = {"kind": "export", "name": "e", "source": {"table": "t"}, "output": "/tmp/x.csv"}
    assert_error(api["operator"].post("/api/jobs", json={"definition": definition}), 422, "path_not_allowed")


@pytest.mark.parametrize("name", ["..", ".", "../..", ". ."])
def test_an_export_named_after_a_parent_folder_still_writes_inside_the_configured_folders(
    api, web, store, settings, name
):
    with sqlite3.connect(settings.data_path / "data.db") as c:
        c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
        c.execute("INSERT INTO t VALUES (1)")
    definition = {"kind": "export", "name": name, "source": {"table": "t"}, "output": "{job}/out.csv"}
    job_id = create(api["operator"], definition, start=True)["id"]
    assert run_job(store, settings, job_id)[0] is S.FINISHED
    written = Path(store.runs_of(job_id)[-1].output_path).resolve()
    assert written.read_text() == "id\n1\n"
    assert written.parent.parent == web.files  # in a folder named after the job, as the template says
    assert list(web.files.parent.rglob("out.csv")) == [written]


@pytest.mark.parametrize(
    "source",
    [{"query": "select 1"}, {"table": "t", "filter": "id IN (SELECT count(*) FROM sqlite_master)"}],
    ids=["query", "row-filter"],
)
def test_only_an_admin_may_run_sql_of_their_own_in_an_export(api, settings, source):
    with sqlite3.connect(settings.data_path / "data.db") as db:
        db.execute("CREATE TABLE t (id INTEGER)")
    definition = {"kind": "export", "name": "q", "source": source, "output": "q.csv"}
    response = api["operator"].post("/api/jobs", json={"definition": definition})
    assert assert_error(response, 403, "forbidden")["details"] == {"needed": "admin"}
    assert api["admin"].post("/api/jobs", json={"definition": definition}).status_code == 201
    plain = {**definition, "source": {"table": "t", "columns": ["id"], "order_by": ["id"]}}
    assert api["operator"].post("/api/jobs", json={"definition": plain}).status_code == 201


def test_a_bad_table_name_is_refused_before_any_sql(api):
    definition = import_definition(target={"table": "people; drop table x"})
    assert_error(
        api["operator"].post("/api/jobs", json={"definition": definition}), 422, "invalid_definition"
    )


def test_the_list_filters_sorts_and_pages(api, people):
    op = api["operator"]
    a = create(op, import_definition(name="alpha contacts"))
    b = create(op, import_definition(name="beta orders"), start=True)
    c = create(api["admin"], import_definition(name="gamma contacts"))
    viewer = api["viewer"]

    def ids(**params) -> list[int]:
        return [j["id"] for j in viewer.get("/api/jobs", params=params).json()["items"]]

    assert ids() == [c["id"], b["id"], a["id"]]
    assert ids(status="queued") == [b["id"]]
    assert ids(status=["queued", "editing"], sort="id", order="asc") == [a["id"], b["id"], c["id"]]
    assert ids(owner="admin") == [c["id"]]
    assert ids(q="CONTACTS") == [c["id"], a["id"]]
    assert ids(kind="export") == []
    assert ids(sort="name", order="asc") == [a["id"], b["id"], c["id"]]
    page = viewer.get("/api/jobs", params={"limit": 2, "offset": 2}).json()
    assert (page["total"], [j["id"] for j in page["items"]]) == (3, [a["id"]])
    assert_error(viewer.get("/api/jobs", params={"status": "sleeping"}), 422, "validation_error")
    assert_error(viewer.get("/api/jobs", params={"limit": 0}), 422, "validation_error")


def test_reading_one_job_gives_definition_status_runs_and_counters(api, people):
    job = create(api["operator"], start=True)
    body = api["viewer"].get(f"/api/jobs/{job['id']}").json()
    assert body["status"] == "queued" and body["status_label"] == "Queued"
    assert body["definition"]["name"] == "people"
    assert [r["run_no"] for r in body["runs"]] == [1]
    assert body["run"]["counters"]["read"] == 0
    assert set(body["run"]["progress"]) == {"fraction", "rate", "eta_seconds", "bytes_done", "bytes_total"}


def test_labels_follow_the_callers_language(api, people):
    job = create(api["operator"], start=True)
    body = api["viewer"].get(f"/api/jobs/{job['id']}", headers={"Accept-Language": "nl-BE,nl;q=0.9"}).json()
    assert body["status_label"] == "In wachtrij"


def test_an_unknown_job_is_404_on_every_job_route(api):
    for method, path in ROUTES:
        if path.startswith("/api/jobs/1"):
            response = api["admin"].request(method, path.replace("/1", "/999", 1))
            assert assert_error(response, 404, "job_not_found")["details"] == {"job_id": 999}


def reach(store, job_id: int, status: S) -> None:
    """Drive a job to ``status`` through the store, as the operator and a worker would."""
    via_running = {S.PAUSING: A.PAUSE, S.CANCELING: A.CANCEL, S.FINISHED: A.FINISH}
    via_running |= {S.FINISHED_WITH_ERRORS: A.FAIL, S.SERVER_SHUTDOWN: A.SHUTDOWN}
    if status is S.EDITING:
        return
    store.transition(job_id, A.START, actor="t")
    if status is S.PAUSED:
        store.transition(job_id, A.PAUSE, actor="t")
    elif status is S.CANCELED:
        store.transition(job_id, A.CANCEL, actor="t")
    elif status is not S.QUEUED:
        store.claim_job(job_id, "w", 60)
        if status in via_running:
            store.transition(job_id, via_running[status], actor="t")
    assert store.status_of(job_id) is status


@pytest.mark.parametrize("status", list(S))
@pytest.mark.parametrize("action", OPERATOR_ACTIONS)
def test_each_button_follows_the_transition_table(api, store, people, status, action):
    job_id = create(api["operator"])["id"]
    reach(store, job_id, status)
    response = api["operator"].post(f"/api/jobs/{job_id}/{action.value}")
    if (action, status) in TRANSITIONS:
        assert response.status_code == 200, response.text
        assert response.json()["status"] == TRANSITIONS[(action, status)].value
        line = api["viewer"].get(f"/api/jobs/{job_id}/journal", params={"tail": True, "limit": 1}).json()
        assert line["items"][0]["params"]["by"] == "operator"
    else:
        error = assert_error(response, 409, "illegal_transition")
        assert error["message"] == str(IllegalTransition(job_id, action, status))
        assert error["details"] == {"job_id": job_id, "action": action.value, "status": status.value}
        assert store.status_of(job_id) is status


def test_an_unknown_action_is_404(api, people):
    job_id = create(api["operator"])["id"]
    assert_error(api["operator"].post(f"/api/jobs/{job_id}/explode"), 404)


def test_the_journal_pages_filters_by_level_and_tails(api, store, people):
    job_id = create(api["operator"])["id"]
    for action in ("start", "pause", "start", "cancel"):
        api["operator"].post(f"/api/jobs/{job_id}/{action}")
    store.log(job_id, None, Level.ERROR, "run.error", {"error": "boom"}, "worker w")
    viewer = api["viewer"]
    first = viewer.get(f"/api/jobs/{job_id}/journal", params={"limit": 2}).json()
    assert [line["code"] for line in first["items"]] == ["job.created", "job.transition"]
    rest = viewer.get(f"/api/jobs/{job_id}/journal", params={"after": first["next_after"]}).json()
    assert len(rest["items"]) == 4
    errors = viewer.get(f"/api/jobs/{job_id}/journal", params={"level": "error"}).json()["items"]
    assert [(e["code"], e["text"]) for e in errors] == [("run.error", "Technical error: boom")]
    tail = viewer.get(f"/api/jobs/{job_id}/journal", params={"tail": True, "limit": 1}).json()["items"]
    assert tail[0]["code"] == "run.error"
    german = viewer.get(f"/api/jobs/{job_id}/journal", headers={"Accept-Language": "de"}).json()["items"]
    assert german[2]["text"] == "Pause durch operator: In Warteschlange → Ausgesetzt"


@pytest.mark.parametrize("job_id", ["99999999999999999999", "0", "-3"])
def test_a_job_id_no_job_can_have_is_not_found(api, web, job_id):
    assert_error(api["viewer"].get(f"/api/jobs/{job_id}"), 404, "job_not_found")
    page = web.client(Accept="text/html")
    login(page, "viewer")
    assert page.get(f"/jobs/{job_id}").status_code == 404


PAST_64_BITS = str(2**63)


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        ("/api/jobs", "offset"),
        ("/api/jobs/{job}/journal", "after"),
        ("/api/jobs/{job}/rejects", "offset"),
        ("/api/jobs/{job}/rejects", "after"),
    ],
)
def test_a_number_past_64_bits_is_422_naming_the_parameter(api, people, path, parameter):
    job = create(api["operator"], start=True)
    response = api["viewer"].get(path.format(job=job["id"]), params={parameter: PAST_64_BITS})
    error = assert_error(response, 422, "validation_error")
    assert [d["location"] for d in error["details"]] == [f"query.{parameter}"]
    spec = api["viewer"].get("/api/openapi.json").json()
    documented = {
        p["name"]: p["schema"] for p in spec["paths"][path.replace("{job}", "{job_id}")]["get"]["parameters"]
    }
    schema = documented[parameter]
    assert [s.get("maximum") for s in schema.get("anyOf", [schema]) if s["type"] == "integer"] == [2**63 - 1]


def no_job_saved(api) -> bool:
    return api["viewer"].get("/api/jobs").json()["total"] == 0


@pytest.mark.parametrize(
    ("source", "code", "said"),
    [
        ("nothere.csv", "source_not_found", "source file not found"),
        ("a-folder", "source_not_a_file", "the source is a folder, not a data file"),
        ("a-pipe", "source_not_a_file", "the source is a named pipe (FIFO), not a file"),
    ],
)
def test_an_import_of_a_source_it_could_not_read_is_422_and_saves_no_job(api, web, source, code, said):
    (web.files / "a-folder").mkdir()
    os.mkfifo(web.files / "a-pipe")
    for start in (False, True):
        response = api["operator"].post(
            "/api/jobs", json={"definition": import_definition(source), "start": start}
        )
        error = assert_error(response, 422, code)
        path = str(web.files.resolve() / source)
        assert error["message"].startswith(f"{path}: {said}")
        assert error["details"] == {"source": path}
    assert no_job_saved(api)


@pytest.mark.parametrize(
    ("source", "said"),
    [
        ({"table": "nosuch"}, "source table nosuch does not exist in data.db"),
        ({"table": "people", "columns": ["age"]}, "source table people has no column(s) age"),
        ({"query": "SELECT age FROM people"}, "no such column: age"),
        # the row filter is planned with the rest: it was saved, and its run ended with errors
        ({"table": "people", "filter": "age > 18"}, "no such column: age"),
    ],
)
def test_an_export_of_a_source_it_could_not_read_is_422_and_saves_no_job(api, settings, source, said):
    with sqlite3.connect(settings.data_path / "data.db") as db:
        db.execute("CREATE TABLE people (id INTEGER, name TEXT)")
    definition = {"kind": "export", "name": "e", "source": source, "output": "out.csv"}
    error = assert_error(
        api["admin"].post("/api/jobs", json={"definition": definition}), 422, "source_unreadable"
    )
    assert said in error["message"]
    assert error["details"] == {"connection": "default"}
    assert no_job_saved(api)


@pytest.mark.parametrize(
    ("definition", "key"),
    [
        (import_definition(name="people\x00"), "name"),
        (import_definition("peo\x00ple.csv"), "source"),
        (
            import_definition(target={"table": "people"}, format={"null_values": ["", "N\x00A"]}),
            "format.null_values[1]",
        ),
        ({"kind": "export", "name": "e", "source": {"table": "people"}, "output": "o\x00.csv"}, "output"),
        (
            {"kind": "export", "name": "e", "source": {"query": 'select 1 as "a\x00"'}, "output": "o.csv"},
            "source.query",
        ),
    ],
    ids=["name", "import-source", "null-value", "output", "query"],
)
def test_a_nul_character_anywhere_in_a_definition_is_422_naming_its_key(api, people, definition, key):
    # a PostgreSQL store cannot hold one, and no file path or SQL has one
    error = assert_error(
        api["admin"].post("/api/jobs", json={"definition": definition}), 422, "invalid_definition"
    )
    assert error["details"] == [f"definition: {key}: a NUL character (\\x00) is not allowed"]
    assert no_job_saved(api)


@pytest.fixture
def on_postgres(settings):
    """Operator and viewer clients of an app whose store is a fresh PostgreSQL schema."""
    with fresh_schema() as url:
        store = Store.open(url)
        users = Users(store.engine)
        clients = {}
        for role in (Role.OPERATOR, Role.VIEWER):
            token = users.create_token(users.create(role.value, "correct horse battery", role).id, "t")
            clients[role.value] = TestClient(
                create_app(settings, store), headers={"Authorization": f"Bearer {token}"}
            )
        yield clients
        store.close()


@pytest.mark.parametrize(
    ("method", "path", "sent", "location"),
    [
        ("GET", "/api/jobs", {"params": {"q": "a\x00"}}, "query.q"),
        ("GET", "/api/jobs", {"params": {"owner": "a\x00"}}, "query.owner"),
        ("GET", "/api/jobs/1/rejects", {"params": {"reason": "a\x00"}}, "query.reason"),
        ("GET", "/api/jobs/1/rejects", {"params": {"column": "a\x00"}}, "query.column"),
        ("GET", "/api/jobs/1/rejects/download", {"params": {"column": "a\x00"}}, "query.column"),
        ("POST", "/api/tokens", {"json": {"label": "a\x00"}}, "body.label"),
    ],
)
def test_a_nul_character_in_a_parameter_is_422_naming_it_even_on_postgresql(
    on_postgres, method, path, sent, location
):
    response = on_postgres["operator"].request(method, path, **sent)
    error = assert_error(response, 422, "validation_error")
    assert error["details"][0]["location"] == location
    assert "a NUL character (\\x00) is not allowed" in error["message"]


@pytest.mark.parametrize(("output", "kind"), [("a-folder", "a folder"), ("a-pipe", "a named pipe (FIFO)")])
def test_an_export_to_a_folder_or_a_pipe_is_422_and_saves_no_job(api, web, settings, output, kind):
    with sqlite3.connect(settings.data_path / "data.db") as db:
        db.execute("CREATE TABLE people (id INTEGER)")
    (web.files / "a-folder").mkdir()
    os.mkfifo(web.files / "a-pipe")
    definition = {"kind": "export", "name": "e", "source": {"table": "people"}, "output": output}
    response = api["operator"].post("/api/jobs", json={"definition": definition})
    error = assert_error(response, 422, "output_not_a_file")
    path = str(web.files.resolve() / output)
    assert error["message"].startswith(f"cannot write the export file {path}: it is {kind}, not a file")
    assert error["details"] == {"output": path}
    assert no_job_saved(api)


@pytest.mark.parametrize(
    ("path", "methods"),
    [
        ("/api/jobs", {"GET", "POST"}),
        ("/api/users", {"GET", "POST"}),
        ("/api/jobs/1/start", {"POST"}),
    ],
)
def test_a_method_a_resource_lacks_is_405_listing_every_method_it_has(api, path, methods):
    response = api["admin"].request("DELETE", path)
    assert_error(response, 405, "method_not_allowed")
    assert set(response.headers["allow"].split(", ")) == methods


def test_an_import_of_a_file_that_is_not_text_is_422_naming_its_first_binary_byte(api, web):
    (web.files / "people.csv").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    response = api["operator"].post("/api/jobs", json={"definition": import_definition(), "start": True})
    error = assert_error(response, 422, "source_not_text")
    path = str(web.files.resolve() / "people.csv")
    assert error["message"].startswith(f"{path}: not a text file: byte 0x00 at line 3, column 1")
    assert error["details"] == {"source": path, "byte": "0x00", "line": 3, "column": 1}
    assert no_job_saved(api)


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/jobs", {"q": "a\x00"}),
        ("/jobs/rows", {"owner": "a\x00"}),
        ("/jobs/1", {"tab": "rejects", "column": "a\x00"}),
        ("/jobs/1/rejects", {"run": "1", "reason": "a\x00"}),
    ],
)
def test_a_nul_character_in_a_pages_query_is_422_not_500_on_postgresql(on_postgres, path, params):
    response = on_postgres["viewer"].get(path, params=params, headers={"Accept": "text/html"})
    assert response.status_code == 422, response.text[:300]
    assert "NUL" in response.text
