"""Names made from headers and file names keep every Latin letter, spelled in ASCII."""

import pytest

from impex.domain.names import identifier, table_name_for


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Straße", "strasse"),
        ("Prénom Nom", "prenom_nom"),
        ("Größe", "grosse"),
        ("Ørsted", "orsted"),
        ("Łódź", "lodz"),
        ("Æble/Œuvre", "aeble_oeuvre"),
        ("Þórður", "thordur"),
        ("2024 Umsätze", "_2024_umsatze"),
        ("日本", ""),
        ("$$", ""),
    ],
)
def test_a_name_spells_letters_without_accents_and_drops_what_it_cannot_spell(text, name):
    assert identifier(text) == name


@pytest.mark.parametrize(
    ("file_name", "table"),
    [
        ("contacts.csv", "contacts"),
        ("exports/Straße Größe.csv", "strasse_grosse"),
        ("my.data.csv", "my_data"),
        ("contacts.csv.gz", "contacts"),
        ("contacts.txt.zip", "contacts"),
        ("README", "readme"),
        ("日本.csv", ""),
    ],
)
def test_a_files_table_is_its_name_without_folder_and_extensions(file_name, table):
    assert table_name_for(file_name) == table
