"""A voter's answers: exponential ElGamal per option, with their proofs (the Python client).

Per question of k options and per option j: m_j ∈ {0, 1}, α_j = r_j·G, β_j = m_j·G + r_j·Y,
a range proof over {0, 1}, then one overall range proof on (Σ w_j·α_j, Σ w_j·β_j) with
w_j = 1 (Σ m_j ∈ [min, max]) or w_j = the option's cost (budget question: Σ w_j·m_j ∈
[0, budget]). JSON shapes are the board's (shared/BALLOTS.md, "Record format").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from council.ballots.checks import CheckFailed, EncodingError, as_list, as_object
from council.ballots.group import IDENTITY, Point, Scalar, base, random_scalar
from council.ballots.proofs import (
    Draw,
    RangeContext,
    RangeProof,
    prove_range,
    range_proof_from_json,
    range_proof_to_json,
    verify_range,
)
from council.canonical import canonical_bytes, sha256_hex

MAX_BUDGET: Final = 200
CHOICE_VALUES: Final = (0, 1)


@dataclass(frozen=True, slots=True)
class QuestionShape:
    """What the proofs enforce about one question: k options, min..max or costs and a budget.

    For a budget question only the budget is proved (Σ cost·m ≤ budget); min and max
    are not.
    """

    options: int
    min: int
    max: int
    costs: tuple[int, ...] | None = None
    budget: int | None = None

    def __post_init__(self) -> None:
        if self.options < 1:
            raise ValueError("a question has at least one option")
        if (self.costs is None) != (self.budget is None):
            raise ValueError("a budget question has both costs and a budget")
        if self.costs is not None and self.budget is not None:
            if len(self.costs) != self.options or any(cost < 1 for cost in self.costs):
                raise ValueError("one positive whole cost per option")
            if not 1 <= self.budget <= MAX_BUDGET:
                raise ValueError(f"a budget is 1..{MAX_BUDGET} units")
        elif not 0 <= self.min <= self.max <= self.options:
            raise ValueError("need 0 ≤ min ≤ max ≤ number of options")

    @classmethod
    def from_json(cls, question: Mapping[str, Any]) -> QuestionShape:
        """From a manifest question {text, options: [..], min, max, costs, budget}."""
        costs = question.get("costs")
        return cls(
            options=len(question["options"]),
            min=question["min"],
            max=question["max"],
            costs=None if costs is None else tuple(costs),
            budget=question.get("budget"),
        )

    def weights(self) -> tuple[int, ...]:
        return self.costs if self.costs is not None else (1,) * self.options

    def overall_values(self) -> tuple[int, ...]:
        if self.budget is not None:
            return tuple(range(self.budget + 1))
        return tuple(range(self.min, self.max + 1))

    def overall_meaning(self) -> str:
        if self.budget is not None:
            return f"the chosen options cost at most {self.budget}"
        if self.min == self.max:
            return f"exactly {self.min} option(s) are chosen"
        return f"{self.min} to {self.max} options are chosen"

    def allows(self, selection: Sequence[int]) -> bool:
        if len(selection) != self.options or any(m not in CHOICE_VALUES for m in selection):
            return False
        return sum(w * m for w, m in zip(self.weights(), selection, strict=True)) in self.overall_values()


@dataclass(frozen=True, slots=True)
class Ciphertext:
    alpha: Point
    beta: Point

    def __add__(self, other: Ciphertext) -> Ciphertext:
        return Ciphertext(self.alpha + other.alpha, self.beta + other.beta)

    def times(self, k: int) -> Ciphertext:
        return Ciphertext(self.alpha.times(k), self.beta.times(k))

    def to_json(self) -> dict[str, str]:
        return {"alpha": self.alpha.hex(), "beta": self.beta.hex()}

    @classmethod
    def from_json(cls, value: object, what: str) -> Ciphertext:
        fields = as_object(value, ("alpha", "beta"), what)
        return cls(
            Point.from_hex(fields["alpha"], f"{what}.alpha"), Point.from_hex(fields["beta"], f"{what}.beta")
        )


ZERO: Final = Ciphertext(IDENTITY, IDENTITY)


def weighted_sum(terms: Sequence[tuple[int, Ciphertext]]) -> Ciphertext:
    """Σ w·(α, β): encrypts Σ w·m under randomness Σ w·r."""
    total = ZERO
    for weight, ciphertext in terms:
        total = total + (ciphertext if weight == 1 else ciphertext.times(weight))
    return total


@dataclass(frozen=True, slots=True)
class EncryptedAnswer:
    choices: tuple[Ciphertext, ...]
    proofs: tuple[RangeProof, ...]
    overall: RangeProof

    def to_json(self) -> dict[str, Any]:
        return {
            "choices": [c.to_json() for c in self.choices],
            "proofs": [range_proof_to_json(p) for p in self.proofs],
            "overall": range_proof_to_json(self.overall),
        }

    @classmethod
    def from_json(cls, value: object, what: str) -> EncryptedAnswer:
        fields = as_object(value, ("choices", "proofs", "overall"), what)
        choices = as_list(fields["choices"], f"{what}.choices")
        proofs = as_list(fields["proofs"], f"{what}.proofs")
        return cls(
            tuple(Ciphertext.from_json(c, f"{what}.choices[{j}]") for j, c in enumerate(choices)),
            tuple(range_proof_from_json(p, f"{what}.proofs[{j}]") for j, p in enumerate(proofs)),
            range_proof_from_json(fields["overall"], f"{what}.overall"),
        )


@dataclass(frozen=True, slots=True)
class Reveal:
    """What an audited (spoiled) answer discloses: every m_j and r_j."""

    m: tuple[int, ...]
    r: tuple[Scalar, ...]

    def to_json(self) -> dict[str, Any]:
        return {"m": list(self.m), "r": [r.hex() for r in self.r]}

    @classmethod
    def from_json(cls, value: object, what: str) -> Reveal:
        fields = as_object(value, ("m", "r"), what)
        m = as_list(fields["m"], f"{what}.m")
        if any(type(v) is not int for v in m):
            raise EncodingError(f"{what}.m must hold integers")
        r = as_list(fields["r"], f"{what}.r")
        return cls(tuple(m), tuple(Scalar.from_hex(x, f"{what}.r[{j}]") for j, x in enumerate(r)))


def encrypt_answer(
    fingerprint: bytes,
    alias: str,
    question: int,
    shape: QuestionShape,
    public_key: Point,
    selection: Sequence[int],
    *,
    draw: Draw = random_scalar,
) -> tuple[EncryptedAnswer, Reveal]:
    """Encrypts one question's selection (m_j per option) with its proofs.

    Draws, per option in order: r_j, then its range proof's scalars (proofs.prove_range);
    then the overall proof's scalars.
    """
    if not shape.allows(selection):
        raise CheckFailed("selection", f"answers[{question}]: the selection breaks the question's rule")
    choices: list[Ciphertext] = []
    proofs: list[RangeProof] = []
    rs: list[Scalar] = []
    for j, m in enumerate(selection):
        r = draw()
        ciphertext = Ciphertext(base(r), base(m) + r * public_key)
        context = RangeContext(fingerprint, alias, question, j)
        proofs.append(
            prove_range(
                context, public_key, ciphertext.alpha, ciphertext.beta, CHOICE_VALUES, m, r, draw=draw
            )
        )
        choices.append(ciphertext)
        rs.append(r)
    weights = shape.weights()
    total = weighted_sum(list(zip(weights, choices, strict=True)))
    total_r = Scalar(0)
    for w, r in zip(weights, rs, strict=True):
        total_r = total_r + Scalar.of(w) * r
    overall = prove_range(
        RangeContext(fingerprint, alias, question, None),
        public_key,
        total.alpha,
        total.beta,
        shape.overall_values(),
        sum(w * m for w, m in zip(weights, selection, strict=True)),
        total_r,
        draw=draw,
    )
    return EncryptedAnswer(tuple(choices), tuple(proofs), overall), Reveal(tuple(selection), tuple(rs))


def verify_answer(
    fingerprint: bytes,
    alias: str,
    question: int,
    shape: QuestionShape,
    public_key: Point,
    answer: EncryptedAnswer,
) -> None:
    """Raises CheckFailed naming the first failing check ("shape", "range", "overall")."""
    where = f"answers[{question}]"
    if len(answer.choices) != shape.options or len(answer.proofs) != shape.options:
        raise CheckFailed("shape", f"{where}: expected {shape.options} choices and proofs")
    for j, (ciphertext, proof) in enumerate(zip(answer.choices, answer.proofs, strict=True)):
        verify_range(
            RangeContext(fingerprint, alias, question, j),
            public_key,
            ciphertext.alpha,
            ciphertext.beta,
            CHOICE_VALUES,
            proof,
            meaning="the choice is 0 or 1",
        )
    total = weighted_sum(list(zip(shape.weights(), answer.choices, strict=True)))
    verify_range(
        RangeContext(fingerprint, alias, question, None),
        public_key,
        total.alpha,
        total.beta,
        shape.overall_values(),
        answer.overall,
        meaning=shape.overall_meaning(),
    )


def check_reveal(question: int, public_key: Point, answer: EncryptedAnswer, reveal: Reveal) -> None:
    """An audited answer: the revealed m_j and r_j must give exactly its ciphertexts."""
    where = f"answers[{question}]"
    if not len(reveal.m) == len(reveal.r) == len(answer.choices):
        raise CheckFailed("shape", f"{where}: the reveal needs one m and one r per choice")
    for j, (m, r, ciphertext) in enumerate(zip(reveal.m, reveal.r, answer.choices, strict=True)):
        if m not in CHOICE_VALUES or Ciphertext(base(r), base(m) + r * public_key) != ciphertext:
            raise CheckFailed(
                "reveal", f"{where}.choices[{j}]: the revealed m and r do not give this ciphertext"
            )


def encrypt_ballot(
    fingerprint: bytes,
    alias: str,
    shapes: Sequence[QuestionShape],
    public_key: Point,
    selections: Sequence[Sequence[int]],
    *,
    draw: Draw = random_scalar,
) -> tuple[tuple[EncryptedAnswer, ...], tuple[Reveal, ...]]:
    if len(selections) != len(shapes):
        raise CheckFailed("shape", "one selection per question")
    pairs = [
        encrypt_answer(fingerprint, alias, q, shape, public_key, selection, draw=draw)
        for q, (shape, selection) in enumerate(zip(shapes, selections, strict=True))
    ]
    return tuple(a for a, _ in pairs), tuple(r for _, r in pairs)


def verify_ballot(
    fingerprint: bytes,
    alias: str,
    shapes: Sequence[QuestionShape],
    public_key: Point,
    answers: Sequence[EncryptedAnswer],
) -> None:
    if len(answers) != len(shapes):
        raise CheckFailed("shape", f"expected {len(shapes)} answers, got {len(answers)}")
    for q, (shape, answer) in enumerate(zip(shapes, answers, strict=True)):
        verify_answer(fingerprint, alias, q, shape, public_key, answer)


def answers_to_json(answers: Sequence[EncryptedAnswer]) -> list[dict[str, Any]]:
    return [a.to_json() for a in answers]


def answers_from_json(value: object) -> tuple[EncryptedAnswer, ...]:
    return tuple(
        EncryptedAnswer.from_json(a, f"answers[{q}]") for q, a in enumerate(as_list(value, "answers"))
    )


def tracking_code(alias: str, answers: Sequence[EncryptedAnswer]) -> str:
    """SHA-256(canonical({alias, answers})) in hex, answers in the board's JSON shape."""
    return sha256_hex(canonical_bytes({"alias": alias, "answers": answers_to_json(answers)}))
