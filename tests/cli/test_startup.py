import gc

import pytest
import typer

from impex.cli import startup
from impex.cli.context import AppContext


@pytest.fixture
def held():
    startup.hold()
    yield
    gc.enable()
    gc.unfreeze()


def test_the_collector_is_held_while_impex_starts_and_runs_again_once_the_store_is_open(held, data_dir):
    assert not gc.isenabled()
    AppContext({"data_dir": str(data_dir)}).store.engine.dispose()
    assert gc.isenabled()
    assert gc.get_freeze_count() > 0  # what was loaded until then is left out of later collections


def test_the_collector_runs_again_when_the_store_cannot_be_opened(held, tmp_path):
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(typer.Exit):
        _ = AppContext({"data_dir": str(tmp_path / "file" / "data")}).store
    assert gc.isenabled()
