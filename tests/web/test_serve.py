"""`impex serve` as an operator starts it: first admin, login, a job run by the embedded worker."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import time

import httpx

from support import IMPEX, write
from web.conftest import PEOPLE, import_definition


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(impex_env: dict[str, str], port: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*IMPEX, "serve", "--port", str(port)],
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


def _password_from(proc: subprocess.Popen[str]) -> str:
    """The first lines of the server's output name the admin's password."""
    assert proc.stdout is not None
    for _ in range(5):
        line = proc.stdout.readline()
        found = re.search(r"with the password (\S+)", line)
        if found:
            return found.group(1)
    raise AssertionError("no admin password printed")
