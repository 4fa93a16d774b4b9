"""Every setting is documented in the README, with its environment variable and default."""

import os
import re
import subprocess
from pathlib import Path

import pytest

from impex.settings import SETTINGS, load_settings
from support import IMPEX

ROOT = Path(__file__).resolve().parent.parent  # not conftest's: another folder's conftest may own that name


def test_every_setting_has_a_row_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    for s in SETTINGS:
        assert f"| {s.name} | `{s.env}` |" in readme, f"README lacks setting {s.name}"


def test_environment_then_overrides():
    settings = load_settings(
        {"worker_concurrency": 5}, env={"IMPEX_WORKER_CONCURRENCY": "3", "IMPEX_DATA_DIR": "x"}
    )
    assert settings.worker_concurrency == 5
    assert settings.store_url == "sqlite:///x/impex.db"


def test_a_bad_value_names_the_setting_and_its_variable():
    try:
        load_settings(env={"IMPEX_LEASE_SECONDS": "soon"})
    except ValueError as e:
        assert "lease_seconds (IMPEX_LEASE_SECONDS): 'soon' is not a valid float" in str(e)
    else:
        raise AssertionError("expected a ValueError")


@pytest.mark.parametrize(
    ("variable", "value", "said"),
    [
        (
            "IMPEX_WORKER_CONCURRENCY",
            "0",
            "worker_concurrency (IMPEX_WORKER_CONCURRENCY): '0' is less than 1",
        ),
        ("IMPEX_LEASE_SECONDS", "-5", "lease_seconds (IMPEX_LEASE_SECONDS): '-5' is less than 0.1"),
        ("IMPEX_COMMIT_SECONDS", "-0.5", "commit_seconds (IMPEX_COMMIT_SECONDS): '-0.5' is less than 0"),
        ("IMPEX_UPLOAD_MAX_MB", "0", "upload_max_mb (IMPEX_UPLOAD_MAX_MB): '0' is less than 1"),
    ],
)
def test_a_value_below_what_makes_sense_is_refused_naming_the_least(variable, value, said):
    with pytest.raises(ValueError, match=re.escape(said)):
        load_settings(env={variable: value})


def test_the_least_value_itself_is_taken():
    assert (
        load_settings(env={"IMPEX_COMMIT_SECONDS": "0", "IMPEX_WORKER_CONCURRENCY": "1"}).commit_seconds == 0
    )


def test_a_bad_setting_is_an_error_message_from_the_command_not_a_traceback(tmp_path):
    env = {**os.environ, "IMPEX_WORKER_CONCURRENCY": "abc", "IMPEX_DATA_DIR": str(tmp_path)}
    done = subprocess.run([*IMPEX, "jobs", "list"], capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 2
    assert (
        "error: setting worker_concurrency (IMPEX_WORKER_CONCURRENCY): 'abc' is not a valid int"
        in done.stderr
    )
    assert "Traceback" not in done.stderr
