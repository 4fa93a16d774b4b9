"""Every setting is documented in the README, with its environment variable and default."""

from conftest import ROOT
from impex.settings import SETTINGS, load_settings


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
