"""Every field of shared/ballot-vectors.json, reproduced byte for byte."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from council.ballots import keys, tally
from council.ballots.encrypt import Ciphertext, EncryptedAnswer, QuestionShape, encrypt_answer, verify_answer
from council.ballots.group import IDENTITY, ORDER, Point, Scalar, base, hash_to_scalar
from council.ballots.keys import Polynomial
from council.ballots.proofs import ChallengeResponse, prove_pok, verify_dleq, verify_pok
from council.canonical import canonical_bytes, sha256_hex
from tests.ballots.support import LOCAL_VECTORS, SHARED_VECTORS, load_vectors, vector_scalar, vector_stream

V = load_vectors()
T = V["trustees"]
B = V["ballot"]
D = V["decryption"]


def _draw(stream: Iterator[Scalar]) -> Any:
    return lambda: next(stream)


def _polynomials() -> dict[int, Polynomial]:
    stream = vector_stream(1000)
    return {i: Polynomial.random(T["t"], draw=_draw(stream)) for i in range(1, T["n"] + 1)}


def _commitments() -> dict[int, list[Point]]:
    return {
        i: [Point.from_hex(c, allow_identity=False) for c in row]
        for i, row in enumerate(T["commitments"], start=1)
    }


def _shape() -> QuestionShape:
    return QuestionShape(options=len(B["plaintext"]), min=B["min"], max=B["max"])


def _answer_json() -> dict[str, Any]:
    return {"choices": B["choices"], "proofs": B["proofs"], "overall": B["overall"]}


def test_the_copy_beside_the_tests_matches_shared() -> None:
    assert LOCAL_VECTORS.exists()
    if SHARED_VECTORS.exists():
        assert SHARED_VECTORS.read_bytes() == LOCAL_VECTORS.read_bytes()


def test_group_and_order() -> None:
    assert V["group"] == "ristretto255"
    assert int(V["order"]) == ORDER
    assert "little-endian" in V["about"]


@pytest.mark.parametrize("case", V["hash_to_scalar"], ids=lambda c: c["tag"])
def test_hash_to_scalar(case: dict[str, Any]) -> None:
    parts = [bytes.fromhex(p) for p in case["parts_hex"]]
    assert hash_to_scalar(case["tag"].encode("ascii"), *parts).hex() == case["scalar"]


@pytest.mark.parametrize("case", V["canonical_json"])
def test_canonical_json(case: dict[str, Any]) -> None:
    data = canonical_bytes(case["input"])
    assert data.hex() == case["canonical_utf8_hex"]
    assert sha256_hex(data) == case["sha256"]


@pytest.mark.parametrize("case", V["base_multiples"], ids=lambda c: str(c["k"]))
def test_base_multiples(case: dict[str, Any]) -> None:
    assert base(case["k"]).hex() == case["point"]
    assert Point.from_hex(case["point"]) == base(case["k"])


def test_trustee_commitments() -> None:
    polynomials = _polynomials()
    assert len(T["commitments"]) == T["n"]
    for i, polynomial in polynomials.items():
        assert [c.hex() for c in polynomial.commitments()] == T["commitments"][i - 1]


def test_trustee_proofs_of_knowledge_are_reproduced_and_verify() -> None:
    f0 = bytes.fromhex(T["F0"])
    polynomials = _polynomials()
    stream = vector_stream(1006)
    commitments = _commitments()
    assert [p["i"] for p in T["pok"]] == list(range(1, T["n"] + 1))
    for entry in T["pok"]:
        i = entry["i"]
        proof = prove_pok(f0, i, polynomials[i].coefficients[0], draw=_draw(stream))
        assert proof.to_json() == {"c": entry["c"], "s": entry["s"]}
        parsed = ChallengeResponse.from_json({"c": entry["c"], "s": entry["s"]})
        keys.verify_commitments(f0, i, T["t"], commitments[i], parsed)
        with pytest.raises(Exception, match="proof of knowledge"):
            verify_pok(f0, i % T["n"] + 1, commitments[i][0], parsed)
    assert "decimal ASCII" in T["pok_context"]


def test_public_key_and_verification_keys() -> None:
    commitments = _commitments()
    assert keys.public_key(commitments).hex() == T["public_key"]
    assert {str(j): vk.hex() for j, vk in keys.verification_keys(commitments).items()} == T[
        "verification_keys"
    ]


def test_shares_for_testing_only() -> None:
    polynomials = _polynomials()
    commitments = _commitments()
    for j_text, hex_share in T["shares_for_testing_only"].items():
        j = int(j_text)
        for i, polynomial in polynomials.items():
            keys.check_share(i, j, polynomial.at(j), commitments[i])
        share = keys.combine_shares(p.at(j) for p in polynomials.values())
        assert share.hex() == hex_share
        assert base(share).hex() == T["verification_keys"][j_text]


def test_ballot_is_reproduced_byte_for_byte() -> None:
    answer, reveal = encrypt_answer(
        bytes.fromhex(B["F"]),
        B["alias"],
        B["question_index"],
        _shape(),
        Point.from_hex(T["public_key"], allow_identity=False),
        B["plaintext"],
        draw=_draw(vector_stream(1009)),
    )
    assert answer.to_json() == _answer_json()
    assert list(reveal.m) == B["plaintext"]
    assert reveal.r == (vector_scalar(1009), vector_scalar(1013), vector_scalar(1017))


def test_ballot_verifies_and_decrypts_to_its_plaintext() -> None:
    answer = EncryptedAnswer.from_json(_answer_json(), "answers[0]")
    assert answer.to_json() == _answer_json()
    y = Point.from_hex(T["public_key"])
    verify_answer(bytes.fromhex(B["F"]), B["alias"], B["question_index"], _shape(), y, answer)
    secret = keys.combine_shares(p.coefficients[0] for p in _polynomials().values())
    assert base(secret) == y
    assert [c.beta - secret * c.alpha for c in answer.choices] == [base(m) for m in B["plaintext"]]
    assert "'overall'" in B["challenge_context"]


def test_decryption_shares_are_reproduced_and_verify() -> None:
    assert D["of"] == "ballot.choices[1]"
    f = bytes.fromhex(B["F"])
    ciphertext = Ciphertext.from_json(B["choices"][1], "choice")
    stream = vector_stream(1022)
    assert [s["j"] for s in D["shares"]] == D["trustees"]
    for expected in D["shares"]:
        j = expected["j"]
        share = Scalar.from_hex(T["shares_for_testing_only"][str(j)])
        made = tally.decryption_share(f, j, share, ciphertext.alpha, draw=_draw(stream))
        assert made.to_json() == {k: expected[k] for k in ("D", "c", "s")}
        parsed = tally.DecryptionShare.from_json({k: expected[k] for k in ("D", "c", "s")}, "share")
        vk = Point.from_hex(T["verification_keys"][str(j)])
        verify_dleq(f, j, vk, ciphertext.alpha, parsed.d, parsed.proof)
    assert D["dleq_context"].startswith("H(dleq, F, j as decimal ASCII")


def test_lagrange_and_plaintext() -> None:
    trustees = D["trustees"]
    assert {str(j): tally.lagrange_coefficient(j, trustees).hex() for j in trustees} == D["lagrange"]
    ciphertext = Ciphertext.from_json(B["choices"][1], "choice")
    shares = {s["j"]: Point.from_hex(s["D"]) for s in D["shares"]}
    assert tally.decrypt(ciphertext, shares, T["t"], bound=1) == D["plaintext"] == B["plaintext"][1]
    assert tally.decrypt(Ciphertext(IDENTITY, IDENTITY), {1: IDENTITY, 3: IDENTITY}, T["t"], bound=1) == 0
