"""The quick import into a table that exists: which of the file's columns go in, checked before any job
is saved, so that a file the table cannot take is refused at once rather than end a run with errors."""

from __future__ import annotations

from impex.engine.connections import BadConnection, UnknownConnection, connection_url
from impex.settings import Settings
from impex.targets import TargetError, open_target
from impex.targets.base import lacking_columns

# The last column of a rejects file (``impex jobs rejects ID --export FILE``): why each record was rejected.
REASON_COLUMN = "reason"


class DoesNotFit(ValueError):
    """The file has columns that the existing table lacks; or the target cannot be asked."""


def columns_to_import(settings: Settings, connection: str, table: str, names: list[str]) -> tuple[int, str]:
    """How many of the file's columns, from the first, go into ``table``, and a note on the ones left
    out: all of them (no note) when the table does not exist yet; all but a rejects file's reasons when
    the table has no column of that name, so that fixed rejects import again as they are. ``table``
    is a valid name: the quick import checks it before it reads the file."""
    try:
        session = open_target(connection_url(settings, connection))
    except (UnknownConnection, BadConnection, TargetError) as error:
        raise DoesNotFit(f"--connection {connection}: {error}") from None
    try:
        if not session.table_exists(table):
            return len(names), ""
        missing, has = lacking_columns(session, table, names)
    except TargetError as error:  # a name the database cannot take, a connection lost meanwhile
        raise DoesNotFit(str(error)) from None
    finally:
        session.close()
    if missing == [REASON_COLUMN] and names[-1] == REASON_COLUMN:
        return len(
            names
        ) - 1, f"column {REASON_COLUMN} (a rejects file's reasons) is not in table {table}: left out"
    if missing:
        raise DoesNotFit(
            f"table {table} has no column(s) {', '.join(missing)} (it has: {', '.join(has)}): give --table "
            "to import into a new table"
        )
    return len(names), ""
