"""Every group operation of the ballot scheme: ristretto255 (RFC 9496) through rbcl.

Nothing else in council.ballots touches rbcl, so the library can be swapped here.

rbcl ignores libsodium's return codes in its point functions: given bytes that are not a
valid point, `crypto_core_ristretto255_add` quietly returns 32 zero bytes. So a Point is
only ever built from bytes checked by `crypto_core_ristretto255_is_valid_point` or from
rbcl's own results, and the identity (which libsodium encodes as 32 zero bytes and
accepts as valid) is handled explicitly: rbcl's scalar multiplication refuses to produce
it, yet a vote of 0 or an empty sum legitimately is it.

Scalars are Python integers in [0, ℓ): scalar arithmetic mod ℓ is exact either way, and
integers make Lagrange coefficients and small multipliers plain.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Final, overload

import rbcl

from council.ballots.checks import EncodingError, hex_bytes

ORDER: Final = 2**252 + 27742317777372353535851937790883648493
SIZE: Final = 32
_FIELD_PRIME: Final = 2**255 - 19


class Scalar:
    """An integer mod ℓ; encoded as 32 bytes little-endian, hex in JSON."""

    __slots__ = ("value",)
    value: int

    def __init__(self, value: int) -> None:
        if not 0 <= value < ORDER:
            raise ValueError("a scalar must lie in [0, ℓ)")
        object.__setattr__(self, "value", value)

    @classmethod
    def of(cls, value: int) -> Scalar:
        """Any integer, reduced mod ℓ (negative ones too)."""
        return cls(value % ORDER)

    @classmethod
    def from_bytes(cls, data: bytes) -> Scalar:
        if len(data) != SIZE:
            raise EncodingError("a scalar is 32 bytes")
        value = int.from_bytes(data, "little")
        if value >= ORDER:
            raise EncodingError("a scalar must be less than the group order ℓ")
        return cls(value)

    @classmethod
    def from_hex(cls, text: object, what: str = "scalar") -> Scalar:
        return cls.from_bytes(hex_bytes(text, SIZE, what))

    @classmethod
    def random(cls) -> Scalar:
        """Uniform in [1, ℓ) from the OS CSPRNG (libsodium never returns 0 here)."""
        return cls(int.from_bytes(rbcl.crypto_core_ristretto255_scalar_random(), "little"))

    def to_bytes(self) -> bytes:
        return self.value.to_bytes(SIZE, "little")

    def hex(self) -> str:
        return self.to_bytes().hex()

    def inverse(self) -> Scalar:
        if self.value == 0:
            raise ZeroDivisionError("0 has no inverse mod ℓ")
        return Scalar(pow(self.value, -1, ORDER))

    def __add__(self, other: Scalar) -> Scalar:
        return Scalar((self.value + other.value) % ORDER)

    def __sub__(self, other: Scalar) -> Scalar:
        return Scalar((self.value - other.value) % ORDER)

    def __neg__(self) -> Scalar:
        return Scalar(-self.value % ORDER)

    @overload
    def __mul__(self, other: Scalar) -> Scalar: ...
    @overload
    def __mul__(self, other: Point) -> Point: ...
    def __mul__(self, other: Scalar | Point) -> Scalar | Point:
        if isinstance(other, Scalar):
            return Scalar(self.value * other.value % ORDER)
        return other._times(self.value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Scalar is immutable")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Scalar) and other.value == self.value

    def __hash__(self) -> int:
        return hash(("Scalar", self.value))

    def __repr__(self) -> str:
        return f"Scalar({self.hex()})"


class Point:
    """A ristretto255 element by its canonical 32-byte encoding (equal points, equal bytes)."""

    __slots__ = ("data",)
    data: bytes

    def __init__(self, data: bytes, *, allow_identity: bool = True) -> None:
        """Decode received bytes: rejects non-canonical encodings, and the identity if asked."""
        if not isinstance(data, bytes) or len(data) != SIZE:
            raise EncodingError("a point is 32 bytes")
        # libsodium ignores bit 255 (so P and P with the top bit set both decode), while
        # RFC 9496 refuses any encoding ≥ p: a second spelling of a ciphertext would slip
        # past the board's duplicate check and be refused by the browser's library.
        below_p = int.from_bytes(data, "little") < _FIELD_PRIME
        if not below_p or not rbcl.crypto_core_ristretto255_is_valid_point(data):
            raise EncodingError("not the canonical encoding of a ristretto255 point")
        if not allow_identity and data == _ZERO:
            raise EncodingError("the identity point is not a valid key")
        object.__setattr__(self, "data", data)

    @classmethod
    def _trusted(cls, data: bytes) -> Point:
        # rbcl's results are canonical; skipping the check halves the cost of a sum.
        point = object.__new__(cls)
        object.__setattr__(point, "data", data)
        return point

    @classmethod
    def from_hex(cls, text: object, what: str = "point", *, allow_identity: bool = True) -> Point:
        data = hex_bytes(text, SIZE, what)
        try:
            return cls(data, allow_identity=allow_identity)
        except EncodingError as error:
            raise EncodingError(f"{what}: {error}") from None

    def to_bytes(self) -> bytes:
        return self.data

    def hex(self) -> str:
        return self.data.hex()

    @property
    def is_identity(self) -> bool:
        return self.data == _ZERO

    def __add__(self, other: Point) -> Point:
        return Point._trusted(rbcl.crypto_core_ristretto255_add(self.data, other.data))

    def __sub__(self, other: Point) -> Point:
        return Point._trusted(rbcl.crypto_core_ristretto255_sub(self.data, other.data))

    def __neg__(self) -> Point:
        return IDENTITY - self

    def times(self, k: int) -> Point:
        """k·P for any integer k (small multipliers: weights, costs, Lagrange indexes)."""
        return self._times(k % ORDER)

    def _times(self, k: int) -> Point:
        if k == 0 or self.is_identity:
            return IDENTITY
        # k ≠ 0 mod ℓ and P ≠ identity in a prime-order group: k·P is never the identity,
        # so the variant that refuses a zero result cannot fail here.
        return Point._trusted(rbcl.crypto_scalarmult_ristretto255(k.to_bytes(SIZE, "little"), self.data))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Point is immutable")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Point) and other.data == self.data

    def __hash__(self) -> int:
        return hash(("Point", self.data))

    def __repr__(self) -> str:
        return f"Point({self.hex()})"


_ZERO: Final = bytes(SIZE)
IDENTITY: Final = Point._trusted(_ZERO)


def base(k: Scalar | int) -> Point:
    """k·G (an int is reduced mod ℓ); 0·G is the identity."""
    value = k.value if isinstance(k, Scalar) else k % ORDER
    if value == 0:
        return IDENTITY
    return Point._trusted(rbcl.crypto_scalarmult_ristretto255_base(value.to_bytes(SIZE, "little")))


GENERATOR: Final = base(1)


def point_sum(points: Iterable[Point]) -> Point:
    total = IDENTITY
    for point in points:
        total = total + point
    return total


def linear_combination(terms: Iterable[tuple[Scalar | int, Point]]) -> Point:
    """Σ k_i·P_i; the empty sum is the identity."""
    return point_sum(
        (point._times(k.value) if isinstance(k, Scalar) else point.times(k)) for k, point in terms
    )


def random_scalar() -> Scalar:
    return Scalar.random()


def hash_to_scalar(tag: bytes, *parts: bytes) -> Scalar:
    """H(tag, parts…) = SHA-512(tag ‖ for each part: 4-byte big-endian length ‖ part) mod ℓ.

    The tag goes in bare (no length); each part is length-prefixed so no two lists of
    parts hash the same bytes.
    """
    sha = hashlib.sha512(tag)
    for part in parts:
        sha.update(len(part).to_bytes(4, "big"))
        sha.update(part)
    return Scalar.from_bytes(rbcl.crypto_core_ristretto255_scalar_reduce(sha.digest()))
