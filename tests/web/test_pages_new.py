"""The new-import and new-export pages, the form-to-definition rules, and the live rate and ETA."""

from __future__ import annotations

import gzip
import html
import re
import sqlite3

import pytest

from impex.definitions_io import parse_definition
from impex.domain.counters import Counters
from impex.domain.names import table_name_for
from impex.domain.status import S
from impex.store.store import JobNotFound
from impex.web.forms import FormProblem, export_definition, import_definition
from support import run_job, table_rows
from web import test_pages
from web.conftest import PEOPLE
from web.test_api_jobs import reach
from web.test_auth import login

browser = test_pages.browser  # fixtures shared with the other page tests
job_id = test_pages.job_id


# a table's name, after its schema and a dot if need be (crm.people)
TABLE_PATTERN = "([A-Za-z_][A-Za-z0-9_]{0,62}[.])?[A-Za-z_][A-Za-z0-9_]{0,62}"


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


@pytest.fixture
def uploaded(api) -> str:
    response = api["operator"].post(
        "/api/uploads", files={"file": ("people.csv", PEOPLE.encode(), "text/csv")}
    )
    return response.json()["name"]


IMPORT_FORM = {
    "upload": "uploads/x.csv",
    "delimiter": ",",
    "encoding": "utf-8",
    "header": "1",
    "name": "people",
    "table": "people",
    "col-1-use": "1",
    "col-1-source": "id",
    "col-1-name": "id",
    "col-1-type": "integer",
    "col-1-required": "1",
    "col-1-key": "1",
    "col-2-source": "name",
    "col-2-name": "name",
    "col-2-type": "string",
    "col-3-use": "1",
    "col-3-source": "age",
    "col-3-name": "years",
    "col-3-type": "integer",
    "operation": "insert_or_update",
    "doubles": "reject",
    "duplicates": "update",
    "commit": "atomic",
    "max_rejects": "10",
    "max_reject_percent": "2,5",
    "chunk_rows": "500",
}


def test_the_import_form_becomes_a_definition_of_the_ticked_columns_and_keys():
    definition = parse_definition(import_definition(IMPORT_FORM, "/files/x.csv")).model_dump(mode="json")
    assert [(c["name"], c["source"], c["type"], c["required"]) for c in definition["columns"]] == [
        ("id", "id", "integer", True),
        ("years", "age", "integer", False),
    ]
    assert definition["columns"][1]["max_length"] is None  # a text column's only
    text_row = import_definition({**IMPORT_FORM, "col-3-type": "string", "col-3-max_length": "3"}, "x.csv")
    assert parse_definition(text_row).columns[1].max_length == 3
    assert definition["reconciliation"] == {
        "keys": ["id"],
        "operation": "insert_or_update",
        "doubles": "reject",
        "duplicates": "update",
    }
    assert definition["errors"] == {
        "stop_at_first_error": False,
        "max_rejects": 10,
        "max_reject_percent": 2.5,
    }
    assert (definition["commit"], definition["chunk_rows"], definition["format"]["header"]) == (
        "atomic",
        500,
        True,
    )


TWO_DATE_STYLES = "id,born,created\n1,05.01.1980,2024-01-05\n2,31.12.1979,2024-02-29\n"


def test_a_column_writing_its_dates_its_own_way_is_previewed_as_dates_read_with_that_format(browser, api):
    stored = (
        api["operator"]
        .post("/api/uploads", files={"file": ("people.csv", TWO_DATE_STYLES.encode(), "text/csv")})
        .json()
    )
    born, created = stored["preview"]["columns"][1:]
    assert (born["type"], born["own_format"]) == ("date", None)  # the file's: %d.%m.%Y
    assert (created["type"], created["own_format"]) == ("date", "%Y-%m-%d")
    page = browser("operator").get("/jobs/new/import", params={"upload": stored["name"]}).text
    assert '<input type="hidden" name="col-3-date_format" value="%Y-%m-%d">' in page


def test_the_form_gives_a_column_its_own_date_format_while_it_stays_a_date_column():
    form = {
        **IMPORT_FORM,
        "date_format": "%d.%m.%Y",
        "col-3-use": "1",
        "col-3-name": "created",
        "col-3-type": "date",
        "col-3-date_format": "%Y-%m-%d",
    }
    column = parse_definition(import_definition(form, "x.csv")).columns[-1]
    assert (column.name, column.type, column.date_format) == ("created", "date", "%Y-%m-%d")
    as_text = parse_definition(import_definition({**form, "col-3-type": "string"}, "x.csv")).columns[-1]
    assert (as_text.type, as_text.date_format) == ("string", None)


def test_without_a_header_columns_come_by_position_and_a_tab_stays_a_tab():
    form = {**IMPORT_FORM, "header": "0", "delimiter": "\\t"}
    definition = import_definition(form, "x.csv")
    assert [c["source"] for c in definition["columns"]] == [1, 3]
    assert definition["format"]["delimiter"] == "\t"


def test_a_number_field_that_is_not_a_number_is_a_form_problem():
    with pytest.raises(FormProblem, match=r"Records per chunk: 'many' is not a whole number"):
        import_definition({**IMPORT_FORM, "chunk_rows": "many"}, "x.csv")


def test_the_export_form_becomes_a_table_or_query_definition():
    form = {"name": "e", "table": "people", "columns": "id, name", "filter": "age > 3", "output": "e.csv"}
    form |= {"delimiter": ";", "header": "1", "gzip": "1"}
    definition = parse_definition(export_definition(form)).model_dump(mode="json")
    assert definition["source"]["columns"] == ["id", "name"] and definition["source"]["filter"] == "age > 3"
    assert definition["output"] == "e.csv.gz" and definition["format"]["gzip"] is True
    assert definition["format"]["delimiter"] == ";" and definition["format"]["header"] is True
    query = export_definition({"name": "q", "source_kind": "query", "query": "SELECT 1", "output": "q.csv"})
    assert query["source"] == {"connection": "default", "query": "SELECT 1"}


def test_an_export_form_naming_a_gz_file_compresses_it_unticked():
    named = export_definition({"name": "e", "table": "people", "output": "e.csv.gz"})
    assert parse_definition(named).format.gzip is True


@pytest.mark.parametrize("ticked", [{}, {"gzip": "1"}])
def test_an_export_form_naming_a_gz_file_in_capitals_keeps_its_name(ticked):
    """The definition takes OUT.CSV.GZ for a gzip file's name: the form adds no second .gz to it."""
    named = export_definition({"name": "e", "table": "people", "output": "OUT.CSV.GZ", **ticked})
    assert named["output"] == "OUT.CSV.GZ" and parse_definition(named).format.gzip is True


def test_the_list_offers_new_jobs_to_operators_only(browser):
    assert 'data-new="import"' in browser("operator").get("/jobs").text
    assert "data-new=" not in browser("viewer").get("/jobs").text
    assert browser("viewer").get("/jobs/new/import").status_code == 403
    assert browser("viewer").get("/jobs/new/export").status_code == 403


def test_the_import_page_previews_the_upload_and_guesses_the_mapping(browser, uploaded):
    html = browser("operator").get("/jobs/new/import", params={"upload": uploaded}).text
    assert 'id="upload"' in html and 'data-max-bytes="536870912"' in html
    assert 'name="col-1-name" value="id"' in html and 'name="col-3-name" value="age"' in html
    assert re.search(r'name="col-1-type">.*?<option value="integer" selected', html, re.S)
    assert re.search(r'name="col-3-type">.*?<option value="string" selected', html, re.S)  # "x", "forty"
    assert f'name="table" required pattern="{TABLE_PATTERN}" value="people"' in html
    assert html.count('<tr><td class="num muted">') == 5 and "<td>forty</td>" in html


@pytest.mark.parametrize(
    ("file_name", "label", "table"),
    [
        ("my.data.csv.gz", "my.data", "my_data"),
        ("Straße Größe.csv", "Strasse_Grosse", "strasse_grosse"),
        ("日本.csv", "upload", "upload"),  # `impex import` asks for --table: the form needs something
    ],
)
def test_the_suggested_table_is_the_one_the_quick_import_of_the_file_fills(
    browser, api, file_name, label, table
):
    body = PEOPLE.encode()
    if file_name.endswith(".gz"):
        body = gzip.compress(body)
    upload = api["operator"].post("/api/uploads", files={"file": (file_name, body, "text/csv")}).json()
    page = browser("operator").get("/jobs/new/import", params={"upload": upload["name"]}).text
    assert f'name="name" required maxlength="200" value="{label}"' in page
    assert f'name="table" required pattern="{TABLE_PATTERN}" value="{table}"' in page
    if table != "upload":
        assert table_name_for(file_name) == table


def test_reading_again_without_a_header_shows_the_header_line_as_a_record(browser, uploaded):
    params = {"upload": uploaded, "header": "0"}
    html = browser("operator").get("/jobs/new/import", params=params).text
    assert html.count('<tr><td class="num muted">') == 6 and 'name="col-1-name" value="f1"' in html


ODD_HEADER = "Id,Full Name,\u00c2ge ,Notes\n1,Ann Lee,30,x\n2,Bob Ray,41,y\n"


@pytest.fixture
def existing_table(data_dir):
    """The default connection's table ``folks``: the file's columns in other case and spacing, no Notes."""
    with sqlite3.connect(data_dir / "data.db") as c:
        c.execute("CREATE TABLE folks (ID INTEGER PRIMARY KEY, full_name TEXT, AGE INTEGER, city TEXT)")


def test_an_existing_table_gives_the_target_columns_guessed_by_normalised_name(
    api, browser, store, settings, data_dir, existing_table
):
    upload = {"file": ("folks.csv", ODD_HEADER.encode(), "text/csv")}
    body = api["operator"].post("/api/uploads", files=upload, data={"table": "folks"}).json()
    preview = body["preview"]
    assert preview["table_columns"] == ["ID", "full_name", "AGE", "city"]
    assert [(c["source"], c["target"], c["use"]) for c in preview["columns"]] == [
        ("Id", "ID", True),
        ("Full Name", "full_name", True),
        ("\u00c2ge ", "AGE", True),
        ("Notes", "", False),  # not in the table: not imported
    ]
    unknown = api["operator"].post("/api/uploads", files=upload, data={"table": "nope"}).json()
    assert unknown["preview"]["table_columns"] is None  # a new table: names from the header
    assert [c["target"] for c in unknown["preview"]["columns"]] == ["id", "full_name", "age", "notes"]

    client = browser("operator")
    html = client.get("/jobs/new/import", params={"upload": body["name"], "table": "folks"}).text
    assert "data-existing-table" in html
    chosen = dict(re.findall(r'<select name="col-(\d)-name".*?<option value="([^"]*)" selected', html, re.S))
    assert chosen == {"1": "ID", "2": "full_name", "3": "AGE", "4": ""}
    assert 'name="col-4-use" value="1"  aria-label' in html and 'name="col-1-use" value="1" checked' in html
    # the user adjusts: Notes goes to city; the import fills the existing table
    form = {"csrf": csrf_of(html), "upload": body["name"], "name": "folks", "table": "folks"}
    form |= {"connection": "default", "header": "1", "do": "start", "duplicates": "reject"}
    for i, (source, target) in enumerate([("Id", "ID"), ("Full Name", "full_name"), ("\u00c2ge ", "AGE")], 1):
        form |= {f"col-{i}-use": "1", f"col-{i}-source": source, f"col-{i}-name": target}
    form |= {"col-1-type": "integer", "col-1-key": "1", "col-3-type": "integer"}
    form |= {"col-4-use": "1", "col-4-source": "Notes", "col-4-name": "city"}
    response = client.post("/jobs/new/import", data=form, follow_redirects=False)
    assert response.status_code == 303, response.text
    job_id = int(response.headers["location"].rsplit("/", 1)[1])
    assert run_job(store, settings, job_id)[0] is S.FINISHED
    assert table_rows(data_dir, "folks") == [(1, "Ann Lee", 30, "x"), (2, "Bob Ray", 41, "y")]


def test_matching_again_keeps_the_form_but_guesses_the_columns_anew(browser, uploaded, existing_table):
    client = browser("operator")
    csrf = csrf_of(client.get("/jobs/new/import", params={"upload": uploaded}).text)
    form = {**IMPORT_FORM, "upload": uploaded, "csrf": csrf, "do": "match", "table": "folks", "name": "kept"}
    html = client.post("/jobs/new/import", data=form).text
    assert 'value="kept"' in html and "data-existing-table" in html
    chosen = dict(re.findall(r'<select name="col-(\d)-name".*?<option value="([^"]*)" selected', html, re.S))
    assert chosen == {"1": "ID", "2": "", "3": "AGE"}
    assert re.search(r'name="col-1-type">.*?<option value="integer" selected', html, re.S)
    bad = client.post("/jobs/new/import", data={**form, "connection": "nowhere"}).text
    assert "no connection named &#39;nowhere&#39;" in bad and 'name="col-1-name" value="id"' in bad


def test_an_unknown_upload_is_404(browser):
    assert (
        browser("operator").get("/jobs/new/import", params={"upload": "uploads/none.csv"}).status_code == 404
    )


@pytest.mark.parametrize(("button", "status"), [("draft", S.EDITING), ("start", S.QUEUED)])
def test_saving_the_import_form_makes_a_draft_or_starts_it(browser, store, web, uploaded, button, status):
    client = browser("operator")
    csrf = csrf_of(client.get("/jobs/new/import", params={"upload": uploaded}).text)
    form = {**IMPORT_FORM, "upload": uploaded, "csrf": csrf, "do": button, "col-2-use": "1"}
    response = client.post("/jobs/new/import", data=form, follow_redirects=False)
    assert response.status_code == 303, response.text
    job_id = int(response.headers["location"].rsplit("/", 1)[1])
    assert store.status_of(job_id) is status
    job = store.job(job_id)
    assert job.owner == "operator" and job.definition["source"] == str((web.files / uploaded).resolve())
    assert [c["name"] for c in job.definition["columns"]] == ["id", "name", "years"]


def test_the_number_and_date_conventions_the_preview_detected_go_into_the_job(browser, api):
    german = b"Kunde;Betrag;Datum\n1;1.234,50;24.12.2025\n2;99,90;01.01.2026\n"
    upload = api["operator"].post("/api/uploads", files={"file": ("de.csv", german, "text/csv")}).json()
    preview = upload["preview"]
    assert [c["type"] for c in preview["columns"]] == ["integer", "float", "date"]
    assert (preview["decimal_separator"], preview["thousands_separator"], preview["date_format"]) == (
        ",",
        ".",
        "%d.%m.%Y",
    )
    page = browser("operator").get("/jobs/new/import", params={"upload": upload["name"]}).text
    assert '<input type="hidden" name="decimal_separator" value=",">' in page
    assert '<input type="hidden" name="date_format" value="%d.%m.%Y">' in page
    hidden = {"decimal_separator": ",", "thousands_separator": ".", "date_format": "%d.%m.%Y"}
    definition = parse_definition(import_definition({**IMPORT_FORM, **hidden}, source="de.csv"))
    fmt = definition.format
    assert (fmt.decimal_separator, fmt.thousands_separator, fmt.date_format) == (",", ".", "%d.%m.%Y")


def test_the_new_import_page_shows_the_number_and_date_conventions_it_detected_in_the_users_language(
    browser, api
):
    french = "n;montant;le\n1;1\u202f234,50;2024-01-05T10:30:00+01:00\n2;7,5;2024-07-05T10:30:00Z\n"
    upload = api["operator"].post("/api/uploads", files={"file": ("fr.csv", french.encode(), "text/csv")})
    name = upload.json()["name"]
    page = browser("operator").get(
        "/jobs/new/import", params={"upload": name}, headers={"Accept-Language": "it"}
    )
    start = page.text.index(">", page.text.index('data-facts="conventions"')) + 1
    shown = " ".join(
        re.sub(r"<[^>]+>", "", html.unescape(page.text[start : page.text.index("</p>", start)])).split()
    )
    assert shown == (
        "Separatore decimale: , · Separatore delle migliaia: Spazio unificatore stretto · Date: %Y-%m-%d "
        "· Data e ora: %Y-%m-%dT%H:%M:%S%.f%z (memorizzate in UTC)"
    )


def test_an_invalid_import_form_is_shown_again_with_the_problem(browser, store, uploaded):
    client = browser("operator")
    csrf = csrf_of(client.get("/jobs/new/import", params={"upload": uploaded}).text)
    form = {**IMPORT_FORM, "upload": uploaded, "csrf": csrf, "do": "start", "col-1-key": ""}
    response = client.post("/jobs/new/import", data=form)
    assert response.status_code == 422
    assert "needs at least one key column" in response.text
    assert 'name="col-3-name" value="years"' in response.text  # what was typed stays
    with pytest.raises(JobNotFound):
        store.job(1)
    no_csrf = client.post("/jobs/new/import", data={**IMPORT_FORM, "upload": uploaded})
    assert no_csrf.status_code == 403


def test_the_export_page_offers_a_query_and_a_row_filter_to_admins_only(web):
    operator, admin = web.client(Accept="text/html"), web.client(Accept="text/html")
    login(operator, "operator")
    login(admin, "admin")
    assert 'value="query"' not in operator.get("/jobs/new/export").text
    assert 'value="query"' in admin.get("/jobs/new/export").text
    assert 'name="filter"' not in operator.get("/jobs/new/export").text
    assert 'name="filter"' in admin.get("/jobs/new/export").text
    csrf = csrf_of(operator.get("/jobs/new/export").text)
    form = {"csrf": csrf, "name": "q", "source_kind": "query", "query": "SELECT 1", "output": "q.csv"}
    assert operator.post("/jobs/new/export", data=form).status_code == 403


def test_saving_the_export_form_starts_an_export_into_the_file_folder(web, store, settings):
    with sqlite3.connect(settings.data_path / "data.db") as db:
        db.execute("CREATE TABLE people (id INTEGER, name TEXT)")
    client = web.client(Accept="text/html")
    login(client, "operator")
    csrf = csrf_of(client.get("/jobs/new/export").text)
    form = {
        "csrf": csrf,
        "name": "people out",
        "source_kind": "table",
        "table": "people",
        "columns": "id,name",
    }
    form |= {"output": "{job}.csv", "delimiter": "\\t", "header": "1", "do": "start"}
    response = client.post("/jobs/new/export", data=form, follow_redirects=False)
    assert response.status_code == 303, response.text
    job = store.job(int(response.headers["location"].rsplit("/", 1)[1]))
    assert job.status is S.QUEUED and job.definition["source"]["columns"] == ["id", "name"]
    assert job.definition["output"] == str(web.files.resolve() / "{job}.csv")
    assert job.definition["format"]["delimiter"] == "\t"
    bad = client.post("/jobs/new/export", data={**form, "table": "no such"})
    assert bad.status_code == 422 and 'class="problem"' in bad.text
    missing = client.post("/jobs/new/export", data={**form, "table": "nosuch"})
    assert missing.status_code == 422 and "source table nosuch does not exist" in missing.text


def test_the_general_tab_shows_rate_and_eta_while_running(browser, store, job_id):
    reach(store, job_id, S.RUNNING)
    run_id = store.job(job_id).current_run_id
    store.record_progress(
        run_id, Counters(read=1000), bytes_done=50, bytes_total=200, rate=12345.6, eta_seconds=75
    )
    html = browser("viewer").get(f"/jobs/{job_id}/general").text
    assert 'value="0.25"' in html and "25%" in html
    assert '<span class="rate">12,346 records/s</span>' in html
    assert '<span class="eta">ETA 0:01:15</span>' in html
    german = browser("viewer").get(f"/jobs/{job_id}/general", headers={"Accept-Language": "de"}).text
    assert "12.346" in german


def problem_of(page: str) -> str:
    return html.unescape(re.search(r'<p class="problem" role="alert">(.*?)</p>', page, re.S).group(1))


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ({"table": ""}, "Tabelle: bitte ausfüllen"),
        ({"table": "1bad"}, "Tabelle: '1bad' ist kein gültiger Tabellenname (Buchstaben, Ziffern und _,"),
        ({"columns": "id, full-name"}, "Spalten: 'full-name' ist kein gültiger Name"),
        ({"name": " "}, "Bezeichnung: bitte ausfüllen"),
        ({"output": ""}, "Dateiname: bitte ausfüllen"),
    ],
)
def test_a_bad_field_of_the_export_form_is_named_as_the_form_labels_it_in_the_users_language(
    web, store, typed, said
):
    client = web.client(Accept="text/html", **{"Accept-Language": "de"})
    login(client, "operator")
    form = {"csrf": csrf_of(client.get("/jobs/new/export").text), "name": "out", "table": "people"}
    form |= {"output": "out.csv", "do": "start", **typed}
    response = client.post("/jobs/new/export", data=form)
    assert response.status_code == 422
    assert problem_of(response.text).startswith(said)
    assert "QuerySource" not in response.text and "definition:" not in response.text
    with pytest.raises(JobNotFound):
        store.job(1)


@pytest.mark.parametrize(
    ("language", "typed", "said"),
    [
        ("nl", {"table": "bad name"}, "Doeltabel: 'bad name' is geen geldige tabelnaam (letters, cijfers"),
        ("nl", {"table": ""}, "Doeltabel: vul dit in"),
        ("es", {"col-3-name": "1st"}, "Columna de destino age: '1st' no es un nombre válido"),
        ("es", {"chunk_rows": "many"}, "Registros por bloque: 'many' no es un número entero"),
    ],
)
def test_a_bad_field_of_the_import_form_is_named_as_the_form_labels_it_in_the_users_language(
    browser, store, uploaded, language, typed, said
):
    client = browser("operator")
    csrf = csrf_of(client.get("/jobs/new/import", params={"upload": uploaded}).text)
    form = {**IMPORT_FORM, "upload": uploaded, "csrf": csrf, "do": "start", **typed}
    response = client.post("/jobs/new/import", data=form, headers={"Accept-Language": language})
    assert response.status_code == 422
    assert problem_of(response.text).startswith(said)
    assert "target.table" not in response.text
    with pytest.raises(JobNotFound):
        store.job(1)


@pytest.mark.parametrize(
    ("encoding", "said"),
    [
        (
            "utf-8",
            "Die Datei lässt sich nicht als 'utf-8' lesen; die Vorschau liest sie, wie impex sie erkannt "
            "hat.",
        ),
        (
            "utf-16",
            "Die Datei lässt sich nicht als 'utf-16' lesen; die Vorschau liest sie, wie impex sie erkannt "
            "hat.",
        ),
        (
            "nonsense",
            "'nonsense' ist keine Zeichenkodierung, die impex kennt; die Vorschau liest die Datei, wie ",
        ),
    ],
)
def test_reading_an_upload_again_in_a_wrong_encoding_keeps_the_page_and_says_why(
    browser, api, encoding, said
):
    """A Latin-1 file read again as UTF-8 showed no record at all, without a word; an unknown
    encoding left the page for an English error page."""
    latin = "id;name\n1;Zoë\n2;Müller\n".encode("latin-1")
    upload = api["operator"].post("/api/uploads", files={"file": ("latin.csv", latin, "text/csv")})
    params = {"upload": upload.json()["name"], "delimiter": ";", "encoding": encoding, "header": "1"}
    page = browser("operator").get("/jobs/new/import", params=params, headers={"Accept-Language": "de"})
    assert page.status_code == 422
    told = problem_of(page.text)
    assert told.startswith(said)
    assert 'id="mapping"' in page.text and "<td>Zoë</td>" in page.text and "<td>Müller</td>" in page.text
    assert 'name="encoding" value="cp1252"' in page.text


def test_a_job_naming_an_unknown_connection_is_refused_and_not_created(browser, api, store, uploaded):
    """It could only fail when run; the form says so in the user's language, the API with its code."""
    client = browser("operator")
    csrf = csrf_of(client.get("/jobs/new/import", params={"upload": uploaded}).text)
    form = {**IMPORT_FORM, "upload": uploaded, "csrf": csrf, "do": "draft", "connection": "nowhere"}
    response = client.post("/jobs/new/import", data=form, headers={"Accept-Language": "de"})
    assert response.status_code == 422
    assert problem_of(response.text) == "Verbindung: keine Verbindung namens 'nowhere' (bekannt: default)"
    export = {"name": "out", "table": "people", "output": "out.csv", "connection": "nowhere"}
    export |= {"csrf": csrf_of(client.get("/jobs/new/export").text)}
    assert client.post("/jobs/new/export", data=export).status_code == 422
    definition = {"kind": "export", "name": "e", "source": {"table": "t", "connection": "nowhere"}}
    refused = api["operator"].post("/api/jobs", json={"definition": {**definition, "output": "e.csv"}})
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "unknown_connection"
    with pytest.raises(JobNotFound):
        store.job(1)


def test_a_header_name_the_file_has_twice_is_read_by_position_so_each_column_gets_its_own_field():
    form = {**IMPORT_FORM, "col-2-use": "1", "col-2-source": "name", "col-3-source": "name"}
    form |= {"col-2-name": "first", "col-3-name": "second", "col-3-type": "string"}
    definition = parse_definition(import_definition(form, "x.csv"))
    assert [(c.name, c.source) for c in definition.columns] == [("id", "id"), ("first", 2), ("second", 3)]


def test_an_output_outside_the_file_folders_is_refused_in_the_users_language(web, store):
    client = web.client(Accept="text/html", **{"Accept-Language": "it"})
    login(client, "operator")
    csrf = csrf_of(client.get("/jobs/new/export").text)
    form = {"csrf": csrf, "name": "out", "source_kind": "table", "table": "people", "output": "../../x.csv"}
    response = client.post("/jobs/new/export", data={**form, "do": "start"})
    assert response.status_code == 422
    said = html.unescape(response.text)
    folder = web.files.resolve()
    assert f"../../x.csv: il file deve trovarsi in una delle cartelle dei file ({folder})" in said
    assert "must lie inside" not in said
    with pytest.raises(JobNotFound):
        store.job(1)


REPORT = "Staff report\nNovember 2026\n" + PEOPLE


def test_a_reports_title_lines_are_passed_over_said_so_and_the_started_job_reads_past_them(
    browser, api, store, settings, data_dir
):
    upload = api["operator"].post("/api/uploads", files={"file": ("report.csv", REPORT.encode(), "text/csv")})
    preview = upload.json()["preview"]
    assert (preview["skip_lines"], preview["header"]) == (2, ["id", "name", "age"])
    client = browser("operator")
    page = client.get("/jobs/new/import", params={"upload": upload.json()["name"]}).text
    assert "Lines 1 to 2 come before the header (a title?): they are passed over." in page
    assert '<input type="number" name="skip_lines" min="0" value="2"' in page
    assert '<input type="hidden" name="skip_lines" value="2">' in page
    form = {**IMPORT_FORM, "upload": upload.json()["name"], "csrf": csrf_of(page), "do": "start"}
    form |= {"skip_lines": "2", "operation": "insert", "max_rejects": "", "max_reject_percent": ""}
    response = client.post("/jobs/new/import", data=form, follow_redirects=False)
    job = int(response.headers["location"].rsplit("/", 1)[1])
    status = run_job(store, settings, job)[0]
    assert status is S.FINISHED
    assert table_rows(data_dir, "people", "id") == [(1, 30), (3, 40), (5, 50)]
    assert [r.line_no for r in store.rejects_of(store.runs_of(job)[-1].id)] == [5, 7]


def test_reading_the_report_again_with_no_lines_passed_over_says_why_its_first_line_is_no_header(
    browser, api
):
    name = api["operator"].post("/api/uploads", files={"file": ("r.csv", REPORT.encode(), "text/csv")})
    page = browser("operator").get(
        "/jobs/new/import",
        params={"upload": name.json()["name"], "skip_lines": "0"},
        headers={"Accept-Language": "nl"},
    )
    assert page.status_code == 200
    said = re.search(r'<p class="problem" role="alert" data-facts="header">(.*?)</p>', page.text).group(1)
    assert html.unescape(said) == (
        "Regel 1 heeft 1 velden, de records eronder hebben er 3: die kan ze niet benoemen. Verbeter het "
        "bestand, of kies Kopregel: Nee (regel 1 wordt dan geweigerd)."
    )
