"""Which records hold bytes their encoding cannot decode: the fast whole-buffer check must agree with
decoding record by record, whatever the bytes."""

import codecs

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from impex.formats.encoding import find_not_text, find_undecodable

# UTF-8 text with now and then a byte or sequence no UTF-8 text holds (lone continuation bytes,
# truncated sequences, overlong forms, surrogates).
pieces = st.one_of(
    st.text(max_size=8).map(lambda t: t.encode("utf-8")),
    st.sampled_from(
        [b"\x80", b"\xc3", b"\xe2\x82", b"\xc0\xaf", b"\xed\xa0\x80", b"\xff", b"\xf4\x90\x80\x80"]
    ),
)
records = st.lists(st.lists(pieces, max_size=5).map(b"".join), min_size=1, max_size=12)


def one_by_one(parts: list[bytes], encoding: str) -> list[tuple[int, int]]:
    found, start = [], 0
    for i, part in enumerate(parts):
        try:
            codecs.decode(part, encoding)
        except UnicodeDecodeError as error:
            found.append((i, start + error.start))
        start += len(part)
    return found


def lines(*parts: bytes) -> tuple[bytes, np.ndarray]:
    return b"".join(parts), np.cumsum([len(p) for p in parts]).astype(np.int64)


@given(records)
def test_each_bad_record_is_found_at_its_first_bad_byte(parts):
    parts = [p + b"\n" for p in parts]
    data, nexts = lines(*parts)
    assert find_undecodable(data, "utf-8", nexts) == one_by_one(parts, "utf-8")


def test_valid_text_has_no_bad_record_and_a_cut_sequence_is_found():
    data, nexts = lines(b"id,name\n", "1,Zo\u00eb\n".encode(), "2,\U0001f642\n".encode())
    assert find_undecodable(data, "utf-8", nexts) == []
    data, nexts = lines(b"id,name\n", "1,Zo\u00eb\n".encode(), b"2,\xf0\x9f\n", b"3,x\n")
    assert find_undecodable(data, "utf-8", nexts) == [(2, data.index(b"\xf0"))]


def first_not_text(parts: list[bytes], encoding: str) -> list[tuple[int, int]]:
    undecodable = dict(one_by_one(parts, encoding))
    found, start = [], 0
    for i, part in enumerate(parts):
        nul = part.find(b"\x00")
        offsets = [o for o in (undecodable.get(i), start + nul if nul >= 0 else None) if o is not None]
        if offsets:
            found.append((i, min(offsets)))
        start += len(part)
    return found


@given(
    st.lists(st.lists(st.one_of(pieces, st.just(b"\x00")), max_size=5).map(b"".join), min_size=1, max_size=12)
)
def test_a_nul_is_not_text_either_and_the_first_bad_byte_of_a_record_is_the_one_named(parts):
    parts = [p + b"\n" for p in parts]
    data, nexts = lines(*parts)
    assert find_not_text(data, "utf-8", nexts) == first_not_text(parts, "utf-8")
