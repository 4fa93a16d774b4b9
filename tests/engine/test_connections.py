"""Named connections: a URL, or a URL plus where its password comes from; never a password shown."""

from pathlib import Path

import pytest

from impex.engine.connections import BadConnection, UnknownConnection, connection_url, redact_url
from impex.settings import load_settings
from impex.targets import Connection
from support import write


def settings_with(tmp_path: Path, text: str):
    connections = write(tmp_path / "connections.yaml", text)
    return load_settings({"data_dir": str(tmp_path), "connections_file": str(connections)}, env={})


def test_a_plain_url_entry(tmp_path):
    settings = settings_with(tmp_path, "wh: sqlite:///w.db\n")
    assert connection_url(settings, "wh") == Connection("sqlite:///w.db")


def test_default_is_the_embedded_database(tmp_path):
    settings = settings_with(tmp_path, "")
    assert connection_url(settings, "default").url == f"sqlite:///{tmp_path / 'data.db'}"


def test_the_password_comes_from_an_environment_variable_at_open_time(tmp_path, monkeypatch):
    settings = settings_with(tmp_path, "pg:\n  url: postgresql://u@h/db\n  password_env: PG_PW\n")
    monkeypatch.setenv("PG_PW", "first")
    assert connection_url(settings, "pg").password == "first"
    monkeypatch.setenv("PG_PW", "rotated")
    assert connection_url(settings, "pg").password == "rotated"


def test_the_password_comes_from_a_file_relative_to_the_connections_file(tmp_path):
    write(tmp_path / "secret", "from-file\n")
    settings = settings_with(tmp_path, "pg: {url: 'postgresql://u@h/db', password_file: secret}\n")
    connection = connection_url(settings, "pg")
    assert connection.password == "from-file"
    assert "from-file" not in repr(connection) and "from-file" not in str(connection)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("pg: {url: 'postgresql://u@h/db', password_env: NOT_SET_ANYWHERE}", "NOT_SET_ANYWHERE is not set"),
        ("pg: {url: 'postgresql://u@h/db', password_file: missing}", "cannot read password_file"),
        ("pg: {url: 'postgresql://u@h/db', password: x}", "unknown field(s) password"),
        ("pg: {password_env: X}", "expected a URL, or a mapping with url"),
        ("pg: {url: 'postgresql://u@h/db', password_env: A, password_file: b}", "not both"),
    ],
)
def test_a_bad_entry_is_a_clear_error(tmp_path, entry, message):
    with pytest.raises(BadConnection, match=message.replace("(", r"\(").replace(")", r"\)")):
        connection_url(settings_with(tmp_path, entry + "\n"), "pg")


def test_an_unknown_name_lists_the_known_ones(tmp_path):
    settings = settings_with(tmp_path, "b: sqlite:///b.db\na: {url: 'postgresql://u@h/db'}\n")
    with pytest.raises(UnknownConnection, match=r"known: default, a, b"):
        connection_url(settings, "c")


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://u:hunter2@h:5432/db", "postgresql://u:***@h:5432/db"),
        (
            "postgresql://u@h/db?password=hunter2&sslmode=require",
            "postgresql://u@h/db?password=***&sslmode=require",
        ),
        ("postgresql://u@h/db", "postgresql://u@h/db"),
        ("sqlite:///data/x.db", "sqlite:///data/x.db"),
    ],
)
def test_redact_url_hides_passwords(url, shown):
    assert redact_url(url) == shown


def test_a_connection_to_the_store_file_itself_is_refused(tmp_path):
    """Python's sqlite3 (the store) and the ADBC driver's SQLite (the data) each drop the other's
    locks on a file they share in one process: the data needs a file of its own."""
    store = tmp_path / "impex.db"
    settings = settings_with(tmp_path, f"same: sqlite:///{store}\nother: sqlite:///{tmp_path / 'x.db'}\n")
    with pytest.raises(BadConnection) as refused:
        connection_url(settings, "same")
    assert str(refused.value) == (
        f"connection 'same' is impex's own store ({store}): give the data a database file of its own"
    )
    assert connection_url(settings, "other").url == f"sqlite:///{tmp_path / 'x.db'}"
