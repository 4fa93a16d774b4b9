"""UTF-16 files through the engine: paused and resumed anywhere they end as one uninterrupted run, and
every reject (structural, typed, double) keeps the record in the file's own bytes."""

from __future__ import annotations

import codecs
import gzip
from pathlib import Path

import pytest

from impex.domain.status import A, S
from support import define, rejects, run_job, table_rows

COLUMNS = [{"name": "id", "type": "integer", "required": True}, {"name": "name"}]


def unicode_text(path: Path, text: str, codec: str = "utf-16-le") -> Path:
    data = codecs.BOM_UTF16_LE + text.encode(codec) if codec == "utf-16-le" else text.encode(codec)
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(data))
    else:
        path.write_bytes(data)
    return path


def people(n: int) -> str:
    """Names beyond ASCII; every 50th record a type error, every 70th a double, every 90th a wrong count."""
    lines = ["id\tname"]
    for i in range(1, n + 1):
        if i % 50 == 0:
            lines.append(f"{i}x\tZoë {i}")
        elif i % 70 == 0:
            lines.append(f"{i - 1}\tΑθήνα {i}")
        elif i % 90 == 0:
            lines.append(f"{i}\t😀\textra")
        else:
            lines.append(f"{i}\tZoë 😀 {i}")
    return "\r\n".join(lines) + "\r\n"


def definition(source: Path, **fields: object) -> dict[str, object]:
    keys = {"keys": ["id"], "doubles": "reject"}
    return define(source=str(source), columns=COLUMNS, chunk_rows=97, reconciliation=keys, **fields)


@pytest.mark.parametrize("name", ["people.txt", "people.txt.gz"])
@pytest.mark.parametrize("pauses", [[1], [150, 420, 777]], ids=["at-the-first-chunk", "three-times"])
def test_paused_and_resumed_it_ends_as_one_uninterrupted_run(
    store, settings, data_dir, tmp_path, name, pauses
):
    source = unicode_text(tmp_path / name, people(1000))
    status, whole = run_job(store, settings, definition(source, target={"table": "whole"}))
    assert status is S.FINISHED
    expected = table_rows(data_dir, "whole", "id"), rejects(store, whole)
    left = list(pauses)

    def pause(progress):
        if left and progress.counters.read >= left[0] and store.status_of(progress.job_id) is S.RUNNING:
            left.pop(0)
            store.transition(progress.job_id, A.PAUSE, actor="tester")

    status, job_id = run_job(store, settings, definition(source), on_progress=pause)
    stops = 0
    while status is S.PAUSED:
        stops += 1
        store.transition(job_id, A.START, actor="tester")
        status, _ = run_job(store, settings, job_id, on_progress=pause)
    assert status is S.FINISHED and stops == len(pauses)
    assert (table_rows(data_dir, "t", "id"), rejects(store, job_id)) == expected


@pytest.mark.parametrize("commit", ["incremental", "atomic"])
def test_every_reject_keeps_its_record_in_the_files_own_bytes(store, settings, tmp_path, commit):
    source = unicode_text(tmp_path / "people.txt", people(200), "utf-16-le")
    status, job_id = run_job(store, settings, definition(source, commit=commit))
    assert status is S.FINISHED
    lines = source.read_bytes()[2:].split("\r\n".encode("utf-16-le"))
    got = rejects(store, job_id)
    assert {reason for _, _, reason, _ in got} == {"type_error", "double", "wrong_field_count"}
    for _, line_no, _, raw in got:
        assert raw == lines[line_no - 1]


def test_its_progress_is_a_share_of_the_file_that_grows_to_the_whole_of_it(store, settings, tmp_path):
    """A UTF-16 file's progress had no share of the file and no ETA, as a compressed file's."""
    source = unicode_text(tmp_path / "people.txt", people(3000))
    seen: list[tuple[int, int | None]] = []
    status, job_id = run_job(
        store, settings, definition(source), on_progress=lambda p: seen.append((p.bytes_done, p.bytes_total))
    )
    assert status is S.FINISHED and len(seen) > 10
    whole = seen[-1][0]  # the last chunk's end: all the transcoded bytes
    assert all(total is not None and abs(total - whole) < whole * 0.05 for _, total in seen)
    shares = [done / total for done, total in seen]
    assert shares == sorted(shares) and 0 < shares[0] < 0.1 and shares[-1] > 0.95
    run = store.runs_of(job_id)[-1]
    assert (run.bytes_done, run.bytes_total) == (whole, whole)  # the job's page shows it whole
