"""t-of-n trustee key generation: Pedersen's protocol with Feldman commitments.

Trustees are numbered 1..n. Trustee i picks f_i(x) = a_i0 + a_i1·x + … + a_i,t−1·x^(t−1),
publishes C_ik = a_ik·G with a proof of knowledge of a_i0 bound to F₀, and seals f_i(j)
to every trustee j's X25519 box key (PyNaCl SealedBox). Trustee j opens its shares,
checks each against the dealer's commitments, and keeps s_j = Σ_i f_i(j). Anyone
computes Y = Σ_i C_i0 and V_j = Σ_i Σ_k j^k·C_ik (= s_j·G) from the commitments.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, PublicKey, SealedBox

from council.ballots.checks import CheckFailed, EncodingError, as_list
from council.ballots.group import IDENTITY, Point, Scalar, base, linear_combination, point_sum, random_scalar
from council.ballots.proofs import ChallengeResponse, Draw, prove_pok, verify_pok


class ShareComplaint(CheckFailed):
    """Trustee `recipient`'s share from trustee `dealer` is unreadable or breaks the commitments."""

    def __init__(self, dealer: int, recipient: int, reason: str) -> None:
        super().__init__("share", f"trustee {dealer}'s share for trustee {recipient}: {reason}")
        self.dealer = dealer
        self.recipient = recipient


def default_threshold(n: int) -> int:
    return n // 2 + 1


def check_parameters(t: int, n: int) -> None:
    if not 1 <= t <= n:
        raise ValueError("trustees need 1 ≤ t ≤ n")


@dataclass(frozen=True, slots=True)
class Polynomial:
    """A trustee's secret f_i; coefficients[0] = a_i0 is its part of the election key."""

    coefficients: tuple[Scalar, ...]

    @classmethod
    def random(cls, t: int, *, draw: Draw = random_scalar) -> Polynomial:
        """Draws a_i0, a_i1, …, a_i,t−1 in that order."""
        if t < 1:
            raise ValueError("a threshold is at least 1")
        return cls(tuple(draw() for _ in range(t)))

    def at(self, x: int) -> Scalar:
        value = Scalar(0)
        point = Scalar.of(x)
        for coefficient in reversed(self.coefficients):
            value = value * point + coefficient
        return value

    def commitments(self) -> tuple[Point, ...]:
        return tuple(base(a) for a in self.coefficients)


@dataclass(frozen=True, slots=True)
class Dealing:
    """What trustee `index` publishes: commitments C_ik, proof of knowledge, sealed shares."""

    index: int
    commitments: tuple[Point, ...]
    pok: ChallengeResponse
    sealed: Mapping[int, bytes]  # trustee j -> SealedBox_j(f_i(j))

    def to_json(self) -> dict[str, object]:
        """The manifest's part of a trustee entry (the service adds name and box_key)."""
        return {
            "index": self.index,
            "commitments": [c.hex() for c in self.commitments],
            "pok": self.pok.to_json(),
        }

    def sealed_json(self) -> dict[str, str]:
        return {str(j): box.hex() for j, box in sorted(self.sealed.items())}


def commitments_from_json(value: object, what: str) -> tuple[Point, ...]:
    """C_i0 is part of the election key, so it may not be the identity."""
    return tuple(
        Point.from_hex(c, f"{what}[{k}]", allow_identity=k > 0) for k, c in enumerate(as_list(value, what))
    )


def seal_share(share: Scalar, box_key: PublicKey) -> bytes:
    return bytes(SealedBox(box_key).encrypt(share.to_bytes()))


def deal(
    f0: bytes,
    index: int,
    t: int,
    box_keys: Mapping[int, PublicKey],
    *,
    draw: Draw = random_scalar,
) -> tuple[Polynomial, Dealing]:
    """Trustee `index`'s part of key generation. Draws the t coefficients, then the proof's w."""
    check_parameters(t, len(box_keys))
    if set(box_keys) != set(range(1, len(box_keys) + 1)) or index not in box_keys:
        raise ValueError("trustees are numbered 1..n and the dealer is one of them")
    polynomial = Polynomial.random(t, draw=draw)
    pok = prove_pok(f0, index, polynomial.coefficients[0], draw=draw)
    sealed = {j: seal_share(polynomial.at(j), key) for j, key in box_keys.items()}
    return polynomial, Dealing(index, polynomial.commitments(), pok, sealed)


def verify_commitments(
    f0: bytes, index: int, t: int, commitments: Sequence[Point], pok: ChallengeResponse
) -> None:
    """A dealer's public part: t commitments, C_i0 not the identity, proof of knowledge."""
    if len(commitments) != t:
        raise CheckFailed("shape", f"trustee {index}: expected {t} commitments, got {len(commitments)}")
    verify_pok(f0, index, commitments[0], pok)


def share_point(commitments: Sequence[Point], j: int) -> Point:
    """Σ_k j^k·C_ik: what f_i(j)·G must equal."""
    return linear_combination((j**k, c) for k, c in enumerate(commitments))


def check_share(dealer: int, recipient: int, share: Scalar, commitments: Sequence[Point]) -> None:
    if base(share) != share_point(commitments, recipient):
        raise ShareComplaint(dealer, recipient, "f_i(j)·G differs from Σ_k j^k·C_ik")


def open_share(
    dealer: int, recipient: int, sealed: bytes, box_key: PrivateKey, commitments: Sequence[Point]
) -> Scalar:
    """Trustee `recipient` opens and checks its share from `dealer`; a failure names the dealer."""
    try:
        share = Scalar.from_bytes(SealedBox(box_key).decrypt(sealed))
    except CryptoError:
        raise ShareComplaint(dealer, recipient, "the sealed box does not open with this box key") from None
    except EncodingError:
        raise ShareComplaint(dealer, recipient, "the sealed share is not a scalar") from None
    check_share(dealer, recipient, share, commitments)
    return share


def combine_shares(shares: Iterable[Scalar]) -> Scalar:
    """s_j = Σ_i f_i(j)."""
    total = Scalar(0)
    for share in shares:
        total = total + share
    return total


def public_key(commitments: Mapping[int, Sequence[Point]]) -> Point:
    """Y = Σ_i C_i0."""
    key = point_sum(c[0] for c in commitments.values())
    if key == IDENTITY:
        raise CheckFailed("pok", "the trustees' commitments C_i0 sum to the identity")
    return key


def verification_key(commitments: Mapping[int, Sequence[Point]], j: int) -> Point:
    """V_j = Σ_i Σ_k j^k·C_ik, summed over i first so it costs t multiplications."""
    t = len(next(iter(commitments.values())))
    columns = [point_sum(c[k] for c in commitments.values()) for k in range(t)]
    return share_point(columns, j)


def verification_keys(commitments: Mapping[int, Sequence[Point]]) -> dict[int, Point]:
    return {j: verification_key(commitments, j) for j in sorted(commitments)}
