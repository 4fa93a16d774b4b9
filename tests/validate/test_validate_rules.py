"""The rules applied before the cast: trim, null markers, transforms, remap, default, constant, required;
and the shape of the result: one error per bad record, good rows and their indices."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import polars as pl
import pytest

from impex.domain.definitions import ColumnSpec, CsvFormat
from impex.validate import ERROR_SCHEMA, PlanError, build_plan, validate


def good(result):
    return result.good.get_column("c").to_list()


def only_error(result):
    [error] = result.errors.to_dicts()
    return error


class TestTrim:
    def test_format_trim_strips_whitespace_before_the_cast(self, run_one):
        assert good(run_one([" 5 ", "\t6"], type="integer")) == [5, 6]

    def test_without_trim_spaces_are_kept_and_fail_numbers(self, run_one):
        fmt = CsvFormat(trim=False)
        assert good(run_one([" a "], fmt)) == [" a "]
        assert (
            only_error(run_one([" 5"], fmt, type="integer"))["message"] == "column c: ' 5' is not an integer"
        )

    def test_trim_transform_strips_even_when_the_format_does_not(self, run_one):
        assert good(run_one([" a "], CsvFormat(trim=False), transforms=["trim"])) == ["a"]


class TestNullMarkers:
    def test_empty_and_missing_fields_are_null(self, run_one):
        assert good(run_one(["", None, "x"])) == [None, None, "x"]

    def test_declared_markers_are_null_after_trimming(self, run_one):
        fmt = CsvFormat(null_values=("", "NULL", "n/a"))
        assert good(run_one(["NULL", " n/a ", "null", "7"], fmt)) == [None, None, "null", "7"]

    def test_null_is_not_a_type_error(self, run_one):
        result = run_one(["", None], type="integer")
        assert good(result) == [None, None]
        assert result.errors.height == 0

    def test_without_markers_an_empty_field_is_an_empty_string(self, run_one):
        assert good(run_one(["", None], CsvFormat(null_values=()))) == ["", None]


class TestTransforms:
    def test_lower_upper_capitalize(self, run_one):
        assert good(run_one(["MiXed"], transforms=["lower"])) == ["mixed"]
        assert good(run_one(["MiXed"], transforms=["upper"])) == ["MIXED"]
        assert good(run_one(["hELLO wORLD", "é"], transforms=["capitalize"])) == ["Hello world", "É"]

    def test_applied_in_order(self, run_one):
        assert good(run_one(["MiXed"], transforms=["upper", "lower"])) == ["mixed"]

    def test_transforms_run_after_null_markers(self, run_one):
        assert good(run_one(["NULL"], CsvFormat(null_values=("NULL",)), transforms=["lower"])) == [None]


class TestRemap:
    def test_exact_values_are_replaced_after_transforms(self, run_one):
        result = run_one([" M ", "f", "x"], transforms=["lower"], remap={"m": "male", "f": "female"})
        assert good(result) == ["male", "female", "x"]

    def test_a_value_remapped_to_a_null_marker_is_missing(self, run_one):
        assert good(run_one(["n/a", "4"], type="integer", remap={"n/a": ""})) == [None, 4]

    def test_remapped_text_is_then_cast(self, run_one):
        assert good(run_one(["yes", "no"], type="integer", remap={"yes": "1", "no": "0"})) == [1, 0]

    def test_a_value_remapped_to_an_iso_timestamp_is_one_whatever_its_chunk_holds(self, run_one):
        epoch = {"epoch": "1970-01-01T00:00:00"}
        expected = [datetime(2024, 1, 1, 10), datetime(1970, 1, 1)]
        assert good(run_one(["2024-01-01 10:00:00", "epoch"], type="timestamp", remap=epoch)) == expected


class TestDefault:
    def test_null_becomes_the_default_cast_like_input(self, run_one):
        assert good(run_one(["", "4"], type="integer", default="0")) == [0, 4]

    def test_a_non_text_default_is_taken_as_a_value(self, run_one):
        assert good(run_one([""], type="date", default=date(2000, 1, 1))) == [date(2000, 1, 1)]
        assert good(run_one([""], type="boolean", default=True)) == [True]

    def test_default_is_read_with_the_format(self, run_one):
        assert good(run_one([""], CsvFormat(decimal_separator=","), type="float", default="1,5")) == [1.5]

    def test_a_bad_value_is_not_replaced_by_the_default(self, run_one):
        assert only_error(run_one(["abc"], type="integer", default="0"))["reason"] == "type_error"

    def test_default_satisfies_required(self, run_one):
        result = run_one([None], required=True, default="unknown")
        assert good(result) == ["unknown"]

    def test_a_default_that_does_not_fit_is_a_plan_error(self, run_one):
        with pytest.raises(PlanError, match="column c: the default 'zero' does not fit type integer"):
            run_one(["1"], type="integer", default="zero")
        with pytest.raises(PlanError, match="column c: the default 'long' does not fit"):
            run_one(["1"], max_length=2, default="long")


class TestConstant:
    def test_every_row_gets_the_constant_cast_to_the_type(self):
        columns = [ColumnSpec(name="v", source=1), ColumnSpec(name="k", type="integer", constant="42")]
        frame = pl.DataFrame({"f1": ["a", "b"]})
        result = validate(frame, build_plan(columns, None, 1), CsvFormat())
        assert result.good.to_dicts() == [{"v": "a", "k": 42}, {"v": "b", "k": 42}]
        assert result.good.schema["k"] == pl.Int64

    def test_constants_only_still_give_one_row_per_record(self):
        columns = [ColumnSpec(name="d", type="date", constant=date(2024, 1, 31))]
        result = validate(pl.DataFrame({"f1": ["a", "b", "c"]}), build_plan(columns, None, 1), CsvFormat())
        assert result.good.get_column("d").to_list() == [date(2024, 1, 31)] * 3
        assert result.good_rows.tolist() == [0, 1, 2]

    def test_a_constant_that_does_not_fit_is_a_plan_error(self):
        plan = build_plan([ColumnSpec(name="k", type="integer", constant="x")], None, 1)
        with pytest.raises(PlanError, match="column k: the constant 'x' does not fit type integer"):
            validate(pl.DataFrame({"f1": ["a"]}), plan, CsvFormat())

    def test_a_constant_and_a_source_together_are_a_plan_error(self):
        with pytest.raises(PlanError, match="column k: give either a source or a constant"):
            build_plan([ColumnSpec(name="k", source=1, constant="x")], None, 1)


class TestRequired:
    def test_an_empty_field_is_missing_required(self, run_one):
        result = run_one(["a", "", None], required=True)
        assert good(result) == ["a"]
        assert result.errors.to_dicts() == [
            {
                "row": 1,
                "column": "c",
                "reason": "missing_required",
                "value": "",
                "message": "column c: a value is required (the field was empty)",
                "code": "missing_required.empty",
                "params": '{"column": "c"}',
            },
            {
                "row": 2,
                "column": "c",
                "reason": "missing_required",
                "value": None,
                "message": "column c: a value is required (the field was empty)",
                "code": "missing_required.empty",
                "params": '{"column": "c"}',
            },
        ]

    def test_the_message_names_a_null_marker(self, run_one):
        error = only_error(run_one(["NULL"], CsvFormat(null_values=("NULL",)), required=True))
        assert error["message"] == "column c: a value is required (the field was 'NULL')"


def _people(fields: dict[str, list[str | None]]):
    header = ["id", "name", "born"]
    columns = [
        ColumnSpec(name="id", type="integer", required=True),
        ColumnSpec(name="name", max_length=5),
        ColumnSpec(name="born", type="date"),
    ]
    frame = pl.DataFrame(fields, schema={f: pl.String for f in fields})
    return validate(frame, build_plan(columns, header, 3), CsvFormat())


class TestResult:
    def test_one_error_per_record_for_its_first_bad_column_in_plan_order(self):
        result = _people(
            {"f1": ["x", "2", "3"], "f2": ["toolong", "toolong", "ok"], "f3": ["bad", "bad", "bad"]}
        )
        assert [(e["row"], e["column"], e["reason"]) for e in result.errors.to_dicts()] == [
            (0, "id", "type_error"),
            (1, "name", "too_long"),
            (2, "born", "type_error"),
        ]
        assert result.good.height == 0

    def test_good_rows_index_the_input_and_match_good(self):
        result = _people(
            {
                "f1": ["1", "x", "3", "", "5"],
                "f2": ["a", "b", "c", "d", "e"],
                "f3": [None, "", "2020-01-01", "", ""],
            }
        )
        assert result.good_rows.dtype == np.int64
        assert result.good_rows.tolist() == [0, 2, 4]
        assert result.good.get_column("id").to_list() == [1, 3, 5]
        assert result.errors.get_column("row").to_list() == [1, 3]

    def test_good_has_the_plan_columns_in_plan_order_with_their_types(self):
        result = _people({"f1": ["1"], "f2": ["a"], "f3": ["2020-01-01"]})
        assert result.good.schema == pl.Schema({"id": pl.Int64, "name": pl.String, "born": pl.Date})

    def test_error_value_is_the_field_as_read(self):
        result = _people({"f1": ["  x "], "f2": ["a"], "f3": [""]})
        error = only_error(result)
        assert error["value"] == "  x "
        assert error["message"] == "column id: 'x' is not an integer"

    def test_two_columns_reading_one_field_each_report_their_own_error(self):
        columns = [
            ColumnSpec(name="code", source=1, max_length=2),
            ColumnSpec(name="number", source=1, type="integer"),
        ]
        plan = build_plan(columns, None, 1)
        result = validate(pl.DataFrame({"f1": ["abc", "7x", "12"]}), plan, CsvFormat())
        assert [(e["row"], e["column"], e["value"], e["message"]) for e in result.errors.to_dicts()] == [
            (0, "code", "abc", "column code: 'abc' is 3 characters, at most 2 allowed"),
            (1, "number", "7x", "column number: '7x' is not an integer"),
        ]

    def test_long_values_are_cut_in_messages_and_kept_whole_as_the_value(self):
        plan = build_plan([ColumnSpec(name="n", source=1, type="integer")], None, 1)
        value = "9" * 30 + "x" * 20
        [error] = validate(pl.DataFrame({"f1": [value]}), plan, CsvFormat()).errors.to_dicts()
        assert error["value"] == value
        assert error["message"] == f"column n: '{value[:40]}…' is not an integer"

    def test_an_empty_frame_gives_empty_typed_results(self):
        result = _people({"f1": [], "f2": [], "f3": []})
        assert result.good.schema == pl.Schema({"id": pl.Int64, "name": pl.String, "born": pl.Date})
        assert result.good.height == 0
        assert result.good_rows.tolist() == []
        assert result.errors.schema == pl.Schema(ERROR_SCHEMA)

    def test_no_errors_gives_an_empty_error_frame_with_its_schema(self):
        result = _people({"f1": ["1"], "f2": ["a"], "f3": [""]})
        assert result.errors.height == 0
        assert result.errors.schema == pl.Schema(ERROR_SCHEMA)

    def test_a_missing_field_column_is_a_plan_error(self):
        with pytest.raises(PlanError, match="the records have no field f3"):
            _people({"f1": ["1"], "f2": ["a"]})


def test_a_field_column_of_nulls_only_is_read_as_text():
    plan = build_plan([ColumnSpec(name="n", source=1, type="integer")], None, 1)
    result = validate(pl.DataFrame({"f1": [None, None]}), plan, CsvFormat())
    assert result.good.get_column("n").to_list() == [None, None]
