"""group.py: encodings round trip, non-canonical input is refused, the algebra holds."""

from __future__ import annotations

import hashlib

import pytest
import rbcl
from hypothesis import given, settings
from hypothesis import strategies as st

from council.ballots.checks import EncodingError
from council.ballots.group import (
    GENERATOR,
    IDENTITY,
    ORDER,
    Point,
    Scalar,
    base,
    hash_to_scalar,
    linear_combination,
    point_sum,
    random_scalar,
)

FIELD_PRIME = 2**255 - 19

scalars = st.integers(0, ORDER - 1).map(Scalar)
nonzero = st.integers(1, ORDER - 1).map(Scalar)
points = nonzero.map(base)
small = st.integers(-1000, 1000)
fast = settings(max_examples=25, deadline=None)


@given(scalars)
def test_scalar_round_trips(s: Scalar) -> None:
    assert Scalar.from_bytes(s.to_bytes()) == s
    assert Scalar.from_hex(s.hex()) == s
    assert s.hex() == s.hex().lower() and len(s.hex()) == 64


@given(st.integers(ORDER, 2**256 - 1))
def test_scalars_at_or_above_the_order_are_refused(value: int) -> None:
    with pytest.raises(EncodingError, match="less than the group order"):
        Scalar.from_bytes(value.to_bytes(32, "little"))


@pytest.mark.parametrize(
    "text", ["AB" * 32, "ab" * 31, "ab" * 33, "zz" * 32, " " + "ab" * 31 + "a", 7, None, "0x" + "ab" * 31]
)
def test_scalar_hex_must_be_64_lower_case_digits(text: object) -> None:
    with pytest.raises(EncodingError):
        Scalar.from_hex(text)


@fast
@given(points)
def test_point_round_trips(p: Point) -> None:
    assert Point.from_hex(p.hex()) == p
    assert Point(p.to_bytes(), allow_identity=False) == p


@fast
@given(points)
def test_negative_encodings_are_refused(p: Point) -> None:
    # A canonical encoding is an even field element; the odd neighbour is "negative".
    odd = bytes([p.data[0] ^ 1]) + p.data[1:]
    with pytest.raises(EncodingError, match="canonical"):
        Point(odd)


@fast
@given(points)
def test_encodings_with_the_top_bit_set_are_refused(p: Point) -> None:
    high = p.data[:31] + bytes([p.data[31] | 0x80])
    with pytest.raises(EncodingError, match="canonical"):
        Point(high)


@pytest.mark.parametrize("value", [FIELD_PRIME, FIELD_PRIME + 2, FIELD_PRIME + 4, 2**255 - 1])
def test_unreduced_field_elements_are_refused(value: int) -> None:
    with pytest.raises(EncodingError):
        Point(value.to_bytes(32, "little"))


def test_libsodium_alone_would_accept_the_top_bit() -> None:
    # Why group.py checks the range itself: RFC 9496 §4.3.1 refuses this encoding.
    high = GENERATOR.data[:31] + bytes([GENERATOR.data[31] | 0x80])
    assert rbcl.crypto_core_ristretto255_is_valid_point(high)


@settings(max_examples=200)
@given(st.binary(min_size=32, max_size=32))
def test_decoding_accepts_exactly_the_rfc_9496_canonical_points(data: bytes) -> None:
    valid = data[31] < 0x80 and rbcl.crypto_core_ristretto255_is_valid_point(data)
    try:
        Point(data)
    except EncodingError:
        assert not valid
    else:
        assert valid


def test_identity_is_all_zero_and_refused_as_a_key() -> None:
    assert IDENTITY.hex() == "00" * 32 and IDENTITY.is_identity
    assert Point(bytes(32)) == IDENTITY
    with pytest.raises(EncodingError, match="identity"):
        Point.from_hex("00" * 32, "public key", allow_identity=False)


@pytest.mark.parametrize("data", [b"", bytes(31), bytes(33)])
def test_points_are_32_bytes(data: bytes) -> None:
    with pytest.raises(EncodingError):
        Point(data)


def test_values_are_immutable() -> None:
    with pytest.raises(AttributeError):
        GENERATOR.data = bytes(32)
    with pytest.raises(AttributeError):
        Scalar(1).value = 2


@fast
@given(scalars, scalars)
def test_base_multiplication_is_a_homomorphism(a: Scalar, b: Scalar) -> None:
    assert base(a + b) == base(a) + base(b)
    assert base(a - b) == base(a) - base(b)
    assert base(-a) == -base(a)
    assert a * base(b) == base(a * b) == b * base(a)


@fast
@given(points, small)
def test_small_multiples(p: Point, k: int) -> None:
    assert p.times(k) == Scalar.of(k) * p
    assert p.times(k) + p == p.times(k + 1)


@fast
@given(points)
def test_zero_and_identity_cases(p: Point) -> None:
    assert Scalar(0) * p == IDENTITY
    assert p.times(ORDER) == IDENTITY
    assert p - p == IDENTITY
    assert p + IDENTITY == p == IDENTITY + p
    assert Scalar(5) * IDENTITY == IDENTITY
    assert base(0) == IDENTITY == base(ORDER)
    assert base(Scalar(0)) == IDENTITY


@fast
@given(st.lists(st.tuples(st.one_of(scalars, small), points), max_size=5))
def test_linear_combination_is_a_sum_of_products(terms: list[tuple[Scalar | int, Point]]) -> None:
    expected = IDENTITY
    for k, p in terms:
        expected = expected + (k * p if isinstance(k, Scalar) else p.times(k))
    assert linear_combination(terms) == expected
    assert point_sum([]) == IDENTITY


@given(nonzero, nonzero)
def test_scalar_field(a: Scalar, b: Scalar) -> None:
    assert a * a.inverse() == Scalar(1)
    assert (a + b) - b == a
    assert Scalar.of(-a.value) == -a
    with pytest.raises(ZeroDivisionError):
        Scalar(0).inverse()
    with pytest.raises(ValueError):
        Scalar(ORDER)


def test_random_scalars_are_fresh() -> None:
    drawn = {random_scalar() for _ in range(50)}
    assert len(drawn) == 50 and Scalar(0) not in drawn


@given(st.binary(max_size=40), st.binary(max_size=40), st.binary(max_size=40))
def test_hash_to_scalar_is_length_prefixed(a: bytes, b: bytes, c: bytes) -> None:
    tag = b"council/v1/range"
    raw = hashlib.sha512(tag + b"".join(len(x).to_bytes(4, "big") + x for x in (a, b, c))).digest()
    assert hash_to_scalar(tag, a, b, c).value == int.from_bytes(raw, "little") % ORDER
    if b:
        # Moving a byte across a boundary changes the hash.
        assert hash_to_scalar(tag, a + b[:1], b[1:], c) != hash_to_scalar(tag, a, b, c)
