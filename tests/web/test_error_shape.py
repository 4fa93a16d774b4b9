"""Every API error, whatever the request, has the one shape {"error": {"code", "message", "details"}}."""

from __future__ import annotations

import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from web.conftest import assert_error

SEGMENTS = st.one_of(
    st.sampled_from(
        [
            "jobs",
            "1",
            "999",
            "0",
            "-1",
            "start",
            "pause",
            "cancel",
            "journal",
            "rejects",
            "download",
            "output",
            "stream",
            "users",
            "uploads",
            "tokens",
            "me",
            "x",
        ]
    ),
    st.text(string.ascii_letters + string.digits + "-_.", min_size=1, max_size=8),
)
QUERY = st.dictionaries(
    st.sampled_from(["status", "limit", "offset", "sort", "order", "after", "level", "run", "tail", "kind"]),
    st.text(string.printable, max_size=6),
    max_size=3,
)
BODIES = st.one_of(
    st.none(),
    st.dictionaries(
        st.sampled_from(["definition", "start", "name", "password", "role", "label"]),
        st.one_of(
            st.integers(),
            st.text(max_size=5),
            st.booleans(),
            st.none(),
            st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
        ),
        max_size=3,
    ),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH"]),
    segments=st.lists(SEGMENTS, min_size=0, max_size=4),
    query=QUERY,
    body=BODIES,
    role=st.sampled_from([None, "viewer", "operator", "admin"]),
)
def test_every_api_error_has_the_one_shape(web, method, segments, query, body, role):
    client = web.client(role)
    response = client.request(method, "/api/" + "/".join(segments), params=query, json=body)
    if response.status_code >= 400:
        assert_error(response, response.status_code)
