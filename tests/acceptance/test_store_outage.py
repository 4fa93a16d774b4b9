"""A worker, or a job run in the foreground, outlives an outage of its PostgreSQL store. A TCP proxy
stands between them; cutting it drops every connection and refuses new ones, as a restarting or
unreachable server would. The process keeps trying and says so; its running job stops as a crash
would stop it; once the store is back the job is taken over from its checkpoint and ends exactly as
an uninterrupted run ends."""

from __future__ import annotations

import contextlib
import os
import socket
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from impex.domain.status import S
from impex.store.store import Store
from pg_support import fresh_schema
from support import IMPEX, JOB, make_contacts, wait_until

ROWS = 150_000


class Proxy:
    """TCP from a local port to PostgreSQL's, that can be cut (every connection dropped, new ones
    refused) and restored on the same port."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.port = 0
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        self.restore()

    def restore(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        with self.lock:
            self.listener, self.up = listener, True
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        with self.lock:
            self.up = False
            with contextlib.suppress(OSError):  # wakes the accept() under way; a close alone does not
                self.listener.shutdown(socket.SHUT_RDWR)
            self.listener.close()
            for s in self.sockets:
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()
            self.sockets.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:  # cut
                return
            server = socket.create_connection(self.upstream)
            # No Nagle delay, as libpq sets its own socket: else many of the store's small messages
            # wait for the other end's delayed ACK (~40 ms each), and the run is 7 times slower.
            for end in (client, server):
                end.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self.lock:
                if not self.up or self.listener is not listener:  # cut meanwhile
                    client.close()
                    server.close()
                    return
                self.sockets += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)


def table(db: Path):
    with sqlite3.connect(db) as c:
        return c.execute("SELECT * FROM contacts ORDER BY id").fetchall()


@pytest.fixture(scope="module")
def contacts(tmp_path_factory) -> tuple[Path, Path]:
    """The job file, and the data folder of its uninterrupted run (one for the module's specs: they
    only read it)."""
    folder = tmp_path_factory.mktemp("outage")
    source = make_contacts(folder / "contacts.csv", ROWS)
    job = folder / "contacts.yaml"
    job.write_text(JOB.format(source=source, chunk_rows=500))
    reference = folder / "reference"
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMPEX_")}
    env.update(IMPEX_DATA_DIR=str(reference), IMPEX_PROGRESS_SECONDS="0")
    subprocess.run([*IMPEX, "run", str(job), "--json"], env=env, check=True, capture_output=True, timeout=120)
    return job, reference


@pytest.mark.slow
@pytest.mark.parametrize("runner", ["worker", "run"])
def test_a_store_outage_is_waited_out_and_the_job_ends_as_if_nothing_happened(
    tmp_path, impex_env, contacts, runner
):
    """``impex worker`` (the job submitted first) or ``impex run`` in the foreground."""
    job, reference = contacts
    with fresh_schema() as store_url:
        url = sa.make_url(store_url)
        proxy = Proxy((url.host or "127.0.0.1", url.port or 5432))
        through_proxy = url.set(port=proxy.port).render_as_string(hide_password=False)
        env = {**impex_env, "IMPEX_DATABASE_URL": through_proxy, "IMPEX_LEASE_SECONDS": "2"}
        if runner == "worker":
            subprocess.run([*IMPEX, "submit", str(job)], env=env, check=True, capture_output=True, timeout=60)
        command = [*IMPEX, "worker"] if runner == "worker" else [*IMPEX, "run", str(job), "--json"]
        store = Store.open(store_url)  # the test's own view, not through the proxy
        log = tmp_path / "stderr.log"
        with log.open("w") as err:
            process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=err)
        try:
            [job_id] = wait_until(lambda: [j.id for j in store.list_jobs()], 60, "the job")

            def mid_run() -> bool:
                j = store.job(job_id)
                return j.status is S.RUNNING and 0 < store.run(j.current_run_id).counters.read < ROWS // 4

            wait_until(mid_run, 60, "the job to be part-way")
            proxy.cut()
            time.sleep(3)  # longer than the lease
            assert process.poll() is None
            proxy.restore()
            wait_until(lambda: store.status_of(job_id) is S.FINISHED, 90, "the job to finish")
            if runner == "worker":
                assert process.poll() is None  # it waited the outage out, and goes on
            else:
                assert process.wait(timeout=30) == 0  # it waited the outage out, and the job finished
            back = "the store can be reached again"
            said = wait_until(lambda: back in log.read_text() and log.read_text(), 10, "the all-clear")
            assert f"job {job_id}: the store cannot be reached" in said  # the run stopped…
            assert "impex.worker: the store cannot be reached" in said  # …and the process waited
            assert table(impex_env_data(impex_env) / "data.db") == table(reference / "data.db")
            c = store.runs_of(job_id)[-1].counters
            assert (c.read, c.inserted, c.rejected, c.doubles) == (ROWS, *reference_counts(reference))
            takeovers = [x for x in store.journal_lines(job_id, limit=10**6) if x.code == "worker.takeover"]
            assert [x.params["reason"] for x in takeovers] == ["its lease ran out"]
        finally:
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=30)
            store.close()
            proxy.cut()


def impex_env_data(env: dict[str, str]) -> Path:
    return Path(env["IMPEX_DATA_DIR"])


def reference_counts(reference: Path) -> tuple[int, int, int]:
    store = Store.open(f"sqlite:///{reference / 'impex.db'}")
    try:
        [job] = store.list_jobs()
        c = store.runs_of(job.id)[-1].counters
        return c.inserted, c.rejected, c.doubles
    finally:
        store.close()


def test_a_shutdown_while_the_store_is_away_ends_the_foreground_wait(settings):
    """``impex run`` waits out an outage, but a SIGTERM meanwhile ends it at once (nothing more can
    be done or recorded) instead of trying the store again and again."""
    from impex.domain.status import A
    from impex.engine.worker import Worker

    with fresh_schema() as store_url:
        url = sa.make_url(store_url)
        proxy = Proxy((url.host or "127.0.0.1", url.port or 5432))
        store = Store.open(url.set(port=proxy.port).render_as_string(hide_password=False))
        try:
            job_id = store.create_job({"kind": "import", "name": "contacts", "queue": "default"})
            store.transition(job_id, A.START, actor="ana")
            proxy.cut()
            worker = Worker(store, settings)
            worker.shutdown.request("SIGTERM")
            began = time.monotonic()
            with pytest.raises(sa.exc.OperationalError):
                worker.run_one(job_id)
            assert time.monotonic() - began < 5
        finally:
            store.close()
            proxy.cut()
