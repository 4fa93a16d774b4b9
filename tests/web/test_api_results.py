"""Rejects, result files and the journal stream of jobs that really ran."""

from __future__ import annotations

import csv
import io
import sqlite3

import pytest

from impex.domain.journal import Level
from impex.domain.status import S
from impex.engine.worker import Worker
from support import write
from web.conftest import PEOPLE, assert_error, import_definition


def run(store, settings, job_id: int) -> S | None:
    return Worker(store, settings, concurrency=1).run_one(job_id)


@pytest.fixture
def finished_import(api, store, settings, web):
    write(web.files / "people.csv", PEOPLE)
    job = api["operator"].post("/api/jobs", json={"definition": import_definition(), "start": True}).json()
    assert run(store, settings, job["id"]) is S.FINISHED
    return job["id"]


def test_a_finished_import_shows_its_counters(api, finished_import):
    body = api["viewer"].get(f"/api/jobs/{finished_import}").json()
    assert body["status"] == "finished"
    assert body["run"]["counters"]["read"] == 5
    assert body["run"]["counters"]["inserted"] == 3
    assert body["run"]["counters"]["rejected"] == 2
    assert body["run"]["progress"]["fraction"] == 1.0


def test_rejects_are_paged_and_filtered(api, finished_import):
    viewer = api["viewer"]
    page = viewer.get(f"/api/jobs/{finished_import}/rejects").json()
    assert page["total"] == 2 and page["run"] == 1
    assert [(r["line_no"], r["column"], r["value"]) for r in page["items"]] == [
        (3, "age", "x"),
        (5, "age", "forty"),
    ]
    assert page["items"][0]["raw"] == "2,Bob,x"
    assert page["reasons"] == ["type_error"] and page["columns"] == ["age"]
    second = viewer.get(f"/api/jobs/{finished_import}/rejects", params={"limit": 1, "offset": 1}).json()
    assert [r["record_no"] for r in second["items"]] == [4]
    assert viewer.get(f"/api/jobs/{finished_import}/rejects", params={"column": "id"}).json()["total"] == 0
    assert (
        viewer.get(f"/api/jobs/{finished_import}/rejects", params={"reason": "type_error"}).json()["total"]
        == 2
    )
    assert_error(viewer.get(f"/api/jobs/{finished_import}/rejects", params={"run": 7}), 404, "no_run")


def test_a_reject_gives_its_message_code_parameters_and_text_in_the_callers_language(api, finished_import):
    german = api["viewer"].get(f"/api/jobs/{finished_import}/rejects", headers={"Accept-Language": "de"})
    first = german.json()["items"][0]
    assert first["message"] == "line 3: column age: 'x' is not an integer"  # as the CLI shows it
    assert first["message_code"] == "type_error.integer"
    assert first["message_params"] == {"line": 3, "column": "age", "value": "x"}
    assert first["text"] == "Zeile 3: Spalte age: 'x' ist keine ganze Zahl"


def test_rejects_download_in_the_source_format_with_a_reason_column(api, finished_import):
    response = api["viewer"].get(f"/api/jobs/{finished_import}/rejects/download")
    assert response.status_code == 200
    assert 'filename="job-1-run-1-rejects.csv"' in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["id", "name", "age", "reason"]
    assert rows[1][:3] == ["2", "Bob", "x"] and rows[1][3].startswith("type_error")
    assert len(rows) == 3


def test_rejects_download_closes_a_quote_the_source_left_open_so_each_reason_is_a_field(
    api, store, settings, web
):
    write(web.files / "people.csv", 'id,name,age\n1,Ann,30\n2,"Bob,x\n3,Cy,y\n4,Di,"z"\n')
    job = api["operator"].post("/api/jobs", json={"definition": import_definition(), "start": True}).json()
    run(store, settings, job["id"])
    rows = list(csv.reader(io.StringIO(api["viewer"].get(f"/api/jobs/{job['id']}/rejects/download").text)))
    assert [row[:-1] for row in rows[1:]] == [["2", "Bob,x"], ["3", "Cy", "y"], ["4", "Di", "z"]]
    assert [row[-1].split(":")[0] for row in rows[1:]] == ["unterminated_quote", "type_error", "type_error"]
    assert "the export added a closing quote" in rows[1][-1]


MIXED = "id,name,age\n1,Ann,30\n2,Bob,x\n,Cy,40\n4,Di,forty\nfive,Ed,50\n"


@pytest.mark.parametrize(
    ("filters", "records"),
    [
        ({"reason": "type_error", "column": "age"}, ["2,Bob,x", "4,Di,forty"]),
        ({"reason": "type_error"}, ["2,Bob,x", "4,Di,forty", "five,Ed,50"]),
        ({"column": "id"}, [",Cy,40", "five,Ed,50"]),
        ({"reason": "", "column": ""}, ["2,Bob,x", ",Cy,40", "4,Di,forty", "five,Ed,50"]),  # "All"
        ({"reason": "too_long"}, []),
    ],
)
def test_rejects_download_takes_the_reason_and_column_filters_of_the_rejects_tab(
    api, store, settings, web, filters, records
):
    write(web.files / "people.csv", MIXED)
    job = api["operator"].post("/api/jobs", json={"definition": import_definition(), "start": True}).json()
    run(store, settings, job["id"])
    response = api["viewer"].get(f"/api/jobs/{job['id']}/rejects/download", params=filters)
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["id", "name", "age", "reason"]
    assert [",".join(row[:-1]) for row in rows[1:]] == records


def test_a_job_that_never_ran_has_no_rejects_yet(api, web):
    write(web.files / "people.csv", PEOPLE)
    job_id = api["operator"].post("/api/jobs", json={"definition": import_definition()}).json()["id"]
    assert_error(api["viewer"].get(f"/api/jobs/{job_id}/rejects"), 404, "no_run")


def test_an_export_result_can_be_downloaded(api, store, settings, finished_import):
    definition = {
        "kind": "export",
        "name": "out",
        "source": {"table": "people", "order_by": ["id"]},
        "output": "out.csv",
    }
    job = api["operator"].post("/api/jobs", json={"definition": definition, "start": True}).json()
    assert_error(api["viewer"].get(f"/api/jobs/{job['id']}/output"), 404, "no_output")
    assert run(store, settings, job["id"]) is S.FINISHED
    response = api["viewer"].get(f"/api/jobs/{job['id']}/output")
    assert response.status_code == 200
    assert response.text.splitlines() == ["id,name,age", "1,Ann,30", "3,Cy,40", "5,Ed,50"]
    assert_error(api["viewer"].get(f"/api/jobs/{job['id']}/rejects/download"), 409, "not_an_import")
    assert_error(api["viewer"].get(f"/api/jobs/{finished_import}/output"), 409, "not_an_export")


def test_an_export_file_a_later_export_replaced_or_a_failed_run_is_not_served(
    api, store, settings, finished_import
):
    definition = {"kind": "export", "name": "out", "source": {"table": "people"}, "output": "out.csv"}
    first = api["operator"].post("/api/jobs", json={"definition": definition, "start": True}).json()["id"]
    assert run(store, settings, first) is S.FINISHED
    narrower = {**definition, "source": {"table": "people", "columns": ["id"]}}
    second = api["operator"].post("/api/jobs", json={"definition": narrower, "start": True}).json()["id"]
    assert run(store, settings, second) is S.FINISHED
    replaced = assert_error(api["viewer"].get(f"/api/jobs/{first}/output"), 410, "output_replaced")
    assert replaced["details"] == {"job_id": second, "run": 1}
    assert api["viewer"].get(f"/api/jobs/{second}/output").text.splitlines()[0] == "id"
    with sqlite3.connect(settings.data_path / "data.db") as db:
        db.execute("CREATE TABLE gone (id INTEGER)")
    broken = {**definition, "source": {"table": "gone"}}
    failed = api["operator"].post("/api/jobs", json={"definition": broken, "start": True}).json()["id"]
    with sqlite3.connect(settings.data_path / "data.db") as db:
        db.execute("DROP TABLE gone")  # after the job was saved: its run fails
    assert run(store, settings, failed) is S.FINISHED_WITH_ERRORS
    assert_error(api["viewer"].get(f"/api/jobs/{failed}/output"), 404, "no_output")


def events(text: str) -> list[tuple[str, str]]:
    found = []
    for block in text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "event" in fields:
            found.append((fields["event"], fields.get("id", "")))
    return found


def test_the_journal_streams_as_server_sent_events_and_resumes_from_the_last_id(api, finished_import):
    response = api["viewer"].get(f"/api/jobs/{finished_import}/journal/stream")
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.text.startswith("retry: ")
    seen = events(response.text)
    lines = [i for kind, i in seen if kind == "line"]
    assert len(lines) >= 4 and seen[-1][0] == "job"
    again = api["viewer"].get(
        f"/api/jobs/{finished_import}/journal/stream", headers={"Last-Event-ID": lines[-2]}
    )
    assert [i for kind, i in events(again.text) if kind == "line"] == [lines[-1]]


def test_a_journal_stream_with_a_level_sends_only_those_lines_and_the_job(api, store, finished_import):
    store.log(finished_import, None, Level.WARNING, "run.error", {"error": "disk almost full"})
    response = api["viewer"].get(f"/api/jobs/{finished_import}/journal/stream", params={"level": "warning"})
    seen = events(response.text)
    warning = store.journal_lines(finished_import)[-1].id
    assert [kind for kind, _ in seen] == ["line", "job"] and seen[0][1] == str(warning)


def test_rejects_page_on_from_the_last_record_of_the_previous_page(api, finished_import):
    viewer = api["viewer"]
    first = viewer.get(f"/api/jobs/{finished_import}/rejects", params={"limit": 1}).json()
    assert [r["record_no"] for r in first["items"]] == [2] and first["next_after"] == 2
    second = viewer.get(
        f"/api/jobs/{finished_import}/rejects", params={"limit": 1, "after": first["next_after"]}
    ).json()
    assert [r["record_no"] for r in second["items"]] == [4] and second["total"] == 2
    last = viewer.get(f"/api/jobs/{finished_import}/rejects", params={"after": 4}).json()
    assert (last["items"], last["next_after"]) == ([], None)
