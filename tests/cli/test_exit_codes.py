"""A script tells from `impex`'s exit code how a run ended, or why nothing ran: each has its own code,
and the help of the commands that run jobs lists them."""

import json
import signal
import sqlite3
import subprocess
import time

import pytest

from impex.cli.exit_codes import Exit, exit_of
from impex.domain.status import S, Status
from support import IMPEX, write

PEOPLE = "id,name,age\n1,Ann,30\n2,Bob,x\n3,Cy,40\n"


def impex(env, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*IMPEX, *args], env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (S.FINISHED, 0),
        (S.FINISHED_WITH_ERRORS, 1),
        (S.CANCELED, 3),
        (S.PAUSED, 4),
        (S.SERVER_SHUTDOWN, 4),
    ],
)
def test_each_way_a_foreground_run_ends_has_its_exit_code(status: Status, code: int):
    assert exit_of(status) == code


def test_the_exit_codes_are_distinct():
    codes = [e.value for e in Exit]
    assert len(set(codes)) == len(codes)


@pytest.mark.parametrize("command", [["run"], ["import"], ["export"], ["submit"], ["jobs", "pause"]])
def test_the_help_of_a_command_that_runs_or_acts_on_jobs_lists_the_exit_codes(command, impex_env):
    shown = " ".join(impex(impex_env, *command, "--help").stdout.split())
    for said in (
        "0 finished;",
        "1 finished_with_errors",
        "2 bad arguments",
        "3 canceled;",
        "4 paused or shut down",
        "5 the job file",
        "6 jobs start|pause|cancel",
    ):
        assert said in shown


def test_a_refused_definition_and_a_refused_option_have_codes_of_their_own(impex_env, tmp_path, data_dir):
    write(tmp_path / "people.csv", PEOPLE)
    typo = write(
        tmp_path / "job.yaml", "kind: import\nname: p\nsource: people.csv\ntarget: {table: p}\ncolums: []\n"
    )
    refused = impex(impex_env, "run", str(typo))
    assert refused.returncode == 5 and "colums: unknown key: did you mean 'columns'?" in refused.stderr
    assert impex(impex_env, "run", str(tmp_path / "gone.yaml")).returncode == 5
    bad_option = impex(impex_env, "import", str(tmp_path / "people.csv"), "--table", "p", "--delimiter", "ab")
    assert bad_option.returncode == 2 and "--delimiter" in bad_option.stderr
    assert json.loads(impex(impex_env, "jobs", "list", "--json").stdout) == []


def test_an_operator_action_the_status_does_not_allow_exits_6(impex_env, tmp_path):
    write(tmp_path / "people.csv", PEOPLE)
    assert impex(impex_env, "import", str(tmp_path / "people.csv"), "--table", "p").returncode == 0
    refused = impex(impex_env, "jobs", "pause", "1")
    assert refused.returncode == 6 and "cannot pause job 1: it is finished" in refused.stderr


def _status_and_read(data_dir) -> tuple[str | None, int]:
    try:
        with sqlite3.connect(data_dir / "impex.db") as c:
            row = c.execute("SELECT j.status, r.read FROM jobs j JOIN runs r ON r.job_id = j.id").fetchone()
    except sqlite3.OperationalError:  # the store is not created yet
        return None, 0
    return (row[0], row[1]) if row else (None, 0)


def test_ctrl_c_stops_a_run_with_exit_4_and_the_same_command_then_finishes_it_with_0(
    impex_env, tmp_path, data_dir
):
    source = tmp_path / "big.csv"
    source.write_text("id,n\n" + "".join(f"{i},{i * 7}\n" for i in range(300_000)))
    command = [*IMPEX, "import", str(source), "--table", "big", "--chunk-rows", "1000"]
    run = subprocess.Popen(command, env=impex_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while _status_and_read(data_dir)[1] == 0:  # until it has read its first chunk
        assert run.poll() is None and time.monotonic() < deadline, "the run never started"
        time.sleep(0.01)
    run.send_signal(signal.SIGINT)
    out, err = run.communicate(timeout=60)
    assert run.returncode == 4, out + err
    assert "status: server_shutdown" in out and "Traceback" not in err
    again = subprocess.run(command, env=impex_env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and "it goes on from its checkpoint" in again.stdout
