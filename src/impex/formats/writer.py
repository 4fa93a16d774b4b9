"""Writing delimited files: DataFrame batches through Polars, rejected raw records in the source format."""

from __future__ import annotations

import codecs
import io
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Literal, Protocol, cast

import polars as pl

from impex.domain.definitions import OutputFormat
from impex.formats.errors import FormatError
from impex.formats.lookalikes import values_like_null
from impex.formats.sniff import canonical

QUOTE_STYLES: dict[str, Literal["necessary", "always", "never"]] = {
    "minimal": "necessary",
    "all": "always",
    "none": "never",
}
LINE_ENDINGS = {"lf": "\n", "crlf": "\r\n"}
INFINITIES = {"inf": "Infinity", "-inf": "-Infinity"}
BYTE_ORDER_MARKED = {"utf-8-sig", "utf-16", "utf-32"}  # Python's names: the others say no mark


class BinaryWriter(Protocol):
    def write(self, data: bytes, /) -> int: ...


class CsvWriter:
    """Writes DataFrame batches as one delimited file to an open binary file (plain or gzip.open(..., "wb")).

    The header goes before the first batch when ``fmt.header``; dates, timestamps, decimal
    separator, quoting, line ending and null value follow ``fmt``; text is transcoded when
    ``fmt.encoding`` is not UTF-8 (a character it cannot encode raises FormatError).
    """

    def __init__(self, binary_file: BinaryWriter, fmt: OutputFormat, *, rows_before: int = 0) -> None:
        # (fmt's options agree with one another: OutputFormat refuses those that do not)
        self._file = binary_file
        self._fmt = fmt
        self._encoding = canonical(fmt.encoding)
        # One encoder for the whole file: an encoding with a byte order mark writes it once, at the
        # start (a resumed file has it already), not before every batch.
        self._encoder = codecs.getincrementalencoder(self._encoding)()
        if rows_before and self._encoding in BYTE_ORDER_MARKED:
            self._encoder.setstate(0)
        self._header_pending = fmt.header
        # rows of the file written before (a resumed export): a refused row's number counts them
        self.rows_before = rows_before
        self.rows_written = 0
        # With quoting 'none' and the empty null value, the row of the first empty text (written as a
        # null is): it reads back as a null.
        self.first_empty_text: int | None = None
        self.bytes_written = 0

    def write(self, df: pl.DataFrame) -> None:
        """Append ``df``'s rows (its column names make the header)."""
        df = self._decimal_comma_floats(self._infinities_spelled_out(df))
        df = values_like_null(df, self._fmt)
        if self._fmt.quoting == "none":
            self._refuse_unquotable(df)
        ambiguous = _taken_for_null(df, self._fmt)
        if self._encoding == "utf-8" and not ambiguous:  # Polars writes straight into the file: no copy
            counted = _Counting(self._file)
            self._write_csv(df, counted, self._fmt.null_value)
            written = counted.bytes
        else:
            data = self._render(df, ambiguous) if ambiguous else self._csv_bytes(df, self._fmt.null_value)
            if self._encoding != "utf-8":
                try:
                    data = transcode(data, self._encoding, self._encoder)
                except FormatError:
                    self._refuse_unencodable(df)
                    raise
            self._file.write(data)
            written = len(data)
        self._header_pending = False
        self.rows_written += df.height
        self.bytes_written += written

    def _render(self, df: pl.DataFrame, ambiguous: int) -> bytes:
        """``df`` as UTF-8 CSV, where a null and a text equal to the null value differ: Polars writes them
        alike (with quoting 'all', or with a null value other than the empty text), so the ``ambiguous``
        ones are written as a stand-in first, then the stand-in is replaced by what each must be."""
        for stand_in in _stand_ins(df, self._fmt, ambiguous):
            data = self._csv_bytes(stand_in.frame, stand_in.null_value)
            if data.count(stand_in.written) == stand_in.count:  # no text of the batch holds it
                return data.replace(stand_in.written, stand_in.meant)
        raise AssertionError("unreachable: _stand_ins() is endless")  # pragma: no cover

    def _refuse_unquotable(self, df: pl.DataFrame) -> None:
        """Without quoting, a value (or a column name of the header) holding the delimiter, the quote or
        a line break would read back as other fields or records, and one equal to a null value other
        than the empty text as a null: FormatError naming its row, column and value. An empty text is
        written as the empty field it is, as every tool writes it, and the first one's row kept in
        ``first_empty_text``: it reads back as a null."""
        fmt = self._fmt
        specials = [fmt.delimiter, fmt.quote, "\n", "\r"]
        if self._header_pending:
            self._refuse_unquotable_names(df.columns, specials)
        for name, dtype in df.schema.items():
            if dtype != pl.String:
                continue
            column = df.get_column(name)
            taken_for_null = column == fmt.null_value
            if not fmt.null_value:
                empty = taken_for_null.arg_true()
                if len(empty) and self.first_empty_text is None:
                    self.first_empty_text = self._row_no(int(empty[0]))
                taken_for_null = pl.repeat(False, len(column), eager=True)
            hits = (column.str.contains_any(specials) | taken_for_null).arg_true()
            if len(hits):
                row = int(hits[0])
                value = df[row, name]
                what = (
                    "is the null value, which quoting 'none' would write as a null"
                    if value == fmt.null_value
                    else "holds the delimiter, the quote or a line break, which quoting 'none' would write "
                    "as they are"
                )
                raise FormatError(
                    f"row {self._row_no(row)}, column {name}: {value!r} {what} "
                    "(the file would not read back): use quoting 'minimal'"
                )

    @staticmethod
    def _refuse_unquotable_names(names: list[str], specials: list[str]) -> None:
        """FormatError naming the first column name the header would not read back as, unquoted."""
        for name in names:
            if any(special in name for special in specials):
                raise FormatError(
                    f"the header: column name {name!r} holds the delimiter, the quote or a line break, "
                    "which quoting 'none' would write as they are (the file would not read back): use "
                    "quoting 'minimal', or no header"
                )

    def _row_no(self, index: int) -> int:
        """The row number in the file (from 1, header aside) of row ``index`` of the batch being written."""
        return self.rows_before + self.rows_written + index + 1

    def _refuse_unencodable(self, df: pl.DataFrame) -> None:
        """FormatError naming the first row, column and value holding a character the encoding lacks
        (or the column name of the header)."""
        for place, text in self._texts(df):
            try:
                text.encode(self._encoding)
            except UnicodeEncodeError as error:
                bad = text[error.start]
                raise FormatError(
                    f"{place} {text!r} holds {bad!r} (U+{ord(bad):04X}), which {self._encoding} cannot encode"
                ) from None

    def _texts(self, df: pl.DataFrame) -> Iterator[tuple[str, str]]:
        """Each text ``df`` writes, after where it is: the header's column names, then row by row."""
        if self._header_pending:
            yield from (("the header: column name", name) for name in df.columns)
        for row, values in enumerate(df.iter_rows()):
            for name, value in zip(df.columns, values, strict=True):
                if isinstance(value, str):
                    yield f"row {self._row_no(row)}, column {name}:", value

    def _infinities_spelled_out(self, df: pl.DataFrame) -> pl.DataFrame:
        """The float columns holding an infinity as text, as PostgreSQL writes them (Polars writes
        'inf'; 'NaN' both write alike). Only those: Polars writes a float as its cast to text."""
        infinite = [n for n, t in df.schema.items() if t.is_float() and df.get_column(n).is_infinite().any()]
        if not infinite:
            return df
        text = pl.col(infinite).cast(pl.String).replace(INFINITIES)
        if self._fmt.decimal_separator == ",":
            text = text.str.replace(".", ",", literal=True)
        return df.with_columns(text)

    def _decimal_comma_floats(self, df: pl.DataFrame) -> pl.DataFrame:
        fmt = self._fmt
        if fmt.decimal_separator == fmt.delimiter == ",":
            # Polars quotes every float then, a missing one too: "" would read back as an empty text
            floats = [n for n, t in df.schema.items() if t.is_float()]
            df = df.with_columns(pl.col(floats).cast(pl.String).str.replace(".", ",", literal=True))
        return df

    def _csv_bytes(self, df: pl.DataFrame, null_value: str) -> bytes:
        out = io.BytesIO()
        self._write_csv(df, out, null_value)
        return out.getvalue()

    def _write_csv(self, df: pl.DataFrame, out: BinaryWriter, null_value: str) -> None:
        fmt = self._fmt
        df.write_csv(
            cast(IO[bytes], out),  # Polars only calls write()
            include_header=self._header_pending,
            separator=fmt.delimiter,
            quote_char=fmt.quote,
            quote_style=QUOTE_STYLES[fmt.quoting],
            line_terminator=LINE_ENDINGS[fmt.line_ending],
            date_format=fmt.date_format,
            datetime_format=fmt.local_timestamp_format,
            decimal_comma=fmt.decimal_separator == ",",
            null_value=null_value,
        )


def _taken_for_null(df: pl.DataFrame, fmt: OutputFormat) -> int:
    """How many values of ``df`` Polars would write so that a null and a text read alike: its nulls
    with quoting 'all' (it quotes a null too: "NULL" either way), its texts equal to the null value with
    'minimal' (it leaves them bare; an empty text it does quote: ""). Quoting 'none' refuses such a text.
    """
    if fmt.quoting == "all":
        return _nulls(df)
    if fmt.quoting == "minimal" and fmt.null_value:
        return _texts_equal(df, fmt.null_value)
    return 0


@dataclass(frozen=True)
class _StandIn:
    """A batch to write with a stand-in, and the bytes that replace each of its ``count`` occurrences."""

    frame: pl.DataFrame
    null_value: str
    written: bytes
    meant: bytes
    count: int


def _stand_ins(df: pl.DataFrame, fmt: OutputFormat, count: int) -> Iterator[_StandIn]:
    """Ways to write ``df`` as PostgreSQL's CSV does: a null as the bare null value, a text equal to it
    quoted (``count`` of them: see _taken_for_null). Each uses another stand-in, for the rare batch
    whose text already holds one."""
    quote = fmt.quote
    for attempt in itertools.count():
        token = f"\x00impex-null-{attempt}\x00"  # a NUL: no number, date or usual text holds one
        if fmt.quoting == "all":  # the nulls are written as the token, quoted, then made bare
            yield _StandIn(df, token, f"{quote}{token}{quote}".encode(), fmt.null_value.encode(), count)
        else:  # the texts equal to the null value are written as the bare token, then quoted
            texts = [n for n, t in df.schema.items() if t == pl.String]
            marked = df.with_columns(
                pl.when(pl.col(n) == fmt.null_value).then(pl.lit(token)).otherwise(pl.col(n)).alias(n)
                for n in texts
            )
            meant = f"{quote}{fmt.null_value}{quote}".encode()  # the null value holds no quote
            yield _StandIn(marked, fmt.null_value, token.encode(), meant, count)


def _nulls(df: pl.DataFrame) -> int:
    return sum(df.null_count().row(0)) if df.width else 0


def _texts_equal(df: pl.DataFrame, value: str) -> int:
    return sum(int((df.get_column(n) == value).sum()) for n, t in df.schema.items() if t == pl.String)


class _Counting:
    """A binary file that counts what goes through it."""

    def __init__(self, file: BinaryWriter) -> None:
        self._file = file
        self.bytes = 0

    def write(self, data: bytes, /) -> int:
        self.bytes += len(data)
        return self._file.write(data)


def transcode(data: bytes, encoding: str, encoder: codecs.IncrementalEncoder | None = None) -> bytes:
    """UTF-8 ``data`` in ``encoding`` (through ``encoder``, which ends each piece in the encoding's
    initial shift state); FormatError naming the first character it cannot encode."""
    text = data.decode("utf-8")
    try:
        return encoder.encode(text, final=True) if encoder is not None else text.encode(encoding)
    except UnicodeEncodeError as error:
        bad = text[error.start]
        line = text.count("\n", 0, error.start) + 1
        context = text[max(error.start - 20, 0) : error.start + 20].replace("\n", " ")
        raise FormatError(
            f"character {bad!r} (U+{ord(bad):04X}) cannot be encoded in {encoding} "
            f"(line {line} of this batch, near {context!r})"
        ) from None


def write_raw_records(
    binary_file: BinaryWriter,
    records: Sequence[bytes],
    reasons: Sequence[str],
    *,
    delimiter: str,
    quote: str = '"',
    line_ending: str = "\n",
    encoding: str = "utf-8",
    header: Sequence[str] | None = None,
) -> int:
    """Write rejected records exactly as they were in the source, each with one appended reason column.

    ``header`` (the source's field names) is written first with a ``reason`` column added. The reason is
    always quoted (quotes doubled) and encoded in the source's ``encoding``, so the file can be fixed and
    imported again with the same format. Returns the bytes written.
    """
    if len(records) != len(reasons):
        raise ValueError("records and reasons must have the same length")
    enc = "utf-8" if canonical(encoding) == "utf-8-sig" else encoding
    sep, end = delimiter.encode(enc), line_ending.encode(enc)

    def quoted(text: str) -> bytes:
        return (quote + text.replace(quote, quote * 2) + quote).encode(enc, errors="replace")

    def named(text: str) -> bytes:  # a header name quoted only where it must be, as a header mostly is
        plain = not any(c in text for c in (delimiter, quote, "\r", "\n")) and text == text.strip()
        return text.encode(enc, errors="replace") if plain and text else quoted(text)

    parts: list[bytes] = []
    if header is not None:
        parts.append(sep.join(named(name) for name in [*header, "reason"]) + end)
    parts.extend(raw + sep + quoted(reason) + end for raw, reason in zip(records, reasons, strict=True))
    data = b"".join(parts)
    binary_file.write(data)
    return len(data)
