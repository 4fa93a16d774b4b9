"""Names made from headers and file names keep every Latin letter, spelled in ASCII."""

import pytest

from impex.domain.names import identifier


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
