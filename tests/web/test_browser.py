"""The UI in headless Chromium (Debian's, driven by Playwright), against `impex serve`'s app with its
embedded worker: an operator uploads a CSV with bad rows, maps it, starts it, watches the progress
bar move, pauses, resumes, sees it finish, downloads the rejects, cancels another job, exports the
table and downloads the file, reads it in German; a viewer has no buttons and gets 403 from the API.
Screenshots of the list, the upload, the preview and each tab go to tests/artifacts/ (git-ignored)."""

from __future__ import annotations

import csv
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from impex.domain.rejects import Reason, Reject
from impex.domain.status import A, S
from impex.engine.worker import Worker
from impex.settings import Settings
from impex.web.app import create_app
from support import wait_until
from web.conftest import PASSWORD
from web.test_api_jobs import reach

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ROWS = 300_000
CHUNK_ROWS = 200  # ~1,500 chunks: the run lasts several seconds, and pauses within milliseconds
JOB_URL = re.compile(r"/jobs/(\d+)$")

playwright = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium is not installed")


def bad_row(i: int) -> bool:
    return i % 1000 == 3  # 300 rows, the third among them: detection calls "age" text at first


def make_people(path: Path) -> Path:
    with open(path, "w") as f:
        f.write("id,name,age,joined\n")
        for i in range(1, ROWS + 1):
            age = "x" if bad_row(i) else str(20 + i % 50)
            f.write(f"{i},Name {i},{age},2024-01-{1 + i % 28:02d}\n")
    return path


@pytest.fixture
def server(web, store, settings) -> Iterator[str]:
    """The app as `impex serve` runs it: with an embedded worker (and a journal progress line a second)."""
    settings = Settings({**settings.values, "progress_seconds": 1.0})
    app = create_app(settings, store, worker=Worker(store, settings, concurrency=2))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    while not instance.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    instance.should_exit = True
    thread.join(timeout=20)


@pytest.fixture
def page(server):
    ARTIFACTS.mkdir(exist_ok=True)
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 800})
        context.set_default_timeout(20_000)
        yield context.new_page()
        browser.close()


def shot(page, name: str) -> None:
    page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)


def log_in(page, base: str, name: str) -> None:
    page.goto(f"{base}/jobs")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/jobs")


def head_says(page, text: str, timeout: float = 30_000) -> None:
    playwright.expect(page.locator("#job-head")).to_contain_text(text, timeout=timeout)


def upload_and_map(page, base: str, source: Path, label: str, screenshot: str | None = None) -> int:
    """Upload ``source`` on the new-import page, adjust the mapping, start it; the new job's id."""
    page.goto(f"{base}/jobs/new/import")
    page.set_input_files("#upload input[type=file]", source)
    page.click("#upload button[type=submit]")
    page.wait_for_url(re.compile(r"/jobs/new/import\?upload="))
    page.fill("input[name=name]", label)
    page.fill("input[name=table]", label.replace(" ", "_"))
    with page.expect_navigation():
        page.click("button[name=do][value=match]")  # a new table: the mapping's names come from the header
    assert page.input_value("input[name=col-3-name]") == "age"
    assert page.input_value("select[name=col-3-type]") == "string"  # line 4 has age "x"
    page.select_option("select[name=col-3-type]", "integer")  # adjust: then "x" is a reject
    page.fill("input[name=chunk_rows]", str(CHUNK_ROWS))
    if screenshot:
        shot(page, screenshot)
    page.click("button[data-submit=start]")
    page.wait_for_url(JOB_URL)
    return int(JOB_URL.search(page.url).group(1))


def progress_values(page, wanted: int = 2, timeout: float = 20.0) -> tuple[set[str], bool]:
    """Distinct values the General tab's progress bar shows while the job runs (and whether the
    rate was shown), until ``wanted`` values strictly between 0 and 1 were seen."""
    seen: set[str] = set()
    rate_shown = False
    deadline = time.monotonic() + timeout
    while len(seen) < wanted and time.monotonic() < deadline:
        value = page.locator("#general progress").get_attribute("value")
        if value is not None and 0 < float(value) < 1:
            seen.add(value)
            rate_shown = rate_shown or page.locator("#general .rate").count() == 1
        time.sleep(0.1)
    return seen, rate_shown


def test_an_operator_imports_watches_pauses_resumes_and_a_viewer_only_reads(page, server, web, tmp_path):
    started = time.monotonic()
    source = make_people(tmp_path / "people.csv")
    log_in(page, server, "operator")

    page.goto(f"{server}/jobs/new/import")
    shot(page, "new-import-upload")
    job = upload_and_map(page, server, source, "people", screenshot="new-import-preview")

    values, rate_shown = progress_values(page)
    assert len(values) == 2, f"the progress bar did not move while running: {values}"
    assert rate_shown
    playwright.expect(page.locator("#general td[data-counter=total]")).to_have_text("—")
    shot(page, "job-general-running")
    # The buttons are laid out by their CSS rule: inside .actions in the DOM the browser built.
    assert page.locator(".actions form button[data-action]").all_inner_texts() == ["Pause", "Cancel"]
    page.click("button[data-action=pause]")
    head_says(page, "Paused")
    paused_at = float(page.locator("#general progress").get_attribute("value") or 0)
    assert 0 < paused_at < 1
    shot(page, "job-general-paused")
    # The status icon is an inline SVG beside the label: no glyph that a font could lack.
    icon = page.locator("#job-head .status svg.icon[aria-hidden=true]")
    assert icon.count() == 1 and icon.bounding_box()["width"] > 8
    assert page.locator("button[data-action]").all_inner_texts() == ["Start", "Cancel"]
    page.click("button[data-action=start]")
    head_says(page, "Finished")
    playwright.expect(page.locator("#general td[data-counter=rejected]")).to_have_text("300")
    playwright.expect(page.locator("#general td[data-counter=inserted]")).to_have_text(f"{ROWS - 300:,}")
    shot(page, "job-general")

    page.click("nav.tabs a[href$='tab=journal']")
    playwright.expect(page.locator("table.journal")).to_contain_text("Pause by operator")
    shot(page, "job-journal")
    page.click("nav.tabs a[href$='tab=rejects']")
    assert "3,Name 3,x,2024-01-04" in page.locator("table.rejects").inner_text()
    shot(page, "job-rejects")
    with page.expect_download() as download:
        page.click("a[download]:has-text('Download rejects')")
    with open(download.value.path(), newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["id", "name", "age", "joined", "reason"]
    assert len(rows) == 301 and all(bad_row(int(r[0])) and r[2] == "x" for r in rows[1:])
    assert rows[1][4].startswith("type_error") and "age" in rows[1][4]

    other = upload_and_map(page, server, source, "people again")  # into table people_again
    page.once("dialog", lambda dialog: dialog.accept())  # Cancel asks first
    page.click("button[data-action=cancel]")
    head_says(page, "Canceled")
    shot(page, "job-canceled")

    page.goto(f"{server}/jobs/new/export")
    page.fill("input[name=name]", "people out")
    page.fill("input[name=table]", "people")
    page.fill("input[name=columns]", "id, name")
    assert page.locator("input[name=filter]").count() == 0  # SQL of one's own: the admin's
    page.fill("input[name=output]", "people-{run}.csv")
    shot(page, "new-export")
    page.click("button[data-submit=start]")
    page.wait_for_url(JOB_URL)
    head_says(page, "Finished")
    with page.expect_download() as download:
        page.click("#general a[download]")
    lines = Path(download.value.path()).read_text().splitlines()
    assert lines[:2] == ["id,name", "1,Name 1"] and len(lines) == 1 + ROWS - 300  # as imported
    shot(page, "export-general")

    page.goto(f"{server}/jobs")
    assert "Canceled" in page.locator(f"tr[data-job='{other}']").inner_text()
    shot(page, "job-list")
    page.goto(f"{server}/jobs/{job}?tab=rejects")
    page.click("a[hreflang=de]")
    head_says(page, "Abgeschlossen")
    assert "Zurückweisungen" in page.locator("nav.tabs").inner_text()
    shot(page, "job-rejects-de")
    page.goto(f"{server}/jobs/{job}")
    playwright.expect(page.locator("button[data-action=start]")).to_have_text("Starten")
    shot(page, "job-general-de")

    page.context.clear_cookies()
    log_in(page, server, "viewer")
    assert page.locator("[data-new]").count() == 0
    page.goto(f"{server}/jobs/{job}")
    assert page.locator("button[data-action]").count() == 0
    shot(page, "viewer-job")
    assert page.request.post(f"{server}/api/jobs/{job}/start").status == 403
    assert page.request.post(f"{server}/api/jobs/{other}/cancel").status == 403
    file = {"name": "people.csv", "mimeType": "text/csv", "buffer": b"id,name\n1,Ann\n"}
    refused = page.request.post(f"{server}/api/uploads", multipart={"file": file})
    assert refused.status == 403 and refused.json()["error"]["code"] == "forbidden"
    assert time.monotonic() - started < 60


def test_a_refused_upload_is_told_in_the_users_language_without_english(page, server):
    """The page used to join its own sentence and the API's English one ('… — the file: not a text
    file: byte 0x00 at line 1 …')."""
    log_in(page, server, "operator")
    page.goto(f"{server}/lang/de?next=/jobs/new/import")
    problem = page.locator("#upload .problem")
    picture = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 40
    for name, content, said in [
        ("bild.csv", picture, "Das ist keine Textdatei: Byte 0x00 in Zeile 3, Spalte 1. Laden Sie"),
        ("leer.csv", b"", "Die Datei ist leer."),
    ]:
        page.set_input_files(
            "#upload input[type=file]", {"name": name, "mimeType": "text/csv", "buffer": content}
        )
        page.click("#upload button[type=submit]")
        playwright.expect(problem).to_contain_text(said)  # waits for the answer
        assert not re.search(r"\b(the|file|is|not)\b", problem.inner_text()), problem.inner_text()
    shot(page, "new-import-refused-de")


def test_the_list_and_a_job_fit_a_laptop_screen_in_every_language_even_with_a_long_label(page, server, store):
    """A label without spaces widened the list to twice the screen; German, Portuguese, Spanish and
    Italian labels pushed its last column (the owner) off a 1280 px screen."""
    name = "monthly_customer_export_" * 8  # 192 characters, no space to break at
    job = store.create_job(
        {"kind": "import", "name": name, "source": "x.csv", "target": {"table": "t"}}, owner="operator"
    )
    store.transition(job, A.START, actor="operator")
    store.transition(job, A.PAUSE, actor="operator")
    other = store.create_job({"kind": "import", "name": "short", "source": "x.csv", "target": {"table": "t"}})
    reach(store, other, S.FINISHED_WITH_ERRORS)
    log_in(page, server, "operator")
    for language, path in [("en", "/jobs"), ("en", f"/jobs/{job}"), ("pt", "/jobs"), ("de", "/jobs")]:
        page.goto(f"{server}/lang/{language}?next={path}")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 1280, f"{path} in {language} is {width} px wide"


def test_a_page_left_open_when_the_session_ends_asks_to_log_in_and_comes_back(page, server, store):
    """The live refresh used to put the login form, twice, inside the job page (its head and its
    General tab), and that form led to a bare fragment of the page once logged in."""
    job = store.create_job(
        {"kind": "import", "name": "nightly", "source": "x.csv", "target": {"table": "t"}}, owner="operator"
    )
    log_in(page, server, "operator")
    page.goto(f"{server}/jobs/{job}")
    page.context.clear_cookies()  # as when the session expires, or the server's secret changes
    page.wait_for_url(re.compile(r"/login\?"))
    playwright.expect(page.locator("main")).to_contain_text("Your session has ended")
    assert page.locator("form.login").count() == 1 and page.locator("#job-head").count() == 0
    page.fill("input[name=name]", "operator")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server}/jobs/{job}")
    head_says(page, "nightly")


def test_cancel_asks_first_and_a_no_leaves_the_job_as_it_was(page, server, store):
    """Cancel sat beside Pause and ended a paused run at one click: it can only be run again from the
    start, not resumed."""
    job = store.create_job(
        {"kind": "import", "name": "nightly", "source": "x.csv", "target": {"table": "t"}}, owner="operator"
    )
    reach(store, job, S.PAUSED)
    log_in(page, server, "operator")
    page.goto(f"{server}/lang/de?next=/jobs/{job}")
    asked: list[str] = []

    def answer(dialog, accept: bool) -> None:
        asked.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda dialog: answer(dialog, False))
    page.click("button[data-action=cancel]")
    assert asked and f"Auftrag {job}" in asked[0] and "abbrechen" in asked[0]
    page.reload()
    assert store.status_of(job) is S.PAUSED
    page.once("dialog", lambda dialog: answer(dialog, True))
    page.click("button[data-action=cancel]")
    head_says(page, "Abgebrochen")
    assert store.status_of(job) is S.CANCELED


def test_no_request_of_a_job_page_or_of_an_error_page_fails(page, server, store):
    """The browser asked for /favicon.ico on every page, and got a 404."""
    job = store.create_job(
        {"kind": "import", "name": "nightly", "source": "x.csv", "target": {"table": "t"}}, owner="operator"
    )
    failed: list[str] = []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.on("console", lambda m: failed.append(m.text) if m.type == "error" else None)
    log_in(page, server, "operator")
    page.goto(f"{server}/jobs/{job}")
    head_says(page, "nightly")
    page.wait_for_timeout(2_000)  # a refresh or two
    assert failed == []
    page.on("requestfinished", lambda r: failed.append(r.url) if r.resource_type != "document" else None)
    page.goto(f"{server}/jobs/{job + 1000}")  # no such job: the 404 page, with its style and icon
    page.wait_for_load_state("load")
    page.wait_for_timeout(500)
    assert failed[0] == f"404 {server}/jobs/{job + 1000}"
    assert sorted(u for u in failed if u.startswith(server)) == [
        f"{server}/static/app.css",
        f"{server}/static/favicon.svg",
    ]


def test_text_selected_in_a_live_part_of_a_job_page_stays_selected_until_let_go(page, server, store):
    """The live refresh replaced the job's head and General tab whenever they changed (a counter, the
    status), and dropped the text the user was selecting to copy."""
    job = store.create_job(
        {"kind": "import", "name": "nightly", "source": "x.csv", "target": {"table": "t"}}, owner="operator"
    )
    reach(store, job, S.PAUSED)
    log_in(page, server, "operator")
    page.goto(f"{server}/jobs/{job}")
    head_says(page, "Paused")
    select = "const r = document.createRange(); r.selectNodeContents(document.querySelector('#job-head h1'));"
    page.evaluate(select + " getSelection().removeAllRanges(); getSelection().addRange(r);")
    store.transition(job, A.CANCEL, actor="tester")
    page.wait_for_timeout(3_500)  # two refreshes
    assert "nightly" in page.evaluate("getSelection().toString()")
    playwright.expect(page.locator("#job-head")).to_contain_text("Paused")
    page.evaluate("getSelection().removeAllRanges()")
    head_says(page, "Canceled", timeout=5_000)


def test_the_rejects_tab_shows_the_rejects_a_run_finds_while_it_is_open(page, server, store):
    job = store.create_job(
        {"kind": "import", "name": "nightly", "source": "x.csv", "target": {"table": "t"}}, owner="operator"
    )
    store.transition(job, A.START, actor="operator")  # the embedded worker runs it: x.csv is missing
    wait_until(lambda: store.status_of(job) is S.FINISHED_WITH_ERRORS, 20, "the run to end")
    run = store.runs_of(job)[-1]  # rejects stored as a run stores them, from now on
    store.add_rejects(run.id, [Reject(1, 2, b"1,x", Reason.TYPE_ERROR, "age", "x", "bad")])
    log_in(page, server, "operator")
    page.goto(f"{server}/jobs/{job}?tab=rejects")
    playwright.expect(page.locator("#rejects")).to_contain_text("Rejects: 1")
    store.add_rejects(run.id, [Reject(5, 7, b"5,y", Reason.TYPE_ERROR, "age", "y", "bad")])
    playwright.expect(page.locator("#rejects")).to_contain_text("Rejects: 2", timeout=5_000)
    playwright.expect(page.locator("#rejects tbody tr")).to_have_count(2)
