"""The council/v1 record: manifest fingerprints, the board chain, the zip, and the outcome rules."""

from __future__ import annotations

import copy
import hashlib
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from council.ballots.election import Election, Rejected
from council.ballots.encrypt import QuestionShape
from council.ballots.record import (
    Board,
    Record,
    RecordError,
    check_roster,
    entry_hash,
    f0_of,
    fingerprint_of,
    kind_of,
    parameters,
    parameters_of,
    read_record,
    record_bytes,
    sums_from_json,
    sums_to_json,
    write_record,
)
from council.ballots.rules import PRESETS, check_rule, evaluate_outcome, rule_plan
from council.canonical import canonical_bytes

YES_NO_ABSTAIN = {"text": "加装电梯？", "options": ["赞成", "反对", "弃权"], "min": 1, "max": 1}
APPROVAL = {"text": "楼栋长", "options": ["王", "李", "张", "刘"], "min": 0, "max": 2}
BUDGET = {
    "text": "微更新",
    "options": ["照明", "座椅", "绿化", "车棚"],
    "min": 0,
    "max": 4,
    "costs": [3, 2, 5, 4],
    "budget": 10,
}
ROSTER = [{"alias": f"1-1-{v:04d}", "weight": 1 + v % 2} for v in range(4)]
F = hashlib.sha256(b"an election").hexdigest()


@pytest.fixture(scope="module")
def record() -> Record:
    election = Election(questions=[YES_NO_ABSTAIN, APPROVAL], roster=ROSTER, n=2, t=2)
    election.cast("1-1-0000", [[1, 0, 0], [1, 1, 0, 0]])
    election.cast("1-1-0001", [[0, 1, 0], [0, 0, 0, 0]])
    return election.tally()


# The board chain -------------------------------------------------------------------------


def test_the_chain_starts_at_f_and_hashes_the_raw_bytes_of_prev() -> None:
    board = Board(F)
    first = board.append("close", {"closed_at": "2025-06-08T09:00:00Z"})
    second = board.append("result", {"counts": [[1, 0]], "outcome": {"quorum_met": True, "questions": []}})
    assert (first["seq"], first["prev"], second["seq"], second["prev"]) == (0, F, 1, first["hash"])
    raw = hashlib.sha256(bytes.fromhex(F) + b'{"closed_at":"2025-06-08T09:00:00Z"}').hexdigest()
    ascii_text = hashlib.sha256(F.encode("ascii") + b'{"closed_at":"2025-06-08T09:00:00Z"}').hexdigest()
    assert first["hash"] == raw != ascii_text
    assert board.head == second["hash"]
    assert Board(F).head == F


def test_the_hash_is_over_canonical_json() -> None:
    # Key order and Unicode normalisation do not change the hash: the payload is hashed canonically.
    payload = {
        "voter_name": "e\u0301",
        "alias": "1-1-0001",
        "choices": [[1, 0]],
        "cast_at": "2025-06-01T09:00:01Z",
    }
    same = {"cast_at": "2025-06-01T09:00:01Z", "choices": [[1, 0]], "alias": "1-1-0001", "voter_name": "é"}
    assert entry_hash(F, payload) == entry_hash(F, same)
    assert entry_hash(F, payload) == hashlib.sha256(bytes.fromhex(F) + canonical_bytes(same)).hexdigest()
    with pytest.raises(TypeError):
        entry_hash(F, {"counts": [[1.5]], "outcome": {}})


def test_entries_need_exactly_their_kinds_payload_keys() -> None:
    board = Board(F)
    with pytest.raises(ValueError, match="payload keys"):
        board.append("close", {"closed_at": "x", "extra": 1})
    with pytest.raises(ValueError):
        board.append("tally", {"closed_at": "x"})
    with pytest.raises(ValueError):
        Board("F" * 64)
    assert kind_of({"alias": "a", "answers": [], "reveal": [], "cast_at": "t"}) == "audited"
    assert kind_of({"trustee": 1, "shares": []}) == "share"
    assert kind_of({"trustee": 1}) is None


def test_from_events_rechains(record: Record) -> None:
    rebuilt = Board.from_events(
        record.manifest["fingerprint"], [(e["kind"], e["payload"]) for e in record.board]
    )
    assert rebuilt.entries == record.board
    assert rebuilt.head == record.result["head"]


def test_the_board_of_a_simulated_election(record: Record) -> None:
    kinds = [e["kind"] for e in record.board]
    assert kinds == ["ballot", "ballot", "close", "share", "share", "result"]
    assert [e["seq"] for e in record.board] == list(range(6))
    assert record.result["counted"] == ["1-1-0000", "1-1-0001"]
    assert record.result["counts"] == [[1, 2, 0], [1, 1, 0, 0]]
    assert record.result["turnout"] == {"weight_cast": 3, "weight_eligible": 6}
    assert record.board[-1]["payload"] == {
        "counts": record.result["counts"],
        "outcome": record.result["outcome"],
    }
    assert [s["trustee"] for s in record.result["shares"]] == [1, 2]


def test_the_driver_refuses_what_the_server_refuses() -> None:
    election = Election(questions=[YES_NO_ABSTAIN], roster=ROSTER[:2], n=1, t=1)
    answers, _ = election.encrypt("1-1-0000", [[1, 0, 0]])
    election.post_ballot("1-1-0000", answers)
    with pytest.raises(Rejected) as duplicate:
        election.post_ballot("1-1-0001", answers)
    assert duplicate.value.reason == "duplicate"
    with pytest.raises(Rejected) as stranger:
        election.cast("9-9-9999", [[1, 0, 0]])
    assert stranger.value.reason == "roster"
    election.close()
    with pytest.raises(Rejected) as late:
        election.cast("1-1-0001", [[1, 0, 0]])
    assert late.value.reason == "closed"


# Manifest and fingerprints -----------------------------------------------------------------


def test_f0_and_f(record: Record) -> None:
    manifest = record.manifest
    assert f0_of(parameters_of(manifest)).hex() == manifest["F0"]
    assert fingerprint_of(manifest).hex() == manifest["fingerprint"]
    assert set(parameters_of(manifest)["trustees"][0]) == {"index", "name", "box_key"}
    # The roster is in F but not in F0; a question is in both.
    heavier = copy.deepcopy(manifest)
    heavier["roster"][0]["weight"] += 1
    assert f0_of(parameters_of(heavier)).hex() == manifest["F0"]
    assert fingerprint_of(heavier).hex() != manifest["fingerprint"]
    reworded = copy.deepcopy(manifest)
    reworded["questions"][0]["text"] += "？"
    assert f0_of(parameters_of(reworded)).hex() != manifest["F0"]
    # F does not hash itself.
    other = {**manifest, "fingerprint": "00" * 32}
    assert fingerprint_of(other) == fingerprint_of(manifest)


def _params(**change: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "ballot_id": 7,
        "title": "t",
        "secrecy": "secret",
        "questions": [YES_NO_ABSTAIN],
        "rule": {"preset": "resident_meeting"},
        "weight_basis": "household",
        "t": 1,
        "n": 1,
        "trustees": [{"index": 1, "name": "张", "box_key": "ab" * 32}],
    }
    return parameters(**{**base, **change})


def test_parameters_are_checked() -> None:
    params = _params()
    assert params["questions"][0]["costs"] is None and params["version"] == "council/v1"
    for change, message in [
        ({"secrecy": "maybe"}, "secrecy"),
        ({"t": 2}, "1 ≤ t ≤ n"),
        ({"rule": {"preset": "dictator"}}, "preset"),
        ({"questions": [{**YES_NO_ABSTAIN, "max": 5}]}, "questions"),
        ({"trustees": [{"index": 2, "name": "张", "box_key": "ab" * 32}]}, "index"),
        ({"trustees": [{"index": 1, "name": "张", "box_key": "AB" * 32}]}, "box_key"),
        ({"secrecy": "open"}, "no trustees"),
    ]:
        with pytest.raises(ValueError, match=message):
            _params(**change)
    assert _params(secrecy="open", t=0, n=0, trustees=[])["t"] == 0


def test_the_roster_is_checked() -> None:
    assert check_roster([{"alias": "a", "weight": 2}, {"alias": "b", "weight": 1}]) == {"a": 2, "b": 1}
    for roster in (
        [{"alias": "a", "weight": 1}, {"alias": "a", "weight": 1}],
        [{"alias": "a", "weight": 0}],
        [{"alias": "a", "weight": True}],
        [{"alias": "", "weight": 1}],
        [{"alias": "e\u0301", "weight": 1}],
        [{"alias": "a", "weight": 1, "name": "王"}],
    ):
        with pytest.raises(ValueError):
            check_roster(roster)


# The zip -----------------------------------------------------------------------------------


def test_zip_round_trip_in_memory_and_on_disk(record: Record, tmp_path: Path) -> None:
    data = record_bytes(record)
    assert data == record_bytes(record)  # the same record, the same bytes
    assert read_record(data) == record
    path = tmp_path / "record.zip"
    write_record(record, path)
    assert read_record(path) == record
    assert read_record(str(path)) == record
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.namelist() == ["manifest.json", "board.jsonl", "result.json"]
        lines = archive.read("board.jsonl").decode().splitlines()
    assert [json.loads(line) for line in lines] == record.board
    assert lines[0].encode() == canonical_bytes(record.board[0])


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_unreadable_records_are_refused() -> None:
    good = {"manifest.json": b"{}", "board.jsonl": b"{}\n", "result.json": b"{}"}
    assert read_record(_zip(good)) == Record({}, [{}], {})
    for members, message in [
        ({**good, "result.json": b'{"a": 1.5}'}, "integers only"),
        ({**good, "result.json": b'{"a": NaN}'}, "integers only"),
        ({**good, "manifest.json": b'{"a": 1, "a": 2}'}, "twice"),
        ({"manifest.json": b"{}", "board.jsonl": b""}, "needs"),
        ({**good, "board.jsonl": b"[1]\n"}, "JSON objects"),
        ({**good, "board.jsonl": b"\xff\n"}, "UTF-8"),
        ({**good, "result.json": b"{"}, "not JSON"),
    ]:
        with pytest.raises(RecordError, match=message):
            read_record(_zip(members))
    with pytest.raises(RecordError, match="zip"):
        read_record(b"not a zip")
    with pytest.raises(RecordError):
        read_record("/nonexistent/record.zip")


def test_sums_round_trip(record: Record) -> None:
    sums = sums_from_json(record.result["sums"])
    assert sums_to_json(sums) == record.result["sums"]
    with pytest.raises(ValueError):
        sums_from_json([[{"A": record.result["sums"][0][0]["A"]}]])


# Outcome rules -----------------------------------------------------------------------------

YNA = [QuestionShape(3, 1, 1)]


def _decide(
    rule: dict[str, Any], counts: list[list[int]], cast: int, eligible: int, shapes: Any = None
) -> Any:
    return evaluate_outcome(rule, shapes or YNA, counts, weight_cast=cast, weight_eligible=eligible)


def test_resident_meeting_preset() -> None:
    rule = {"preset": "resident_meeting", "abstain_option": 2}
    # 6 of 10 households take part, 4 of the 6 vote yes: passed.
    assert _decide(rule, [[4, 1, 1]], 6, 10) == {
        "quorum_met": True,
        "questions": [{"method": "majority", "yes": 4, "base": 6, "passed": True}],
    }
    # Exactly half of the households is not "more than half": the quorum is not met, nothing passes.
    outcome = _decide(rule, [[5, 0, 0]], 5, 10)
    assert outcome["quorum_met"] is False and outcome["questions"][0]["passed"] is False
    # 3 yes of 6 cast (abstentions count as cast) is not more than half.
    assert _decide(rule, [[3, 1, 2]], 6, 10)["questions"][0]["passed"] is False


def test_abstentions_counted_or_not() -> None:
    counted = {"yes_option": 0, "abstain_option": 2, "majority": {"abstain_counts": True}}
    not_counted = {**counted, "majority": {"abstain_counts": False}}
    assert _decide(counted, [[3, 2, 2]], 7, 7)["questions"][0] == {
        "method": "majority",
        "yes": 3,
        "base": 7,
        "passed": False,
    }
    assert _decide(not_counted, [[3, 2, 2]], 7, 7)["questions"][0] == {
        "method": "majority",
        "yes": 3,
        "base": 5,
        "passed": True,
    }


def test_two_thirds_and_of_eligible() -> None:
    rule = {"preset": "two_thirds"}
    assert _decide(rule, [[6, 3, 0]], 9, 12)["questions"][0]["passed"] is True  # exactly two thirds
    assert _decide(rule, [[5, 3, 1]], 9, 12)["questions"][0]["passed"] is False
    eligible = {"majority": {"of": "eligible", "threshold": "simple"}}
    assert _decide(eligible, [[6, 0, 0]], 6, 12)["questions"][0] == {
        "method": "majority",
        "yes": 6,
        "base": 12,
        "passed": False,
    }
    assert _decide(eligible, [[7, 0, 0]], 7, 12)["questions"][0]["passed"] is True
    # No votes at all: nothing passes, even with no quorum.
    assert _decide({}, [[0, 0, 0]], 0, 12)["questions"][0]["passed"] is False


def test_household_meeting_quorum_is_an_exact_two_thirds() -> None:
    rule = {"preset": "household_meeting"}
    assert _decide(rule, [[2, 0, 0]], 2, 3)["quorum_met"] is True
    assert _decide(rule, [[2, 0, 0]], 199, 300)["quorum_met"] is False
    assert _decide({"quorum": {"basis": "eligible_weight", "at_least_permille": 500}}, [[1, 0, 0]], 5, 10)[
        "quorum_met"
    ]


def test_top_k_with_a_tie_at_the_last_seat() -> None:
    shapes = [QuestionShape(4, 0, 2)]
    assert _decide({}, [[5, 9, 3, 0]], 10, 10, shapes)["questions"][0] == {
        "method": "top",
        "seats": 2,
        "ranking": [1, 0, 2, 3],
        "elected": [1, 0],
        "tied": [],
    }
    tied = _decide({}, [[5, 9, 5, 1]], 10, 10, shapes)["questions"][0]
    assert (tied["elected"], tied["tied"]) == ([1], [0, 2])
    # Approval (max = every option) elects one unless seats are given; no votes, no seat.
    approval = [QuestionShape(3, 0, 3)]
    assert _decide({}, [[2, 4, 0]], 5, 5, approval)["questions"][0]["elected"] == [1]
    three = {"questions": [{"method": "top", "seats": 3}]}
    assert _decide(three, [[2, 4, 0]], 5, 5, approval)["questions"][0]["elected"] == [1, 0]
    # Plurality on a single-choice question of 3 candidates must be asked for explicitly.
    plurality = {"questions": [{"method": "top", "seats": 1}]}
    assert _decide(plurality, [[2, 4, 1]], 7, 7)["questions"][0]["elected"] == [1]


def test_budget_options_are_funded_by_rank_while_the_budget_lasts() -> None:
    shapes = [QuestionShape(4, 0, 4, costs=(3, 2, 5, 4), budget=10)]
    outcome = _decide({}, [[8, 2, 9, 7]], 10, 10, shapes)["questions"][0]
    # Ranked 2 (cost 5), 0 (3), 3 (4: does not fit in 2), 1 (2: fits).
    assert outcome == {
        "method": "budget",
        "budget": 10,
        "ranking": [2, 0, 3, 1],
        "funded": [2, 0, 1],
        "spent": 10,
    }
    assert _decide({}, [[0, 0, 1, 0]], 1, 10, shapes)["questions"][0]["funded"] == [2]
    no_quorum = {"quorum": {"basis": "eligible_weight", "more_than_permille": 500}}
    assert _decide(no_quorum, [[8, 2, 9, 7]], 5, 10, shapes)["questions"][0]["funded"] == []


def test_default_methods_and_bad_rules() -> None:
    shapes = [QuestionShape(3, 1, 1), QuestionShape(4, 0, 2), QuestionShape(2, 0, 2, costs=(1, 1), budget=1)]
    quorum, plans = rule_plan({}, shapes)
    assert quorum is None and [p.method for p in plans] == ["majority", "top", "budget"]
    assert set(PRESETS) == {"resident_meeting", "household_meeting", "two_thirds"}
    for rule in (
        {"quorom": None},
        {"yes_option": 3},
        {"yes_option": 1, "abstain_option": 1},
        {"majority": {"of": "present"}},
        {"majority": {"threshold": "most"}},
        {"quorum": {"basis": "eligible_weight", "at_least_permille": 1001}},
        {"quorum": {"basis": "present", "at_least_permille": 500}},
        {"quorum": {"basis": "eligible_weight", "most": 1}},
        {"questions": [{"method": "budget"}]},
        {"questions": [{"method": "top", "seats": 0}]},
        {"questions": [{"method": "majority", "seats": 1}]},
        {"preset": "nope"},
    ):
        with pytest.raises(ValueError):
            check_rule(rule, YNA)
    with pytest.raises(ValueError):
        evaluate_outcome({}, YNA, [[1, 2]], weight_cast=3, weight_eligible=3)
