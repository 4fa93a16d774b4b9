"""A definition whose options contradict each other, or whose own values do not fit their column, is
refused when the job is defined, each problem named by its key path and what is expected."""

import pytest

from impex.definitions_io import DefinitionError, parse_definition

BASE = {"kind": "import", "name": "p", "source": "data.csv", "target": {"table": "t"}}


def refusal(**fields) -> list[str]:
    with pytest.raises(DefinitionError) as refused:
        parse_definition({**BASE, **fields})
    return str(refused.value).splitlines()


def column(**spec) -> dict:
    return {"columns": [{"name": "id", "type": "integer"}, {"name": "c", **spec}]}


@pytest.mark.parametrize(
    ("fields", "said"),
    [
        (
            column(type="integer", max_length=5),
            "columns[1].max_length: only a string column has a maximum length; this one is integer",
        ),
        (
            column(precision=5),
            "columns[1].precision: only a decimal column has a precision; this one is string",
        ),
        (column(type="decimal", precision=3, scale=5), "columns[1].scale: 5 is larger than the precision, 3"),
        (
            column(source="c", constant="x"),
            "columns[1].constant: a column takes a constant or a source, not both",
        ),
        (
            column(type="integer", default="none"),
            "columns[1].default: the default 'none' does not fit type integer: 'none' is not an integer",
        ),
        (
            column(type="date", constant="2024-13-01"),
            "columns[1].constant: the constant '2024-13-01' does not fit type date: "
            "'2024-13-01' is not a date in format %Y-%m-%d",
        ),
        (
            column(type="integer", remap={"x": "ten", "N/A": ""}),
            "columns[1].remap.x: the remapped value 'ten' does not fit type integer: 'ten' is not an integer",
        ),
        (
            column(max_length=3, remap={"N/A": "unknown"}),
            "columns[1].remap['N/A']: the remapped value 'unknown' does not fit type string: "
            "it is 7 characters, at most 3 allowed",
        ),
        (
            column(max_length=6, transforms=["upper"], constant="Straße"),
            "columns[1].constant: the constant 'Straße' does not fit type string: "
            "it is 7 characters, at most 6 allowed",
        ),
        (
            column(transforms=["upper"], remap={"no": "Norway"}),
            "columns[1].remap.no: never matches: the remap compares the field trimmed and transformed, "
            "which make 'no' 'NO' (the remap is case-sensitive)",
        ),
        (
            {
                "format": {"null_values": ["", "-"]},
                "columns": [{"name": "c", "required": True, "constant": "-"}],
            },
            "columns[0].constant: '-' reads as null, and a value is required",
        ),
        (
            column(type="integer", remap={"": "0"}),
            "columns[1].remap['']: never matches: a field equal to '' is null (format.null_values) "
            "before the remap; a default gives nulls a value",
        ),
        (
            {"format": {"null_values": ["", "NULL"], "quoted_nulls": True}, **column(remap={"NULL": "none"})},
            "columns[1].remap.NULL: never matches: a field equal to 'NULL' is null (format.null_values) "
            "before the remap; a default gives nulls a value",
        ),
        (
            {"format": {"delimiter": ",", "escape": ","}},
            "format.escape: the escape character ',' is the delimiter",
        ),
        (
            {"format": {"delimiter": ";", "quote": ";"}},
            "format.quote: ';' is the delimiter too: they must differ",
        ),
        (
            {"format": {"true_values": ["J", "1"], "false_values": ["N", "j"]}},
            "format.false_values: 'j' also among true_values (compared regardless of case)",
        ),
        ({"format": {"encoding": "utf-9"}}, "format.encoding: unknown encoding 'utf-9'"),
        (
            {"columns": [{"name": "id"}], "reconciliation": {"keys": ["id", "id"]}},
            "reconciliation.keys: id named more than once",
        ),
        (
            {"reconciliation": {"operation": "update"}},
            "reconciliation.keys: operation update needs at least one key column",
        ),
    ],
)
def test_a_contradiction_is_refused_naming_its_key_path_and_what_is_expected(fields, said):
    assert refusal(**fields) == [f"definition: {said}"]


@pytest.mark.parametrize(
    ("fields", "said"),
    [
        ({"reconcilation": {}}, "reconcilation: unknown key: did you mean 'reconciliation'?"),
        ({"format": {"delimeter": ";"}}, "format.delimeter: unknown key: did you mean 'delimiter'?"),
        (column(typ="date"), "columns[1].typ: unknown key: did you mean 'type'?"),
        (column(colour="red"), "columns[1].colour: unknown key (check its spelling)"),
    ],
)
def test_a_misspelt_key_is_refused_with_the_key_it_is_closest_to(fields, said):
    assert refusal(**fields) == [f"definition: {said}"]


def test_a_misspelt_key_of_an_export_source_suggests_the_key_of_that_kind_of_source():
    export = {"kind": "export", "name": "e", "output": "out.csv"}
    for source, said in [
        ({"table": "t", "colums": ["a"]}, "source.colums: unknown key: did you mean 'columns'?"),
        ({"table": "t", "filtre": "a > 1"}, "source.filtre: unknown key: did you mean 'filter'?"),
        ({"query": "SELECT 1", "colums": ["a"]}, "source.colums: unknown key (check its spelling)"),
        (
            {"query": "SELECT 1", "conection": "w"},
            "source.conection: unknown key: did you mean 'connection'?",
        ),
    ]:
        with pytest.raises(DefinitionError) as refused:
            parse_definition({**export, "source": source})
        assert str(refused.value) == f"definition: {said}"


def test_a_key_missing_from_an_export_source_is_said_to_be_missing_like_any_other():
    export = {"kind": "export", "name": "e", "output": "out.csv"}
    with pytest.raises(DefinitionError) as refused:
        parse_definition({**export, "source": {}})
    assert str(refused.value) == "definition: source.table: required key is missing"


def test_values_that_fit_are_accepted_as_they_are_read_from_the_file():
    parse_definition(
        {
            **BASE,
            "format": {"decimal_separator": ",", "date_format": "%d.%m.%Y", "null_values": ["", "n/a"]},
            "columns": [
                {"name": "price", "type": "decimal", "precision": 6, "scale": 2, "default": "1,50"},
                {"name": "day", "type": "date", "remap": {"never": "31.12.9999", "?": "n/a"}},
                {"name": "code", "max_length": 7, "transforms": ["upper"], "remap": {"STRASSE": "ST"}},
                {"name": "note", "remap": {"": "(empty)"}},  # a quoted empty text
            ],
        }
    )


@pytest.mark.parametrize(
    ("fmt", "said"),
    [
        (
            {"date_format": "DD.MM.YYYY"},
            "format.date_format: 'DD.MM.YYYY' has no directive, so it would read no value: a format is "
            "written with strftime directives (%d.%m.%Y reads 31.12.2024); write '%d.%m.%Y' for "
            "'DD.MM.YYYY'",
        ),
        (
            {"timestamp_format": "dd/MM/yyyy HH:mm:ss"},
            "format.timestamp_format: 'dd/MM/yyyy HH:mm:ss' has no directive, so it would read no value: "
            "a format is written with strftime directives (%d.%m.%Y reads 31.12.2024); write "
            "'%d/%m/%Y %H:%M:%S' for 'dd/MM/yyyy HH:mm:ss'",
        ),
        (
            {"date_format": "%d.%m.%Q"},
            "format.date_format: '%d.%m.%Q': %Q is no strftime directive (%Y year, %m month, %d day, "
            "%H hour, %M minute, %S second, %z UTC offset…)",
        ),
    ],
)
def test_a_date_format_that_could_read_no_date_is_refused_with_what_to_write(fmt, said):
    assert refusal(format=fmt) == [f"definition: {said}"]


@pytest.mark.parametrize(
    "fmt", ["%d.%m.%Y", "%-d.%-m.%y", "%Y-%m-%dT%H:%M:%S%.3f%:z", "%d %b %Y", "%s", "%Y%m%d"]
)
def test_every_chrono_date_format_is_taken_for_import_and_export(fmt):
    assert parse_definition({**BASE, "format": {"date_format": fmt}}).format.date_format == fmt
    export = {"kind": "export", "name": "e", "output": "out.csv", "source": {"table": "t"}}
    assert parse_definition({**export, "format": {"date_format": fmt}}).format.date_format == fmt


@pytest.mark.parametrize("table", ["contacts", "crm.contacts", "_s1._t2"])
def test_a_table_may_be_named_alone_or_after_its_schema_and_a_dot(table):
    assert parse_definition({**BASE, "target": {"table": table}}).target.table == table
    export = {"kind": "export", "name": "e", "source": {"table": table}, "output": "out.csv"}
    assert parse_definition(export).source.table == table


@pytest.mark.parametrize("table", ["a.b.c", ".contacts", "crm.", "crm .contacts", "crm.1st"])
def test_a_table_name_with_more_than_a_schema_before_it_is_refused_saying_what_is_expected(table):
    said = refusal(target={"table": table})
    assert said == [
        f"definition: target.table: {table!r} is not a valid table name (letters, digits and _, starting "
        "with a letter or _, at most 63 characters; in PostgreSQL, after its schema and a dot if need be: "
        "crm.contacts)"
    ]
