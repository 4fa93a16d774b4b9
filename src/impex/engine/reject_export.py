"""Rejects written back in the source's own format, with a reason column: fix them and re-import.

A record that leaves a quote open (an unterminated quote) gets a closing quote added at its end, and
its reason says so: the reason stays a field of its own and the records after it read as they were.
"""

from __future__ import annotations

import codecs
import os
from pathlib import Path

from impex.domain.definitions import ImportJob
from impex.engine.final_file import check_replaceable, temporary_beside, through_link
from impex.formats.chunk import closing_quote
from impex.formats.reader import DelimitedReader
from impex.formats.split import Syntax
from impex.formats.utf16 import BE, LE
from impex.formats.writer import write_raw_records
from impex.store.records import JobRecord, RejectRecord
from impex.store.store import Store

BATCH = 10_000


def export_rejects(
    store: Store,
    job: JobRecord,
    run_id: int,
    path: Path,
    *,
    reason: str | None = None,
    column: str | None = None,
) -> int:
    """Write the run's rejects to ``path``: each raw record as it was in the source, then its reason,
    in the source's delimiter, quote, encoding (with its byte order mark when UTF-8 had one, and always
    in UTF-16, as Excel's "Unicode Text" has) and line ending, under its header if it had one. With
    ``reason`` and/or ``column``, only the rejects of that reason and/or column. The file appears under
    its name only once complete."""
    path = through_link(path)
    check_replaceable(path, "the rejects file")
    path.parent.mkdir(parents=True, exist_ok=True)  # as an export does
    definition = ImportJob.model_validate(job.definition)
    fmt = definition.format
    # The source gone, the raw records are still in the encoding the run read them in.
    delimiter, encoding = fmt.delimiter, store.detected_format(run_id).get("encoding") or fmt.encoding
    header: list[str] | None = None
    # The lines skip_lines skips go first, so that the same definition reads the file: the source's
    # own, or (the source gone) as many placeholders.
    preamble = b"(a line the job's skip_lines skips)\n" * fmt.skip_lines
    line_ending = "\n"
    try:
        with DelimitedReader(definition.source, fmt) as reader:
            delimiter, encoding, header = reader.delimiter, reader.encoding, reader.header
            preamble, line_ending = reader.preamble, reader.line_ending
    except (OSError, ValueError):
        pass  # the source is gone or changed: the raw records are all that is needed
    options = {
        "delimiter": delimiter or ",",
        "quote": fmt.quote,
        "encoding": encoding or "utf-8",
        "line_ending": line_ending,
    }
    syntax = Syntax.of(fmt, options["delimiter"])
    count = after = 0
    partial = temporary_beside(path, ".part")
    try:
        with open(partial, "wb") as out:
            out.write(_byte_order_mark(options["encoding"]) + preamble)
            if header:
                write_raw_records(out, [], [], header=header, **options)
            while batch := store.rejects_of(
                run_id, after_record=after, limit=BATCH, reason=reason, column=column
            ):
                rows = [_row(r, syntax) for r in batch]
                write_raw_records(out, [raw for raw, _ in rows], [why for _, why in rows], **options)
                count += len(batch)
                after = batch[-1].record_no
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return count


def _byte_order_mark(encoding: str) -> bytes:
    """The mark a rejects file in ``encoding`` starts with: UTF-8's when the source had one, and
    UTF-16's, which tells Excel and impex the byte order."""
    marks = {"utf-8-sig": codecs.BOM_UTF8, LE: codecs.BOM_UTF16_LE, BE: codecs.BOM_UTF16_BE}
    return marks.get(codecs.lookup(encoding).name, b"")


def _row(reject: RejectRecord, syntax: Syntax) -> tuple[bytes, str]:
    """The reject's record as it will be written, and its reason."""
    reason = f"{reject.reason}: {reject.message}"
    closing = closing_quote(reject.raw, syntax)
    if not closing:
        return reject.raw, reason
    added = "; the export added a closing quote at the end of this record so that the file reads"
    return reject.raw + closing, f"{reason}{added}: remove it when you fix the record"
