"""proofs.py and encrypt.py: honest proofs verify, tampered or misplaced ones are refused."""

from __future__ import annotations

import unicodedata
from dataclasses import replace

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from council.ballots.checks import CheckFailed, EncodingError
from council.ballots.encrypt import (
    Ciphertext,
    EncryptedAnswer,
    QuestionShape,
    Reveal,
    answers_from_json,
    answers_to_json,
    check_reveal,
    encrypt_answer,
    encrypt_ballot,
    tracking_code,
    verify_answer,
    verify_ballot,
)
from council.ballots.group import GENERATOR, ORDER, Point, Scalar, base
from council.ballots.proofs import (
    ChallengeResponse,
    RangeContext,
    prove_dleq,
    prove_pok,
    prove_range,
    verify_dleq,
    verify_pok,
    verify_range,
)
from council.canonical import canonical_bytes, sha256_hex

fast = settings(max_examples=25, deadline=None)
nonzero = st.integers(1, ORDER - 1).map(Scalar)
aliases = st.text(min_size=1, max_size=10)
F = bytes(range(32))
SECRET = Scalar(0x1234567890ABCDEF)
Y = base(SECRET)
YES_NO_ABSTAIN = QuestionShape(options=3, min=1, max=1)
APPROVAL = QuestionShape(options=4, min=0, max=2)
BUDGET = QuestionShape(options=4, min=0, max=4, costs=(3, 5, 2, 7), budget=10)


def _one(value: Scalar) -> Scalar:
    return value + Scalar(1)


def _encrypt(m: int, r: Scalar) -> Ciphertext:
    return Ciphertext(base(r), base(m) + r * Y)


def _context(alias: str = "1-3-0502", question: int = 0, option: int | None = 0) -> RangeContext:
    return RangeContext(F, alias, question, option)


# Proof of knowledge ---------------------------------------------------------------------


@fast
@given(nonzero, st.integers(1, 30))
def test_pok_verifies_and_binds_index_and_f0(secret: Scalar, i: int) -> None:
    proof = prove_pok(F, i, secret)
    commitment = base(secret)
    verify_pok(F, i, commitment, proof)
    for f0, index, c, p in [
        (F, i + 1, commitment, proof),
        (bytes(32), i, commitment, proof),
        (F, i, commitment + GENERATOR, proof),
        (F, i, commitment, replace(proof, c=_one(proof.c))),
        (F, i, commitment, replace(proof, s=_one(proof.s))),
    ]:
        with pytest.raises(CheckFailed) as failure:
            verify_pok(f0, index, c, p)
        assert failure.value.check == "pok"


# Range proofs ---------------------------------------------------------------------------


@fast
@given(st.sampled_from([0, 1]), nonzero, aliases)
def test_range_proof_verifies_for_every_valid_value(m: int, r: Scalar, alias: str) -> None:
    ct = _encrypt(m, r)
    context = _context(alias)
    proof = prove_range(context, Y, ct.alpha, ct.beta, (0, 1), m, r)
    verify_range(context, Y, ct.alpha, ct.beta, (0, 1), proof)


@fast
@given(st.integers(0, 6), nonzero)
def test_wider_range_proofs_verify(value: int, r: Scalar) -> None:
    values = tuple(range(7))
    ct = _encrypt(value, r)
    proof = prove_range(_context(option=None), Y, ct.alpha, ct.beta, values, value, r)
    verify_range(_context(option=None), Y, ct.alpha, ct.beta, values, proof)


@fast
@given(st.sampled_from([0, 1]), nonzero, st.integers(0, 1), st.sampled_from(["c", "s", "alpha", "beta"]))
def test_tampered_range_proofs_fail(m: int, r: Scalar, branch: int, part: str) -> None:
    ct = _encrypt(m, r)
    context = _context()
    proof = list(prove_range(context, Y, ct.alpha, ct.beta, (0, 1), m, r))
    alpha, beta = ct.alpha, ct.beta
    if part == "c":
        proof[branch] = replace(proof[branch], c=_one(proof[branch].c))
    elif part == "s":
        proof[branch] = replace(proof[branch], s=_one(proof[branch].s))
    elif part == "alpha":
        alpha = alpha + GENERATOR
    else:
        beta = beta + GENERATOR
    with pytest.raises(CheckFailed) as failure:
        verify_range(context, Y, alpha, beta, (0, 1), tuple(proof))
    assert failure.value.check == "range"
    assert "answers[0].proofs[0]" in str(failure.value)


@fast
@given(st.sampled_from([0, 1]), nonzero, aliases, aliases)
def test_a_proof_for_one_alias_fails_for_another(m: int, r: Scalar, alias: str, other: str) -> None:
    assume(unicodedata.normalize("NFC", alias) != unicodedata.normalize("NFC", other))
    ct = _encrypt(m, r)
    proof = prove_range(_context(alias), Y, ct.alpha, ct.beta, (0, 1), m, r)
    with pytest.raises(CheckFailed, match="does not verify"):
        verify_range(_context(other), Y, ct.alpha, ct.beta, (0, 1), proof)


@pytest.mark.parametrize(
    "elsewhere",
    [
        RangeContext(F, "1-3-0502", 1, 0),
        RangeContext(F, "1-3-0502", 0, 1),
        RangeContext(F, "1-3-0502", 0, None),
        RangeContext(bytes(32), "1-3-0502", 0, 0),
    ],
)
def test_a_proof_is_bound_to_its_election_question_and_option(elsewhere: RangeContext) -> None:
    r = Scalar(987654321)
    ct = _encrypt(1, r)
    proof = prove_range(_context(), Y, ct.alpha, ct.beta, (0, 1), 1, r)
    with pytest.raises(CheckFailed):
        verify_range(elsewhere, Y, ct.alpha, ct.beta, (0, 1), proof)


@fast
@given(nonzero, st.sampled_from([0, 1]))
def test_a_cheating_prover_cannot_prove_a_vote_of_two(r: Scalar, claim: int) -> None:
    # The prover runs the protocol honestly for a claimed 0 or 1 on a ciphertext of 2.
    ct = _encrypt(2, r)
    proof = prove_range(_context(), Y, ct.alpha, ct.beta, (0, 1), claim, r)
    with pytest.raises(CheckFailed) as failure:
        verify_range(_context(), Y, ct.alpha, ct.beta, (0, 1), proof)
    assert failure.value.check == "range"


@fast
@given(nonzero, nonzero, nonzero, nonzero, nonzero)
def test_simulating_every_branch_does_not_pass(
    r: Scalar, c0: Scalar, s0: Scalar, c1: Scalar, s1: Scalar
) -> None:
    ct = _encrypt(2, r)
    with pytest.raises(CheckFailed):
        verify_range(
            _context(), Y, ct.alpha, ct.beta, (0, 1), (ChallengeResponse(c0, s0), ChallengeResponse(c1, s1))
        )


def test_wrong_branch_count_is_a_shape_failure() -> None:
    r = Scalar(5)
    ct = _encrypt(0, r)
    proof = prove_range(_context(), Y, ct.alpha, ct.beta, (0, 1), 0, r)
    with pytest.raises(CheckFailed) as failure:
        verify_range(_context(), Y, ct.alpha, ct.beta, (0, 1), proof[:1])
    assert failure.value.check == "shape"


# Whole answers ----------------------------------------------------------------------------


def _selections(shape: QuestionShape) -> st.SearchStrategy[list[int]]:
    return st.lists(st.sampled_from([0, 1]), min_size=shape.options, max_size=shape.options).filter(
        shape.allows
    )


@fast
@given(st.data(), st.sampled_from([YES_NO_ABSTAIN, APPROVAL, BUDGET]))
def test_answers_verify_and_their_reveal_matches(data: st.DataObject, shape: QuestionShape) -> None:
    selection = data.draw(_selections(shape))
    answer, reveal = encrypt_answer(F, "2-1-0101", 3, shape, Y, selection)
    verify_answer(F, "2-1-0101", 3, shape, Y, answer)
    check_reveal(3, Y, answer, reveal)
    assert [c.beta - SECRET * c.alpha for c in answer.choices] == [base(m) for m in selection]
    again = EncryptedAnswer.from_json(answer.to_json(), "answers[3]")
    assert again == answer
    assert Reveal.from_json(reveal.to_json(), "reveal") == reveal
    wrong = Reveal(tuple(1 - m for m in reveal.m), reveal.r)
    with pytest.raises(CheckFailed) as failure:
        check_reveal(3, Y, answer, wrong)
    assert failure.value.check == "reveal"


def test_an_answer_moved_to_another_voter_fails() -> None:
    answer, _ = encrypt_answer(F, "1-1-0101", 0, YES_NO_ABSTAIN, Y, [1, 0, 0])
    with pytest.raises(CheckFailed) as failure:
        verify_answer(F, "1-1-0102", 0, YES_NO_ABSTAIN, Y, answer)
    assert failure.value.check == "range"


@pytest.mark.parametrize(
    ("shape", "selection", "claim"),
    [
        (YES_NO_ABSTAIN, [1, 1, 0], 1),  # two options on a choose-one question
        (YES_NO_ABSTAIN, [0, 0, 0], 1),  # none chosen
        (APPROVAL, [1, 1, 1, 0], 2),  # over max
        (BUDGET, [1, 1, 1, 0], 10),  # costs 3 + 5 + 2 = 10: allowed, the control case
        (BUDGET, [0, 1, 0, 1], 10),  # costs 12 > 10
    ],
)
def test_a_cheating_prover_cannot_break_the_question_rule(
    shape: QuestionShape, selection: list[int], claim: int
) -> None:
    # Honest per-option proofs, then an overall proof run for an allowed total `claim`.
    choices, proofs, rs = [], [], []
    for j, m in enumerate(selection):
        r = Scalar.random()
        ct = _encrypt(m, r)
        choices.append(ct)
        rs.append(r)
        proofs.append(prove_range(RangeContext(F, "a", 0, j), Y, ct.alpha, ct.beta, (0, 1), m, r))
    weights = shape.weights()
    total_alpha = sum_points([c.alpha.times(w) for c, w in zip(choices, weights, strict=True)])
    total_beta = sum_points([c.beta.times(w) for c, w in zip(choices, weights, strict=True)])
    total_r = Scalar.of(sum(w * r.value for w, r in zip(weights, rs, strict=True)))
    overall = prove_range(
        RangeContext(F, "a", 0, None), Y, total_alpha, total_beta, shape.overall_values(), claim, total_r
    )
    answer = EncryptedAnswer(tuple(choices), tuple(proofs), overall)
    if shape.allows(selection):
        verify_answer(F, "a", 0, shape, Y, answer)
        return
    with pytest.raises(CheckFailed) as failure:
        verify_answer(F, "a", 0, shape, Y, answer)
    assert failure.value.check == "overall"
    assert "answers[0].overall" in str(failure.value)
    with pytest.raises(CheckFailed) as refused:
        encrypt_answer(F, "a", 0, shape, Y, selection)
    assert refused.value.check == "selection"


def sum_points(points: list[Point]) -> Point:
    total = points[0]
    for p in points[1:]:
        total = total + p
    return total


def test_ballots_and_tracking_codes() -> None:
    shapes = [YES_NO_ABSTAIN, APPROVAL, BUDGET]
    answers, _ = encrypt_ballot(F, "社区-1", shapes, Y, [[0, 0, 1], [1, 0, 1, 0], [1, 0, 1, 0]])
    verify_ballot(F, "社区-1", shapes, Y, answers)
    board = answers_to_json(answers)
    assert answers_from_json(board) == answers
    code = tracking_code("社区-1", answers)
    assert code == sha256_hex(canonical_bytes({"alias": "社区-1", "answers": board}))
    assert len(code) == 64
    with pytest.raises(CheckFailed) as failure:
        verify_ballot(F, "社区-1", shapes[:2], Y, answers)
    assert failure.value.check == "shape"


@pytest.mark.parametrize(
    "mutate",
    [
        lambda a: a.update(extra=1),
        lambda a: a["choices"][0].update(alpha=a["choices"][0]["alpha"].upper()),
        lambda a: a["choices"][0].update(beta=("ff" * 32)),
        lambda a: a["proofs"][0][0].update(c=("ff" * 32)),
        lambda a: a.update(overall={"c": "00" * 32, "s": "00" * 32}),
    ],
)
def test_malformed_answers_are_encoding_failures(mutate: object) -> None:
    answer, _ = encrypt_answer(F, "a", 0, YES_NO_ABSTAIN, Y, [0, 1, 0])
    data = answer.to_json()
    mutate(data)  # type: ignore[operator]
    with pytest.raises(EncodingError) as failure:
        EncryptedAnswer.from_json(data, "answers[0]")
    assert failure.value.check == "encoding"


# DLEQ -------------------------------------------------------------------------------------


@fast
@given(nonzero, nonzero, st.integers(1, 9))
def test_dleq_verifies_and_fails_with_the_wrong_share(share: Scalar, a_scalar: Scalar, j: int) -> None:
    a_point = base(a_scalar)
    vk = base(share)
    d, proof = prove_dleq(F, j, share, a_point)
    assert d == share * a_point
    verify_dleq(F, j, vk, a_point, d, proof)
    wrong_d, wrong_proof = prove_dleq(F, j, share + Scalar(1), a_point)
    for args in [
        (F, j, vk, a_point, wrong_d, wrong_proof),
        (F, j, vk, a_point, d + GENERATOR, proof),
        (F, j + 1, vk, a_point, d, proof),
        (bytes(32), j, vk, a_point, d, proof),
        (F, j, vk, a_point, d, replace(proof, s=_one(proof.s))),
    ]:
        with pytest.raises(CheckFailed) as failure:
            verify_dleq(*args, where="question 0, option 1")
        assert failure.value.check == "dleq"
        assert f"trustee {args[1]} (question 0, option 1)" in str(failure.value)
