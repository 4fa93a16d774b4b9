"""detect_format: one decimal separator, thousands separator, date and timestamp format per file, chosen
from the sample's evidence; a column those cannot read as it looks stays text, with a note saying why."""

from __future__ import annotations

from pathlib import Path

import pytest
from formats_support import write

from impex.domain.definitions import ColumnType, CsvFormat
from impex.formats.detect import DetectedFormat, detect_format

T = ColumnType
GERMAN = "Kunde;Betrag;Datum;Stadt\n1;1.234,50;24.12.2025;Köln\n2;99,90;01.01.2026;München\n"


def detect(tmp_path: Path, text: str, fmt: CsvFormat | None = None) -> DetectedFormat:
    return detect_format(write(tmp_path, text.encode()), fmt or CsvFormat())


def found(detected: DetectedFormat) -> tuple[str, str | None, str, str]:
    c = detected.conventions
    return c.decimal_separator, c.thousands_separator, c.date_format, c.timestamp_format


def notes(detected: DetectedFormat) -> list[str | None]:
    return [None if n is None else n.text for n in detected.notes]


def test_a_german_export_has_a_decimal_comma_a_thousands_point_and_day_first_dates(tmp_path: Path) -> None:
    detected = detect(tmp_path, GERMAN)
    assert detected.header == ["Kunde", "Betrag", "Datum", "Stadt"]
    assert detected.column_types == [T.INTEGER, T.FLOAT, T.DATE, T.STRING]
    assert found(detected) == (",", ".", "%d.%m.%Y", "%Y-%m-%d %H:%M:%S")
    assert detected.notes == [None] * 4


@pytest.mark.parametrize(
    ("values", "decimal", "thousands"),
    [
        (["1.234,50", "99,90"], ",", "."),
        (["1 234,50", "99,90"], ",", " "),
        (["1234,50", "99,9"], ",", None),
        (["1,234.50", "99.90"], ".", ","),
        (["1234.50", "99.9"], ".", None),
        (["1.234.567", "12"], ",", "."),  # two points: only thousands
        (["1,234,567", "12"], ".", ","),
    ],
)
def test_the_decimal_and_thousands_separators_come_from_values_only_one_reading_fits(
    tmp_path: Path, values: list[str], decimal: str, thousands: str | None
) -> None:
    detected = detect(tmp_path, "n\n" + "".join(f'"{v}"\n' for v in values))
    assert found(detected)[:2] == (decimal, thousands)
    assert detected.column_types[0] in (T.FLOAT, T.INTEGER) and detected.notes == [None]


@pytest.mark.parametrize("amount", ["1.234", "1,234"])
def test_a_thousand_or_one_point_two_is_not_guessed(tmp_path: Path, amount: str) -> None:
    detected = detect(tmp_path, f'amount;qty\n"{amount}";1\n"{amount}";2\n')
    assert detected.column_types == [T.STRING, T.INTEGER]
    note = detected.notes[0]
    assert note is not None and note.option == "decimal_separator"
    assert note.text == f"numbers, but the decimal separator cannot be told ('{amount}': 1.234 or 1234?)"


@pytest.mark.parametrize(
    ("text", "decimal", "kind"),
    [
        ('a;b\n"1.234";7\n"1.234,50";8\n', ",", T.FLOAT),  # in the same column: a thousands point
        ('a;b\n"1.234";"2,5"\n"5.678";"3,5"\n', ",", T.INTEGER),  # a decimal comma elsewhere: 1234
        ('a;b\n"1.234";7\n"1.2345";8\n', ".", T.FLOAT),  # four decimals: a decimal point
        ('a;b\n"1.234";"2.5"\n"5.678";"3.5"\n', ".", T.FLOAT),  # a decimal point elsewhere: 1.234
    ],
)
def test_a_thousand_or_one_point_two_is_told_by_the_other_values(
    tmp_path: Path, text: str, decimal: str, kind: ColumnType
) -> None:
    detected = detect(tmp_path, text)
    assert found(detected)[0] == decimal
    assert detected.column_types[0] is kind and detected.notes[0] is None


def test_a_column_with_the_other_decimal_separator_stays_text(tmp_path: Path) -> None:
    detected = detect(tmp_path, 'a;b;c\n"1,5";"2,5";"3.5"\n"4,5";"5,5";"6.5"\n')
    assert detected.column_types == [T.FLOAT, T.FLOAT, T.STRING]
    assert (
        notes(detected)[2]
        == "numbers with a decimal point, but the file's other numbers have a decimal comma"
    )


def test_a_column_grouped_by_another_thousands_separator_stays_text(tmp_path: Path) -> None:
    detected = detect(tmp_path, "a;b;c\n1.234,5;2.345,5;3 456,5\n1,5;2,5;3,5\n")
    assert found(detected)[:2] == (",", ".") and detected.column_types == [T.FLOAT, T.FLOAT, T.STRING]
    assert notes(detected)[2] == "numbers grouped by ' ', but the file's other numbers by '.'"


@pytest.mark.parametrize("code", ["01234", "00,5", "0.125"])  # 0.125 is no thousands grouping
def test_a_leading_zero_is_never_read_away_whatever_the_separators(tmp_path: Path, code: str) -> None:
    detected = detect(tmp_path, f'zip;amount\n"{code}";"1,5"\n"10115";"2,5"\n')
    assert found(detected)[0] == "," and detected.column_types == [T.STRING, T.FLOAT]


@pytest.mark.parametrize(
    ("dates", "form"),
    [
        (["24.12.2025", "1.1.2026"], "%d.%m.%Y"),
        (["24/12/2025", "01/02/2026"], "%d/%m/%Y"),
        (["12/24/2025", "01/02/2026"], "%m/%d/%Y"),
        (["2025/12/24", "2026/1/2"], "%Y/%m/%d"),
        (["24-12-2025", "01-02-2026"], "%d-%m-%Y"),
        (["2025-12-24", "2026-01-02"], "%Y-%m-%d"),
    ],
)
def test_dates_are_read_in_the_one_format_every_value_fits(
    tmp_path: Path, dates: list[str], form: str
) -> None:
    detected = detect(tmp_path, "d,n\n" + "".join(f"{d},{i}\n" for i, d in enumerate(dates)))
    assert detected.column_types == [T.DATE, T.INTEGER] and found(detected)[2] == form


@pytest.mark.parametrize(
    ("stamps", "form"),
    [
        (["24.12.2025 10:30", "1.1.2026 9:05"], "%d.%m.%Y %H:%M"),
        (["24/12/2025 10:30:15", "01/02/2026 00:00:00"], "%d/%m/%Y %H:%M:%S"),
        (["12/24/2025 10:30", "01/02/2026 23:59"], "%m/%d/%Y %H:%M"),
        (["2025/12/24 10:30:00", "2026/01/02 11:00:00"], "%Y/%m/%d %H:%M:%S"),
        (["24-12-2025 10:30", "01-02-2026 11:00"], "%d-%m-%Y %H:%M"),
    ],
)
def test_timestamps_are_read_in_the_one_format_every_value_fits(
    tmp_path: Path, stamps: list[str], form: str
) -> None:
    detected = detect(tmp_path, "t,n\n" + "".join(f"{s},{i}\n" for i, s in enumerate(stamps)))
    assert detected.column_types == [T.TIMESTAMP, T.INTEGER] and found(detected)[3] == form


@pytest.mark.parametrize(
    "values",
    [
        ["24.12.2025", "2025-12-25"],  # two formats
        ["31.02.2025", "01.01.2025"],  # no such day
        ["24.12.2025 10:30", "24.12.2025 10:30:00"],  # with and without seconds
        ["13/24/2025", "01/01/2025"],  # neither day first nor month first
    ],
)
def test_a_column_is_dates_only_if_every_value_fits_one_format(tmp_path: Path, values: list[str]) -> None:
    detected = detect(tmp_path, "d,n\n" + "".join(f"{v},{i}\n" for i, v in enumerate(values)))
    assert detected.column_types == [T.STRING, T.INTEGER]


AMBIGUOUS = "dates, but day and month cannot be told apart: %d/%m/%Y or %m/%d/%Y?"


@pytest.mark.parametrize(
    ("text", "kind", "told"),
    [
        ("d,n\n01/02/2025,1\n03/04/2025,2\n", T.INTEGER, AMBIGUOUS),
        # a ';' delimiter or a decimal comma makes day first likely, not certain
        ("d;n\n01/02/2025;1\n03/04/2025;2\n", T.INTEGER, AMBIGUOUS),
        ('d,n\n01/02/2025,"1,5"\n03/04/2025,"2,5"\n', T.FLOAT, AMBIGUOUS),
        (
            "t,n\n05/01/2024 10:30:15,1\n03/04/2024 08:00:00,2\n",
            T.INTEGER,
            "timestamps, but day and month cannot be told apart: %d/%m/%Y %H:%M:%S or %m/%d/%Y %H:%M:%S?",
        ),
    ],
)
def test_day_and_month_that_cannot_be_told_apart_stay_text_and_say_which_formats_would_fit(
    tmp_path: Path, text: str, kind: ColumnType, told: str
) -> None:
    detected = detect(tmp_path, text)
    assert detected.column_types == [T.STRING, kind]
    note = detected.notes[0]
    assert note is not None and note.option == ("timestamp_format" if ":" in text else "date_format")
    assert note.text == told


@pytest.mark.parametrize(
    ("text", "form"),
    [
        ("d,e\n01/02/2025,13/02/2025\n03/04/2025,01/01/2025\n", "%d/%m/%Y"),  # another column's day 13
        ("d,e\n01/02/2025,02/13/2025 10:00\n03/04/2025,01/01/2025 11:00\n", "%m/%d/%Y"),  # month first
    ],
)
def test_day_and_month_that_cannot_be_told_apart_follow_the_file_s_other_columns(
    tmp_path: Path, text: str, form: str
) -> None:
    detected = detect(tmp_path, text)
    assert detected.column_types[0] is T.DATE and found(detected)[2] == form


def test_the_file_has_one_date_format_and_the_minority_stays_text_with_a_note(tmp_path: Path) -> None:
    detected = detect(tmp_path, "a;b;c\n24.12.2025;25.12.2025;2025-12-26\n")
    assert detected.column_types == [T.DATE, T.DATE, T.STRING] and found(detected)[2] == "%d.%m.%Y"
    assert notes(detected)[2] == "dates as %Y-%m-%d, but the file's date format is %d.%m.%Y"
    # one format reads all of them: a column may have it as its own
    assert detected.conventions.own_formats == {2: ("date", "%Y-%m-%d")}


def test_a_column_whose_day_and_month_cannot_be_told_apart_gets_no_format_of_its_own(tmp_path: Path) -> None:
    detected = detect(tmp_path, "a;b\n01/02/2025;x\n")  # no column tells the day from the month
    assert detected.column_types == [T.STRING, T.STRING] and detected.conventions.own_formats == {}
    # the file's other dates tell it: day first
    detected = detect(tmp_path, "a;b\n24.12.2025;01/02/2025\n")
    assert detected.conventions.own_formats == {1: ("date", "%d/%m/%Y")}


def test_a_header_above_german_numbers_and_dates_is_told_from_a_first_record(tmp_path: Path) -> None:
    body = "1.234,50;24.12.2025\n99,90;01.01.2026\n"
    assert detect(tmp_path, body).header_guess is False
    assert detect(tmp_path, "Betrag;Datum\n" + body).header_guess is True


@pytest.mark.parametrize(
    ("fmt", "types", "expected"),
    [
        # 1.234 is 1234; the dates could still be either
        (CsvFormat(decimal_separator=","), [T.INTEGER, T.STRING], (",", ".", "%Y-%m-%d")),
        (CsvFormat(decimal_separator="."), [T.FLOAT, T.STRING], (".", None, "%Y-%m-%d")),
        (CsvFormat(date_format="%m/%d/%Y"), [T.STRING, T.DATE], (".", None, "%m/%d/%Y")),
        (CsvFormat(date_format="%d.%m.%Y"), [T.STRING, T.STRING], (".", None, "%d.%m.%Y")),
    ],
)
def test_conventions_set_in_the_format_are_kept(
    tmp_path: Path, fmt: CsvFormat, types: list[ColumnType], expected: tuple[str, str | None, str]
) -> None:
    detected = detect(tmp_path, 'a,d\n"1.234",01/02/2025\n"5.678",03/04/2025\n', fmt)
    assert detected.column_types == types and found(detected)[:3] == expected


@pytest.mark.parametrize(
    ("values", "decimal", "thousands"),
    [
        (["1'234.50", "99.90", "-1'234'567"], ".", "'"),  # Swiss
        (["1\u2019234.50", "99.90"], ".", "\u2019"),  # Swiss, with the typographic apostrophe
        (["1\u00a0234,50", "-99,90"], ",", "\u00a0"),  # a no-break space
        (["1\u202f234,50", "99,90"], ",", "\u202f"),  # a narrow no-break space (French)
        (["1 234.50", "99.90"], ".", " "),
        (["-1.234,50", "-99,90", "12"], ",", "."),  # negative
        (["1.234,50", "234,50", "1.000.000,00", "7"], ",", "."),  # some grouped, some not
        (["1,234.50", "234.50", "-1,000,000"], ".", ","),
    ],
)
def test_thousands_grouped_by_apostrophes_or_spaces_and_negatives_are_read(
    tmp_path: Path, values: list[str], decimal: str, thousands: str
) -> None:
    detected = detect(tmp_path, "n;k\n" + "".join(f"{v};{i}\n" for i, v in enumerate(values)))
    assert found(detected)[:2] == (decimal, thousands)
    assert detected.column_types == [T.FLOAT, T.INTEGER] and detected.notes == [None, None]


@pytest.mark.parametrize(
    "values",
    [
        ["1.2.3", "1.10.0", "2.0.1"],  # version numbers
        ["+49 30 1234567", "0171 2345678", "030 123456"],  # phone numbers
        ["01234", "80331", "00501"],  # zip codes with a leading zero
        ["192.168.1.1", "10.0.0.254"],  # addresses
        ["1'2", "12'34"],  # apostrophes that group nothing
        ["1 23", "12 345 67"],  # spaces that group nothing
        ["1.234,50", "1,234.50"],  # two conventions in one column
        ["1 234,50", "1\u00a0234,50"],  # two spaces in one column
        ["1.234,50-", "99,90-"],  # a trailing minus
    ],
)
def test_what_only_looks_like_numbers_stays_text(tmp_path: Path, values: list[str]) -> None:
    detected = detect(tmp_path, "v;k\n" + "".join(f"{v};{i}\n" for i, v in enumerate(values)))
    assert detected.column_types == [T.STRING, T.INTEGER]


@pytest.mark.parametrize("values", [["(1,234.50)", "99.90"], ["(1.234,50)", "-99,90"]])
def test_accounting_negatives_in_parentheses_stay_text_and_say_so(tmp_path: Path, values: list[str]) -> None:
    detected = detect(tmp_path, "v;k\n" + "".join(f'"{v}";{i}\n' for i, v in enumerate(values)))
    assert detected.column_types == [T.STRING, T.INTEGER]
    assert notes(detected)[0] == (
        f"numbers, some in parentheses ({values[0]!r}): the import reads a negative number only with a "
        "minus sign ('-1234.50')"
    )


@pytest.mark.parametrize(
    ("stamps", "form"),
    [
        (["2024-01-05 10:30", "2024-12-31 23:59"], "%Y-%m-%d %H:%M"),  # ISO without seconds
        (["2024-01-05T10:30", "2024-12-31T23:59"], "%Y-%m-%dT%H:%M"),
        (["2024-01-05T10:30:00", "2024-01-05T10:30:00.123456"], "%Y-%m-%d %H:%M:%S"),  # the default
        (["2024-01-05T10:30:00Z", "2024-01-05T10:30:00.5Z"], "%Y-%m-%dT%H:%M:%S%.f%z"),  # UTC
        (["2024-01-05T10:30:00+02:00", "2024-01-05T10:30:00-0530"], "%Y-%m-%dT%H:%M:%S%.f%z"),
        (["2024-01-05 10:30:00+02", "2024-01-05 10:30:00.25+00"], "%Y-%m-%d %H:%M:%S%.f%z"),  # PostgreSQL
        (["05.01.2024 10:30", "31.12.2024 9:05"], "%d.%m.%Y %H:%M"),
        (["05/01/2024 10:30:15", "31/12/2024 00:00:00"], "%d/%m/%Y %H:%M:%S"),
    ],
)
def test_iso_and_european_timestamps_are_read_in_the_one_format_every_value_fits(
    tmp_path: Path, stamps: list[str], form: str
) -> None:
    detected = detect(tmp_path, "t,n\n" + "".join(f"{s},{i}\n" for i, s in enumerate(stamps)))
    assert detected.column_types == [T.TIMESTAMP, T.INTEGER] and found(detected)[3] == form
    assert detected.notes == [None, None]


@pytest.mark.parametrize(
    "values",
    [
        ["10:30", "23:59"],  # times of day
        ["2024-01-05T10:30:00+02:00", "2024-01-05T10:30:00"],  # a moment, and a time of day
        ["2024-01-05T10:30:00+25:00"],  # no such offset
        ["2024-01-05 24:30"],  # no such hour
        ["2024-01-05T10:30:00 CET", "2024-01-05T10:30:00 CEST"],  # zone names
        ["05.01.2024 10:30", "05.01.2024 10:30:00"],  # with and without seconds
    ],
)
def test_what_only_looks_like_timestamps_stays_text(tmp_path: Path, values: list[str]) -> None:
    detected = detect(tmp_path, "t,n\n" + "".join(f"{v},{i}\n" for i, v in enumerate(values)))
    assert detected.column_types == [T.STRING, T.INTEGER]


@pytest.mark.parametrize(
    ("values", "forms", "kind"),
    [
        (["05.01.24", "31.12.99"], "%d.%m.%y", "date"),
        (["05/01/24", "31/12/99"], "%d/%m/%y", "date"),
        (["05/01/24", "03/04/24"], "%d/%m/%y or %m/%d/%y", "date"),
        (["05.01.24 10:30", "31.12.99 09:00"], "%d.%m.%y %H:%M", "timestamp"),
    ],
)
def test_a_two_digit_year_is_never_guessed_and_the_note_says_how_it_would_read(
    tmp_path: Path, values: list[str], forms: str, kind: str
) -> None:
    detected = detect(tmp_path, "d,n\n" + "".join(f"{v},{i}\n" for i, v in enumerate(values)))
    assert detected.column_types == [T.STRING, T.INTEGER]
    note = detected.notes[0]
    assert note is not None and note.option == f"{kind}_format"
    assert note.text == (
        f"{kind}s with a two-digit year ({values[0]!r}), read only if told: {forms} reads 00-68 as "
        "2000-2068 and 69-99 as 1969-1999"
    )


def test_a_two_digit_year_is_read_when_its_format_is_given(tmp_path: Path) -> None:
    detected = detect(tmp_path, "d,n\n05.01.24,1\n31.12.99,2\n", CsvFormat(date_format="%d.%m.%y"))
    assert detected.column_types == [T.DATE, T.INTEGER] and detected.notes == [None, None]


def test_version_numbers_are_no_dates_with_a_two_digit_year(tmp_path: Path) -> None:
    detected = detect(tmp_path, "v,n\n1.2.10,1\n2.0.11,2\n")
    assert detected.column_types == [T.STRING, T.INTEGER] and detected.notes == [None, None]


@pytest.mark.parametrize("space", [" ", "\u00a0", "\u202f"])
def test_whole_numbers_grouped_by_a_space_need_no_decimal_separator_to_be_read(
    tmp_path: Path, space: str
) -> None:
    detected = detect(tmp_path, f"n;k\n1{space}234;1\n12{space}345{space}678;2\n7;3\n")
    assert detected.column_types == [T.INTEGER, T.INTEGER] and detected.notes == [None, None]
    assert found(detected)[1] == space
