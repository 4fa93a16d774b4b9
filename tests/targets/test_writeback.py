import subprocess
import sys

import pytest

from impex.targets.sqlite import SqliteTarget
from impex.targets.writeback import Writeback, descriptors_of

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="sync_file_range is Linux's")

TRY_TO_WRITE = (
    "import sqlite3, sys\n"
    "c = sqlite3.connect(sys.argv[1], timeout=0, isolation_level=None)\n"
    "try:\n"
    "    c.execute('BEGIN IMMEDIATE')\n"
    "except sqlite3.OperationalError as e:\n"
    "    print(e)\n"
    "else:\n"
    "    print('written')\n"
)


def another_process_writes(path) -> str:
    done = subprocess.run([sys.executable, "-c", TRY_TO_WRITE, str(path)], capture_output=True, text=True)
    return done.stdout.strip()


@linux_only
def test_the_writeback_goes_through_a_descriptor_the_connection_opened(tmp_path):
    target = SqliteTarget(tmp_path / "data.db")
    try:
        assert target.writeback.active
        assert target.writeback._fd in descriptors_of(tmp_path / "data.db")
        target.writeback.start()
    finally:
        target.close()
    assert not target.writeback.active


@linux_only
def test_closing_a_connection_keeps_the_locks_of_another_one_in_the_same_process(tmp_path):
    """Closing any descriptor of a file drops all of the process's POSIX locks on it: the writeback
    must not close one of its own while another connection of this process holds the write lock."""
    holder = SqliteTarget(tmp_path / "data.db")
    holder.begin()
    other = SqliteTarget(tmp_path / "data.db")
    other.writeback.start()
    other.close()
    try:
        assert another_process_writes(tmp_path / "data.db") == "database is locked"
    finally:
        holder.rollback()
        holder.close()
    assert another_process_writes(tmp_path / "data.db") == "written"


def test_a_connection_whose_descriptor_cannot_be_told_apart_asks_for_nothing(tmp_path):
    target = SqliteTarget(tmp_path / "data.db")
    try:
        every = descriptors_of(tmp_path / "data.db")
        writeback = Writeback(tmp_path / "data.db", before=every)
        assert not writeback.active
        writeback.start()
    finally:
        target.close()
