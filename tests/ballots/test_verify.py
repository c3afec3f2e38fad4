"""The verifier accepts an honest record and names the first failure in a tampered one.

One small election (12 voters of weight 1 to 3, trustees 2 of 3, a yes/no/abstain and an
approval question, one Benaloh audit, one revote); each test tampers with one part of a
copy of its record. A tamper with the content of an entry is re-chained (as a server
rewriting its board would), so the check behind the chain is the one that must fail.
"""

from __future__ import annotations

import copy
import json
import random
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from council.ballots.election import Election
from council.ballots.encrypt import answers_from_json, tracking_code
from council.ballots.group import GENERATOR, Point, Scalar
from council.ballots.record import Board, Record, fingerprint_of, write_record
from council.ballots.verify import Report, check_receipt, verify_audited, verify_record
from council.canonical import canonical_bytes

ROOT = Path(__file__).resolve().parents[2]
YES_NO_ABSTAIN = {"text": "是否同意加装电梯？", "options": ["赞成", "反对", "弃权"], "min": 1, "max": 1}
APPROVAL = {"text": "选出两位楼栋长", "options": ["王", "李", "张", "刘"], "min": 0, "max": 2}
ROSTER = [{"alias": f"1-2-{v:04d}", "weight": 1 + v % 3} for v in range(12)]
STRANGER = "9-9-9999"


@dataclass
class Fixture:
    election: Election
    record: Record

    def copy(self) -> Record:
        return copy.deepcopy(self.record)


@pytest.fixture(scope="module")
def honest() -> Fixture:
    election = Election(
        questions=[YES_NO_ABSTAIN, APPROVAL],
        roster=ROSTER,
        n=3,
        t=2,
        rule={"preset": "resident_meeting", "abstain_option": 2},
    )
    election.audit("1-2-0000", [[1, 0, 0], [1, 1, 0, 0]])  # spoiled, then cast afresh
    for v in range(11):  # 1-2-0011 does not vote
        yes_no = [[1, 0, 0], [0, 1, 0], [0, 0, 1]][v % 3]
        approval = [[1, 0, 0, 0], [0, 1, 1, 0], [0, 0, 0, 0], [1, 0, 0, 1]][v % 4]
        election.cast(f"1-2-{v:04d}", [yes_no, approval])
    election.cast("1-2-0004", [[0, 1, 0], [0, 0, 0, 1]])  # a revote: only this one counts
    return Fixture(election, election.tally(trustees=[1, 3]))


def _rechain(record: Record) -> Record:
    """Hash the board afresh from F, and point result.head at its new head."""
    board = Board.from_events(
        record.manifest["fingerprint"], [(e["kind"], e["payload"]) for e in record.board]
    )
    record.board[:] = board.entries
    record.result["head"] = board.head
    return record


def _verify(record: Record, **options: Any) -> Report:
    return verify_record(record.manifest, record.board, record.result, **options)


def _fails(record: Record, check: str, seq: int | None = None, **options: Any) -> Report:
    report = _verify(record, **options)
    assert report.failure is not None, report.text()
    assert (report.failure.check, report.failure.seq) == (check, seq), report.text()
    return report


def _seq(record: Record, kind: str, alias: str | None = None, nth: int = 0) -> int:
    found = [
        e["seq"]
        for e in record.board
        if e["kind"] == kind and (alias is None or e["payload"].get("alias") == alias)
    ]
    return int(found[nth])


def _bump_point(text: str) -> str:
    return (Point.from_hex(text) + GENERATOR).hex()


def _bump_scalar(text: str) -> str:
    return (Scalar.from_hex(text) + Scalar(1)).hex()


# The honest record ---------------------------------------------------------------------------


def test_the_honest_record_verifies(honest: Fixture) -> None:
    report = _verify(honest.copy())
    assert report.ok, report.text()
    figures = report.figures
    assert (figures["counted"], figures["audited"], figures["superseded"]) == (11, 1, 1)
    weights = {row["alias"]: row["weight"] for row in ROSTER}
    assert figures["weight_cast"] == sum(weights.values()) - weights["1-2-0011"]
    assert figures["head"] == honest.record.board[-1]["hash"]
    assert "VERIFIED" in report.text()


def test_the_counts_are_the_weighted_last_ballots(honest: Fixture) -> None:
    weights = {row["alias"]: row["weight"] for row in ROSTER}
    expected = [[0, 0, 0], [0, 0, 0, 0]]
    for v in range(11):
        selections = [
            [[1, 0, 0], [0, 1, 0], [0, 0, 1]][v % 3],
            [[1, 0, 0, 0], [0, 1, 1, 0], [0, 0, 0, 0], [1, 0, 0, 1]][v % 4],
        ]
        if v == 4:
            selections = [[0, 1, 0], [0, 0, 0, 1]]
        for q, row in enumerate(selections):
            for k, mark in enumerate(row):
                expected[q][k] += weights[f"1-2-{v:04d}"] * mark
    assert honest.record.result["counts"] == expected
    assert "1-2-0011" not in honest.record.result["counted"]


def test_the_process_pool_gives_the_same_answers(honest: Fixture) -> None:
    assert _verify(honest.copy(), workers=2, parallel_above=0).ok
    # Two bad ballots in different chunks: the lower seq is named, whatever the pool does.
    record = honest.copy()
    late, early = _seq(record, "ballot", "1-2-0009"), _seq(record, "ballot", "1-2-0002")
    for seq in (late, early):
        proof = record.board[seq]["payload"]["answers"][1]["proofs"][0][0]
        proof["c"] = _bump_scalar(proof["c"])
    _fails(_rechain(record), "range", early, workers=2, parallel_above=0)
    _fails(record, "range", early, workers=1)


# One tamper per part of the record -------------------------------------------------------------


def test_a_ballots_alpha(honest: Fixture) -> None:
    record = honest.copy()
    seq = _seq(record, "ballot", "1-2-0003")
    choice = record.board[seq]["payload"]["answers"][0]["choices"][1]
    choice["alpha"] = _bump_point(choice["alpha"])
    _fails(record, "chain", seq)  # as stored: the hash no longer matches
    report = _fails(_rechain(record), "range", seq)  # re-chained: the proof fails
    assert "answers[0].proofs[1]" in str(report.failure) and "1-2-0003" in str(report.failure)


def test_a_proofs_challenge(honest: Fixture) -> None:
    record = honest.copy()
    seq = _seq(record, "ballot", "1-2-0007")
    branch = record.board[seq]["payload"]["answers"][1]["proofs"][2][1]
    branch["c"] = _bump_scalar(branch["c"])
    _fails(_rechain(record), "range", seq)
    record = honest.copy()
    overall = record.board[seq]["payload"]["answers"][0]["overall"][0]
    overall["s"] = _bump_scalar(overall["s"])
    _fails(_rechain(record), "overall", seq)


def test_a_chain_link(honest: Fixture) -> None:
    record = honest.copy()
    record.board[5]["prev"] = record.board[3]["hash"]
    report = _fails(record, "chain", 5)
    assert "prev" in str(report.failure)
    record = honest.copy()
    record.board[0]["prev"] = "00" * 32
    _fails(record, "chain", 0)


def test_a_deleted_entry(honest: Fixture) -> None:
    record = honest.copy()
    del record.board[6]
    report = _fails(record, "chain", 6)
    assert "missing" in str(report.failure)
    # Renumbered after the deletion, the links still break.
    for seq, entry in enumerate(record.board):
        entry["seq"] = seq
    _fails(record, "chain", 6)


def test_a_trustees_decryption_share(honest: Fixture) -> None:
    record = honest.copy()
    seq = _seq(record, "share", nth=1)
    share = record.board[seq]["payload"]["shares"][1][2]
    share["D"] = _bump_point(share["D"])
    record.result["shares"] = [e["payload"] for e in record.board if e["kind"] == "share"]
    report = _fails(_rechain(record), "dleq", seq)
    assert "trustee 3 (question 1, option 2)" in str(report.failure)
    # The same change in result.json only: it no longer matches the board.
    record = honest.copy()
    record.result["shares"][0]["shares"][0][0]["D"] = _bump_point(
        record.result["shares"][0]["shares"][0][0]["D"]
    )
    _fails(record, "shares")


def test_a_count(honest: Fixture) -> None:
    record = honest.copy()
    record.result["counts"][0][1] += 1
    report = _fails(record, "count")
    assert "counts[0][1]" in str(report.failure)
    # The result entry on the board, re-chained.
    record = honest.copy()
    seq = _seq(record, "result")
    record.board[seq]["payload"]["counts"][1][0] -= 1
    _fails(_rechain(record), "count", seq)


def test_the_outcome(honest: Fixture) -> None:
    record = honest.copy()
    decided = record.result["outcome"]["questions"][0]
    decided["passed"] = not decided["passed"]
    _fails(record, "outcome")
    record = honest.copy()
    record.board[-1]["payload"]["outcome"]["quorum_met"] = False
    _fails(_rechain(record), "outcome", len(record.board) - 1)


def test_a_roster_weight(honest: Fixture) -> None:
    record = honest.copy()
    record.manifest["roster"][2]["weight"] += 1
    report = _fails(record, "fingerprint")
    assert report.passed and report.passed[0].startswith("manifest")


def test_a_ballot_from_an_alias_not_on_the_roster(honest: Fixture) -> None:
    record = honest.copy()
    answers, _ = honest.election.encrypt(STRANGER, [[1, 0, 0], [0, 0, 0, 0]])
    seq = _seq(record, "close")
    payload = {"alias": STRANGER, "answers": answers, "cast_at": "2025-06-01T10:00:00Z"}
    record.board.insert(seq, {"kind": "ballot", "payload": payload})
    report = _fails(_rechain(record), "roster", seq)
    assert STRANGER in str(report.failure)


def test_a_duplicated_counted_ballot(honest: Fixture) -> None:
    record = honest.copy()
    seq = _seq(record, "ballot", "1-2-0005")
    record.board.insert(seq + 1, copy.deepcopy(record.board[seq]))
    report = _fails(_rechain(record), "duplicate", seq + 1)
    assert f"board entry {seq}" in str(report.failure)
    # An alias counted twice in result.json.
    record = honest.copy()
    record.result["counted"].append("1-2-0005")
    _fails(record, "counted")


def test_a_ballot_reusing_an_audited_ballot(honest: Fixture) -> None:
    # The audited ballot's randomness is public: a ballot repeating its ciphertexts is refused.
    record = honest.copy()
    audited = record.board[_seq(record, "audited")]["payload"]
    record.board[_seq(record, "ballot", "1-2-0000")]["payload"]["answers"] = copy.deepcopy(audited["answers"])
    _fails(_rechain(record), "duplicate", _seq(record, "ballot", "1-2-0000"))


def test_a_forged_reveal(honest: Fixture) -> None:
    record = honest.copy()
    seq = _seq(record, "audited")
    reveal = record.board[seq]["payload"]["reveal"][0]
    reveal["m"] = [0, 1, 0]
    _fails(_rechain(record), "reveal", seq)


def test_a_ballot_after_close(honest: Fixture) -> None:
    record = honest.copy()
    answers, _ = honest.election.encrypt("1-2-0011", [[1, 0, 0], [0, 0, 0, 0]])
    seq = _seq(record, "close") + 1
    payload = {"alias": "1-2-0011", "answers": answers, "cast_at": "2025-06-09T10:00:00Z"}
    record.board.insert(seq, {"kind": "ballot", "payload": payload})
    _fails(_rechain(record), "after_close", seq)


def test_too_few_trustee_shares(honest: Fixture) -> None:
    record = honest.copy()
    del record.board[_seq(record, "share", nth=1)]
    del record.result["shares"][1]
    report = _fails(_rechain(record), "threshold")
    assert "at least t = 2" in str(report.failure)


def test_the_sums_turnout_and_head(honest: Fixture) -> None:
    record = honest.copy()
    record.result["sums"][1][3]["B"] = _bump_point(record.result["sums"][1][3]["B"])
    assert "sums[1][3]" in str(_fails(record, "sums").failure)
    record = honest.copy()
    record.result["turnout"]["weight_eligible"] += 1
    _fails(record, "turnout")
    record = honest.copy()
    record.result["head"] = record.board[-2]["hash"]
    _fails(record, "head")


def test_the_manifest_and_trustees(honest: Fixture) -> None:
    record = honest.copy()
    record.manifest["version"] = "council/v2"
    _fails(record, "version")
    record = honest.copy()
    del record.manifest["closes_at"]
    _fails(record, "manifest")
    record = honest.copy()
    record.manifest["F0"] = "00" * 32
    _fails(record, "F0")
    for field, check in (
        ("pok", "pok"),
        ("public_key", "public_key"),
        ("verification_keys", "verification_key"),
    ):
        record = honest.copy()
        m = record.manifest
        if field == "pok":
            m["trustees"][1]["pok"]["s"] = _bump_scalar(m["trustees"][1]["pok"]["s"])
        elif field == "public_key":
            m["public_key"] = _bump_point(m["public_key"])
        else:
            m["verification_keys"]["2"] = _bump_point(m["verification_keys"]["2"])
        m["fingerprint"] = fingerprint_of(m).hex()
        _fails(record, check)


def test_entries_out_of_order(honest: Fixture) -> None:
    record = honest.copy()
    close = _seq(record, "close")
    record.board.append(copy.deepcopy(record.board[close]))
    _fails(_rechain(record), "order", len(record.board) - 1)
    record = honest.copy()
    del record.board[-1]
    _fails(_rechain(record), "order")


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        return [path] + [p for k, v in value.items() for p in _leaves(v, (*path, k))]
    if isinstance(value, list):
        return [path] + [p for k, v in enumerate(value) for p in _leaves(v, (*path, k))]
    return [path]


def test_any_change_anywhere_is_a_named_failure(honest: Fixture) -> None:
    """Random single changes (a value replaced, a key or an item removed): never a crash, never OK."""
    rng = random.Random(20250601)
    original = {
        "manifest": honest.record.manifest,
        "board": honest.record.board,
        "result": honest.record.result,
    }
    paths = [p for p in _leaves(original) if len(p) > 1]
    odd_values: list[Any] = [None, [], {}, "x", -1, 0, 1, True, 10**80, "00" * 32, [1], {"a": 1}]
    named: set[str] = set()
    for _ in range(60):
        document = copy.deepcopy(original)
        *parents, last = rng.choice(paths)
        holder: Any = document
        for key in parents:
            holder = holder[key]
        if rng.random() < 0.2:
            del holder[last]
        else:
            holder[last] = rng.choice(odd_values)
        if canonical_bytes(document) == canonical_bytes(original):
            continue  # replaced by an equal value
        report = verify_record(document["manifest"], document["board"], document["result"])
        assert report.failure is not None and report.failure.check != "malformed", (
            parents,
            last,
            report.text(),
        )
        named.add(report.failure.check)
    assert {"chain", "manifest"} <= named


# Receipts, audited ballots, open ballots ---------------------------------------------------------


def test_receipts(honest: Fixture) -> None:
    board = honest.record.board
    seq = _seq(honest.record, "ballot", "1-2-0006")
    code = tracking_code("1-2-0006", answers_from_json(board[seq]["payload"]["answers"]))
    assert check_receipt(board, code, board[seq]["hash"])
    assert check_receipt(board, code, board[-1]["hash"])
    assert not check_receipt(board, code, board[seq - 1]["hash"])  # a head before the ballot
    assert not check_receipt(board, code, "ab" * 32)  # a head on some other board
    assert not check_receipt(board, "00" * 32, board[-1]["hash"])


def test_an_audited_ballot_file(honest: Fixture) -> None:
    payload = honest.record.board[_seq(honest.record, "audited")]["payload"]
    report, selections = verify_audited({"manifest": honest.record.manifest, "audited": payload})
    assert report.ok, report.text()
    assert selections == [[1, 0, 0], [1, 1, 0, 0]]
    forged = copy.deepcopy(payload)
    forged["reveal"][1]["m"] = [0, 1, 1, 0]
    report, _ = verify_audited({"manifest": honest.record.manifest, "audited": forged})
    assert report.failure is not None and report.failure.check == "reveal"


def test_an_open_ballot() -> None:
    election = Election(
        questions=[YES_NO_ABSTAIN], roster=ROSTER[:4], secrecy="open", rule={"abstain_option": 2}
    )
    election.vote("1-2-0000", "王芳", [[1, 0, 0]])
    election.vote("1-2-0001", "李强", [[0, 1, 0]])
    election.vote("1-2-0000", "王芳", [[0, 0, 1]])  # changed her mind
    record = election.tally()
    assert record.result["counts"] == [[0, 2, 1]]
    assert _verify(record).ok
    record.board[1]["payload"]["choices"] = [[1, 0, 0]]
    _fails(_rechain(record), "count")


# The command line ----------------------------------------------------------------------------------


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "council.ballots.verify", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )


def test_the_command_line(honest: Fixture, tmp_path: Path) -> None:
    good = tmp_path / "good.zip"
    write_record(honest.record, good)
    ok = _cli(str(good))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "VERIFIED" in ok.stdout and honest.record.result["head"] in ok.stdout

    record = honest.copy()
    seq = _seq(record, "ballot", "1-2-0008")
    record.board[seq]["payload"]["answers"][0]["choices"][0]["beta"] = _bump_point(
        record.board[seq]["payload"]["answers"][0]["choices"][0]["beta"]
    )
    bad = tmp_path / "bad.zip"
    write_record(_rechain(record), bad)
    failed = _cli(str(bad))
    assert failed.returncode == 1
    assert f"FAILED [range] board entry {seq}:" in failed.stdout

    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip")
    assert _cli(str(junk)).returncode == 1


def test_the_command_line_for_an_audited_ballot(honest: Fixture, tmp_path: Path) -> None:
    payload = honest.record.board[_seq(honest.record, "audited")]["payload"]
    path = tmp_path / "audited.json"
    path.write_text(json.dumps({"manifest": honest.record.manifest, "audited": payload}), encoding="utf-8")
    out = _cli("--audited", str(path))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "是否同意加装电梯？: 赞成" in out.stdout and "选出两位楼栋长: 王, 李" in out.stdout


def test_simulate_writes_a_record_that_verifies(tmp_path: Path) -> None:
    out = tmp_path / "simulated.zip"
    made = subprocess.run(
        [sys.executable, "-m", "council.ballots", "simulate", str(out), "--voters", "8", "--seed", "1"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert made.returncode == 0, made.stdout + made.stderr
    checked = subprocess.run(
        [sys.executable, "-m", "council.ballots", "verify", str(out), "--workers", "1"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "VERIFIED" in checked.stdout
