"""Rows in PostgreSQL's binary COPY format, built column by column (no Python step per row).

Each row is a 16-bit field count, then per field a 32-bit length (-1: NULL) and the value in the
column type's binary form, all big-endian. A column is encoded as length-and-value pieces (one per
row, or a length piece then the text for text columns); one Arrow join puts the pieces of each row
together, so the joined values, end to end, are the COPY data. Only the exact pairs of a frame type
and a column type are encoded here; for any other pair (text for a jsonb column, an integer that may
not fit, a decimal past 18 digits) ``encode_rows`` says None and the caller lets the database cast.
"""

from __future__ import annotations

import struct
from typing import Any, TypeAlias

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)  # signature, flags, no header extension
TRAILER = struct.pack(">h", -1)
NULL = struct.pack(">i", -1)
ENCODED = "_copy"  # a frame's column of rows encoded ahead, beside their ``_row``
_EPOCH_DAYS = 10_957  # 2000-01-01, PostgreSQL's epoch, in days since 1970-01-01
_EPOCH_US = _EPOCH_DAYS * 86_400_000_000
_TEXT = {"text", "character varying", "bpchar"}
_INTEGERS = {"bigint": ">i8", "integer": ">i4", "smallint": ">i2"}
_WIDTH = {
    "bigint": 8,
    "integer": 4,
    "smallint": 2,
    "double precision": 8,
    "real": 4,
    "boolean": 1,
    "date": 4,
    "timestamp without time zone": 8,
    "timestamp with time zone": 8,
}
# A frame's timestamps, by whether they have a zone: moments (their physical value is UTC) or not.
_TIMESTAMP = {False: "timestamp without time zone", True: "timestamp with time zone"}


# A column's part of each row: an (n, width) array when it has the same width on every row, else
# Arrow binary values.
Piece: TypeAlias = np.ndarray | pa.Array


def encode_rows(frame: pl.DataFrame, types: dict[str, str]) -> pa.LargeBinaryArray | None:
    """One binary COPY tuple per row of ``frame`` for columns of PostgreSQL ``types`` (as regtype
    names them), or None when a column is not of a pair encoded here."""
    n = frame.height
    pieces: list[Piece] = [np.tile(np.frombuffer(struct.pack(">h", frame.width), np.uint8), (n, 1))]
    for name in frame.columns:
        column = _pieces(frame.get_column(name), types[name])
        if column is None:
            return None
        pieces += column
    joined = pc.binary_join_element_wise(
        *_merged(pieces, n), pa.scalar(b"", pa.large_binary()), null_handling="replace", null_replacement=""
    )
    return joined


def _merged(pieces: list[Piece], n: int) -> list[pa.Array]:
    """The pieces as Arrow arrays, neighbours of fixed width side by side in one: the join's cost
    grows with the count of its inputs."""
    out: list[pa.Array] = []
    fixed: list[np.ndarray] = []
    for piece in [*pieces, None]:
        if isinstance(piece, np.ndarray):
            fixed.append(piece)
            continue
        if fixed:
            block = fixed[0] if len(fixed) == 1 else np.hstack(fixed)
            out.append(_fixed_pieces(block, block.shape[1], n))
            fixed = []
        if piece is not None:
            out.append(piece)
    return out


def temporary_columns(frame: pl.DataFrame) -> tuple[pl.DataFrame, dict[str, str]]:
    """The frame and the types of a temporary table holding it: its own type where binary COPY has
    one (``pg_copy``), else its text (a decimal, say), which the reading statement casts."""
    types: dict[str, str] = {}
    as_text = []
    for name, dtype in frame.schema.items():
        pg = _TEMPORARY_TYPES.get(dtype.base_type())
        if dtype.is_integer() and dtype != pl.UInt64:
            pg = "bigint"
        if isinstance(dtype, pl.Datetime):
            pg = None if dtype.time_unit == "ns" else _TIMESTAMP[dtype.time_zone is not None]
        if pg is None:
            as_text.append(pl.col(name).cast(pl.String))
            pg = "text"
        types[name] = pg
    return (frame.with_columns(as_text) if as_text else frame), types


_TEMPORARY_TYPES: dict[Any, str] = {
    pl.Float32: "real",
    pl.Float64: "double precision",
    pl.Boolean: "boolean",
    pl.Date: "date",
    pl.String: "text",
    pl.Binary: "bytea",
    pl.Null: "text",
}


def copy_data(rows: pa.LargeBinaryArray) -> memoryview:
    """The rows' bytes end to end, without a copy."""
    offsets = np.frombuffer(rows.buffers()[1], np.int64, len(rows) + 1, rows.offset * 8)
    return memoryview(rows.buffers()[2])[int(offsets[0]) : int(offsets[-1])]


def _pieces(values: pl.Series, pg: str) -> list[Piece] | None:
    dtype = values.dtype
    valid = None if values.null_count() == 0 else values.is_not_null().to_numpy()
    if dtype == pl.Null:
        return [np.tile(np.frombuffer(NULL, np.uint8), (len(values), 1))]
    if (pg in _TEXT and dtype == pl.String) or (pg == "bytea" and dtype == pl.Binary):
        return _text_pieces(values, valid)
    if pg == "numeric" and isinstance(dtype, pl.Decimal):
        numeric = _numeric(values)
        return None if numeric is None else [_field_pieces(numeric, numeric.shape[1], valid)]
    raw = _raw(values, pg) if pg in _WIDTH else None
    return None if raw is None else [_field_pieces(raw, _WIDTH[pg], valid)]


def _raw(values: pl.Series, pg: str) -> np.ndarray | None:
    """The values in the big-endian binary form of ``pg`` (nulls as zeros), or None."""
    dtype = values.dtype
    if pg in _INTEGERS and dtype.is_integer():
        bits = 8 * _WIDTH[pg] - 1
        least, most = values.min(), values.max()
        if least is not None and (least < -(2**bits) or most >= 2**bits):
            return None  # the database says which rows are out of range
        return values.fill_null(0).to_numpy().astype(_INTEGERS[pg])
    if pg == "double precision" and (dtype.is_float() or dtype.is_integer()):
        return values.fill_null(0).to_numpy().astype(">f8")
    if pg == "real" and dtype.is_float():
        return values.fill_null(0).to_numpy().astype(">f4")
    if pg == "boolean" and dtype == pl.Boolean:
        return values.fill_null(False).to_numpy().astype(np.uint8)
    if pg == "date" and dtype == pl.Date:
        return (values.to_physical().fill_null(0).to_numpy().astype(np.int64) - _EPOCH_DAYS).astype(">i4")
    if isinstance(dtype, pl.Datetime) and pg == _TIMESTAMP[dtype.time_zone is not None]:
        # Only pairs where no zone is to be chosen: a timestamp without a zone into a timestamptz
        # column is read by the database in the session's zone, as its own COPY reads it.
        if dtype.time_unit == "ns":
            return None
        micros = values.dt.cast_time_unit("us").to_physical().fill_null(0).to_numpy()
        return (micros - _EPOCH_US).astype(">i8")
    return None


def _numeric(values: pl.Series) -> np.ndarray | None:
    """Decimals in numeric's binary form, all with the same count of base-10000 digits (leading
    zero digits are allowed; the database drops them): ndigits, weight, sign, display scale, digits.
    Only decimals whose unscaled value fits 63 bits (a precision up to 18); else None."""
    assert isinstance(values.dtype, pl.Decimal)
    scale = values.dtype.scale or 0
    pad = -scale % 4  # decimal places added so that the fraction is whole base-10000 digits
    unscaled = values.to_physical()
    least, most = unscaled.min(), unscaled.max()
    if least is not None and (least <= -(2**63) or most >= 2**63):  # type: ignore[operator]
        return None
    signed = unscaled.fill_null(0).cast(pl.Int64).to_numpy()
    magnitude = np.abs(signed)
    # The last digit holds the value's last 4 - pad decimal places, padded; the rest go above it.
    unit = 10 ** (4 - pad)
    low, rest = magnitude % unit * 10**pad, magnitude // unit
    fraction_digits = (scale + pad) // 4
    top = int(rest.max()) if len(rest) else 0
    ndigits = max(fraction_digits + 1, 1 + (len(str(top)) + 3) // 4 if top else 1)
    out = np.empty((len(values), 4 + ndigits), ">i2")
    out[:, 0] = ndigits
    out[:, 1] = ndigits - fraction_digits - 1  # weight: the power of 10000 of the first digit
    out[:, 2] = np.where(signed < 0, 0x4000, 0)
    out[:, 3] = scale
    out[:, 3 + ndigits] = low
    for k in range(1, ndigits):
        out[:, 3 + ndigits - k] = rest // 10_000 ** (k - 1) % 10_000
    return out.view(np.uint8).reshape(len(values), -1)


def _fixed_pieces(data: np.ndarray, width: int, n: int) -> pa.Array:
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int64)
    return pa.LargeBinaryArray.from_buffers(
        pa.large_binary(), n, [None, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(data))]
    )


def _field_pieces(raw: np.ndarray, width: int, valid: np.ndarray | None) -> Piece:
    """Length and value of each field; a null is its length (-1) alone."""
    n = len(raw)
    out = np.empty((n, 4 + width), np.uint8)
    out[:, :4] = np.frombuffer(struct.pack(">i", width), np.uint8)
    out[:, 4:] = np.ascontiguousarray(raw).view(np.uint8).reshape(n, width)
    if valid is None:
        return out
    out[~valid, :4] = np.frombuffer(NULL, np.uint8)
    sizes = np.where(valid, 4 + width, 4)
    offsets = np.zeros(n + 1, np.int64)
    np.cumsum(sizes, out=offsets[1:])
    keep = np.ones((n, 4 + width), dtype=bool)
    keep[~valid, 4:] = False
    data = pa.py_buffer(out.reshape(-1)[keep.reshape(-1)])
    return pa.LargeBinaryArray.from_buffers(pa.large_binary(), n, [None, pa.py_buffer(offsets), data])


def _text_pieces(values: pl.Series, valid: np.ndarray | None) -> list[Piece]:
    """The length of each value, then its bytes (a null: length -1 and no bytes)."""
    data = values.to_arrow(compat_level=pl.CompatLevel.oldest())
    data = data.view(pa.large_binary()) if not pa.types.is_large_binary(data.type) else data
    offsets = np.frombuffer(data.buffers()[1], np.int64, len(data) + 1, data.offset * 8)
    lengths = np.diff(offsets).astype(">i4")
    if valid is not None:
        lengths[~valid] = -1
    return [lengths.view(np.uint8).reshape(len(data), 4), data]


def as_encoded(frame: pl.DataFrame, rows: pa.LargeBinaryArray | None) -> pl.DataFrame:
    """``_row`` and the rows encoded, or the frame as it is if they could not be."""
    if rows is None:
        return frame
    return frame.select("_row").with_columns(pl.Series(ENCODED, rows, dtype=pl.Binary))


def encoded_rows(frame: pl.DataFrame) -> pa.LargeBinaryArray:
    """The rows ``as_encoded`` put in ``frame`` (or in a slice of it), ready for ``copy_data``."""
    rows = frame.get_column(ENCODED).to_arrow(compat_level=pl.CompatLevel.oldest())
    assert isinstance(rows, pa.LargeBinaryArray)
    return rows
