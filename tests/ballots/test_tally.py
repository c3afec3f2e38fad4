"""End to end in memory: 3-of-5 trustees, 50 weighted ballots, tally by any 3 trustees."""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, replace

import pytest
from nacl.public import PrivateKey

from council.ballots import keys, tally
from council.ballots.checks import CheckFailed
from council.ballots.encrypt import Ciphertext, EncryptedAnswer, QuestionShape, encrypt_ballot, verify_ballot
from council.ballots.group import GENERATOR, IDENTITY, Point, Scalar, base
from council.ballots.keys import ShareComplaint
from council.ballots.tally import DecryptionShare

F0 = bytes.fromhex("11" * 32)
F = bytes.fromhex("22" * 32)
N, T = 5, 3
SHAPES = [
    QuestionShape(options=3, min=1, max=1),  # yes / no / abstain
    QuestionShape(options=4, min=0, max=2),  # approval
    QuestionShape(options=4, min=0, max=4, costs=(3, 5, 2, 7), budget=10),  # budget
]


@dataclass
class Election:
    commitments: dict[int, tuple[Point, ...]]
    shares: dict[int, Scalar]
    y: Point
    vks: dict[int, Point]
    sums: list[list[Ciphertext]]
    bound: int
    counts: list[list[int]]
    decryption: dict[int, list[list[DecryptionShare]]]


def _keygen() -> tuple[dict[int, tuple[Point, ...]], dict[int, Scalar]]:
    box = {j: PrivateKey.generate() for j in range(1, N + 1)}
    dealings = {i: keys.deal(F0, i, T, {j: k.public_key for j, k in box.items()})[1] for i in range(1, N + 1)}
    for i, dealing in dealings.items():
        keys.verify_commitments(F0, i, T, dealing.commitments, dealing.pok)
    shares = {
        j: keys.combine_shares(
            keys.open_share(i, j, dealing.sealed[j], box[j], dealing.commitments)
            for i, dealing in dealings.items()
        )
        for j in box
    }
    return {i: d.commitments for i, d in dealings.items()}, shares


def _selection(rng: random.Random, shape: QuestionShape) -> list[int]:
    while True:
        selection = [rng.randint(0, 1) for _ in range(shape.options)]
        if shape.allows(selection):
            return selection


@pytest.fixture(scope="module")
def election() -> Election:
    commitments, shares = _keygen()
    y = keys.public_key(commitments)
    vks = keys.verification_keys(commitments)
    rng = random.Random(20240501)
    counts = [[0] * s.options for s in SHAPES]
    cast: list[tuple[int, tuple[EncryptedAnswer, ...]]] = []
    for voter in range(50):
        weight = rng.choice([1, 1, 2, 3])
        selections = [_selection(rng, s) for s in SHAPES]
        alias = f"1-{voter // 10}-{voter:04d}"
        answers, _ = encrypt_ballot(F, alias, SHAPES, y, selections)
        verify_ballot(F, alias, SHAPES, y, answers)
        cast.append((weight, answers))
        for q, selection in enumerate(selections):
            for k, m in enumerate(selection):
                counts[q][k] += weight * m
    sums = tally.sum_ballots(SHAPES, cast)
    decryption = {j: tally.decryption_shares(F, j, shares[j], sums) for j in shares}
    return Election(commitments, shares, y, vks, sums, sum(w for w, _ in cast), counts, decryption)


def test_keygen_gives_consistent_keys(election: Election) -> None:
    for j, share in election.shares.items():
        assert base(share) == election.vks[j]
    # Any t shares interpolate to the secret key behind Y.
    for subset in itertools.combinations(election.shares, T):
        secret = Scalar(0)
        for j in subset:
            secret = secret + tally.lagrange_coefficient(j, subset) * election.shares[j]
        assert base(secret) == election.y


def test_every_share_proof_verifies(election: Election) -> None:
    for j, shares in election.decryption.items():
        tally.verify_decryption_shares(F, j, election.vks[j], election.sums, shares)
        again = tally.shares_from_json(tally.shares_to_json(shares))
        assert again == shares


@pytest.mark.parametrize("subset", list(itertools.combinations(range(1, N + 1), T)))
def test_any_three_trustees_give_the_true_counts(election: Election, subset: tuple[int, ...]) -> None:
    chosen = {j: election.decryption[j] for j in subset}
    assert tally.decrypt_sums(election.sums, chosen, T, election.bound) == election.counts


def test_four_or_five_trustees_also_work(election: Election) -> None:
    assert tally.decrypt_sums(election.sums, election.decryption, T, election.bound) == election.counts


def test_two_trustees_are_not_enough(election: Election) -> None:
    two = {j: election.decryption[j] for j in (2, 5)}
    with pytest.raises(CheckFailed) as failure:
        tally.decrypt_sums(election.sums, two, T, election.bound)
    assert failure.value.check == "threshold"
    # Interpolating through two points anyway does not give the counts either.
    total = election.sums[0][0]
    with pytest.raises(CheckFailed) as wrong:
        tally.decrypt(total, {j: two[j][0][0].d for j in two}, 2, election.bound)
    assert wrong.value.check == "count"


def test_a_bad_share_proof_is_named(election: Election) -> None:
    shares = [list(row) for row in election.decryption[4]]
    shares[2][1] = replace(shares[2][1], d=shares[2][1].d + GENERATOR)
    with pytest.raises(CheckFailed) as failure:
        tally.verify_decryption_shares(F, 4, election.vks[4], election.sums, shares)
    assert failure.value.check == "dleq"
    assert "trustee 4 (question 2, option 1)" in str(failure.value)
    with pytest.raises(CheckFailed):
        tally.verify_decryption_shares(F, 3, election.vks[3], election.sums, election.decryption[4])


def test_a_bad_dealing_names_the_dealer() -> None:
    box = {j: PrivateKey.generate() for j in range(1, 4)}
    polynomial, dealing = keys.deal(F0, 2, 2, {j: k.public_key for j, k in box.items()})
    assert keys.open_share(2, 3, dealing.sealed[3], box[3], dealing.commitments) == polynomial.at(3)
    wrong = keys.seal_share(polynomial.at(3) + Scalar(1), box[3].public_key)
    with pytest.raises(ShareComplaint) as failure:
        keys.open_share(2, 3, wrong, box[3], dealing.commitments)
    assert (failure.value.dealer, failure.value.recipient, failure.value.check) == (2, 3, "share")
    assert "trustee 2's share for trustee 3" in str(failure.value)
    with pytest.raises(ShareComplaint, match="does not open"):
        keys.open_share(2, 3, dealing.sealed[1], box[3], dealing.commitments)
    with pytest.raises(CheckFailed) as pok:
        keys.verify_commitments(bytes(32), 2, 2, dealing.commitments, dealing.pok)
    assert pok.value.check == "pok"
    with pytest.raises(CheckFailed) as shape:
        keys.verify_commitments(F0, 2, 3, dealing.commitments, dealing.pok)
    assert shape.value.check == "shape"


def test_an_empty_tally_counts_zero() -> None:
    sums = tally.sum_ballots(SHAPES, [])
    assert all(s.alpha == IDENTITY for row in sums for s in row)
    share = Scalar(77)
    shares = {j: tally.decryption_shares(F, j, share, sums) for j in (1, 2, 3)}
    tally.verify_decryption_shares(F, 1, base(share), sums, shares[1])
    assert tally.decrypt_sums(sums, shares, T, 0) == [[0] * s.options for s in SHAPES]


@pytest.mark.parametrize("count", [0, 1, 2, 99, 100, 101, 9_999, 10_000])
def test_discrete_log_up_to_ten_thousand(count: int) -> None:
    assert tally.discrete_log(base(count), 10_000) == count
    with pytest.raises(CheckFailed):
        tally.discrete_log(base(10_001), 10_000)


def test_lagrange_coefficients() -> None:
    assert tally.lagrange_coefficient(1, [1, 3]) == Scalar(3) * Scalar(2).inverse()
    assert tally.lagrange_coefficient(3, [1, 3]) == -Scalar(2).inverse()
    with pytest.raises(ValueError):
        tally.lagrange_coefficient(2, [1, 3])


def test_dealing_json_round_trips() -> None:
    box = {j: PrivateKey.generate() for j in range(1, 3)}
    _, dealing = keys.deal(F0, 1, 2, {j: k.public_key for j, k in box.items()})
    public = dealing.to_json()
    assert set(public) == {"index", "commitments", "pok"}
    assert keys.commitments_from_json(public["commitments"], "commitments") == dealing.commitments
    sealed = {int(j): bytes.fromhex(h) for j, h in dealing.sealed_json().items()}
    assert keys.open_share(1, 2, sealed[2], box[2], dealing.commitments) is not None
    with pytest.raises(CheckFailed, match="identity"):
        keys.commitments_from_json(["00" * 32, dealing.commitments[1].hex()], "commitments")
