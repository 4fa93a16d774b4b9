"""POST /api/uploads: a data file is stored whole or not at all, and comes back with a preview;
an import job can then read it by its stored name."""

from __future__ import annotations

import codecs
import gzip
import io
import sqlite3
import subprocess
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from impex.domain.status import S
from impex.engine.worker import Worker
from impex.settings import Settings
from impex.web.app import create_app
from support import IMPEX, write
from web.conftest import PEOPLE, assert_error, import_definition


def people(rows: int) -> str:
    lines = ["id,name,age,joined"]
    lines += [f"{i},Name {i},{20 + i % 50},2024-01-{1 + i % 28:02d}" for i in range(1, rows + 1)]
    return "\n".join(lines) + "\n"


def upload(client, data: bytes | str, filename: str = "people.csv", **fields: str):
    content = data.encode() if isinstance(data, str) else data
    return client.post("/api/uploads", files={"file": (filename, content, "text/csv")}, data=fields)


def leftovers(web) -> list[Path]:
    folder = web.files / "uploads"
    return sorted(folder.iterdir()) if folder.exists() else []


@pytest.fixture
def limited(web, settings, store):
    """An operator client of an app whose upload limit is 1 MiB."""
    app = create_app(Settings({**settings.values, "upload_max_mb": 1}), store)
    with TestClient(app) as client:
        client.headers["Authorization"] = f"Bearer {web.tokens['operator']}"
        yield client


def test_an_upload_is_stored_and_previewed_with_format_types_and_the_first_200_records(api, web):
    response = upload(api["operator"], people(300))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["name"].startswith("uploads/") and body["name"].endswith("-people.csv")
    assert body["original_name"] == "people.csv" and body["size"] == len(people(300))
    assert (web.files / body["name"]).read_text() == people(300)
    assert [p.name for p in leftovers(web)] == [Path(body["name"]).name]
    preview = body["preview"]
    assert (preview["encoding"], preview["delimiter"], preview["has_header"]) == ("utf-8", ",", True)
    assert preview["header"] == ["id", "name", "age", "joined"]
    assert [(c["source"], c["target"], c["type"]) for c in preview["columns"]] == [
        ("id", "id", "integer"),
        ("name", "name", "string"),
        ("age", "age", "integer"),
        ("joined", "joined", "date"),
    ]
    assert len(preview["rows"]) == 200 and preview["rows"][0] == ["1", "Name 1", "21", "2024-01-02"]


def test_a_semicolon_latin1_file_is_detected_and_header_names_become_the_columns_impex_import_makes(
    api, data_dir, tmp_path
):
    text = (
        "Kunden Nr;Straße;Ort;Prénom;Città\n1;Hauptstraße 1;Köln;Zoë;Forlì\n2;Bahnhofstraße 9;Düsseldorf;;\n"
    )
    body = upload(api["operator"], text.encode("cp1252"), "kunden.csv").json()
    preview = body["preview"]
    assert preview["delimiter"] == ";" and preview["encoding"] != "utf-8"  # a one-byte Western encoding
    # once 'stra_e', 'pr_nom' and 'citt', where impex import names them 'strasse', 'prenom' and 'citta'
    targets = [c["target"] for c in preview["columns"]]
    assert targets == ["kunden_nr", "strasse", "ort", "prenom", "citta"]
    assert preview["rows"][1] == ["2", "Bahnhofstraße 9", "Düsseldorf", None, None]
    # a table made of the web's names takes the same file from the quick import
    with sqlite3.connect(data_dir / "data.db") as db:
        db.execute(f"CREATE TABLE kunden ({', '.join(targets)})")
    source = write(tmp_path / "k.csv", text.encode("cp1252"))
    quick = subprocess.run(
        [*IMPEX, "--data-dir", str(data_dir), "import", str(source), "--table", "kunden", "--all-text"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert quick.returncode == 0, quick.stdout + quick.stderr
    with sqlite3.connect(data_dir / "data.db") as db:
        assert db.execute("SELECT * FROM kunden ORDER BY 1").fetchall()[0] == (
            "1",
            "Hauptstraße 1",
            "Köln",
            "Zoë",
            "Forlì",
        )


def test_given_delimiter_and_header_choice_are_used(api):
    body = upload(api["operator"], "a|b\n1|2\n", "x.txt", delimiter="|", header="false").json()
    assert body["preview"]["delimiter"] == "|"


def test_a_gzip_file_is_text_once_decompressed(api):
    response = upload(api["operator"], gzip.compress(PEOPLE.encode()), "people.csv.gz")
    assert response.status_code == 201, response.text
    assert response.json()["preview"]["header"] == ["id", "name", "age"]


def test_a_file_over_the_limit_is_413_and_leaves_nothing(limited, web):
    big = "x" * (1024 * 1024 + 10)
    error = assert_error(upload(limited, big), 413, "payload_too_large")
    assert error["details"] == {"limit_bytes": 1024 * 1024}
    assert leftovers(web) == []


def test_a_streamed_body_without_length_is_cut_at_the_limit_and_leaves_nothing(limited, web):
    boundary = "impexboundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n'
        "Content-Type: text/csv\r\n\r\n"
    ).encode()

    def body():
        yield head
        for _ in range(40):  # 40 × 64 KiB = 2.5 MiB, never all sent
            yield b"1,abc\n" * 10923
        yield f"\r\n--{boundary}--\r\n".encode()

    response = limited.post(
        "/api/uploads", content=body(), headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}
    )
    assert_error(response, 413, "payload_too_large")
    assert leftovers(web) == []


@pytest.mark.parametrize(
    ("data", "fields", "code"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 40, {}, "not_text"),
        ("id,name\n1,Ann\n".encode("utf-32"), {}, "unsupported_encoding"),
        (bytes(range(128, 256)) * 50, {"encoding": "utf-8"}, "undecodable"),
        (b"\x1f\x8b\x08\x00broken gzip", {}, "not_text"),
    ],
    ids=["binary", "utf-32", "undecodable", "broken-gzip"],
)
def test_a_file_that_is_not_text_is_415_and_leaves_nothing(api, web, data, fields, code):
    assert_error(upload(api["operator"], data, "data.csv", **fields), 415, code)
    assert leftovers(web) == []


@pytest.mark.parametrize("name", ["people.txt", "people.txt.gz"])
def test_excels_unicode_text_is_previewed_as_utf16_and_imported(api, store, settings, name):
    text = "id\tname\tage\r\n1\tZoë\t30\r\n2\t😀 Émile\t41\r\n"
    data = codecs.BOM_UTF16_LE + text.encode("utf-16-le")
    response = upload(api["operator"], gzip.compress(data) if name.endswith(".gz") else data, name)
    assert response.status_code == 201, response.text
    body = response.json()
    preview = body["preview"]
    assert (preview["encoding"], preview["delimiter"], preview["header"]) == (
        "utf-16-le",
        "\t",
        ["id", "name", "age"],
    )
    assert preview["rows"] == [["1", "Zoë", "30"], ["2", "😀 Émile", "41"]]
    definition = {k: v for k, v in import_definition().items() if k != "source"}
    definition["format"] = {"encoding": preview["encoding"], "delimiter": "\t"}
    job = api["operator"].post(
        "/api/jobs", json={"definition": definition, "upload": body["name"], "start": True}
    )
    assert job.status_code == 201, job.text
    assert Worker(store, settings, concurrency=1).run_one(job.json()["id"]) is S.FINISHED


def test_a_binary_file_is_refused_naming_its_first_binary_byte_for_a_program_to_say(api):
    picture = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 40
    error = assert_error(upload(api["operator"], picture, "data.csv"), 415, "not_text")
    assert error["details"] == {"byte": "0x00", "line": 3, "column": 1}


def test_a_request_that_is_not_multipart_is_415(api, web):
    assert_error(api["operator"].post("/api/uploads", json={"file": "x"}), 415, "not_multipart")
    assert_error(api["operator"].post("/api/uploads", data={"delimiter": ";"}), 415, "not_multipart")
    assert leftovers(web) == []


@pytest.mark.parametrize(
    "body",
    [
        b"--B\r\nNone--B--\r\n",
        b'--B\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\nid\n1\n'
        b"\r\n--B\r\nContent-Disposition\x01: x\r\n\r\n",
    ],
    ids=["no-part-header", "broken-after-the-file"],
)
def test_a_broken_multipart_body_is_400_and_leaves_nothing(api, web, body):
    response = api["operator"].post(
        "/api/uploads", content=body, headers={"Content-Type": "multipart/form-data; boundary=B"}
    )
    error = assert_error(response, 400, "bad_multipart")
    assert "multipart" in error["message"]
    assert leftovers(web) == []


def test_a_form_without_a_file_or_an_empty_file_is_422(api, web):
    response = api["operator"].post(
        "/api/uploads", files={"delimiter": (None, ";")}, data={"encoding": "utf-8"}
    )
    assert_error(response, 422, "no_file")
    assert_error(upload(api["operator"], b""), 422, "empty_file")
    assert leftovers(web) == []


def test_only_operators_may_upload(api, web):
    assert_error(upload(api["viewer"], PEOPLE), 403, "forbidden")
    assert_error(upload(web.client(), PEOPLE), 401, "unauthorized")
    assert leftovers(web) == []


def test_an_import_job_reads_an_uploaded_file_by_its_stored_name(api, web, store, settings):
    name = upload(api["operator"], PEOPLE).json()["name"]
    definition = {k: v for k, v in import_definition().items() if k != "source"}
    response = api["operator"].post(
        "/api/jobs", json={"definition": definition, "upload": name, "start": True}
    )
    assert response.status_code == 201, response.text
    job = response.json()
    assert job["definition"]["source"] == str((web.files / name).resolve())
    assert Worker(store, settings, concurrency=1).run_one(job["id"]) is S.FINISHED
    counters = api["viewer"].get(f"/api/jobs/{job['id']}").json()["run"]["counters"]
    assert (counters["inserted"], counters["rejected"]) == (3, 2)


@pytest.mark.parametrize(
    "name", ["uploads/nothing.csv", "../impex.db", "uploads/../../impex.db", "people.csv"]
)
def test_an_unknown_or_outside_upload_name_is_404(api, web, name):
    (web.files / "people.csv").write_text(PEOPLE)
    body = {"definition": import_definition(), "upload": name}
    assert_error(api["operator"].post("/api/jobs", json=body), 404, "upload_not_found")


def test_an_export_cannot_read_an_upload(api):
    name = upload(api["operator"], PEOPLE).json()["name"]
    export = {"kind": "export", "name": "e", "source": {"table": "people"}, "output": "e.csv"}
    body = {"definition": export, "upload": name}
    assert_error(api["operator"].post("/api/jobs", json=body), 422, "not_an_import")


@pytest.mark.parametrize("filename", ["€uro naïve.csv", "日本語.csv", "plain.csv"])
def test_a_file_name_in_any_script_is_kept_as_it_was_sent(api, filename):
    response = upload(api["operator"], PEOPLE, filename=filename)
    assert response.status_code == 201
    assert response.json()["original_name"] == filename


def test_an_excel_workbook_is_415_saying_how_to_save_it_as_csv(api, web):
    workbook = io.BytesIO()
    with zipfile.ZipFile(workbook, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
    error = assert_error(upload(api["operator"], workbook.getvalue(), "Kunden.xlsx"), 415, "not_text")
    assert "an Excel workbook, not a data file" in error["message"]
    assert "save the sheet as CSV (Excel: File → Save As → CSV UTF-8)" in error["message"]
    assert leftovers(web) == []
