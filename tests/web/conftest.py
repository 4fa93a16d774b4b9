"""The web app over a real SQLite store, with one user (and API token) per role."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from impex.domain.roles import Role
from impex.store import users as users_module
from impex.store.users import Users
from impex.web.app import create_app

PASSWORD = "correct horse battery"


@dataclass
class Web:
    app: object
    users: Users
    tokens: dict[str, str]
    files: Path

    def client(self, role: str | None = None, **headers: str) -> TestClient:
        """An API client authenticated as the user of ``role`` (None: anonymous)."""
        client = TestClient(self.app, raise_server_exceptions=True)  # type: ignore[arg-type]
        if role is not None:
            client.headers["Authorization"] = f"Bearer {self.tokens[role]}"
        client.headers.update(headers)
        return client


@pytest.fixture(autouse=True)
def quick_hashes(monkeypatch):
    """Argon2id with its smallest cost: the tests check who may log in, not the hash's strength."""
    monkeypatch.setattr(users_module, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def web(settings, store) -> Web:
    files = settings.file_roots[0]
    files.mkdir(parents=True, exist_ok=True)
    users = Users(store.engine)
    tokens = {}
    for role in Role:
        user = users.create(role.value, PASSWORD, role)
        tokens[role.value] = users.create_token(user.id, "tests")
    return Web(create_app(settings, store), users, tokens, files)


@pytest.fixture
def api(web):
    """Clients per role: api["operator"].post(...)."""
    with web.client("viewer") as viewer, web.client("operator") as operator, web.client("admin") as admin:
        yield {"viewer": viewer, "operator": operator, "admin": admin}


PEOPLE = "id,name,age\n1,Ann,30\n2,Bob,x\n3,Cy,40\n4,Di,forty\n5,Ed,50\n"


def import_definition(source: str = "people.csv", **extra) -> dict:
    definition = {
        "kind": "import",
        "name": "people",
        "source": source,
        "target": {"table": "people"},
        "columns": [
            {"name": "id", "type": "integer", "required": True},
            {"name": "name"},
            {"name": "age", "type": "integer"},
        ],
    }
    definition.update(extra)
    return definition


def assert_error(response, status: int, code: str | None = None) -> dict:
    """The one error shape, with this status (and code)."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert isinstance(body["error"]["code"], str) and isinstance(body["error"]["message"], str)
    assert body["error"]["message"]
    if code is not None:
        assert body["error"]["code"] == code
    return body["error"]
