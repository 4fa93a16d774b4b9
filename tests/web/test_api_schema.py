"""The API answers as its own OpenAPI document says. Schemathesis sends every operation requests made
from the document (valid and not) as an admin, over a real SQLite store that holds a job: no answer is
a server error, each status and content type is one the document gives for the operation, each body
matches its schema, and each error has the one shape."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from support import write
from web.conftest import PEOPLE, assert_error, import_definition

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def api_schema(web, api):
    write(web.files / "people.csv", PEOPLE)
    api["operator"].post("/api/jobs", json={"definition": import_definition()})  # job 1
    return schemathesis.openapi.from_asgi("/api/openapi.json", web.app)


schema = schemathesis.pytest.from_fixture("api_schema")


# the stream is left out: it answers for up to a minute
@schema.exclude(path_regex="/stream$").parametrize()
@settings(
    max_examples=12,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_every_answer_is_one_the_openapi_document_gives(case, web):
    response = case.call(headers={"Authorization": f"Bearer {web.tokens['admin']}"})
    case.validate_response(response, checks=CHECKS)
    if response.status_code >= 400:
        assert_error(response, response.status_code)


def test_every_error_the_document_gives_has_the_one_shape(web):
    spec = web.client().get("/api/openapi.json").json()
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            errors = {code: r for code, r in operation["responses"].items() if code.startswith("4")}
            if path != "/api/health":
                assert {"401", "403", "422"} <= errors.keys(), (method, path)
            for code, documented in errors.items():
                body = documented["content"]["application/json"]["schema"]
                assert body == {"$ref": "#/components/schemas/Error"}, (method, path, code)
