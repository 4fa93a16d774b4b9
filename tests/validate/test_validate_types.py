"""Casting per column type: what is accepted, what is refused and what the error says."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import polars as pl
import pytest

from impex.domain.definitions import ColumnSpec, CsvFormat
from impex.validate import PlanError, build_plan, validate


def good(result):
    return result.good.get_column("c").to_list()


def only_error(result):
    [error] = result.errors.to_dicts()
    return error


class TestString:
    def test_text_is_kept_as_is_after_trimming(self, run_one):
        assert good(run_one(["  Ada Lovelace ", "x"])) == ["Ada Lovelace", "x"]

    def test_longer_than_max_length_is_too_long(self, run_one):
        result = run_one(["abcd", "abc"], max_length=3)
        assert good(result) == ["abc"]
        error = only_error(result)
        assert error == {
            "row": 0,
            "column": "c",
            "reason": "too_long",
            "value": "abcd",
            "message": "column c: 'abcd' is 4 characters, at most 3 allowed",
            "code": "too_long",
            "params": '{"column": "c", "value": "abcd", "length": 4, "limit": 3}',
        }

    def test_max_length_counts_characters_not_bytes(self, run_one):
        assert good(run_one(["ééé"], max_length=3)) == ["ééé"]

    def test_a_long_value_is_cut_in_the_message(self, run_one):
        message = only_error(run_one(["x" * 300], max_length=255))["message"]
        assert message == f"column c: '{'x' * 40}…' is 300 characters, at most 255 allowed"


class TestInteger:
    def test_whole_numbers_with_sign_and_leading_zeros(self, run_one):
        assert good(run_one(["12", "-3", "+4", "0005"], type="integer")) == [12, -3, 4, 5]

    @pytest.mark.parametrize(
        ("value", "shown"), [("\ufeff2", "\\ufeff2"), ("\u200b7", "\\u200b7"), ("١٢", "١٢")]
    )
    def test_a_value_that_looks_like_a_number_but_is_not_shows_why(self, run_one, value, shown):
        error = only_error(run_one([value], type="integer"))
        assert error["message"] == f"column c: '{shown}' is not an integer"

    def test_cast_to_int64(self, run_one):
        assert run_one(["1"], type="integer").good.schema["c"] == pl.Int64

    @pytest.mark.parametrize("value", ["12.0", "abc", "1e3", "1 000", "0x10"])
    def test_anything_else_is_a_type_error(self, run_one, value):
        error = only_error(run_one([value], type="integer"))
        assert error["reason"] == "type_error"
        assert error["message"] == f"column c: '{value}' is not an integer"

    def test_overflow_is_a_type_error_that_says_so(self, run_one):
        error = only_error(run_one(["9223372036854775808", "9223372036854775807"], type="integer"))
        assert error["row"] == 0
        assert error["message"] == "column c: '9223372036854775808' is out of the 64-bit integer range"

    def test_thousands_separator_is_removed(self, run_one):
        fmt = CsvFormat(thousands_separator=",")
        assert good(run_one(["1,234,567", "12"], fmt, type="integer")) == [1234567, 12]


class TestFloat:
    def test_point_decimals_and_exponents(self, run_one):
        assert good(run_one(["1.5", "-2", ".5", "1e3"], type="float")) == [1.5, -2.0, 0.5, 1000.0]

    def test_decimal_comma(self, run_one):
        assert good(run_one(["1,5", "-0,25"], CsvFormat(decimal_separator=","), type="float")) == [1.5, -0.25]

    def test_decimal_comma_with_thousands_point(self, run_one):
        fmt = CsvFormat(decimal_separator=",", thousands_separator=".")
        assert good(run_one(["1.234,5"], fmt, type="float")) == [1234.5]

    def test_a_point_is_refused_when_the_decimal_separator_is_a_comma(self, run_one):
        error = only_error(run_one(["1.5"], CsvFormat(decimal_separator=","), type="float"))
        assert error["reason"] == "type_error"
        assert error["message"] == "column c: '1.5' is not a number (decimal separator ',')"

    def test_text_is_a_type_error(self, run_one):
        assert only_error(run_one(["abc"], type="float"))["message"] == (
            "column c: 'abc' is not a number (decimal separator '.')"
        )


class TestDecimal:
    def test_values_within_precision_and_scale(self, run_one):
        result = run_one(["123.45", "1.5", "-0.01", "7", "1.500"], type="decimal", precision=5, scale=2)
        assert result.good.schema["c"] == pl.Decimal(5, 2)
        assert good(result) == [
            Decimal("123.45"),
            Decimal("1.50"),
            Decimal("-0.01"),
            Decimal("7"),
            Decimal("1.5"),
        ]

    @pytest.mark.parametrize("value", ["1.555", "1234.5", "123456", "abc", "1e2", "1.2.3"])
    def test_more_digits_than_allowed_is_a_type_error_not_rounding(self, run_one, value):
        error = only_error(run_one([value], type="decimal", precision=5, scale=2))
        assert error["reason"] == "type_error"
        assert error["message"] == (
            f"column c: '{value}' is not a decimal number with at most 5 digits, "
            "2 of them after the decimal separator '.'"
        )

    def test_decimal_comma_and_thousands(self, run_one):
        fmt = CsvFormat(decimal_separator=",", thousands_separator=" ")
        result = run_one(["1 234,56"], fmt, type="decimal", precision=10, scale=2)
        assert good(result) == [Decimal("1234.56")]

    def test_precision_alone_means_scale_zero(self, run_one):
        result = run_one(["12", "1.5"], type="decimal", precision=4)
        assert result.good.schema["c"] == pl.Decimal(4, 0)
        assert only_error(result)["row"] == 1

    def test_no_precision_means_38_digits_9_after_the_point(self, run_one):
        assert run_one(["1"], type="decimal").good.schema["c"] == pl.Decimal(38, 9)

    def test_scale_larger_than_precision_is_a_plan_error(self, run_one):
        with pytest.raises(PlanError, match="column c: scale 5 is larger than precision 3"):
            run_one(["1"], type="decimal", precision=3, scale=5)


class TestBoolean:
    def test_format_words_in_any_case(self, run_one):
        values = ["true", "TRUE", "Yes", "y", "1", "false", "No", "F", "0"]
        assert good(run_one(values, type="boolean")) == [True] * 5 + [False] * 4

    def test_custom_words(self, run_one):
        fmt = CsvFormat(true_values=("ja",), false_values=("nein",))
        result = run_one(["Ja", "nein", "true"], fmt, type="boolean")
        assert good(result) == [True, False]
        assert only_error(result)["message"] == "column c: 'true' is not a boolean (expected ja or nein)"

    def test_other_words_are_a_type_error(self, run_one):
        error = only_error(run_one(["maybe"], type="boolean"))
        assert error["reason"] == "type_error"
        assert error["message"].startswith("column c: 'maybe' is not a boolean (expected true/t/yes/y/1 or")


class TestDate:
    def test_default_iso_format(self, run_one):
        assert good(run_one(["2023-02-28"], type="date")) == [date(2023, 2, 28)]

    @pytest.mark.parametrize("value", ["2023-02-30", "28/02/2023", "2023-02-28 10:00", "yesterday"])
    def test_impossible_or_other_formats_are_refused(self, run_one, value):
        error = only_error(run_one([value], type="date"))
        assert error["reason"] == "type_error"
        assert error["message"] == f"column c: '{value}' is not a date in format %Y-%m-%d"

    def test_custom_format(self, run_one):
        result = run_one(["28/02/2023", "2023-02-28"], CsvFormat(date_format="%d/%m/%Y"), type="date")
        assert good(result) == [date(2023, 2, 28)]
        assert only_error(result)["message"] == "column c: '2023-02-28' is not a date in format %d/%m/%Y"

    @pytest.mark.parametrize(
        ("value", "fmt"),
        [("0000-01-01", "%Y-%m-%d"), ("-0001-12-31", "%Y-%m-%d"), ("01.01.0000", "%d.%m.%Y")],
    )
    def test_a_year_before_1_is_refused_saying_so_not_stored_as_a_date_bc(self, run_one, value, fmt):
        result = run_one(
            ["0001-01-01" if fmt == "%Y-%m-%d" else "01.01.0001", value],
            CsvFormat(date_format=fmt),
            type="date",
        )
        assert good(result) == [date(1, 1, 1)]
        assert only_error(result)["message"] == (
            f"column c: '{value}' is before year 1 (there is no year 0): dates start at 0001-01-01"
        )


class TestTimestamp:
    def test_default_format_and_iso_8601(self, run_one):
        values = ["2023-02-28 10:11:12", "2023-02-28T10:11:12", "2023-02-28T10:11:12.5"]
        result = run_one(values, type="timestamp")
        assert result.good.schema["c"] == pl.Datetime("us")
        assert good(result) == [
            datetime(2023, 2, 28, 10, 11, 12),
            datetime(2023, 2, 28, 10, 11, 12),
            datetime(2023, 2, 28, 10, 11, 12, 500_000),
        ]

    def test_impossible_time_is_a_type_error(self, run_one):
        error = only_error(run_one(["2023-02-28 25:00:00"], type="timestamp"))
        assert error["message"] == (
            "column c: '2023-02-28 25:00:00' is not a timestamp in format %Y-%m-%d %H:%M:%S"
            " or ISO 8601 without a time zone"
        )

    @pytest.mark.parametrize(
        "value", ["0000-01-01 00:00:00", "0000-12-31T23:59:59.5", "-0001-01-01 00:00:00"]
    )
    def test_a_year_before_1_is_refused_saying_so(self, run_one, value):
        error = only_error(run_one([value], type="timestamp"))
        assert error["reason"] == "type_error"
        assert error["message"] == (
            f"column c: '{value}' is before year 1 (there is no year 0): dates start at 0001-01-01"
        )

    def test_a_year_before_1_with_a_utc_offset_is_refused_too(self, run_one):
        fmt = CsvFormat(timestamp_format="%Y-%m-%d %H:%M:%S%z")
        result = run_one(["0001-01-01 12:00:00+00:00", "0000-06-01 12:00:00+02:00"], fmt, type="timestamp")
        assert good(result) == [datetime(1, 1, 1, 12)]
        assert "before year 1" in only_error(result)["message"]

    def test_custom_format_takes_no_iso_form(self, run_one):
        fmt = CsvFormat(timestamp_format="%d.%m.%Y %H:%M")
        result = run_one(["28.02.2023 10:11", "2023-02-28T10:11:00"], fmt, type="timestamp")
        assert good(result) == [datetime(2023, 2, 28, 10, 11)]
        assert only_error(result)["message"] == (
            "column c: '2023-02-28T10:11:00' is not a timestamp in format %d.%m.%Y %H:%M"
        )


def test_timestamps_take_the_fast_exact_parse_and_the_iso_forms_alike():
    plan = build_plan([ColumnSpec(name="ts", type="timestamp")], ["ts"], 1)
    plain = pl.DataFrame({"f1": ["2021-07-16 15:34:13", "2021-07-16 25:00:00"]})
    iso = pl.DataFrame({"f1": ["2021-07-16T15:34:13.25", "2021-07-16 15:34:13"]})
    assert validate(plain, plan, CsvFormat()).good_rows.tolist() == [0]
    assert validate(iso, plan, CsvFormat()).good_rows.tolist() == [0, 1]
