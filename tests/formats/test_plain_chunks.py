"""A chunk tells validation when trimming can change none of its fields (no field starts or ends with
whitespace of any kind, none is an empty quoted field); skipping trimming then gives exactly what
trimming gives. Checked on random files, whitespace of every kind included, and on examples."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from impex.domain.definitions import ColumnSpec, CsvFormat
from impex.formats.reader import DelimitedReader
from impex.validate import build_plan, validate

FMT = CsvFormat(delimiter=",", encoding="utf-8", header=False)
TEXT = st.text(alphabet=st.sampled_from(["a", "é", " ", "\t", "\xa0", "\u3000", "\u2003", ",", "\n", '"']))


def field_text(value: str, quoted: bool) -> str:
    if quoted or any(c in value for c in ',"\n'):
        return '"' + value.replace('"', '""') + '"'
    return value.replace("\n", " ")


def chunks_of(data: bytes):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "data.csv"
        path.write_bytes(data)
        with DelimitedReader(path, FMT) as reader:
            n_fields = reader.n_fields
            plan = build_plan(
                [ColumnSpec(name=f"c{i}", source=i + 1) for i in range(n_fields)], None, n_fields
            )
            yield from ((chunk, plan) for chunk in reader.chunks(4))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(TEXT, st.booleans(), TEXT, st.booleans()), min_size=1, max_size=12))
def test_skipping_trimming_on_a_plain_chunk_gives_what_trimming_gives(rows):
    lines = [f"{field_text(a, qa)},{field_text(b, qb)}\n" for a, qa, b, qb in rows]
    for chunk, plan in chunks_of("".join(lines).encode()):
        if not chunk.plain:
            continue
        skipped = validate(chunk.frame, plan, FMT, plain=True)
        trimmed = validate(chunk.frame, plan, FMT)
        assert skipped.good.equals(trimmed.good, null_equal=True)
        assert skipped.errors.equals(trimmed.errors, null_equal=True)


@pytest.mark.parametrize(
    ("line", "plain"),
    [
        ('1,ab,"said ""no"", then left"\n', True),
        ("1,,c\n", True),  # an empty unquoted field is null already
        ("1, b,c\n", False),
        ("1,b ,c\n", False),
        ('1,"b\t",c\n', False),
        ('1,"",c\n', False),  # trimming's null marker would make it null
        ("1,b,c\xa0\n", False),
        ("1,\u3000b,c\n", False),
        ('1,"a, b",c\n', True),  # the space follows a comma inside quotes: not a field's edge
        ("1,Zoé,c\n", True),
    ],
)
def test_a_chunk_is_plain_unless_a_field_has_whitespace_at_an_edge(line, plain):
    [(chunk, _plan)] = list(chunks_of(line.encode()))
    assert chunk.plain is plain
