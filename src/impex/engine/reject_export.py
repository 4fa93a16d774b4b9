"""Rejects written back in the source's own format, with a reason column: fix them and re-import."""

from __future__ import annotations

from pathlib import Path

from impex.domain.definitions import ImportJob
from impex.formats.reader import DelimitedReader
from impex.formats.writer import write_raw_records
from impex.store.records import JobRecord
from impex.store.store import Store


def export_rejects(store: Store, job: JobRecord, run_id: int, path: Path) -> int:
    definition = ImportJob.model_validate(job.definition)
    delimiter = definition.format.delimiter
    header: list[str] | None = None
    try:
        with DelimitedReader(definition.source, definition.format) as reader:
            delimiter, header = reader.delimiter, reader.header
    except OSError:
        pass  # the source is gone: write the raw records anyway
    delimiter = delimiter or ","
    count = 0
    after = 0
    with open(path, "wb") as out:
        if header is not None:
            write_raw_records(out, [delimiter.join(header).encode("utf-8")], ["reason"], delimiter=delimiter)
        while batch := store.rejects_of(run_id, after_record=after, limit=10_000):
            write_raw_records(
                out, [r.raw for r in batch], [f"{r.reason}: {r.message}" for r in batch], delimiter=delimiter
            )
            count += len(batch)
            after = batch[-1].record_no
    return count
