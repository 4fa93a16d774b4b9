"""detect_format: encoding, delimiter, header and column types from a file's first records."""

from __future__ import annotations

from pathlib import Path

import pytest
from formats_support import write

from impex.domain.definitions import ColumnType, CsvFormat
from impex.formats.detect import detect_format
from impex.formats.errors import FormatError
from impex.formats.reader import DelimitedReader

T = ColumnType
TYPED = (
    "id;name;born;score;active;seen\n"
    "1;Ann;2000-01-02;1.5;yes;2024-01-01 10:00:00\n"
    "2;Bob;1999-12-31;2;no;2024-01-01T10:00:00.25\n"
    "3;;;;;\n"
)


def test_detects_delimiter_header_names_sample_and_types(tmp_path: Path) -> None:
    detected = detect_format(write(tmp_path, TYPED.encode()), CsvFormat())
    assert (detected.encoding, detected.delimiter) == ("utf-8", ";")
    assert detected.has_header and detected.header_guess is True
    assert detected.header == ["id", "name", "born", "score", "active", "seen"]
    assert detected.column_names == detected.header
    assert detected.sample[0] == ["1", "Ann", "2000-01-02", "1.5", "yes", "2024-01-01 10:00:00"]
    assert len(detected.sample) == 3
    assert detected.column_types == [T.INTEGER, T.STRING, T.DATE, T.FLOAT, T.BOOLEAN, T.TIMESTAMP]


@pytest.mark.parametrize(
    ("values", "kind"),
    [
        (["01234", "00501", "10115"], T.STRING),  # zip codes: an integer would drop the zeros
        (["0", "-7", "+12", "123456789012345678"], T.INTEGER),
        (["12345678901234567890", "1"], T.STRING),  # past 64 bits
        (["2024-01-01T10:00:00Z", "2024-01-01 10:00:00"], T.STRING),  # a moment, and a time of day
        (["2024-01-01 10:00", "2024-01-02 11:00:00"], T.STRING),  # with and without seconds
        (["2024-01-01T10:00:00.123456789", "2024-01-01 10:00:00"], T.TIMESTAMP),
    ],
)
def test_a_column_is_given_a_type_only_if_the_import_takes_every_value_as_it_is(
    tmp_path: Path, values: list[str], kind: ColumnType
) -> None:
    text = "c\n" + "".join(f"{v}\n" for v in values)
    assert detect_format(write(tmp_path, text.encode()), CsvFormat()).column_types == [kind]


def test_semicolons_win_over_decimal_commas_that_split_as_evenly(tmp_path: Path) -> None:
    text = "1;2,5;3,5\n2;4,0;1,25\n3;7,1;0,5\n"
    assert detect_format(write(tmp_path, text.encode()), CsvFormat(header=False)).delimiter == ";"


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_the_delimiter_with_the_most_consistent_field_count_wins(tmp_path: Path, delimiter: str) -> None:
    rows = [["a", "b;c", "d"], ["1", "x|y", "2,5"], ["3", "z", "4"]]
    quoted = [[f'"{v}"' if any(d in v for d in ",;|") else v for v in row] for row in rows]
    text = "".join(delimiter.join(row) + "\n" for row in quoted)
    assert detect_format(write(tmp_path, text.encode()), CsvFormat()).delimiter == delimiter


def test_values_given_in_the_format_are_kept(tmp_path: Path) -> None:
    path = write(tmp_path, "a;b,c\n1;2,3\n".encode("latin-1"))
    detected = detect_format(path, CsvFormat(delimiter=",", encoding="latin-1"))
    assert (detected.delimiter, detected.encoding) == (",", "iso8859-1")
    assert detected.header == ["a;b", "c"]


def test_a_first_row_typed_like_the_others_is_not_a_header(tmp_path: Path) -> None:
    detected = detect_format(write(tmp_path, b"1,2024-01-01\n2,2024-01-02\n"), CsvFormat())
    assert detected.header_guess is False and not detected.has_header
    assert detected.header is None
    assert detected.column_names == ["f1", "f2"]
    assert detected.sample == [["1", "2024-01-01"], ["2", "2024-01-02"]]


def test_when_every_column_is_text_the_header_option_decides(tmp_path: Path) -> None:
    path = write(tmp_path, b"name,city\nAnn,Lyon\n")
    assert detect_format(path, CsvFormat()).header_guess is None
    assert detect_format(path, CsvFormat()).has_header
    assert detect_format(path, CsvFormat(header=False)).header is None


def test_the_sample_is_limited_to_sample_lines(tmp_path: Path) -> None:
    text = "n\n" + "".join(f"{i}\n" for i in range(500))
    detected = detect_format(write(tmp_path, text.encode()), CsvFormat(), sample_lines=50)
    assert len(detected.sample) == 50 and detected.column_types == [T.INTEGER]


def test_bom_and_latin1_are_detected(tmp_path: Path) -> None:
    bom = detect_format(write(tmp_path, b"\xef\xbb\xbfa,b\n1,2\n", "bom.csv"), CsvFormat())
    assert bom.encoding == "utf-8-sig" and bom.header == ["a", "b"]
    text = "nom,ville\n" + "".join("Hélène,Besançon\n" for _ in range(20))
    latin = detect_format(write(tmp_path, text.encode("cp1252"), "latin.csv"), CsvFormat())
    assert latin.encoding == "cp1252" and latin.sample[0] == ["Hélène", "Besançon"]


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("id,nom\n1,Hélène\n2,Noël\n3,Coeur\n", "latin-1"),  # a few names: once taken for Big5
        ("id,name\n1,Müller\n2,Café\n", "latin-1"),  # once cp775
        ("id,nombre\n1,“Año” – 5 €\n2,¿Qué?\n", "cp1252"),
        ("id,name\n1,Bob’s Diner\n2,O’Brien\n3,l’été\n", "cp1252"),  # typographic apostrophes in words
    ],
)
def test_a_small_western_file_is_read_as_cp1252(tmp_path: Path, text: str, encoding: str) -> None:
    detected = detect_format(write(tmp_path, text.encode(encoding)), CsvFormat())
    assert detected.encoding == "cp1252"
    assert [row[1] for row in detected.sample] == [line.split(",")[1] for line in text.splitlines()[1:]]


@pytest.mark.parametrize(
    ("words", "encoding"),
    [
        (["Привет", "Москва", "улица"], "cp1251"),
        (["Łódź", "Kraków", "Białystok", "Gdańsk"], "cp1250"),
        (["Świętokrzyski", "Gęślą", "Łódź", "Jaźń"], "iso8859-2"),  # once cp1250: 'Gę¶l±'
        (["Świętokrzyski", "Gęślą", "Łódź", "Jaźń"], "cp1250"),
    ],
)
def test_other_scripts_are_detected_from_enough_text_and_never_taken_for_cp1252(
    tmp_path: Path, words: list[str], encoding: str
) -> None:
    text = "id,name\n" + "".join(
        f"{i},{words[i % len(words)]} {words[(i + 1) % len(words)]}\n" for i in range(40)
    )
    detected = detect_format(write(tmp_path, text.encode(encoding)), CsvFormat())
    assert detected.encoding == encoding
    assert detected.sample[0] == ["0", f"{words[0]} {words[1]}"]


@pytest.mark.parametrize(
    ("text", "encoding", "read_as"),
    [
        ("ad;şehir\nŞükrü Güneş;İstanbul\nAyşe Yılmaz;Eskişehir\n", "cp1254", "cp1254"),  # once cp1250
        ("ad;şehir\nŞükrü Güneş;İstanbul\nAyşe Yılmaz;Eskişehir\n", "iso8859-9", "cp1254"),
        ("ad;soyad\nÇağlar;Gökçe\nIlgın;Ümit\n", "cp1254", "cp1254"),  # once 'Çađlar'
        ("artikel;preis\nBrot;2,50 €\nKäse;12,00 €\n", "iso8859-15", "iso8859-15"),  # once '2,50 ¤'
        ("mot;prix\ncœur;5 €\nSœur;Œuvre\n", "iso8859-15", "iso8859-15"),  # once refused
    ],
)
def test_a_short_turkish_or_latin9_file_is_read_in_its_own_code_page(
    tmp_path: Path, text: str, encoding: str, read_as: str
) -> None:
    detected = detect_format(write(tmp_path, text.encode(encoding)), CsvFormat())
    assert detected.encoding == read_as
    assert [detected.header, *detected.sample] == [line.split(";") for line in text.splitlines()]


@pytest.mark.parametrize("encoding", ["cp850", "mac_roman"])
def test_an_old_dos_or_mac_export_is_asked_for_not_read_as_control_characters_or_capitals_in_words(
    tmp_path: Path, encoding: str
) -> None:
    # once cp1250 ('Niccol• PellŠ', 'ForlŤ') and iso8859-2 (C1 control characters for ò è ì)
    text = "nome;città\nNiccolò Pellè;Forlì\nGiosuè Carducci;Cantù\n"
    path = write(tmp_path, text.encode(encoding))
    with pytest.raises(FormatError, match="cannot tell the encoding from the text"):
        detect_format(path, CsvFormat())
    given = detect_format(path, CsvFormat(encoding=encoding))
    assert given.header == ["nome", "città"] and given.sample[0] == ["Niccolò Pellè", "Forlì"]


def test_too_little_text_to_tell_its_encoding_asks_for_it(tmp_path: Path) -> None:
    path = write(tmp_path, "id,name\n1,Привет\n".encode("cp1251"))
    with pytest.raises(FormatError) as refused:
        detect_format(path, CsvFormat())
    assert str(refused.value) == (
        f"{path}: cannot tell the encoding from the text (byte 0xcf at line 2, column 3 is not UTF-8): "
        "give the encoding, e.g. cp1252, cp1250 or cp1251"
    )


def test_an_empty_file_is_detected_without_error(tmp_path: Path) -> None:
    detected = detect_format(write(tmp_path, b""), CsvFormat())
    assert detected.sample == [] and detected.column_types == [] and detected.header is None


def test_a_reader_can_reuse_the_detection(tmp_path: Path) -> None:
    path = write(tmp_path, TYPED.encode())
    detected = detect_format(path, CsvFormat())
    with DelimitedReader(path, CsvFormat(), detected=detected) as reader:
        assert (reader.delimiter, reader.encoding) == (";", "utf-8")
        assert next(reader.chunks(10)).frame.height == 3


@pytest.mark.parametrize("encoding", ["shift_jis", "big5", "gbk", "hz"])
def test_an_encoding_whose_characters_may_hold_a_delimiter_byte_is_refused(
    tmp_path: Path, encoding: str
) -> None:
    path = write(tmp_path, "id|name\n1|ポスト表示\n".encode("shift_jis"))  # ポ ends in 0x7c, 表 in 0x5c
    with pytest.raises(FormatError, match=rf"encoding {encoding} is not supported \(not ASCII-compatible"):
        detect_format(path, CsvFormat(encoding=encoding))


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        # each once read as cp1252 or cp1258, letters changed without a word: Győr as Gyõr, Plzeň as
        # Plzeò, Guðrún as Guđrún
        ("név;város\nKovács Ödön;Győr\nSzabó Erzsébet;Pécs\nTóth Árpád;Szőlő\n", "cp1250"),
        ("jméno;město\nJiří Dvořák;Plzeň\nRůžena Černá;Ústí\nTomáš Říha;Třebíč\n", "cp1250"),
        ("meno;mesto\nĽubomír Kráľ;Žilina\nMária Ďurová;Poprad\nJán Šťastný;Nitra\n", "cp1250"),
        ("nafn;bær\nÞórður Ásgeirsson;Reykjavík\nGuðrún Ólafsdóttir;Akureyri\n", "cp1252"),
        ("nimi;linn\nTõnu Mägi;Võru\nÜlle Šmidt;Pärnu\n", "cp1257"),
        ("vardas;miestas\nJūratė Šimkutė;Kaunas\nŽygimantas Čepas;Šiauliai\n", "cp1257"),
        # and texts that were read right stay so
        ("nom;ville\nFrançois Lefèvre;Besançon\nJürgen Müller;Köln\nJosé Núñez;Málaga\n", "cp1252"),
        ("nome;cidade\nJoão Simões;Porto\nConceição;Évora\n", "cp1252"),
        ("imię;miasto\nŁukasz Żółć;Łódź\nAgnieszka Wąsik;Gdańsk\n", "cp1250"),
    ],
)
def test_a_latin_code_page_is_told_by_the_letters_of_one_language_it_reads_them_as(
    tmp_path: Path, text: str, encoding: str
) -> None:
    detected = detect_format(write(tmp_path, text.encode(encoding)), CsvFormat())
    assert detected.encoding == encoding
    assert [detected.header, *detected.sample] == [line.split(";") for line in text.splitlines()]
