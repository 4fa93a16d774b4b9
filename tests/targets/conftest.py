"""The PostgreSQL target's specs: each in a fresh schema."""

import pytest

from pg_support import fresh_named_schema, sql_runner


@pytest.fixture
def schema():
    """A fresh schema for the test, dropped after it: its name, and a URL making it the search_path."""
    with fresh_named_schema() as named:
        yield named


@pytest.fixture
def sql(schema):
    """Run SQL in the test's schema (autocommit); returns the rows of a query."""
    with sql_runner(schema=schema[0]) as run:
        yield run
