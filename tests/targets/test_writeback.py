import os
import sys

import pytest

from impex.targets.writeback import Writeback

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="sync_file_range is Linux's")


def open_descriptors():
    return len(os.listdir("/proc/self/fd"))


@linux_only
def test_a_writeback_holds_one_descriptor_of_the_file_until_closed(tmp_path):
    path = tmp_path / "data.db"
    path.write_bytes(b"x" * 1_000_000)
    before = open_descriptors()
    writeback = Writeback(path)
    assert writeback.active
    assert open_descriptors() == before + 1
    writeback.start()
    writeback.start()
    writeback.close()
    writeback.close()
    assert open_descriptors() == before
    assert path.read_bytes() == b"x" * 1_000_000


def test_a_file_that_cannot_be_opened_gives_a_writeback_that_does_nothing(tmp_path):
    writeback = Writeback(tmp_path / "missing.db")
    assert not writeback.active
    writeback.start()
    writeback.close()
