"""The UI in headless Chromium (Debian's, driven by Playwright): log in, the list, a job's tabs,
German labels, a viewer without buttons. Screenshots go to tests/artifacts/ (git-ignored)."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from impex.domain.status import A, S
from impex.engine.worker import Worker
from support import write
from web.conftest import PASSWORD, PEOPLE, import_definition

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

playwright = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium is not installed")


@pytest.fixture
def server(web) -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(web.app, host="127.0.0.1", port=port, log_level="warning")  # type: ignore[arg-type]
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    while not instance.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    instance.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def page(server):
    ARTIFACTS.mkdir(exist_ok=True)
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 800})
        yield context.new_page()
        browser.close()


def log_in(page, base: str, name: str) -> None:
    page.goto(f"{base}/jobs")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/jobs")


def test_an_operator_sees_the_list_and_tabs_and_a_viewer_no_buttons(page, server, web, store, settings):
    write(web.files / "people.csv", PEOPLE)
    done = store.create_job(import_definition(source=str(web.files / "people.csv")), owner="operator")
    store.transition(done, A.START, actor="operator")
    assert Worker(store, settings, concurrency=1).run_one(done) is S.FINISHED
    draft = store.create_job(import_definition(name="draft", source="people.csv"), owner="operator")

    log_in(page, server, "operator")
    row = page.locator(f"tr[data-job='{done}']")
    assert "Finished" in row.inner_text()
    page.screenshot(path=ARTIFACTS / "job-list.png", full_page=True)

    page.goto(f"{server}/jobs/{draft}")
    assert page.locator("button[data-action]").all_inner_texts() == ["Start"]
    page.click("button[data-action=start]")
    page.wait_for_url(f"{server}/jobs/{draft}")
    assert page.locator("button[data-action]").all_inner_texts() == ["Pause", "Cancel"]

    for tab in ("general", "journal", "rejects"):
        page.goto(f"{server}/jobs/{done}?tab={tab}")
        page.screenshot(path=ARTIFACTS / f"job-{tab}.png", full_page=True)
    assert "2,Bob,x" in page.locator("table.rejects").inner_text()

    page.click("a[hreflang=de]")
    assert "Abgeschlossen" in page.locator("#job-head").inner_text()
    assert "Zurückweisungen" in page.locator("nav.tabs").inner_text()
    page.screenshot(path=ARTIFACTS / "job-rejects-de.png", full_page=True)

    page.context.clear_cookies()
    log_in(page, server, "viewer")
    page.goto(f"{server}/jobs/{draft}")
    assert page.locator("button[data-action]").count() == 0
    response = page.request.post(f"{server}/api/jobs/{draft}/pause")
    assert response.status == 403
