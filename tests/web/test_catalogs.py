"""Every UI string and journal message is translated in every language; labels are the agreed ones."""

from __future__ import annotations

import re

import pytest

from impex.domain.journal import MESSAGES
from impex.domain.rejects import MESSAGES as REJECT_MESSAGES
from impex.domain.rejects import text as reject_text
from impex.domain.status import Status
from impex.web.catalogs import read_catalog, source_strings
from impex.web.i18n import LANGUAGES, Translator, choose_language, load_translations

# The agreed status, button and tab labels (the team's STATUS-LABELS table).
STATUS = {
    "editing": (
        "Editing",
        "In Bearbeitung",
        "Bezig met bewerken",
        "Edição em progresso",
        "Modifica in corso",
        "Edición en curso",
    ),
    "queued": ("Queued", "In Warteschlange", "In wachtrij", "Na fila", "In coda", "En cola"),
    "running": (
        "Execution in progress",
        "Ausführung in Gang",
        "Wordt uitgevoerd",
        "Execução em progresso",
        "Esecuzione in corso",
        "Ejecución en curso",
    ),
    "canceled": ("Canceled", "Abgebrochen", "Geannuleerd", "Cancelado", "Annullato", "Cancelado"),
    "canceling": (
        "Cancellation in progress",
        "Wird abgebrochen",
        "Annulering wordt uitgevoerd",
        "Cancelamento em progresso",
        "Annullamento in corso",
        "Cancelación en curso",
    ),
    "pausing": (
        "Pause in progress",
        "Wird ausgesetzt",
        "Wordt gepauzeerd",
        "Pausa em progresso",
        "Pausa in corso",
        "Pausa en curso",
    ),
    "paused": ("Paused", "Ausgesetzt", "Gepauzeerd", "Em pausa", "In pausa", "En pausa"),
    "finished": ("Finished", "Abgeschlossen", "Voltooid", "Concluído", "Completato", "Finalizado"),
    "finished_with_errors": (
        "Finished with errors",
        "Abgeschlossen mit Fehlern",
        "Voltooid met fouten",
        "Concluído com erros",
        "Completato con errori",
        "Finalizado con errores",
    ),
    "server_shutdown": (
        "Server shutdown in progress",
        "Server wird heruntergefahren",
        "Server wordt afgesloten",
        "Desligamento do servidor em progresso",
        "Arresto del server in corso",
        "Apagado del servidor en curso",
    ),
}
ACTIONS = {
    "start": ("Start", "Starten", "Starten", "Iniciar", "Avvia", "Iniciar"),
    "pause": ("Pause", "Pause", "Pauzeren", "Pausar", "Pausa", "Pausar"),
    "cancel": ("Cancel", "Abbrechen", "Annuleren", "Cancelar", "Annulla", "Cancelar"),
}
TABS = {
    "General": ("General", "Allgemein", "Algemeen", "Geral", "Generale", "General"),
    "Journal": ("Journal", "Journal", "Logboek", "Diário", "Giornale", "Diario"),
    "Rejects": (
        "Rejects",
        "Zurückweisungen",
        "Afgewezen records",
        "Rejeições",
        "Record rifiutati",
        "Rechazos",
    ),
    "Status": ("Status", "Status", "Status", "Status", "Stato", "Estado"),
}
ORDER = list(LANGUAGES)


def translator(language: str) -> Translator:
    return Translator(language, load_translations(language))


@pytest.mark.parametrize("language", ORDER)
def test_the_catalog_translates_every_string_the_ui_uses(language):
    catalog = read_catalog(language)
    missing = [m for m in source_strings() if not (catalog.get(m) and catalog[m].string)]
    assert missing == [], f"{language}: untranslated (run python -m impex.web.catalogs): {missing}"


@pytest.mark.parametrize("language", ORDER)
def test_translations_keep_the_placeholders_of_their_source(language):
    catalog = read_catalog(language)
    for message in catalog:
        if message.id and message.string:
            assert set(re.findall(r"{\w+[^}]*}", message.string)) == set(
                re.findall(r"{\w+[^}]*}", message.id)
            ), message.id


@pytest.mark.parametrize("language", ORDER)
def test_status_button_and_tab_labels_are_the_agreed_ones(language):
    t = translator(language)
    i = ORDER.index(language)
    assert {s.value: t.status(s) for s in Status} == {code: labels[i] for code, labels in STATUS.items()}
    assert {a: t.action(a) for a in ACTIONS} == {a: labels[i] for a, labels in ACTIONS.items()}
    assert {tab: t.gettext(tab) for tab in TABS} == {tab: labels[i] for tab, labels in TABS.items()}


@pytest.mark.parametrize("language", ORDER)
def test_every_journal_code_renders_in_every_language(language):
    t = translator(language)
    for code, template in MESSAGES.items():
        params = {name: "7" for name in re.findall(r"{(\w+)", template)}
        text = t.journal(code, params)
        assert "{" not in text.replace("'{", ""), (code, text)
        if language != "en":
            assert text != template.format(**params) or code == "job.transition", (language, code)


@pytest.mark.parametrize("language", ORDER)
def test_every_reject_message_renders_in_every_language(language):
    t = translator(language)
    for code, template in REJECT_MESSAGES.items():
        params = {name: "7" for name in re.findall(r"{(\w+)", template)} | {"line": 3}
        english = reject_text(code, params)
        said = t.reject(code, params, english)
        assert "{" not in said, (code, said)
        assert (said == english) == (language == "en"), (language, code)


def test_a_database_refusal_keeps_the_databases_words_in_a_translated_frame():
    params = {"line": 9, "error": "UNIQUE constraint failed: people.id"}
    assert (
        translator("de").reject("constraint", params, "")
        == "Zeile 9: von der Datenbank abgelehnt: UNIQUE constraint failed: people.id"
    )


def test_key_columns_are_joined_in_the_language():
    params = {"line": 2, "key": ["id", "day"], "value": "1|2024-01-31"}
    said = translator("nl").reject("duplicate_key", params, "")
    assert said == "regel 2: sleutel id en day = 1|2024-01-31 staat al in de tabel"


def test_a_reject_without_a_known_code_shows_its_english_message():
    t = translator("it")
    assert t.reject(None, None, "line 3: stored before codes") == "line 3: stored before codes"
    assert t.reject("from_the_future", {"line": 3}, "line 3: newer") == "line 3: newer"


def test_a_transition_line_names_statuses_and_action_in_the_language():
    params = {"action": "cancel", "by": "ana", "source": "running", "target": "canceling"}
    assert (
        translator("de").journal("job.transition", params)
        == "Abbrechen durch ana: Ausführung in Gang → Wird abgebrochen"
    )


@pytest.mark.parametrize(
    ("cookie", "header", "expected"),
    [
        (None, None, "en"),
        (None, "de-CH,de;q=0.9,en;q=0.8", "de"),
        (None, "fr-FR,pt-BR;q=0.8,es;q=0.5", "pt"),
        (None, "en;q=0.1,nl;q=0.9", "nl"),
        (None, "fr, ja", "en"),
        ("it", "de", "it"),
        ("xx", "es", "es"),
    ],
)
def test_the_language_is_the_remembered_choice_else_the_browsers(cookie, header, expected):
    assert choose_language(cookie, header) == expected


def test_a_journal_line_says_its_numbers_yes_no_and_durations_as_the_language_does():
    detected = {"delimiter": ";", "encoding": "cp1252", "header": True}
    assert translator("de").journal("format.detected", detected) == (
        "Erkanntes Format: Trennzeichen ';', Kodierung cp1252, Kopfzeile Ja"
    )
    summary = {key: 0 for key in ("inserted", "updated", "unchanged", "deleted", "doubles", "duplicates")}
    summary |= {"read": 1234567, "rejected": 1500, "duration": "2.5 s"}
    said = translator("de").journal("run.summary", summary)
    assert said.startswith("Zusammenfassung: gelesen 1.234.567, ") and "zurückgewiesen 1.500" in said
    assert said.endswith("Dauer 2,5 s")
    progress = {"read": 20000, "rate": 15000, "percent": 12.5, "eta": "unknown"}
    assert translator("pt").journal("run.progress", progress) == (
        "20.000 registros lidos, 15.000 registros/s, 12,5% do arquivo, conclusão prevista desconhecida"
    )
    assert translator("en").journal("run.progress", progress) == (
        "20,000 records read, 15,000 records/s, 12.5% of the file, ETA unknown"
    )


@pytest.mark.parametrize(
    ("code", "params", "said"),
    [
        (
            "worker.takeover",
            {"worker": "worker b", "reason": "its lease ran out", "previous": "worker a"},
            "Übernommen von worker b nach Ablauf seiner Lease (vorheriger Worker: worker a)",
        ),
        (
            "run.resumed",
            {"run": 2, "record_no": 1500, "line_no": 1501, "reason": "a shutdown (SIGTERM)"},
            "Lauf 2 fortgesetzt ab Datensatz 1.500 (Zeile 1.501) nach einem Herunterfahren (SIGTERM)",
        ),
        (
            "run.resumed",
            {"run": 1, "record_no": 9, "line_no": 9, "reason": "a pause, but /out/p.part is gone"},
            "Lauf 1 fortgesetzt ab Datensatz 9 (Zeile 9) nach einer Pause, aber /out/p.part fehlt",
        ),
        (
            "run.resumed",
            {
                "run": 1,
                "record_no": 9,
                "line_no": 9,
                "reason": "a crash of its worker (w1: its lease ran out)",
            },
            "Lauf 1 fortgesetzt ab Datensatz 9 (Zeile 9) nach einem Absturz seines Workers "
            "(w1: seine Lease lief ab)",
        ),
        (
            "run.resumed",
            {"run": 1, "record_no": 9, "line_no": 9, "reason": "a cause from a newer impex"},
            "Lauf 1 fortgesetzt ab Datensatz 9 (Zeile 9) nach a cause from a newer impex",
        ),
    ],
)
def test_why_a_run_stopped_is_said_in_the_language_in_takeover_and_resume_lines(code, params, said):
    assert translator("de").journal(code, params) == said


def test_a_run_s_options_are_shown_as_json_not_as_python():
    options = {"source": "/data/zürich.csv", "columns": [{"name": "id", "required": True}], "filter": None}
    said = translator("nl").journal("run.started", {"run": 1, "by": "ana", "options": options})
    assert said.endswith(
        'met opties: {"source": "/data/zürich.csv", "columns": [{"name": "id", "required": true}], '
        '"filter": null}'
    )
