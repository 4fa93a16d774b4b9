"""`impex serve` as an operator starts it: first admin, login, a job run by the embedded worker."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import time

import httpx2 as httpx

from pg_support import fresh_schema
from support import IMPEX, write
from web.conftest import PEOPLE, import_definition


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(impex_env: dict[str, str], port: int, *options: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*IMPEX, "serve", "--port", str(port), *options],
        env=impex_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_up(base: str, proc: subprocess.Popen[str]) -> None:
    for _ in range(200):
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
        try:
            if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("impex serve did not come up")


def stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=30)
    return out


def login(base: str, password: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=10)
    form = client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
    client.post("/login", data={"name": "admin", "password": password, "csrf": csrf})
    page = client.get("/jobs")
    client.headers["X-CSRF-Token"] = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    return client


def test_serve_prints_the_first_admin_once_and_runs_jobs(impex_env, data_dir):
    (data_dir / "files").mkdir()
    write(data_dir / "files" / "people.csv", PEOPLE)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start(impex_env, port)
    try:
        wait_up(base, proc)
        client = login(base, _password_from(proc))
        assert client.get("/api/me").json()["role"] == "admin"
        job = client.post("/api/jobs", json={"definition": import_definition(), "start": True}).json()
        for _ in range(100):
            body = client.get(f"/api/jobs/{job['id']}").json()
            if body["status"] == "finished":
                break
            time.sleep(0.1)
        assert body["status"] == "finished" and body["run"]["counters"]["rejected"] == 2
    finally:
        output = stop(proc)
    # uvicorn stops cleanly, then re-raises the signal so the exit status tells what stopped it
    assert proc.returncode in (0, -signal.SIGTERM) and "Application shutdown complete" in output, output
    again = start(impex_env, port)
    try:
        wait_up(base, again)
    finally:
        second = stop(again)
    assert "password" not in second


def test_serve_without_worker_on_postgresql_and_a_separate_worker_run_an_api_job(impex_env, data_dir):
    (data_dir / "files").mkdir()
    write(data_dir / "files" / "people.csv", PEOPLE)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with fresh_schema() as store_url:
        env = {**impex_env, "IMPEX_DATABASE_URL": store_url}
        server = start(env, port, "--no-worker")
        worker: subprocess.Popen[str] | None = None
        worker_output = ""
        try:
            wait_up(base, server)
            session = login(base, _password_from(server))
            token = session.post("/api/tokens", json={"label": "script"}).json()["token"]
            api = httpx.Client(base_url=base, timeout=10, headers={"Authorization": f"Bearer {token}"})
            created = api.post("/api/jobs", json={"definition": import_definition(), "start": True})
            assert created.status_code == 201, created.text
            job_id = created.json()["id"]
            time.sleep(1.0)  # the server runs nothing itself: the job waits in the queue
            assert api.get(f"/api/jobs/{job_id}").json()["status"] == "queued"
            worker = subprocess.Popen(
                [*IMPEX, "worker"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
            )
            for _ in range(300):
                body = api.get(f"/api/jobs/{job_id}").json()
                if body["status"] not in ("queued", "running"):
                    break
                time.sleep(0.1)
            assert body["status"] == "finished", body
            assert body["run"]["counters"]["inserted"] == 3 and body["run"]["counters"]["rejected"] == 2
            journal = api.get(f"/api/jobs/{job_id}/journal").json()["items"]
            codes = [line["code"] for line in journal]
            ran_by = f"worker {socket.gethostname()}:{worker.pid}"  # the separate process, not the server
            assert {"run.started", "run.summary"} <= set(codes)
            assert journal[-1]["code"] == "job.transition" and journal[-1]["actor"] == ran_by
            assert journal[-1]["text"].endswith("Execution in progress → Finished")
            assert all(line["actor"] in ("admin", ran_by) for line in journal)
        finally:
            if worker is not None:
                worker_output = stop(worker)
            output = stop(server)
        assert server.returncode in (0, -signal.SIGTERM), output
        assert worker is not None and worker.returncode in (0, -signal.SIGTERM), worker_output


def _password_from(proc: subprocess.Popen[str]) -> str:
    """The first lines of the server's output name the admin's password."""
    assert proc.stdout is not None
    for _ in range(5):
        line = proc.stdout.readline()
        found = re.search(r"with the password (\S+)", line)
        if found:
            return found.group(1)
    raise AssertionError("no admin password printed")


def test_serve_on_a_port_in_use_says_so_and_creates_no_admin(impex_env):
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = subprocess.run(
            [*IMPEX, "serve", "--port", str(port)], env=impex_env, capture_output=True, text=True, timeout=60
        )
    assert result.returncode == 2  # bad arguments, not 3 (canceled)
    assert f"cannot serve on 127.0.0.1:{port}: the port is in use" in result.stderr
    assert "admin" not in result.stdout
