"""`impex jobs show|list --json` and `impex run|import --json` give a job in the REST API's shape: the
same fields, names and values, without the labels the API adds in the caller's language."""

import json
import subprocess

import pytest

from support import IMPEX, write
from web.conftest import api, quick_hashes, web  # noqa: F401  (the API's fixtures, on this store)

LABELS = ("status_label", "outcome_label")


def impex(env, *args: str) -> dict | list:
    done = subprocess.run([*IMPEX, *args], env=env, capture_output=True, text=True, timeout=120)
    return json.loads(done.stdout)


def without_labels(data):
    if isinstance(data, dict):
        return {k: without_labels(v) for k, v in data.items() if k not in LABELS}
    if isinstance(data, list):
        return [without_labels(v) for v in data]
    return data


def test_a_job_in_json_is_the_apis_job_without_its_labels(api, impex_env, tmp_path):  # noqa: F811
    source = write(tmp_path / "people.csv", "id,name\n1,Ann\n2,Bob\n")
    ran = impex(impex_env, "import", str(source), "--table", "people", "--json")
    from_api = api["viewer"].get("/api/jobs/1").json()
    shown = impex(impex_env, "jobs", "show", "1", "--json")
    assert shown == without_labels(from_api)
    # the quick import adds what it detected
    assert {k: v for k, v in ran.items() if k != "detected"} == {
        k: v for k, v in shown.items() if k not in ("definition", "runs")
    }
    listed = impex(impex_env, "jobs", "list", "--json")
    assert listed == without_labels(api["viewer"].get("/api/jobs").json()["items"])


def test_a_submitted_job_in_json_is_the_apis_job_too(api, impex_env, tmp_path):  # noqa: F811
    write(tmp_path / "people.csv", "id,name\n1,Ann\n")
    job = write(
        tmp_path / "job.yaml", "kind: import\nname: people\nsource: people.csv\ntarget: {table: people}\n"
    )
    submitted = impex(impex_env, "submit", str(job), "--json")
    assert submitted == without_labels(api["viewer"].get("/api/jobs").json()["items"][0])
    assert submitted["status"] == "queued" and submitted["actions"] == ["pause", "cancel"]


def refused(env, *args: str) -> tuple[int, dict]:
    done = subprocess.run([*IMPEX, *args, "--json"], env=env, capture_output=True, text=True, timeout=120)
    return done.returncode, json.loads(done.stdout)


def test_a_refused_action_in_json_is_the_apis_error_with_its_code(api, impex_env, tmp_path):  # noqa: F811
    source = write(tmp_path / "people.csv", "id,name\n1,Ann\n")
    impex(impex_env, "import", str(source), "--table", "people", "--json")  # job 1, finished
    for action in ("pause", "cancel"):
        exit_code, said = refused(impex_env, "jobs", action, "1")
        assert exit_code == 6
        assert said == api["operator"].post(f"/api/jobs/1/{action}").json()
        assert said["error"]["code"] == "illegal_transition"
        assert said["error"]["details"] == {"job_id": 1, "action": action, "status": "finished"}


def test_an_unknown_job_in_json_is_the_apis_job_not_found(api, impex_env):  # noqa: F811
    from_api = api["operator"].post("/api/jobs/7/start").json()
    assert from_api["error"]["code"] == "job_not_found"
    for command in (("start", "7"), ("pause", "7"), ("cancel", "7"), ("show", "7")):
        exit_code, said = refused(impex_env, "jobs", *command)
        assert (exit_code, said) == (2, from_api)


@pytest.mark.parametrize(
    ("problem", "code", "exit_code"),
    [
        ({"target": {"table": "people", "connection": "crm"}}, "unknown_connection", 5),
        ({"source": "nothere.csv"}, "source_not_found", 2),
        ({"source": "a-folder"}, "source_not_a_file", 2),
    ],
    ids=["unknown-connection", "missing-source", "folder-source"],
)
@pytest.mark.parametrize("command", ["run", "submit"])
def test_a_job_file_the_api_would_refuse_is_refused_alike_and_saves_no_job(
    api,  # noqa: F811
    web,  # noqa: F811
    impex_env,
    tmp_path,
    problem,
    code,
    exit_code,
    command,
):
    write(web.files / "people.csv", "id,name\n1,Ann\n")
    (web.files / "a-folder").mkdir()
    definition = {"kind": "import", "name": "people", "source": "people.csv", "target": {"table": "people"}}
    definition |= problem
    definition["source"] = str(web.files.resolve() / definition["source"])  # the same for both
    from_api = api["operator"].post("/api/jobs", json={"definition": definition}).json()
    assert from_api["error"]["code"] == code
    job_file = write(tmp_path / "job.json", json.dumps(definition))
    assert refused(impex_env, command, str(job_file)) == (exit_code, from_api)
    assert impex(impex_env, "jobs", "list", "--json") == []
