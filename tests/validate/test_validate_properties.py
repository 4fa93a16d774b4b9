"""Properties that hold for any input: every record ends up either good or with exactly one error."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from impex.domain.definitions import ColumnSpec, CsvFormat
from impex.validate import build_plan, validate

integer_text = st.integers(min_value=-(2**70), max_value=2**70).map(str)
field = st.one_of(
    st.none(), integer_text, st.text(max_size=8), st.sampled_from(["", " ", "NULL", "1.0", "ä"])
)


@st.composite
def chunks(draw):
    n_rows = draw(st.integers(min_value=0, max_value=30))
    kinds = draw(st.lists(st.sampled_from(["integer", "string"]), min_size=1, max_size=4))
    columns = [
        ColumnSpec(
            name=f"c{i}",
            source=i + 1,
            type=kind,
            required=draw(st.booleans()),
            max_length=draw(st.none() | st.integers(min_value=1, max_value=6)) if kind == "string" else None,
        )
        for i, kind in enumerate(kinds)
    ]
    frame = pl.DataFrame(
        {f"f{i + 1}": draw(st.lists(field, min_size=n_rows, max_size=n_rows)) for i in range(len(kinds))},
        schema={f"f{i + 1}": pl.String for i in range(len(kinds))},
    )
    return columns, frame


@settings(max_examples=200, deadline=None)
@given(chunks())
def test_good_and_error_rows_partition_the_input(chunk):
    columns, frame = chunk
    result = validate(frame, build_plan(columns, None, len(columns)), CsvFormat())
    good_rows = result.good_rows.tolist()
    error_rows = result.errors.get_column("row").to_list()
    assert sorted(good_rows + error_rows) == list(range(frame.height))
    assert good_rows == sorted(set(good_rows))
    assert error_rows == sorted(set(error_rows))
    assert result.good.height == len(good_rows)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.none(), integer_text, st.text(max_size=5)), max_size=30))
def test_good_integers_are_the_fields_read_as_numbers(values):
    frame = pl.DataFrame({"f1": values}, schema={"f1": pl.String})
    result = validate(
        frame, build_plan([ColumnSpec(name="n", source=1, type="integer")], None, 1), CsvFormat()
    )
    for row, number in zip(result.good_rows.tolist(), result.good.get_column("n").to_list(), strict=True):
        text = (values[row] or "").strip()
        assert number == (int(text) if text else None)
