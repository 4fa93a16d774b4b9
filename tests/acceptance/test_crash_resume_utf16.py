"""Exactly-once resume of a UTF-16 file (Excel's "Unicode Text"), which is read transcoded to UTF-8 and
so resumes by reading it again from the start, as a .gz file does: kill -9 at random instants and
SIGTERM leave the table and the reject list (raw records in the file's own bytes) exactly as an
uninterrupted run's. These drive the real `impex` command in subprocesses."""

import codecs
import json
import signal
import subprocess
import time
from pathlib import Path

from test_crash_resume import impex, job_state, kill_9_while_running, outcome, reference

from impex.domain.status import S
from support import IMPEX, JOB, make_contacts


def unicode_contacts_job(tmp_path: Path, rows: int, chunk_rows: int) -> Path:
    """The contacts file as Excel saves it as Unicode Text: UTF-16 LE with its mark, CRLF; names
    beyond ASCII, some beyond the Basic Multilingual Plane."""
    text = make_contacts(tmp_path / "contacts.csv", rows).read_text()
    text = text.replace("Name 1", "Zoë 😀 1").replace("\n", "\r\n")
    source = tmp_path / "contacts.txt"
    source.write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    job = tmp_path / "contacts.yaml"
    job.write_text(JOB.format(source=source, chunk_rows=chunk_rows))
    return job


def test_kill_9_at_random_instants_then_resume_gives_the_uninterrupted_result(tmp_path, data_dir, impex_env):
    job = unicode_contacts_job(tmp_path, rows=150_000, chunk_rows=500)
    expected = reference(tmp_path, job, impex_env)
    table, rejects, _ = expected
    assert ("Zoë 😀 1",) in {(row[1],) for row in table}
    raw = next(raw for *_, raw, message in rejects if "expected 5 fields" in message)
    assert raw in (tmp_path / "contacts.txt").read_bytes()  # the file's own UTF-16 bytes
    env = {**impex_env, "IMPEX_LEASE_SECONDS": "0.3", "IMPEX_HEARTBEAT_SECONDS": "0.05"}
    job_id = json.loads(impex(env, "submit", str(job), "--json").stdout)["id"]
    reads = kill_9_while_running(env, data_dir, job_id, times=8, within=0.5, seed=20261125)
    assert len(reads) == 8, f"the import finished after only {len(reads)} kills; make the file larger"
    time.sleep(0.4)  # let the last lease lapse
    impex(env, "worker", "--exit-when-idle")
    assert job_state(data_dir, job_id)[0] is S.FINISHED
    assert outcome(data_dir) == expected


def test_sigterm_stops_at_a_chunk_boundary_as_server_shutdown_and_resumes_exactly(
    tmp_path, data_dir, impex_env
):
    job = unicode_contacts_job(tmp_path, rows=40_000, chunk_rows=500)
    expected = reference(tmp_path, job, impex_env)
    job_id = json.loads(impex(impex_env, "submit", str(job), "--json").stdout)["id"]
    worker = subprocess.Popen(
        [*IMPEX, "worker"], env=impex_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while job_state(data_dir, job_id)[1] == 0:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=30) == 0
    status, read, _ = job_state(data_dir, job_id)
    assert status is S.SERVER_SHUTDOWN and 0 < read < 40_000
    impex(impex_env, "worker", "--exit-when-idle")
    assert job_state(data_dir, job_id)[0] is S.FINISHED
    assert outcome(data_dir) == expected
