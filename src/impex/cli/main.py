"""The ``impex`` command. Parses input, calls the library, turns typed errors into messages and exit codes.

The engine (polars, pyarrow, ADBC), pydantic's job models and the format detection are imported by the
commands that use them, not here: ``impex --help`` and ``impex jobs …`` start in a fraction of the time.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from impex.cli import jobs as jobs_cli
from impex.cli.context import app_context, submit
from impex.cli.exit_codes import EXIT_CODES_HELP, Exit
from impex.cli.render import console, emit_json, escape, fail, refuse
from impex.cli.serve import serve_cmd
from impex.domain.choices import ColumnType, CommitMode, Operation
from impex.domain.rejects import Reason, Reject
from impex.settings import SETTINGS

if TYPE_CHECKING:
    from impex.domain.definitions import ExportJob, ImportJob, QuerySource, TableSource
    from impex.formats.detect import DetectedFormat
    from impex.settings import Settings

app = typer.Typer(
    help="impex: import data files into database tables and export tables to files, as jobs you can "
    "pause, resume and cancel, with a journal and a reject list.\n\nSettings (environment variables): "
    + "; ".join(f"{s.env}: {s.help}" for s in SETTINGS),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(jobs_cli.app, name="jobs")
app.command("serve")(serve_cmd)


@app.callback()
def main(
    ctx: typer.Context,
    data_dir: Annotated[str | None, typer.Option(help="Data folder (env IMPEX_DATA_DIR).")] = None,
    database_url: Annotated[str | None, typer.Option(help="Store URL (env IMPEX_DATABASE_URL).")] = None,
) -> None:
    app_context(ctx).overrides.update(data_dir=data_dir, database_url=database_url)


# A definition key set from an option of another name.
OPTION_OF = {
    "keys": "--key",
    "reconciliation.keys": "--key",
    "columns": "--column",
    "filter": "--where",
    "source": "DATA_FILE",
}


def _unreadable_header(data_file: Path, first: Reject, skip: int | None) -> str:
    """Why the first line, rejected as a record, gives no column names; and the way out."""
    line = first.line_no
    if first.reason is Reason.WRONG_FIELD_COUNT:
        found, expected = first.params["found"], first.params["expected"]
        why = f"line {line} has {found} fields, the records below it have {expected}"
        why += ": a header needs one name per field"
    else:
        why = f"line {line} cannot be read as a header: {first.message}"
    if skip is not None:
        lines = f"line {line}" if skip == line else f"lines {line} to {skip}"
        return (
            f"{data_file}: {why}. A header that fits the records follows {lines} (a title?): give "
            f"--skip-lines {skip} to pass over {'it' if skip == line else 'them'}"
        )
    return (
        f"{data_file}: {why}. Fix that line, or give --no-header to import the records with positional "
        f"names (line {line} is then rejected)"
    )


def _bad_options(error: ValueError) -> typer.Exit:
    """The quick forms' options that the definition refused, named as the user typed them."""
    from pydantic import ValidationError

    if not isinstance(error, ValidationError):
        return fail(str(error))
    lines = []
    for item in error.errors():
        message = item["msg"].removeprefix("Value error, ")
        if not item["loc"]:  # a rule across options: its message names the definition's key
            key, _, said = message.partition(": ")
            lines.append(f"{OPTION_OF.get(key, key)}: {said}" if said else message)
            continue
        name = str(item["loc"][-1])
        option = OPTION_OF.get(name, f"--{name.replace('_', '-')}")
        shown = repr(item.get("input"))
        named = message.startswith(("'", '"')) or shown in message
        lines.append(f"{option}: {message}" + ("" if named else f" (got {shown})"))
    return fail("\n".join(lines))


def _load(job_file: Path) -> ImportJob | ExportJob:
    from impex.definitions_io import DefinitionError, load_definition

    try:
        return load_definition(job_file)
    except DefinitionError as e:
        raise fail(str(e), code=Exit.BAD_DEFINITION) from None


def _warnings_to_stderr() -> None:
    """A process that runs jobs says on stderr, with the time, what it waits out (an unreachable store)."""
    import logging

    logging.basicConfig(format="%(asctime)s %(name)s: %(message)s", level=logging.WARNING)


def _run(
    ctx: typer.Context,
    definition: ImportJob | ExportJob,
    *,
    as_json: bool,
    shown: dict[str, Any] | None = None,
) -> typer.Exit:
    """Run the job in this process; the exit carries its outcome's code. ``shown`` goes into the JSON."""
    from impex.cli.foreground import run_foreground

    _warnings_to_stderr()

    return typer.Exit(run_foreground(app_context(ctx), definition, as_json=as_json, shown=shown))


@app.command("run", epilog=EXIT_CODES_HELP)
def run_cmd(
    ctx: typer.Context,
    job_file: Annotated[Path, typer.Argument(help="Job definition (YAML or JSON).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Run a job definition in the foreground; run it again after a pause, Ctrl-C or a crash and it goes on
    from its checkpoint."""
    definition = _load(job_file)
    _preflight(app_context(ctx).settings, definition, as_json=as_json)
    raise _run(ctx, definition, as_json=as_json)


@app.command("submit", epilog=EXIT_CODES_HELP)
def submit_cmd(
    ctx: typer.Context,
    job_file: Annotated[Path, typer.Argument(help="Job definition (YAML or JSON).")],
    draft: Annotated[bool, typer.Option("--draft", help="Save it in 'editing' without starting it.")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Save a job and queue it for a worker (``impex worker``)."""
    definition = _load(job_file)
    _preflight(app_context(ctx).settings, definition, as_json=as_json)
    job_id = submit(app_context(ctx), definition, start=not draft)
    if as_json:
        from impex.store.shapes import current_run, job_shape

        store = app_context(ctx).store
        job = store.job(job_id)
        emit_json(job_shape(job, current_run(job, store.runs_of(job_id))))  # as GET /api/jobs lists it
    else:
        console.print(f"job {job_id} {'saved as draft' if draft else 'queued'}")


@app.command("import", epilog=EXIT_CODES_HELP)
def import_cmd(
    ctx: typer.Context,
    data_file: Annotated[Path, typer.Argument(help="CSV/delimited file (.gz and .zip too).")],
    table: Annotated[
        str | None,
        typer.Option(
            help="Target table (created if missing). Default: the file's name without its extensions, "
            "as a table name (Straße.csv.gz: strasse)."
        ),
    ] = None,
    connection: Annotated[str, typer.Option(help="Named target connection.")] = "default",
    delimiter: Annotated[
        str | None, typer.Option(help="Field delimiter (detected if omitted; \\t or tab: a tab).")
    ] = None,
    encoding: Annotated[str | None, typer.Option(help="Encoding (detected if omitted).")] = None,
    header: Annotated[
        bool | None,
        typer.Option(
            "--header/--no-header", help="Whether the first line names the columns (detected if omitted)."
        ),
    ] = None,
    skip_lines: Annotated[
        int,
        typer.Option(
            min=0, help="Lines to pass over before the header (or the first record): a report's title."
        ),
    ] = 0,
    decimal_separator: Annotated[
        str | None, typer.Option(help="Decimal separator of the numbers, '.' or ',' (detected if omitted).")
    ] = None,
    thousands_separator: Annotated[
        str | None,
        typer.Option(
            help="Thousands separator of the numbers: ',', '.', \"'\" (Swiss), a space, a no-break space, "
            "… (detected if omitted)."
        ),
    ] = None,
    date_format: Annotated[
        str | None,
        typer.Option(
            help="Date format, e.g. %d.%m.%Y (detected if omitted). A two-digit year (%y, '05.01.24') is "
            "read only when told: 00-68 as 2000-2068, 69-99 as 1969-1999."
        ),
    ] = None,
    timestamp_format: Annotated[
        str | None,
        typer.Option(
            help="Timestamp format, e.g. '%d.%m.%Y %H:%M' (detected if omitted). With a UTC offset "
            "(%z: 'Z', '+02:00'; e.g. '%Y-%m-%dT%H:%M:%S%.f%z') each value is stored converted to UTC, "
            "without its offset: as text in SQLite, as 'timestamp without time zone' in PostgreSQL (a "
            "'timestamptz' column takes the moment itself). See 'Timestamps and time zones' in the README."
        ),
    ] = None,
    null_value: Annotated[
        list[str] | None,
        typer.Option(
            help="A text that stands for NULL when bare, e.g. NULL or \\N (repeat for more; default: the "
            "empty field). Quoted, it is that text."
        ),
    ] = None,
    quoted_nulls: Annotated[
        bool,
        typer.Option(
            "--quoted-nulls", help='A quoted null value ("NULL", "") is NULL too: for files that quote all.'
        ),
    ] = False,
    key: Annotated[list[str] | None, typer.Option(help="Key column (repeat for a composite key).")] = None,
    operation: Annotated[Operation, typer.Option(help="What to do with each record.")] = Operation.INSERT,
    atomic: Annotated[bool, typer.Option("--atomic", help="All or nothing (default: incremental).")] = False,
    all_text: Annotated[bool, typer.Option("--all-text", help="Keep every column as text.")] = False,
    chunk_rows: Annotated[int, typer.Option(help="Records per chunk.")] = 100_000,
    chunk_bytes: Annotated[
        int, typer.Option(help="Bytes per chunk, at most; the longest record must fit.")
    ] = 3 * 1024 * 1024,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Quick import: detect the format, show it, and run the import in the foreground."""
    from impex.domain.definitions import (
        ColumnSpec,
        CsvFormat,
        ImportJob,
        Reconciliation,
        Target,
        check_table_name,
        spelled_delimiter,
    )
    from impex.formats.detect import detect_format, title_lines

    if str(data_file) == "-" and not data_file.exists():
        raise fail(
            "-: impex does not read standard input: it reads its source twice over (to detect the format, "
            "then again from any point to resume); save the data to a file first"
        )
    table = table if table is not None else _table_named_after(data_file)
    try:  # before the detection, which reads the file
        check_table_name(table)
    except ValueError as e:
        raise fail(f"--table: {e}") from None
    given: dict[str, object] = {
        "delimiter": spelled_delimiter(delimiter),
        "encoding": encoding,
        "decimal_separator": decimal_separator,
        "thousands_separator": thousands_separator,
        "date_format": date_format,
        "timestamp_format": timestamp_format,
    }
    if skip_lines:
        given["skip_lines"] = skip_lines
    if null_value is not None:
        given["null_values"] = tuple(null_value)
    if quoted_nulls:
        given["quoted_nulls"] = True
    try:  # the options not given stay out of the format's fields set: detection fills them in
        fmt = CsvFormat(**{k: v for k, v in given.items() if v is not None})
    except ValueError as e:
        raise _bad_options(e) from None
    try:
        detected = detect_format(data_file, fmt, header=header)
    except (OSError, ValueError) as e:
        from impex.engine.execution import technical_error

        raise fail(technical_error(e)) from None
    if detected.first_line_reject is not None and header is not False:
        raise fail(_unreadable_header(data_file, detected.first_line_reject, title_lines(data_file, fmt)))
    from impex.validate.plan import sanitise_names

    names = sanitise_names(detected.column_names)  # "Prénom", "" and a repeated name are columns too
    if not names:
        raise fail(f"{data_file}: the file is empty (no header line and no record): nothing to import")
    types = [ColumnType.STRING] * len(names) if all_text else list(detected.column_types)
    own = {} if all_text else detected.conventions.own_formats
    for i, (kind, _format) in own.items():
        types[i] = kind
    detected_shape = _detected_shape(detected, names, types, own, all_text)
    if not as_json:
        console.print(escape(_detected_line(detected_shape)))
    shown = {"detected": detected_shape} if as_json else None
    keys = tuple(key or ())
    unknown = [k for k in keys if k not in names]
    if unknown:
        raise fail(
            f"--key: {', '.join(unknown)} not among the columns of {data_file.name} ({', '.join(names)})"
        )
    from impex.cli.table_fit import DoesNotFit, columns_to_import

    try:
        taken, left_out = columns_to_import(app_context(ctx).settings, connection, table, names)
    except DoesNotFit as e:
        raise fail(f"{data_file}: {e}") from None
    if left_out and not as_json:
        console.print(escape(left_out))
    columns = tuple(
        ColumnSpec(
            name=n,
            source=i + 1,
            type=t,
            required=n in keys,
            **({f"{own[i][0].value}_format": own[i][1]} if i in own else {}),
        )
        for i, (n, t) in enumerate(zip(names[:taken], types[:taken], strict=True))
    )
    try:
        definition = ImportJob(
            name=job_name(f"import {data_file.name} into {table}"),
            source=os.path.abspath(data_file),  # a link stays a link
            format=detected.conventions.applied(fmt).model_copy(
                update={
                    "delimiter": detected.delimiter,
                    "encoding": detected.encoding,
                    "header": detected.has_header,
                }
            ),
            target=Target(connection=connection, table=table),
            columns=columns,
            reconciliation=Reconciliation(keys=keys, operation=operation),
            commit=CommitMode.ATOMIC if atomic else CommitMode.INCREMENTAL,
            chunk_rows=chunk_rows,
            chunk_bytes=chunk_bytes,
        )
    except ValueError as e:
        raise _bad_options(e) from None
    raise _run(ctx, definition, as_json=as_json, shown=shown)


def _table_named_after(data_file: Path) -> str:
    """The table a quick import fills when none is named: its file's name, without the extensions."""
    from impex.domain.names import table_name_for

    name = table_name_for(data_file.name)
    if not name:
        raise fail(f"{data_file}: its name gives no table name (letters, digits and _): give --table")
    return name


# The columns whose dates (or timestamps) all read in one format other than the file's: imported as
# dates with that format as their own.
OwnFormats = dict[int, tuple[ColumnType, str]]


def _detected_shape(
    detected: DetectedFormat, names: list[str], types: list[ColumnType], own: OwnFormats, all_text: bool
) -> dict[str, Any]:
    """What the quick import detected: the format, each column's type, and why a column that looks
    typed is kept as text (unless all are, as asked). ``--json`` shows it; ``_detected_line`` says it."""
    found = detected.conventions
    columns = []
    for i, (name, kind, note) in enumerate(zip(names, types, detected.notes, strict=True)):
        column: dict[str, Any] = {"name": name, "type": kind.value}
        if i in own:
            column[f"{kind.value}_format"] = own[i][1]
        elif note is not None and not all_text:
            column["kept_as_text"] = note.text
            column["option"] = f"--{note.option.replace('_', '-')}" if note.option else None
        columns.append(column)
    return {
        "delimiter": detected.delimiter,
        "encoding": detected.encoding,
        "skip_lines": detected.skip_lines,
        "header": detected.has_header,
        "decimal_separator": found.decimal_separator,
        "thousands_separator": found.thousands_separator,
        "date_format": found.date_format,
        "timestamp_format": found.timestamp_format,
        "columns": columns,
    }


def _detected_line(shape: dict[str, Any]) -> str:
    """``_detected_shape`` as a line: the conventions said only where they matter (dates where a
    column holds dates or the file writes them its own way)."""
    from impex.domain.definitions import with_offset
    from impex.formats.readings import ISO_DATE, ISO_TIMESTAMP

    kinds = {c["type"] for c in shape["columns"]}
    parts = [f"delimiter {shape['delimiter']!r}", f"encoding {shape['encoding']}"]
    if shape["skip_lines"]:
        parts.append(f"{shape['skip_lines']} lines passed over")
    parts += [f"header {'yes' if shape['header'] else 'no'}", f"decimal {shape['decimal_separator']!r}"]
    if shape["thousands_separator"] is not None:
        parts.append(f"thousands {_character(shape['thousands_separator'])}")
    if ColumnType.DATE.value in kinds or shape["date_format"] != ISO_DATE:
        parts.append(f"dates {shape['date_format']}")
    if ColumnType.TIMESTAMP.value in kinds or shape["timestamp_format"] != ISO_TIMESTAMP:
        parts.append(f"timestamps {shape['timestamp_format']}")
    utc = ", stored in UTC" if with_offset(shape["timestamp_format"]) else ""
    read_as = {"date": shape["date_format"], "timestamp": shape["timestamp_format"] + utc}
    columns = []
    for c in shape["columns"]:
        name, kind = c["name"], c["type"]
        if f"{kind}_format" in c:
            columns.append(f"{name} ({kind} {c[f'{kind}_format']}, its own format)")
        elif "kept_as_text" in c:
            settle = f"; give {c['option']}" if c["option"] else ""
            columns.append(f"{name} (string: {c['kept_as_text']}{settle})")
        else:
            columns.append(f"{name} ({' '.join(filter(None, (kind, read_as.get(kind))))})")
    return f"detected: {', '.join(parts)}, {len(columns)} columns: {', '.join(columns)}"


SPACES = {" ": "space", "\u00a0": "no-break space", "\u202f": "narrow no-break space"}


def _character(separator: str) -> str:
    """A separator as a reader tells it from its neighbours: spaces by name."""
    return SPACES.get(separator) or repr(separator)


def job_name(said: str) -> str:
    """A quick job's name, shortened to what a job name may hold (a file's name may be longer)."""
    from impex.domain.definitions import ExportJob

    most = next(m.max_length for m in ExportJob.model_fields["name"].metadata if hasattr(m, "max_length"))
    return said if len(said) <= most else said[: most - 1] + "…"


@app.command("export", epilog=EXIT_CODES_HELP)
def export_cmd(
    ctx: typer.Context,
    out_file: Annotated[Path, typer.Argument(help="File to write ({job}, {run}, {date}, {time} allowed).")],
    table: Annotated[str | None, typer.Option(help="Source table.")] = None,
    query: Annotated[str | None, typer.Option(help="A read-only SELECT instead of a table.")] = None,
    column: Annotated[list[str] | None, typer.Option(help="Column to export (repeat; default all).")] = None,
    where: Annotated[str | None, typer.Option(help="Filter (SQL boolean expression).")] = None,
    order_by: Annotated[list[str] | None, typer.Option(help="Order column (repeat).")] = None,
    limit: Annotated[int | None, typer.Option(help="At most this many rows.")] = None,
    connection: Annotated[str, typer.Option(help="Named connection.")] = "default",
    delimiter: Annotated[str, typer.Option(help="Field delimiter (\\t or tab: a tab).")] = ",",
    encoding: Annotated[
        str, typer.Option(help="Encoding, e.g. cp1252, or utf-8-sig (with the byte order mark Excel reads).")
    ] = "utf-8",
    decimal_separator: Annotated[
        str, typer.Option(help="Decimal separator of the numbers, '.' or ','.")
    ] = ".",
    date_format: Annotated[str, typer.Option(help="Date format, e.g. %d.%m.%Y.")] = "%Y-%m-%d",
    timestamp_format: Annotated[
        str | None, typer.Option(help="Timestamp format, e.g. '%d.%m.%Y %H:%M:%S'.")
    ] = None,
    crlf: Annotated[
        bool, typer.Option("--crlf", help="End lines in CRLF (as Windows does), not LF.")
    ] = False,
    gzip: Annotated[
        bool | None, typer.Option("--gzip/--no-gzip", help="Compress the output (default: if named .gz).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Quick export of a table (or query) to a delimited file, in the foreground."""
    from impex.domain.definitions import ExportJob, OutputFormat, QuerySource, TableSource, spelled_delimiter

    if (table is None) == (query is None):
        raise fail("give exactly one of --table or --query")
    _check_output(out_file)
    try:
        source: TableSource | QuerySource = (
            TableSource(
                connection=connection,
                table=table,
                columns=tuple(column or ()),
                filter=where,
                order_by=tuple(order_by or ()),
                limit=limit,
            )
            if table is not None
            else QuerySource(connection=connection, query=query or "")
        )
        definition = ExportJob(
            # a name template ({job}…) would name the file after itself
            name=job_name(
                f"export {table or 'query'}" + ("" if "{" in out_file.name else f" to {out_file.name}")
            ),
            source=source,
            output=os.path.abspath(out_file),
            format=OutputFormat(
                delimiter=spelled_delimiter(delimiter) or ",",
                encoding=encoding,
                decimal_separator=decimal_separator,
                date_format=date_format,
                **({} if timestamp_format is None else {"timestamp_format": timestamp_format}),
                line_ending="crlf" if crlf else "lf",
                **({} if gzip is None else {"gzip": gzip}),
            ),
        )
    except ValueError as e:
        raise _bad_options(e) from None
    _check_source(app_context(ctx).settings, definition.source)
    raise _run(ctx, definition, as_json=as_json)


def _preflight(settings: Settings, definition: ImportJob | ExportJob, *, as_json: bool) -> None:
    """Refuse, before any job is saved, a job the API would refuse as well (the same code and message
    with --json): an unknown connection (a definition problem), a source its runs could not read."""
    from impex.engine.preflight import Refused, check_connection, check_sources, connection_of
    from impex.store.refusals import error_shape

    try:
        check_connection(settings, connection_of(definition))
        check_sources(settings, definition)
    except Refused as e:
        code = Exit.BAD_DEFINITION if e.code.endswith("_connection") else Exit.BAD_ARGUMENTS
        raise refuse(error_shape(e.code, e.message, e.details), code, as_json=as_json) from None


def _check_source(settings: Settings, source: TableSource | QuerySource) -> None:
    """Refuse, before any job is saved, a source the export could not read: an unknown connection or
    table, a column the table lacks, a query the database refuses."""
    from impex.engine.preflight import Refused, check_export_source

    try:
        check_export_source(settings, source)
    except Refused as e:
        raise fail(f"nothing exported: {e.message}") from None


def _check_output(out_file: Path) -> None:
    """Refuse, before any job is saved, an output the export could not be renamed over: standard output,
    a folder, a pipe, a device, a name too long (the run would only end with errors, leaving a job
    behind)."""
    from impex.engine.preflight import Refused, check_output

    if str(out_file) == "-" and not out_file.exists():
        raise fail(
            "-: impex does not write to standard output: an export is written under a temporary name and "
            "renamed once complete (so that a stopped or failed run never leaves half a file); give a file "
            "name, then read the file"
        )
    try:
        check_output(str(out_file))
    except Refused as e:
        raise fail(e.message) from None


@app.command("worker")
def worker_cmd(
    ctx: typer.Context,
    concurrency: Annotated[
        int | None, typer.Option(help="Jobs at once (env IMPEX_WORKER_CONCURRENCY).")
    ] = None,
    queue: Annotated[list[str] | None, typer.Option(help="Queue to take jobs from (repeat).")] = None,
    exit_when_idle: Annotated[
        bool, typer.Option("--exit-when-idle", help="Stop when no job is left.")
    ] = False,
) -> None:
    """Run queued jobs until stopped; SIGTERM/SIGINT stop each job at a chunk boundary (server_shutdown),
    a second one at once (as kill -9: the jobs resume from their checkpoints).
    While the store cannot be reached, the worker says so and keeps trying."""
    from impex.engine.worker import Worker

    _warnings_to_stderr()

    app_ctx = app_context(ctx)
    if concurrency is not None:  # checked as the setting it stands for
        app_ctx.overrides["worker_concurrency"] = concurrency
    settings = app_ctx.settings
    worker = Worker(
        app_ctx.store,
        settings,
        queues=tuple(queue or ("default",)),
        concurrency=settings.worker_concurrency,
    )
    worker.install_signal_handlers()
    console.print(
        f"worker {worker.name}: queues {escape(', '.join(worker.queues))}, {worker.concurrency} at once"
    )
    worker.serve(exit_when_idle=exit_when_idle)
    console.print(f"worker {worker.name}: stopped")
