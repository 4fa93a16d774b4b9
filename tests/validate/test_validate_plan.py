"""Resolving each target column's source against the header or field positions."""

from __future__ import annotations

import polars as pl
import pytest

from impex.domain.definitions import ColumnSpec, ColumnType
from impex.validate import PlanError, TargetColumn, build_plan, sanitise_names, target_schema

HEADER = ["ID", "Name", "e-mail"]


def fields(plan):
    return [(c.name, c.field) for c in plan.columns]


class TestSource:
    def test_by_exact_header_name(self):
        plan = build_plan([ColumnSpec(name="email", source="e-mail")], HEADER, 3)
        assert fields(plan) == [("email", 2)]

    def test_by_case_insensitive_header_name(self):
        plan = build_plan([ColumnSpec(name="n", source="NAME")], HEADER, 3)
        assert fields(plan) == [("n", 1)]

    def test_the_column_name_is_the_default_source(self):
        plan = build_plan([ColumnSpec(name="id"), ColumnSpec(name="name")], HEADER, 3)
        assert fields(plan) == [("id", 0), ("name", 1)]

    def test_by_header_name_regardless_of_spaces_around_it(self):
        plan = build_plan(
            [ColumnSpec(name="n", source="Name"), ColumnSpec(name="a", source="Age ")],
            ["ID ", " Name ", "Age"],
            3,
        )
        assert fields(plan) == [("n", 1), ("a", 2)]

    def test_an_exact_match_wins_over_a_case_insensitive_one(self):
        plan = build_plan([ColumnSpec(name="x", source="name")], ["NAME", "name"], 2)
        assert fields(plan) == [("x", 1)]

    def test_several_case_insensitive_matches_are_ambiguous(self):
        with pytest.raises(PlanError, match="column x: source 'name' matches several header fields"):
            build_plan([ColumnSpec(name="x", source="name")], ["NAME", "Name"], 2)

    @pytest.mark.parametrize("source", ["name", None])
    def test_a_name_the_header_has_twice_is_ambiguous_and_says_the_positions(self, source):
        with pytest.raises(
            PlanError, match=r"column name: source 'name' names several header fields \(positions 2, 3\)"
        ):
            build_plan([ColumnSpec(name="name", source=source)], ["id", "name", "name"], 3)

    def test_a_header_name_twice_is_read_by_position(self):
        plan = build_plan(
            [ColumnSpec(name="a", source=2), ColumnSpec(name="b", source=3)], ["id", "n", "n"], 3
        )
        assert fields(plan) == [("a", 1), ("b", 2)]

    def test_by_position_counting_from_one(self):
        plan = build_plan([ColumnSpec(name="a", source=3), ColumnSpec(name="b", source=1)], None, 3)
        assert fields(plan) == [("a", 2), ("b", 0)]

    def test_a_constant_has_no_source_field(self):
        plan = build_plan([ColumnSpec(name="k", constant="x")], HEADER, 3)
        assert fields(plan) == [("k", None)]

    def test_an_unknown_name_names_the_column_the_source_and_the_header(self):
        with pytest.raises(PlanError) as caught:
            build_plan([ColumnSpec(name="phone", source="Phone")], HEADER, 3)
        assert (
            str(caught.value)
            == "column phone: source 'Phone' is not in the header (available: 'ID', 'Name', 'e-mail')"
        )

    def test_a_position_out_of_range(self):
        with pytest.raises(
            PlanError, match="column x: source position 4 is out of range, the records have 3 fields"
        ):
            build_plan([ColumnSpec(name="x", source=4)], HEADER, 3)

    def test_a_position_out_of_range_that_the_header_has_as_a_name_says_to_quote_it(self):
        with pytest.raises(PlanError) as refused:
            build_plan([ColumnSpec(name="y2024", source=2024)], ["id", "2023", "2024"], 3)
        assert str(refused.value) == (
            "column y2024: source position 2024 is out of range, the records have 3 fields "
            "(available: 'id', '2023', '2024') (to read the header field '2024', quote it: source: '2024')"
        )

    def test_a_name_without_header(self):
        with pytest.raises(
            PlanError, match="column x: source 'x' names a header field, but the file has no header"
        ):
            build_plan([ColumnSpec(name="x")], None, 3)

    def test_header_and_field_count_must_agree(self):
        with pytest.raises(PlanError, match="the header has 3 names but the records have 4 fields"):
            build_plan([ColumnSpec(name="id")], HEADER, 4)


class TestNoColumnsDeclared:
    def test_every_header_field_becomes_a_string_column_named_after_it(self):
        plan = build_plan([], HEADER, 3)
        assert fields(plan) == [("id", 0), ("name", 1), ("e_mail", 2)]
        assert {c.dtype for c in plan.columns} == {pl.String()}

    def test_without_header_columns_are_c1_to_cn(self):
        assert fields(build_plan([], None, 2)) == [("c1", 0), ("c2", 1)]

    def test_header_names_are_made_valid_distinct_identifiers(self):
        names = sanitise_names(["Prénom", "First Name", "1st", "", "name", "NAME", "$$", "a" * 70])
        assert names == ["prenom", "first_name", "_1st", "c4", "name", "name_2", "c7", "a" * 63]


class TestTargetSchema:
    def test_names_types_lengths_precision_and_required(self):
        columns = [
            ColumnSpec(name="id", source=1, type="integer", required=True),
            ColumnSpec(name="name", source=2, max_length=50),
            ColumnSpec(name="amount", source=3, type="decimal", precision=10, scale=2),
            ColumnSpec(name="total", source=3, type="decimal"),
        ]
        assert target_schema(build_plan(columns, None, 3)) == [
            TargetColumn("id", ColumnType.INTEGER, None, None, None, True),
            TargetColumn("name", ColumnType.STRING, 50, None, None, False),
            TargetColumn("amount", ColumnType.DECIMAL, None, 10, 2, False),
            TargetColumn("total", ColumnType.DECIMAL, None, 38, 9, False),
        ]
