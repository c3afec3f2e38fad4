"""Zero-knowledge proofs of the scheme, strong Fiat–Shamir (every public input hashed).

How the fingerprints enter the challenges (fixed by shared/ballot-vectors.json, which
decides between the two readings): F₀ and F go in as their 32 raw SHA-256 bytes, not as
their 64-character hex text. Indexes (trustee i or j, question, option) go in as decimal
ASCII, the alias as UTF-8 (NFC, as canonical JSON stores it), points as their 32-byte
encodings. Each item is one length-prefixed part of H (group.hash_to_scalar):

- proof of knowledge of a_i0: c = H(pok, F₀, i, C_i0, A), s = w + c·a_i0; the verifier
  rebuilds A = s·G − c·C_i0.
- range proof that (α, β) encrypts some v ∈ V under Y: c = H(range, F, alias, question,
  option or the bytes "overall", α, β, A_v, B_v for each v in the order of V), with
  A_v = s_v·G − c_v·α and B_v = s_v·Y − c_v·(β − v·G); the proof is [(c_v, s_v)] in the
  order of V and the verifier checks Σ c_v = c.
- DLEQ for a decryption share: c = H(dleq, F, j, V_j, A, D_j, a, b), s = w + c·s_j; the
  verifier rebuilds a = s·G − c·V_j and b = s·A − c·D_j, which is the same as checking
  s·G = a + c·V_j and s·A = b + c·D_j.

Provers take `draw`, the source of their random scalars, only so tests can replay the
known-answer vectors; leave it at its default (the OS CSPRNG) everywhere else. Each prover
documents the order in which it draws.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from council.ballots.checks import Check, CheckFailed, as_list, as_object
from council.ballots.group import GENERATOR, Point, Scalar, base, hash_to_scalar, random_scalar

Draw = Callable[[], Scalar]

TAG_POK: Final = b"council/v1/pok"
TAG_RANGE: Final = b"council/v1/range"
TAG_DLEQ: Final = b"council/v1/dleq"
OVERALL: Final = b"overall"


@dataclass(frozen=True, slots=True)
class ChallengeResponse:
    """One (c, s) pair: a Schnorr or DLEQ proof, or one branch of a range proof."""

    c: Scalar
    s: Scalar

    def to_json(self) -> dict[str, str]:
        return {"c": self.c.hex(), "s": self.s.hex()}

    @classmethod
    def from_json(cls, value: object, what: str = "proof") -> ChallengeResponse:
        fields = as_object(value, ("c", "s"), what)
        return cls(Scalar.from_hex(fields["c"], f"{what}.c"), Scalar.from_hex(fields["s"], f"{what}.s"))


RangeProof = tuple[ChallengeResponse, ...]


def range_proof_to_json(proof: RangeProof) -> list[dict[str, str]]:
    return [branch.to_json() for branch in proof]


def range_proof_from_json(value: object, what: str) -> RangeProof:
    return tuple(
        ChallengeResponse.from_json(item, f"{what}[{k}]") for k, item in enumerate(as_list(value, what))
    )


def _decimal(index: int) -> bytes:
    if index < 0:
        raise ValueError("indexes are non-negative")
    return str(index).encode("ascii")


# Proof of knowledge of a trustee's a_i0 -------------------------------------------------


def pok_challenge(f0: bytes, index: int, commitment: Point, a: Point) -> Scalar:
    return hash_to_scalar(TAG_POK, f0, _decimal(index), commitment.to_bytes(), a.to_bytes())


def prove_pok(f0: bytes, index: int, secret: Scalar, *, draw: Draw = random_scalar) -> ChallengeResponse:
    """Proof that trustee `index` knows a_i0 = `secret` of C_i0 = a_i0·G. Draws w."""
    w = draw()
    c = pok_challenge(f0, index, secret * base(1), base(w))
    return ChallengeResponse(c, w + c * secret)


def verify_pok(f0: bytes, index: int, commitment: Point, proof: ChallengeResponse) -> None:
    if commitment.is_identity:
        raise CheckFailed("pok", f"trustee {index}: C_{index}0 is the identity")
    a = base(proof.s) - proof.c * commitment
    if pok_challenge(f0, index, commitment, a) != proof.c:
        raise CheckFailed("pok", f"trustee {index}: the proof of knowledge of a_{index}0 does not verify")


# Disjunctive Chaum–Pedersen range proof ------------------------------------------------


@dataclass(frozen=True, slots=True)
class RangeContext:
    """Who and where a range proof is for: it binds the ballot to its voter and place."""

    fingerprint: bytes
    alias: str
    question: int
    option: int | None  # None for the question's overall proof

    def parts(self) -> tuple[bytes, ...]:
        if len(self.fingerprint) != 32:
            raise ValueError("the election fingerprint F is 32 bytes")
        option = OVERALL if self.option is None else _decimal(self.option)
        alias = unicodedata.normalize("NFC", self.alias).encode("utf-8")
        return (self.fingerprint, alias, _decimal(self.question), option)

    def where(self) -> str:
        if self.option is None:
            return f"answers[{self.question}].overall"
        return f"answers[{self.question}].proofs[{self.option}]"


def _range_challenge(
    context: RangeContext, alpha: Point, beta: Point, commitments: Sequence[tuple[Point, Point]]
) -> Scalar:
    parts: list[bytes] = [*context.parts(), alpha.to_bytes(), beta.to_bytes()]
    for a, b in commitments:
        parts += (a.to_bytes(), b.to_bytes())
    return hash_to_scalar(TAG_RANGE, *parts)


def _simulated(
    public_key: Point, alpha: Point, beta: Point, v: int, c: Scalar, s: Scalar
) -> tuple[Point, Point]:
    # Most branches are v = 0 or 1: skip the multiplication by a small base multiple there.
    shifted = beta if v == 0 else beta - (GENERATOR if v == 1 else base(v))
    return base(s) - c * alpha, s * public_key - c * shifted


def prove_range(
    context: RangeContext,
    public_key: Point,
    alpha: Point,
    beta: Point,
    values: Sequence[int],
    value: int,
    r: Scalar,
    *,
    draw: Draw = random_scalar,
) -> RangeProof:
    """Proof that (α, β) = (r·G, value·G + r·Y) encrypts some v ∈ `values`.

    Draws w for the real branch, then c_v and s_v for each other v in the order of
    `values`. It does not check that (α, β) really encrypts `value` with r: given a
    ciphertext that does not, it returns a proof that fails (tests play a cheating
    prover that way).
    """
    if len(set(values)) != len(values) or value not in values:
        raise ValueError("value must be one of distinct values")
    w = draw()
    simulated: dict[int, ChallengeResponse] = {}
    commitments: list[tuple[Point, Point]] = []
    for v in values:
        if v == value:
            commitments.append((base(w), w * public_key))
        else:
            branch = ChallengeResponse(draw(), draw())
            simulated[v] = branch
            commitments.append(_simulated(public_key, alpha, beta, v, branch.c, branch.s))
    c = _range_challenge(context, alpha, beta, commitments)
    real_c = c
    for branch in simulated.values():
        real_c = real_c - branch.c
    real = ChallengeResponse(real_c, w + real_c * r)
    return tuple(real if v == value else simulated[v] for v in values)


def verify_range(
    context: RangeContext,
    public_key: Point,
    alpha: Point,
    beta: Point,
    values: Sequence[int],
    proof: RangeProof,
    *,
    meaning: str = "",
) -> None:
    """Raises CheckFailed("range") for an option's proof, ("overall") for a question's."""
    check: Check = "overall" if context.option is None else "range"
    if len(proof) != len(values):
        raise CheckFailed("shape", f"{context.where()}: expected {len(values)} branches, got {len(proof)}")
    commitments = [
        _simulated(public_key, alpha, beta, v, b.c, b.s) for v, b in zip(values, proof, strict=True)
    ]
    total = Scalar(0)
    for branch in proof:
        total = total + branch.c
    if _range_challenge(context, alpha, beta, commitments) != total:
        claim = meaning or f"the value is one of {_describe(values)}"
        raise CheckFailed(check, f"{context.where()}: the proof that {claim} does not verify")


def _describe(values: Sequence[int]) -> str:
    if len(values) > 2 and list(values) == list(range(values[0], values[-1] + 1)):
        return f"{values[0]}..{values[-1]}"
    return ", ".join(str(v) for v in values)


# DLEQ proof for a decryption share -----------------------------------------------------


def dleq_challenge(
    fingerprint: bytes, j: int, vk: Point, a_point: Point, d: Point, a: Point, b: Point
) -> Scalar:
    return hash_to_scalar(
        TAG_DLEQ,
        fingerprint,
        _decimal(j),
        vk.to_bytes(),
        a_point.to_bytes(),
        d.to_bytes(),
        a.to_bytes(),
        b.to_bytes(),
    )


def prove_dleq(
    fingerprint: bytes, j: int, share: Scalar, a_point: Point, *, draw: Draw = random_scalar
) -> tuple[Point, ChallengeResponse]:
    """D_j = s_j·A and the proof that log_G V_j = log_A D_j. Draws w."""
    d = share * a_point
    w = draw()
    c = dleq_challenge(fingerprint, j, base(share), a_point, d, base(w), w * a_point)
    return d, ChallengeResponse(c, w + c * share)


def verify_dleq(
    fingerprint: bytes,
    j: int,
    vk: Point,
    a_point: Point,
    d: Point,
    proof: ChallengeResponse,
    *,
    where: str = "",
) -> None:
    a = base(proof.s) - proof.c * vk
    b = proof.s * a_point - proof.c * d
    if dleq_challenge(fingerprint, j, vk, a_point, d, a, b) != proof.c:
        place = f" ({where})" if where else ""
        raise CheckFailed("dleq", f"trustee {j}{place}: the decryption share's proof does not verify")
