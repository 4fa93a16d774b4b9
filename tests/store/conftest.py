"""Every store test runs twice: on the embedded SQLite file and on a fresh PostgreSQL schema."""

import pytest

from impex.store.store import Store
from pg_support import fresh_schema


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, settings):
    if request.param == "sqlite":
        yield settings.store_url
    else:
        with fresh_schema() as url:
            yield url


@pytest.fixture
def store(store_url):
    s = Store.open(store_url)
    yield s
    s.close()
