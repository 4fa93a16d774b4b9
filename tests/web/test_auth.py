"""Logging in, sessions, CSRF, API tokens, users and the first admin."""

from __future__ import annotations

import re

import pytest

from impex.domain.roles import Role
from impex.store.users import Users
from web.conftest import PASSWORD, assert_error


def login(client, name: str, password: str = PASSWORD, next: str = "/jobs"):
    form = client.get(f"/login?next={next}")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
    return client.post(
        "/login",
        data={"name": name, "password": password, "csrf": csrf, "next": next},
        follow_redirects=False,
    )


def session_csrf(client) -> str:
    page = client.get("/jobs")
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


def test_a_page_without_a_session_redirects_to_the_login_form(web):
    response = web.client().get("/jobs?status=paused", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/jobs%3Fstatus%3Dpaused"


@pytest.mark.parametrize("path", ["/jobs/rows", "/jobs/1/head", "/jobs/1/general"])
def test_a_part_a_page_refreshes_is_refused_without_a_session_not_replaced_by_the_login_form(web, path):
    response = web.client(Accept="text/html").get(path, follow_redirects=False)
    assert response.status_code == 401 and "<form" not in response.text


def test_the_login_form_says_when_a_session_has_ended(web):
    assert "Your session has ended" in web.client().get("/login?expired=1&next=/jobs/1").text
    assert "Your session has ended" not in web.client().get("/login?next=/jobs/1").text


def test_a_button_pressed_after_the_session_ended_does_nothing_and_leads_back_to_its_job(web, store):
    """The login used to lead to the button's address, which only takes a POST: 405 Method Not Allowed."""
    job = store.create_job({"kind": "import", "name": "n", "source": "x.csv", "target": {"table": "t"}})
    client = web.client(Accept="text/html")
    pressed = client.post(f"/jobs/{job}/start", data={"csrf": "from-the-old-session"}, follow_redirects=False)
    assert pressed.status_code == 303
    assert pressed.headers["location"] == f"/login?next=/jobs/{job}&undone=1"
    form = client.get(pressed.headers["location"]).text
    assert "Your session had ended, so nothing was done" in form
    assert login(client, "operator", next=f"/jobs/{job}").headers["location"] == f"/jobs/{job}"
    assert store.status_of(job).value == "editing"


def test_logging_out_after_the_session_ended_leads_to_the_login_form(web):
    response = web.client(Accept="text/html").post("/logout", data={"csrf": "x"}, follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/login")


def test_logging_in_sets_a_session_and_goes_where_the_user_was_heading(web):
    client = web.client()
    response = login(client, "operator", next="/jobs?q=x")
    assert (response.status_code, response.headers["location"]) == (303, "/jobs?q=x")
    assert client.get("/api/me").json() == {"id": 2, "name": "operator", "role": "operator"}


def test_a_wrong_password_or_unknown_user_is_refused_alike(web):
    for name, password in [("operator", "wrong password"), ("nobody", PASSWORD)]:
        client = web.client()
        response = login(client, name, password)
        assert "failed=1" in response.headers["location"]
        assert_error(client.get("/api/me"), 401)


def test_the_login_form_needs_its_csrf_token(web):
    client = web.client()
    client.get("/login")
    response = client.post("/login", data={"name": "operator", "password": PASSWORD, "csrf": "forged"})
    assert_error(response, 403, "csrf_failed")


def test_login_never_redirects_to_another_site(web):
    response = login(web.client(), "viewer", next="//evil.example/x")
    assert response.headers["location"] == "/jobs"


def test_a_session_changes_things_only_with_its_csrf_token(web, store):
    client = web.client()
    login(client, "operator")
    job_id = store.create_job({"kind": "import", "name": "x", "source": "x.csv", "target": {"table": "t"}})
    assert_error(client.post(f"/api/jobs/{job_id}/start"), 403, "csrf_failed")
    assert_error(client.post(f"/jobs/{job_id}/start", data={"csrf": "forged"}), 403, "csrf_failed")
    token = session_csrf(client)
    assert client.post(f"/api/jobs/{job_id}/start", headers={"X-CSRF-Token": token}).status_code == 200
    assert (
        client.post(f"/jobs/{job_id}/pause", data={"csrf": token}, follow_redirects=False).status_code == 303
    )
    assert store.status_of(job_id).value == "paused"
    assert [line.actor for line in store.journal_lines(job_id)][-2:] == ["operator", "operator"]


def test_a_tampered_session_cookie_is_anonymous(web):
    client = web.client()
    login(client, "admin")
    cookie = client.cookies["impex_session"]
    # One character inside the signature: its last characters carry base64 padding bits a decoder
    # may ignore, and they may already read "xx".
    i = len(cookie) - 10
    tampered = cookie[:i] + ("A" if cookie[i] != "A" else "B") + cookie[i + 1 :]
    client.cookies.delete("impex_session")  # else the client sends the server's cookie beside it
    client.cookies.set("impex_session", tampered)
    assert_error(client.get("/api/me"), 401)


def test_logging_out_ends_the_session(web):
    client = web.client()
    login(client, "viewer")
    client.post("/logout", data={"csrf": session_csrf(client)})
    assert_error(client.get("/api/me"), 401)


def test_a_user_makes_an_api_token_for_scripts(api, web):
    token = api["viewer"].post("/api/tokens", json={"label": "cron"}).json()["token"]
    assert token.startswith("impex_")
    assert web.client(Authorization=f"Bearer {token}").get("/api/me").json()["name"] == "viewer"


def test_an_admin_creates_users(api, web):
    created = api["admin"].post(
        "/api/users", json={"name": "ops2", "password": "s3cret-enough", "role": "operator"}
    )
    assert created.status_code == 201 and created.json()["role"] == "operator"
    assert [u["name"] for u in api["admin"].get("/api/users").json()["items"]] == [
        "admin",
        "operator",
        "ops2",
        "viewer",
    ]
    again = api["admin"].post("/api/users", json={"name": "ops2", "password": "s3cret-enough"})
    assert "already exists" in assert_error(again, 422, "invalid_user")["message"]
    assert web.users.authenticate("ops2", "s3cret-enough") is not None


def test_the_first_start_creates_one_admin_with_a_random_password(store):
    users = Users(store.engine)
    password = users.bootstrap_admin()
    assert password and len(password) >= 12
    admin = users.authenticate("admin", password)
    assert admin is not None and admin.role is Role.ADMIN
    assert users.bootstrap_admin() is None


def test_passwords_and_tokens_are_stored_only_as_hashes(web, store):
    token = web.tokens["viewer"]
    with store.engine.connect() as c:
        dump = " ".join(
            str(row) for t in ("users", "api_tokens") for row in c.exec_driver_sql(f"SELECT * FROM {t}")
        )
    assert PASSWORD not in dump and token not in dump and "$argon2id$" in dump
