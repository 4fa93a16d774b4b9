"""Admins see the named connections, passwords masked, and can check that one opens."""

import pytest

from impex.settings import load_settings

SECRET = "s3cr3t-pw"


@pytest.fixture
def settings(data_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("IMPEX_TEST_WAREHOUSE_PW", SECRET)
    connections = tmp_path / "connections.yaml"
    connections.write_text(
        f"archive: sqlite:///{tmp_path / 'archive.db'}\n"
        f"warehouse:\n  url: postgresql://loader:{SECRET}@127.0.0.1:1/nowhere\n"
        "  password_env: IMPEX_TEST_WAREHOUSE_PW\n"
        "broken:\n  url: postgresql://loader@127.0.0.1/x\n  password_env: IMPEX_TEST_NOT_SET\n"
    )
    return load_settings(
        {"data_dir": str(data_dir), "connections_file": str(connections), "progress_seconds": 0.0}, env={}
    )


def test_an_admin_lists_the_connections_with_passwords_masked(api):
    response = api["admin"].get("/api/connections")
    assert response.status_code == 200
    items = {item["name"]: item for item in response.json()["items"]}
    assert list(items) == ["default", "archive", "broken", "warehouse"]
    assert items["warehouse"]["url"] == "postgresql://loader:***@127.0.0.1:1/nowhere"
    assert items["warehouse"]["kind"] == "postgresql"
    assert "IMPEX_TEST_NOT_SET is not set" in items["broken"]["problem"]
    assert SECRET not in response.text


def test_checking_a_connection_tells_whether_it_opens_without_showing_the_password(api):
    assert api["admin"].post("/api/connections/archive/check").json()["ok"] is True
    failed = api["admin"].post("/api/connections/warehouse/check")
    assert failed.status_code == 200 and failed.json()["ok"] is False
    assert SECRET not in failed.text
    assert api["admin"].post("/api/connections/nowhere/check").status_code == 404
