import os
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from impex.settings import load_settings
from impex.store.store import Store
from support import JOB, make_contacts

ROOT = Path(__file__).resolve().parent.parent

# The suite draws the same examples every run, so that CI passes or fails on the code alone; to hunt
# with fresh examples: HYPOTHESIS_PROFILE=hunt (and FUZZ_EXAMPLES=500 for the import fuzzing).
hypothesis_settings.register_profile("suite", derandomize=True)
hypothesis_settings.register_profile("hunt", derandomize=False)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "suite"))


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "impex-data"
    path.mkdir()
    return path


@pytest.fixture
def settings(data_dir: Path):
    return load_settings(
        {
            "data_dir": str(data_dir),
            "progress_seconds": 0.0,
            "lease_seconds": 5.0,
            "heartbeat_seconds": 0.2,
            "poll_seconds": 0.05,
        },
        env={},
    )


@pytest.fixture
def store(settings):
    s = Store.open(settings.store_url)
    yield s
    s.close()


@pytest.fixture
def impex_env(data_dir: Path) -> dict[str, str]:
    """Environment for `impex` subprocesses pointed at this test's data folder."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMPEX_")}
    env.update(
        IMPEX_DATA_DIR=str(data_dir),
        IMPEX_PROGRESS_SECONDS="0",
        IMPEX_POLL_SECONDS="0.05",
        IMPEX_HEARTBEAT_SECONDS="0.2",
    )
    return env


@pytest.fixture
def contacts_job(tmp_path: Path):
    def build(rows: int, chunk_rows: int) -> Path:
        source = make_contacts(tmp_path / "contacts.csv", rows)
        job = tmp_path / "contacts.yaml"
        job.write_text(JOB.format(source=source, chunk_rows=chunk_rows))
        return job

    return build
