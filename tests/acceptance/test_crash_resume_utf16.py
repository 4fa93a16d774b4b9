"""Exactly-once resume of a UTF-16 file (Excel's "Unicode Text"), which is read transcoded to UTF-8 and
so resumes by reading it again from the start, as a .gz file does: kill -9 at random instants and
SIGTERM leave the table and the reject list (raw records in the file's own bytes) exactly as an
uninterrupted run's. These drive the real `impex` command in subprocesses."""

import codecs
from pathlib import Path

from test_crash_resume import (
    kill_9_then_resume,
    outcome,
    reference,
    sigterm_then_resume,
)

from support import JOB, make_contacts


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
    _, reads = kill_9_then_resume(impex_env, data_dir, job, times=8, within=0.5, seed=20261125)
    assert len(set(reads) - {0}) >= 3, f"the kills should land all over the file: {reads}"
    assert outcome(data_dir) == expected


def test_sigterm_stops_at_a_chunk_boundary_as_server_shutdown_and_resumes_exactly(
    tmp_path, data_dir, impex_env
):
    sigterm_then_resume(tmp_path, data_dir, impex_env, unicode_contacts_job(tmp_path, 40_000, 500))
