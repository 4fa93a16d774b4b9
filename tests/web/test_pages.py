"""The server-rendered pages: the list, a job's tabs, the buttons per the transition table, languages."""

from __future__ import annotations

import html
import re

import pytest

from impex.domain.rejects import Reason, Reject
from impex.domain.status import OPERATOR_ACTIONS, A, S, allowed_actions
from impex.engine.worker import Worker
from support import write
from web.conftest import PEOPLE, import_definition
from web.test_api_jobs import reach
from web.test_auth import login


@pytest.fixture
def browser(web):
    """A logged-in browser session per role."""

    def open_as(role: str):
        client = web.client(Accept="text/html")
        login(client, role)
        return client

    return open_as


@pytest.fixture
def job_id(web, store):
    write(web.files / "people.csv", PEOPLE)
    return store.create_job(import_definition(source=str(web.files / "people.csv")), owner="operator")


def buttons(html: str) -> list[str]:
    return re.findall(r'data-action="(\w+)"', html)


def test_the_job_list_shows_icon_label_counters_and_refreshes_its_rows(browser, job_id):
    page = browser("viewer").get("/jobs")
    assert page.status_code == 200
    assert 'data-refresh="/jobs/rows?' in page.text
    assert 'class="status status-editing"' in page.text and "Editing" in page.text
    rows = browser("viewer").get("/jobs/rows")
    assert f'data-job="{job_id}"' in rows.text and "<html" not in rows.text


def test_filters_narrow_the_list(browser, store, job_id):
    other = store.create_job(import_definition(name="orders", source="x.csv"))
    page = browser("viewer").get("/jobs", params={"q": "orders"}).text
    assert f'data-job="{other}"' in page and f'data-job="{job_id}"' not in page
    page = browser("viewer").get("/jobs", params={"status": "queued"}).text
    assert "data-job=" not in page


@pytest.mark.parametrize("path", ["/jobs", "/jobs/rows"])
def test_the_list_and_its_rows_take_the_same_bounded_query(browser, store, job_id, path):
    other = store.create_job(import_definition(name="orders", source="x.csv"))
    rows = browser("viewer").get(path, params={"q": "orders", "sort": "name", "order": "asc"}).text
    assert f'data-job="{other}"' in rows and f'data-job="{job_id}"' not in rows
    assert browser("viewer").get(path, params={"page": 0}).status_code == 422
    assert browser("viewer").get(path, params={"q": "x" * 201}).status_code == 422


@pytest.mark.parametrize("status", list(S))
def test_the_buttons_are_exactly_the_allowed_actions(browser, store, job_id, status):
    reach(store, job_id, status)
    html = browser("operator").get(f"/jobs/{job_id}").text
    assert buttons(html) == [a.value for a in allowed_actions(status)]
    assert buttons(browser("viewer").get(f"/jobs/{job_id}").text) == []


def test_the_buttons_are_not_in_a_paragraph_which_a_form_would_close(browser, job_id):
    html = browser("operator").get(f"/jobs/{job_id}").text
    head = html[html.index('id="job-head"') : html.index('class="tabs"')]
    assert re.search(r'<div class="actions">\s*<form', head)
    assert not re.search(r"<p[\s>]", head)  # no <p> (a <path> of the status icon is fine)


def test_a_running_import_shows_a_dash_for_its_total_not_a_blank(browser, store, job_id):
    store.transition(job_id, OPERATOR_ACTIONS[0], actor="operator")
    store.claim_next("w", ["default"], 30)
    general = browser("viewer").get(f"/jobs/{job_id}").text
    assert 'data-counter="total">—<' in general and 'data-counter="read">0<' in general


def test_a_button_moves_the_job_and_names_the_user(browser, store, job_id):
    client = browser("operator")
    html = client.get(f"/jobs/{job_id}").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', html).group(1)
    response = client.post(f"/jobs/{job_id}/start", data={"csrf": csrf}, follow_redirects=False)
    assert response.headers["location"] == f"/jobs/{job_id}"
    assert store.status_of(job_id) is S.QUEUED
    assert store.journal_lines(job_id)[-1].params["by"] == "operator"
    refused = client.post(f"/jobs/{job_id}/start", data={"csrf": csrf}, headers={"Accept": "text/html"})
    assert refused.status_code == 409 and "Start: not possible for job 1, which is Queued" in refused.text
    german = client.post(f"/jobs/{job_id}/start", data={"csrf": csrf}, headers={"Accept-Language": "de"})
    assert german.status_code == 409 and 'lang="de"' in german.text and "Jetzt nicht möglich" in german.text


def test_a_viewer_cannot_press_a_button(browser, store, job_id):
    client = browser("viewer")
    response = client.post(f"/jobs/{job_id}/start", data={"csrf": "x"})
    assert response.status_code == 403
    assert store.status_of(job_id) is S.EDITING


def test_the_tabs_of_a_finished_job(browser, store, settings, job_id):
    store.transition(job_id, OPERATOR_ACTIONS[0], actor="operator")
    assert Worker(store, settings, concurrency=1).run_one(job_id) is S.FINISHED
    client = browser("viewer")
    general = client.get(f"/jobs/{job_id}").text
    assert 'data-counter="rejected">2<' in general and 'data-counter="inserted">3<' in general
    assert 'data-counter="total">5<' in general
    journal = client.get(f"/jobs/{job_id}", params={"tab": "journal"}).text
    assert "Job created by system" in journal and "data-stream=" in journal
    assert "Summary: read 5" in journal
    errors_only = client.get(f"/jobs/{job_id}", params={"tab": "journal", "level": "error"}).text
    assert "Summary: read 5" not in errors_only
    rejects = client.get(f"/jobs/{job_id}", params={"tab": "rejects"}).text
    assert "2,Bob,x" in rejects and "4,Di,forty" in rejects
    assert f"/api/jobs/{job_id}/rejects/download?run=1" in rejects
    assert "4,Di,forty" not in client.get(f"/jobs/{job_id}", params={"tab": "rejects", "column": "id"}).text


def test_the_rejects_tabs_download_link_downloads_what_the_tab_shows(browser, store, settings, job_id):
    store.transition(job_id, OPERATOR_ACTIONS[0], actor="operator")
    assert Worker(store, settings, concurrency=1).run_one(job_id) is S.FINISHED
    client = browser("viewer")
    filtered = {"tab": "rejects", "reason": "type_error", "column": "age & more"}
    page = client.get(f"/jobs/{job_id}", params=filtered).text
    link = f"/api/jobs/{job_id}/rejects/download?run=1&amp;reason=type_error&amp;column=age%20%26%20more"
    assert f'href="{link}"' in page
    unfiltered = client.get(f"/jobs/{job_id}", params={"tab": "rejects", "reason": "", "column": ""}).text
    assert f'href="/api/jobs/{job_id}/rejects/download?run=1"' in unfiltered
    download = client.get(html.unescape(link.replace("age%20%26%20more", "age")))
    assert [line.split(",")[1] for line in download.text.splitlines()[1:]] == ["Bob", "Di"]


def test_the_rejects_tabs_next_and_previous_pages_keep_a_column_filter_with_any_characters(
    browser, store, job_id
):
    store.transition(job_id, OPERATOR_ACTIONS[0], actor="operator")
    run = store.claim_job(job_id, "w", 60).run
    column = "Nr. #1 & more"
    both = [column, "age"]
    rejects = [Reject(n, n + 1, b"x", Reason.TYPE_ERROR, both[n % 2], "x", "bad") for n in range(1, 141)]
    store.add_rejects(run.id, rejects)
    client = browser("viewer")
    first = client.get(f"/jobs/{job_id}", params={"tab": "rejects", "column": column}).text
    [following] = re.findall(r'<a href="(\?tab=rejects[^"]*page=2)">Next', first)  # (Last: too)
    second = client.get(f"/jobs/{job_id}{html.unescape(following)}").text
    assert [html.unescape(c) for c in re.findall(r'<td class="num">\d+</td><td>([^<]*)</td>', second)] == (
        [column] * 20
    )  # the 70 rejects of that column, 50 a page
    [back] = re.findall(r'<a href="(\?tab=rejects[^"]*page=1)">‹', second)  # Previous (First: «)
    previous = client.get(f"/jobs/{job_id}{html.unescape(back)}").text
    assert previous.count(column.replace("&", "&amp;")) > 50


def test_the_language_follows_the_browser_then_the_users_choice(browser, store, settings, job_id):
    store.transition(job_id, OPERATOR_ACTIONS[0], actor="operator")
    Worker(store, settings, concurrency=1).run_one(job_id)
    client = browser("viewer")
    assert "Abgeschlossen" in client.get("/jobs", headers={"Accept-Language": "de-DE,de;q=0.9"}).text
    switched = client.get("/lang/it?next=/jobs/1", follow_redirects=False)
    assert switched.headers["location"] == "/jobs/1"
    page = client.get(f"/jobs/{job_id}", headers={"Accept-Language": "de"}).text
    assert "Completato" in page and 'lang="it"' in page and "Record rifiutati" in page
    assert "<dd>Inserisci" in page  # the operation, as the form names it, not its code
    assert client.get("/lang/xx").status_code == 404


def test_every_status_icon_is_an_svg_shape_that_needs_no_font(browser, job_id):
    from impex.domain.status import Status
    from impex.web.labels import STATUS_ICONS

    assert set(STATUS_ICONS) == set(Status)
    assert all(icon.startswith("<") and icon.isascii() for icon in STATUS_ICONS.values())  # no glyph
    html = browser("viewer").get("/jobs").text
    assert re.search(r'<svg class="icon" viewBox="0 0 16 16"[^>]*aria-hidden="true"[^>]*><path', html)


def test_the_rejects_tab_names_each_reason_in_the_users_language(browser, store, settings, job_id):
    store.transition(job_id, OPERATOR_ACTIONS[0], actor="operator")
    Worker(store, settings, concurrency=1).run_one(job_id)
    client = browser("viewer")
    german = {"Accept-Language": "de-DE,de;q=0.9"}
    page = client.get(f"/jobs/{job_id}", params={"tab": "rejects"}, headers=german).text
    assert "<td>Falscher Typ</td>" in page and "type_error<" not in page
    assert '<option value="type_error" >Falscher Typ</option>' in page  # the filter sends the code
    only = {"tab": "rejects", "reason": "type_error"}
    assert "2,Bob,x" in client.get(f"/jobs/{job_id}", params=only, headers=german).text


def test_the_rejects_tab_says_a_type_error_in_the_users_language_naming_column_and_value(
    browser, store, settings, job_id
):
    store.transition(job_id, OPERATOR_ACTIONS[0], actor="operator")
    Worker(store, settings, concurrency=1).run_one(job_id)
    german = {"Accept-Language": "de-DE,de;q=0.9"}
    page = html.unescape(
        browser("viewer").get(f"/jobs/{job_id}", params={"tab": "rejects"}, headers=german).text
    )
    assert "<td>Zeile 3: Spalte age: 'x' ist keine ganze Zahl</td>" in page
    assert "<td>Zeile 5: Spalte age: 'forty' ist keine ganze Zahl</td>" in page
    assert "is not an integer" not in page


def test_the_rejects_tab_in_english_shows_the_stored_message(browser, store, settings, job_id):
    store.transition(job_id, OPERATOR_ACTIONS[0], actor="operator")
    Worker(store, settings, concurrency=1).run_one(job_id)
    page = html.unescape(browser("viewer").get(f"/jobs/{job_id}", params={"tab": "rejects"}).text)
    [stored, _] = store.rejects_of(store.runs_of(job_id)[-1].id)
    assert stored.message == "line 3: column age: 'x' is not an integer"
    assert f"<td>{stored.message}</td>" in page


def test_a_reject_stored_without_a_message_code_shows_its_english_message_in_any_language(
    browser, store, job_id
):
    store.transition(job_id, OPERATOR_ACTIONS[0], actor="operator")
    run = store.claim_job(job_id, "w", 60).run
    # As migration 0004 leaves a reject stored before it: no code, no parameters, the English message.
    old = Reject(2, 3, b"2,Bob,x", Reason.TYPE_ERROR, "age", "x", "line 3: column age: 'x' is no integer")
    store.add_rejects(run.id, [old])
    german = {"Accept-Language": "de-DE,de;q=0.9"}
    page = html.unescape(
        browser("viewer").get(f"/jobs/{job_id}", params={"tab": "rejects"}, headers=german).text
    )
    assert "<td>line 3: column age: 'x' is no integer</td>" in page


def test_the_general_tab_says_why_a_run_ended_with_errors_in_the_users_language(
    browser, store, settings, web
):
    gone = web.files / "gone.csv"
    job_id = store.create_job(import_definition(source=str(gone)), owner="operator")
    store.transition(job_id, OPERATOR_ACTIONS[0], actor="operator")
    Worker(store, settings, concurrency=1).run_one(job_id)
    german = {"Accept-Language": "de-DE,de;q=0.9"}
    general = browser("viewer").get(f"/jobs/{job_id}/general", headers=german).text
    assert "<dt>Ursache</dt>" in general
    assert f"Technischer Fehler: source file not found: {gone}" in general


def test_the_general_tab_says_the_first_error_that_stopped_a_run_in_the_users_language(
    browser, store, settings, web
):
    write(web.files / "people.csv", PEOPLE)
    definition = import_definition(source=str(web.files / "people.csv"), errors={"stop_at_first_error": True})
    job_id = store.create_job(definition, owner="operator")
    store.transition(job_id, OPERATOR_ACTIONS[0], actor="operator")
    Worker(store, settings, concurrency=1).run_one(job_id)
    german = {"Accept-Language": "de-DE,de;q=0.9"}
    general = html.unescape(browser("viewer").get(f"/jobs/{job_id}/general", headers=german).text)
    assert (
        "Beim ersten Fehler angehalten: Datensatz 2: Zeile 3: Spalte age: 'x' ist keine ganze Zahl" in general
    )


def swiss_payments(web) -> dict:
    """An import of a Swiss file, its delimiter and encoding left to detect, as the quick import
    defines it."""
    content = "nr;betrag;bezahlt;ort\n1;1'234.50;2024-01-05T10:30:00Z;Zürich\n"
    write(web.files / "zahlungen.csv", content.encode("cp1252"))
    return import_definition(
        source=str(web.files / "zahlungen.csv"),
        format={"thousands_separator": "'", "timestamp_format": "%Y-%m-%dT%H:%M:%S%.f%z"},
        columns=[
            {"name": "nr", "type": "integer"},
            {"name": "betrag", "type": "float"},
            {"name": "bezahlt", "type": "timestamp"},
            {"name": "ort"},
        ],
    )


def facts(page: str, name: str) -> str:
    """The text of the General tab's fact ``name`` (format, columns)."""
    start = page.index(">", page.index(f'data-facts="{name}"')) + 1
    return " ".join(re.sub(r"<[^>]+>", "", html.unescape(page[start : page.index("</dd>", start)])).split())


def test_the_general_tab_shows_the_file_format_a_run_read_and_each_column_s_type_in_the_users_language(
    browser, store, settings, web
):
    job_id = store.create_job(swiss_payments(web), owner="operator")
    store.transition(job_id, OPERATOR_ACTIONS[0], actor="operator")
    Worker(store, settings, concurrency=1).run_one(job_id)
    german = {"Accept-Language": "de-DE,de;q=0.9"}
    general = browser("viewer").get(f"/jobs/{job_id}/general", headers=german).text
    assert facts(general, "format") == (
        "Trennzeichen: Semikolon · Zeichenkodierung: cp1252 · Kopfzeile: Ja "
        "Dezimaltrennzeichen: . · Tausendertrennzeichen: ' · Datumsangaben: %Y-%m-%d "
        "· Zeitstempel: %Y-%m-%dT%H:%M:%S%.f%z (in UTC gespeichert)"
    )
    assert facts(general, "columns") == (
        "nr (Ganzzahl), betrag (Gleitkommazahl), bezahlt (Datum und Uhrzeit), ort (Text)"
    )


def test_the_general_tab_says_what_is_detected_only_once_a_run_reads_the_file_and_names_spaces(
    browser, store, web
):
    definition = swiss_payments(web)
    definition["format"] = {"decimal_separator": ",", "thousands_separator": "\u202f"}
    job_id = store.create_job(definition, owner="operator")
    french = {"Accept-Language": "fr, es;q=0.5"}
    told = facts(browser("viewer").get(f"/jobs/{job_id}/general", headers=french).text, "format")
    assert "Delimitador: se detecta al ejecutar el trabajo" in told
    assert "Separador decimal: , · Separador de miles: Espacio estrecho de no separación" in told
    assert "UTC" not in told


@pytest.mark.parametrize(("commit", "noted"), [("atomic", True), ("incremental", False)])
def test_the_general_tab_of_an_unfinished_all_or_nothing_run_says_its_counts_are_not_in_the_table_yet(
    browser, store, web, commit, noted
):
    write(web.files / "people.csv", PEOPLE)
    job_id = store.create_job(
        import_definition(source=str(web.files / "people.csv"), commit=commit), owner="operator"
    )
    store.transition(job_id, OPERATOR_ACTIONS[0], actor="operator")
    store.claim_job(job_id, "w", 60)
    dutch = {"Accept-Language": "nl"}
    general = html.unescape(browser("viewer").get(f"/jobs/{job_id}/general", headers=dutch).text)
    assert ("de tabel krijgt deze rijen pas als de uitvoering klaar is" in general) is noted


def test_the_general_tab_of_a_finished_all_or_nothing_run_has_no_such_note(browser, store, settings, web):
    write(web.files / "people.csv", PEOPLE)
    job_id = store.create_job(
        import_definition(source=str(web.files / "people.csv"), commit="atomic"), owner="operator"
    )
    store.transition(job_id, OPERATOR_ACTIONS[0], actor="operator")
    Worker(store, settings, concurrency=1).run_one(job_id)
    assert 'data-note="atomic"' not in browser("viewer").get(f"/jobs/{job_id}/general").text


def test_the_general_tab_of_a_finished_run_shows_no_cause(browser, store, settings, job_id):
    store.transition(job_id, OPERATOR_ACTIONS[0], actor="operator")
    Worker(store, settings, concurrency=1).run_one(job_id)
    assert "Cause" not in browser("viewer").get(f"/jobs/{job_id}").text


def progress_bars(page: str) -> list[str]:
    return re.findall(r"<progress[^>]*>", page)


def test_a_job_that_is_not_working_shows_no_busy_progress_bar_but_a_dash(browser, store, settings, web):
    """An indeterminate bar (no value) moves as if work were going on: only a job that a worker is
    running shows one. A job never run, or whose run failed before it knew the file's size, shows —."""
    never = store.create_job(import_definition(source=str(web.files / "people.csv")), owner="operator")
    failed = store.create_job(import_definition(source=str(web.files / "gone.csv")), owner="operator")
    store.transition(failed, OPERATOR_ACTIONS[0], actor="operator")
    assert Worker(store, settings, concurrency=1).run_one(failed) is S.FINISHED_WITH_ERRORS
    client = browser("viewer")
    for job_id in (never, failed):
        general = client.get(f"/jobs/{job_id}/general").text
        assert progress_bars(general) == [] and 'class="progress none">—<' in general
        row = client.get("/jobs/rows", params={"q": "people"}).text.split(f'data-job="{job_id}"')[1]
        row = row.split("</tr>")[0]
        assert progress_bars(row) == [] and 'class="progress none">—<' in row


def test_a_running_job_whose_size_is_not_known_yet_shows_a_busy_progress_bar(browser, store, job_id):
    store.transition(job_id, OPERATOR_ACTIONS[0], actor="operator")
    store.claim_job(job_id, "w", 60)
    general = browser("viewer").get(f"/jobs/{job_id}/general").text
    assert progress_bars(general) == ['<progress max="1"  aria-label="Progress">']


def button_form(page: str, action: str) -> dict[str, str]:
    """The hidden fields of the form of button ``action``, as the browser would post them."""
    form = re.search(rf'<form method="post" action="/jobs/\d+/{action}".*?</form>', page, re.S).group(0)
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', form))


def test_a_start_pressed_in_a_stale_tab_is_refused_rather_than_starting_a_new_run(browser, store, job_id):
    """Two tabs show the job paused; one cancels it. The other's Start, meant to resume the paused
    run, would now begin a new run from the file's first record: refused, and nothing changes."""
    reach(store, job_id, S.PAUSED)
    client = browser("operator")
    first, second = (client.get(f"/jobs/{job_id}").text for _ in range(2))
    client.post(f"/jobs/{job_id}/cancel", data=button_form(first, "cancel"))
    assert store.status_of(job_id) is S.CANCELED
    german = {"Accept-Language": "de", "Accept": "text/html"}
    refused = client.post(f"/jobs/{job_id}/start", data=button_form(second, "start"), headers=german)
    assert refused.status_code == 409
    assert (
        "Starten: Auftrag 1 hat sich geändert, seit diese Seite ihn zeigte (damals Ausgesetzt, jetzt "
        "Abgebrochen); es wurde nichts getan." in html.unescape(refused.text)
    )
    assert store.status_of(job_id) is S.CANCELED and len(store.runs_of(job_id)) == 1


def test_a_start_pressed_twice_runs_the_job_once_and_a_stale_rerun_is_refused(browser, store, job_id):
    client = browser("operator")
    page = client.get(f"/jobs/{job_id}").text
    assert client.post(f"/jobs/{job_id}/start", data=button_form(page, "start")).status_code == 200
    again = client.post(f"/jobs/{job_id}/start", data=button_form(page, "start"))  # a double click
    assert again.status_code == 409 and "Queued now" in again.text
    # Run 1 finishes; a tab shows it, another runs the job again, to its end: the first tab's Start
    # would run it a third time.
    store.claim_job(job_id, "w", 60)
    store.transition(job_id, A.FINISH, actor="w")
    finished = client.get(f"/jobs/{job_id}").text
    client.post(f"/jobs/{job_id}/start", data=button_form(finished, "start"))
    store.claim_job(job_id, "w", 60)
    store.transition(job_id, A.FINISH, actor="w")
    refused = client.post(f"/jobs/{job_id}/start", data=button_form(finished, "start"))
    assert refused.status_code == 409 and "ran again since this page showed it" in refused.text
    assert len(store.runs_of(job_id)) == 2


def test_a_long_journal_shows_its_latest_lines_and_leads_to_the_earlier_ones(browser, store, job_id):
    """A run writes a progress line a second: its first lines (created, started, detected format)
    must stay reachable from the Journal tab, which shows the latest page and follows the job."""
    from impex.domain.journal import Level
    from impex.web.pages import JOURNAL_PAGE

    for i in range(JOURNAL_PAGE + 20):
        store.log(job_id, None, Level.INFO, "run.progress_unsized", {"read": i, "rate": 10})
    client = browser("viewer")
    latest = client.get(f"/jobs/{job_id}", params={"tab": "journal"}).text
    assert latest.count('<tr class="level-') == JOURNAL_PAGE and "Job created by" not in latest
    assert "data-stream=" in latest
    earlier = re.search(r'<a href="([^"]+)"[^>]*data-page="earlier"', latest).group(1)
    first = client.get(html.unescape(earlier)).text
    assert first.count('<tr class="level-') == 21 and "Job created by system" in first
    assert ">0 records read, 10 records/s<" in first and ">19 records read" in first
    assert "data-stream=" not in first and 'data-page="earlier"' not in first
    assert 'data-page="latest"' in first


def test_the_tabs_are_plain_links_that_say_which_page_is_shown(browser, job_id):
    """Each tab loads a page: links, reached with Tab and followed with Enter. ARIA tabs promise
    arrow keys and panels in place, which these are not; the current one is the current page."""
    page = browser("viewer").get(
        f"/jobs/{job_id}", params={"tab": "journal"}, headers={"Accept-Language": "nl"}
    )
    nav = re.search(r'<nav class="tabs"[^>]*>(.*?)</nav>', page.text, re.S)
    assert 'aria-label="Onderdelen van de taak"' in nav.group(0)
    assert 'role="tab' not in page.text
    links = re.findall(r"<a ([^>]*)>([^<]*)</a>", nav.group(1))
    assert [text for _attrs, text in links] == ["Algemeen", "Logboek", "Afgewezen records"]
    assert ['aria-current="page"' in attrs for attrs, _text in links] == [False, True, False]


def test_the_journal_level_filter_changes_the_page_only_when_asked(browser, job_id):
    """A select that submits on change reloads the page at each arrow key of a keyboard user
    going through the levels (WCAG 3.2.2): the filter has its own button, as on the other tabs."""
    page = browser("viewer").get(f"/jobs/{job_id}", params={"tab": "journal"}).text
    form = re.search(r'<form method="get" class="filters">.*?</form>', page, re.S).group(0)
    assert "onchange" not in form and "<noscript>" not in form
    assert '<button type="submit">Filter</button>' in form


def test_a_refused_button_leads_back_to_the_job(browser, store, job_id):
    reach(store, job_id, S.FINISHED)
    client = browser("operator")
    page = client.get(f"/jobs/{job_id}").text
    refused = client.post(
        f"/jobs/{job_id}/pause",
        data=button_form(page, "start"),
        headers={"Accept": "text/html", "Accept-Language": "es"},
    )
    assert refused.status_code == 409
    assert f'<a href="/jobs/{job_id}">Volver al trabajo {job_id}</a>' in refused.text


def test_a_huge_value_in_a_reject_is_shown_clipped_and_the_download_keeps_it_whole(browser, store, job_id):
    store.transition(job_id, OPERATOR_ACTIONS[0], actor="operator")
    run = store.claim_job(job_id, "w", 60).run
    huge = "A" * 1_000_000
    raw = f"5,{huge},30".encode()
    store.add_rejects(run.id, [Reject(5, 6, raw, Reason.TOO_LONG, "name", huge, "too long")])
    client = browser("viewer")
    page = client.get(f"/jobs/{job_id}", params={"tab": "rejects"}).text
    assert len(page) < 20_000  # not the 2 MB of the value and its record: the table stays readable
    assert "5,AAAA" in page
    assert "1,000,000 characters in all" in page and "1,000,005 characters in all" in page
    german = client.get(f"/jobs/{job_id}", params={"tab": "rejects"}, headers={"Accept-Language": "de"}).text
    assert "1.000.000 Zeichen insgesamt" in german
    download = client.get(f"/api/jobs/{job_id}/rejects/download", params={"run": 1})
    assert huge in download.text


def test_a_reject_s_script_right_to_left_and_control_characters_are_shown_as_text(browser, store, job_id):
    store.transition(job_id, OPERATOR_ACTIONS[0], actor="operator")
    run = store.claim_job(job_id, "w", 60).run
    raw = "6,<script>alert(1)</script>,\u202eevil\x01".encode()
    store.add_rejects(run.id, [Reject(6, 7, raw, Reason.TYPE_ERROR, "<b>age</b>", "\u202eevil\x01", "bad")])
    page = browser("viewer").get(f"/jobs/{job_id}", params={"tab": "rejects"}).text
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>age</b>" not in page
    # An override would show "evil" backwards and a control byte nothing: both are shown as codes.
    assert "\u202e" not in page and "\x01" not in page
    assert "6,&lt;script&gt;alert(1)&lt;/script&gt;,\\u202eevil\\x01" in page


def many_rejects(store, job_id, count: int) -> None:
    store.transition(job_id, OPERATOR_ACTIONS[0], actor="operator")
    run = store.claim_job(job_id, "w", 60).run
    store.add_rejects(
        run.id, [Reject(n, n + 1, b"x", Reason.TYPE_ERROR, "age", "x", "bad") for n in range(1, count + 1)]
    )


def record_numbers(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr><td class="num">\d+</td><td class="num">(\d+)</td>', page)]


def test_thousands_of_rejects_say_which_page_is_shown_and_lead_to_the_first_last_or_any_page(
    browser, store, job_id
):
    many_rejects(store, job_id, 5_000)  # 100 pages of 50
    client = browser("viewer")
    german = {"Accept-Language": "de"}
    first = client.get(f"/jobs/{job_id}", params={"tab": "rejects"}, headers=german).text
    assert "Seite 1 von 100" in first
    [last] = re.findall(r'<a href="(\?tab=rejects[^"]*page=100)"[^>]*>[^<]*Letzte', first)
    assert record_numbers(client.get(f"/jobs/{job_id}{html.unescape(last)}").text)[-1] == 5_000
    [jump] = re.findall(r'<form method="get" class="goto">(.*?)</form>', first, re.S)
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', jump))
    assert fields == {"tab": "rejects", "run": "1", "reason": "", "column": ""}
    assert re.search(r'<input type="number" name="page" min="1" max="100" value="1"', jump)
    page_40 = client.get(f"/jobs/{job_id}", params={**fields, "page": 40}).text
    assert "Page 40 of 100" in page_40 and record_numbers(page_40)[0] == 39 * 50 + 1


def test_a_rejects_page_past_the_last_shows_the_last_page(browser, store, job_id):
    many_rejects(store, job_id, 120)  # 3 pages; the filter or a new run left the old page number
    page = browser("viewer").get(f"/jobs/{job_id}", params={"tab": "rejects", "page": 9}).text
    assert "Page 3 of 3" in page and record_numbers(page) == list(range(101, 121))


def test_a_page_refused_for_a_role_says_so_in_the_users_language(browser):
    german = {"Accept-Language": "de"}
    page = html.unescape(browser("viewer").get("/jobs/new/import", headers=german).text)
    assert "403 Nicht erlaubt" in page
    assert "Benutzer viewer (Betrachter) darf das nicht: dafür ist die Rolle Operator nötig" in page
    assert "may not do this" not in page


def test_a_job_that_does_not_exist_leads_to_the_job_list_not_to_itself(browser):
    page = html.unescape(browser("viewer").get("/jobs/999", headers={"Accept-Language": "de"}).text)
    assert "404 Nicht gefunden" in page and "Auftrag 999 gibt es nicht" in page
    assert 'href="/jobs/999"' not in page and '<a href="/jobs">' in page


def test_each_run_s_rejected_count_leads_to_that_run_s_rejects(browser, store, settings, job_id):
    for _ in range(2):
        store.transition(job_id, A.START, actor="operator")
        assert Worker(store, settings, concurrency=1).run_one(job_id) is S.FINISHED
    client = browser("viewer")
    general = client.get(f"/jobs/{job_id}").text
    runs = general[general.index('<table class="runs">') :]
    assert f'<a href="/jobs/{job_id}?tab=rejects&amp;run=1">2</a>' in runs
    assert f'<a href="/jobs/{job_id}?tab=rejects&amp;run=2">' in runs
    earlier = client.get(f"/jobs/{job_id}", params={"tab": "rejects", "run": 1}).text
    assert "<option selected>1</option>" in earlier and "2,Bob,x" in earlier


def test_the_rejects_of_a_run_that_does_not_exist_are_refused_not_replaced_by_the_latest_run_s(
    browser, store, settings, job_id
):
    store.transition(job_id, A.START, actor="operator")
    Worker(store, settings, concurrency=1).run_one(job_id)
    response = browser("viewer").get(
        f"/jobs/{job_id}", params={"tab": "rejects", "run": 7}, headers={"Accept-Language": "de"}
    )
    page = html.unescape(response.text)
    assert response.status_code == 404 and "2,Bob,x" not in page
    assert f"Auftrag {job_id} hat keinen Lauf 7" in page and f'<a href="/jobs/{job_id}">' in page


def test_the_list_s_search_ignores_the_case_of_any_letter_not_only_ascii(browser, store, job_id):
    other = store.create_job(import_definition(name="Überweisungen Österreich", source="x.csv"))
    for typed in ("über", "ÖSTERREICH", "weisungen ö"):
        page = browser("viewer").get("/jobs", params={"q": typed}).text
        assert f'data-job="{other}"' in page and f'data-job="{job_id}"' not in page, typed


def test_the_rejects_tab_follows_the_run_its_part_refreshed_with_the_same_run_filter_and_page(
    browser, store, job_id
):
    many_rejects(store, job_id, 60)  # 2 pages of 50
    client = browser("viewer")
    page = client.get(f"/jobs/{job_id}", params={"tab": "rejects", "column": "age", "page": 2}).text
    [live] = re.findall(r'<div id="rejects" data-refresh="([^"]+)">', page)
    assert html.unescape(live) == f"/jobs/{job_id}/rejects?run=1&reason=&column=age&page=2"
    assert "Rejects: 60" in page and record_numbers(page) == list(range(51, 61))
    run = store.runs_of(job_id)[-1]
    more = [Reject(n, n + 1, b"x", Reason.TYPE_ERROR, "age", "x", "bad") for n in (61, 62)]
    store.add_rejects(run.id, more)
    part = client.get(html.unescape(live)).text
    assert "<html" not in part and "Rejects: 62" in part
    assert record_numbers(part) == list(range(51, 63))
    assert client.get(f"/jobs/{job_id + 100}/rejects", params={"run": 1}).status_code == 404
