"""The homomorphic tally: sums, decryption shares with DLEQ proofs, Lagrange, discrete log.

For each option, (A, B) = Σ weight·(α, β) over the counted ballots. Each of at least t
trustees posts D_j = s_j·A with a DLEQ proof; D = Σ_{j∈S} λ_j·D_j, M = B − D = count·G,
and the count is the discrete log of M in [0, total weight] (baby-step giant-step).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from council.ballots.checks import CheckFailed, as_list, as_object
from council.ballots.encrypt import ZERO, Ciphertext, EncryptedAnswer, QuestionShape
from council.ballots.group import GENERATOR, IDENTITY, Point, Scalar, base, linear_combination, random_scalar
from council.ballots.proofs import ChallengeResponse, Draw, prove_dleq, verify_dleq

Sums = Sequence[Sequence[Ciphertext]]  # per question, per option


def sum_ballots(
    shapes: Sequence[QuestionShape], ballots: Iterable[tuple[int, Sequence[EncryptedAnswer]]]
) -> list[list[Ciphertext]]:
    """Σ weight·(α, β) per question and option over (roster weight, answers) pairs."""
    sums = [[ZERO] * shape.options for shape in shapes]
    for weight, answers in ballots:
        if weight < 0:
            raise ValueError("weights are non-negative")
        for q, answer in enumerate(answers):
            for k, choice in enumerate(answer.choices):
                sums[q][k] = sums[q][k] + (choice if weight == 1 else choice.times(weight))
    return sums


@dataclass(frozen=True, slots=True)
class DecryptionShare:
    """D_j = s_j·A for one sum, with the proof that log_A D_j = log_G V_j."""

    d: Point
    proof: ChallengeResponse

    def to_json(self) -> dict[str, str]:
        return {"D": self.d.hex(), "c": self.proof.c.hex(), "s": self.proof.s.hex()}

    @classmethod
    def from_json(cls, value: object, what: str) -> DecryptionShare:
        fields = as_object(value, ("D", "c", "s"), what)
        proof = ChallengeResponse.from_json({"c": fields["c"], "s": fields["s"]}, what)
        return cls(Point.from_hex(fields["D"], f"{what}.D"), proof)


def decryption_share(
    fingerprint: bytes, j: int, share: Scalar, a_point: Point, *, draw: Draw = random_scalar
) -> DecryptionShare:
    d, proof = prove_dleq(fingerprint, j, share, a_point, draw=draw)
    return DecryptionShare(d, proof)


def decryption_shares(
    fingerprint: bytes, j: int, share: Scalar, sums: Sums, *, draw: Draw = random_scalar
) -> list[list[DecryptionShare]]:
    """Trustee j's shares for every sum, in question then option order (the board's `shares`)."""
    return [[decryption_share(fingerprint, j, share, s.alpha, draw=draw) for s in row] for row in sums]


def shares_to_json(shares: Sequence[Sequence[DecryptionShare]]) -> list[list[dict[str, str]]]:
    return [[share.to_json() for share in row] for row in shares]


def shares_from_json(value: object, what: str = "shares") -> list[list[DecryptionShare]]:
    return [
        [
            DecryptionShare.from_json(s, f"{what}[{q}][{k}]")
            for k, s in enumerate(as_list(row, f"{what}[{q}]"))
        ]
        for q, row in enumerate(as_list(value, what))
    ]


def verify_decryption_shares(
    fingerprint: bytes, j: int, vk: Point, sums: Sums, shares: Sequence[Sequence[DecryptionShare]]
) -> None:
    """Raises CheckFailed("dleq") naming trustee j and the question and option."""
    if [len(row) for row in shares] != [len(row) for row in sums]:
        raise CheckFailed("shape", f"trustee {j}: one share per question and option is expected")
    for q, (sum_row, share_row) in enumerate(zip(sums, shares, strict=True)):
        for k, (total, share) in enumerate(zip(sum_row, share_row, strict=True)):
            verify_dleq(
                fingerprint, j, vk, total.alpha, share.d, share.proof, where=f"question {q}, option {k}"
            )


def lagrange_coefficient(j: int, indexes: Collection[int]) -> Scalar:
    """λ_j = Π_{k∈S, k≠j} k/(k−j) mod ℓ, for interpolating at 0."""
    if j not in indexes or any(k < 1 for k in indexes) or len(set(indexes)) != len(indexes):
        raise ValueError("indexes are distinct trustees 1..n and include j")
    numerator = Scalar(1)
    denominator = Scalar(1)
    for k in indexes:
        if k != j:
            numerator = numerator * Scalar.of(k)
            denominator = denominator * Scalar.of(k - j)
    return numerator * denominator.inverse()


def combine(shares: Mapping[int, Point]) -> Point:
    """D = Σ_{j∈S} λ_j·D_j."""
    return linear_combination((lagrange_coefficient(j, shares.keys()), d) for j, d in shares.items())


@lru_cache(maxsize=8)
def _baby_steps(m: int) -> dict[bytes, int]:
    table: dict[bytes, int] = {}
    point = IDENTITY
    for i in range(m):
        table[point.to_bytes()] = i
        point = point + GENERATOR
    return table


def discrete_log(m: Point, bound: int) -> int:
    """The x ∈ [0, bound] with x·G = M (baby-step giant-step), or CheckFailed("count")."""
    if bound < 0:
        raise ValueError("bound is non-negative")
    step = math.isqrt(bound) + 1
    table = _baby_steps(step)
    giant = base(step)
    gamma = m
    for i in range(step + 1):
        found = table.get(gamma.to_bytes())
        if found is not None:
            x = i * step + found
            if x <= bound:
                return x
            break
        gamma = gamma - giant
    raise CheckFailed("count", f"the decrypted sum is not count·G for any count in 0..{bound}")


def decrypt(ciphertext: Ciphertext, shares: Mapping[int, Point], t: int, bound: int) -> int:
    """The count in a sum from at least t trustees' D_j (keys: trustee indexes)."""
    if len(shares) < t:
        raise CheckFailed("threshold", f"{len(shares)} decryption shares, at least {t} are needed")
    return discrete_log(ciphertext.beta - combine(shares), bound)


def decrypt_sums(
    sums: Sums, shares: Mapping[int, Sequence[Sequence[DecryptionShare]]], t: int, bound: int
) -> list[list[int]]:
    """Counts per question and option from verified shares {trustee j: shares per question, option}."""
    counts: list[list[int]] = []
    for q, row in enumerate(sums):
        counts.append(
            [
                decrypt(total, {j: by_trustee[q][k].d for j, by_trustee in shares.items()}, t, bound)
                for k, total in enumerate(row)
            ]
        )
    return counts
