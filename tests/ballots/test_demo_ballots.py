"""The demo's ballots (council/ballots/demo.py): both finished ones verify with the
independent verifier and count what the demo voters chose; the open one takes the demo
residents' ballots, and the trustees' key files the demo keeps for it tally it."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from council.accounts import login
from council.accounts.principal import Principal
from council.accounts.tables import User
from council.ballots import demo as ballots_demo
from council.ballots import queries, service
from council.ballots.export import record_of
from council.ballots.keyfile import KeyFile, KeyFileError
from council.ballots.simulation import cast_encrypted, post_decryptions, trustee_principals
from council.ballots.tables import Ballot, BallotStatus, RosterEntry, Trustee
from council.ballots.verify import verify_record
from council.demo import DEMO_PASSWORD, load_demo
from council.errors import Conflict
from council.proposals.tables import Proposal


async def _who(username: str) -> Principal:
    user = await User.select(User.id).where(User.username == username).first()
    assert user is not None
    principal = await login.load_principal(user["id"])
    assert principal is not None
    return principal


async def _ballot(title: str) -> dict[str, Any]:
    row = await Ballot.select().where(Ballot.title == title).first()
    assert row is not None, title
    return row


@pytest.mark.slow
async def test_the_demo_ballots(db: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COUNCIL_DATA_DIR", str(tmp_path))
    logins = await load_demo(only_if_empty=False)
    assert "resident1" in [name for name, _, _ in logins]

    parking = await _ballot(ballots_demo.PARKING_TITLE)
    assert (parking["status"], parking["secrecy"], parking["t"], parking["n"]) == ("tallied", "secret", 2, 3)
    proposal = await Proposal.select(Proposal.title).where(Proposal.id == parking["proposal"]).first()
    assert proposal == {"title": "小区停车位严重不足"}
    record = await record_of(int(parking["id"]))
    report = verify_record(record.manifest, record.board, record.result, workers=1)
    assert report.ok, report.text()
    assert record.result["counts"] == ballots_demo.PARKING_COUNTS
    assert record.result["outcome"]["questions"][0]["passed"] is True
    kinds = Counter(entry["kind"] for entry in record.board)
    voters = sum(ballots_demo.PARKING_VOTERS.values())
    assert kinds == {"ballot": voters + 1, "audited": 1, "close": 1, "share": 2, "result": 1}
    assert [e["payload"]["trustee"] for e in record.board if e["kind"] == "share"] == [1, 3]
    assert record.result["turnout"]["weight_cast"] == voters
    assert [tr["name"] for tr in record.manifest["trustees"]] == [
        (await User.select(User.display_name).where(User.username == f"supervisor{k}").first() or {})[
            "display_name"
        ]
        for k in (1, 2, 3)
    ]

    elevator = await _ballot(ballots_demo.ELEVATOR_TITLE)
    assert (elevator["status"], elevator["secrecy"]) == ("tallied", "open")
    record = await record_of(int(elevator["id"]))
    report = verify_record(record.manifest, record.board, record.result, workers=1)
    assert report.ok, report.text()
    assert record.result["counts"] == ballots_demo.ELEVATOR_COUNTS
    names = {
        row["display_name"]
        for row in await User.select(User.display_name).where(
            User.username.is_in(list(ballots_demo.ELEVATOR_VOTES))
        )
    }
    assert {e["payload"]["voter_name"] for e in record.board if e["kind"] == "vote"} == names

    budget = await _ballot(ballots_demo.BUDGET_TITLE)
    early = len(ballots_demo.BUDGET_EARLY_CHOICES)
    assert (budget["status"], budget["secrecy"], budget["length"]) == ("open", "secret", early)
    assert budget["closes_at"] > datetime.now(UTC) + timedelta(days=6)
    assert (
        await Trustee.count().where((Trustee.ballot == budget["id"]) & Trustee.checked_at.is_not_null()) == 3
    )
    with pytest.raises(Conflict):
        await record_of(int(budget["id"]))
    # every demo resident is on its roster and can vote, as the browser does
    manifest = await queries.manifest(None, int(budget["id"]))
    for k in range(1, 6):
        resident = await _who(f"resident{k}")
        assert resident.resident_id is not None
        entry = (
            await RosterEntry.select(RosterEntry.alias)
            .where((RosterEntry.ballot == budget["id"]) & (RosterEntry.resident == resident.resident_id))
            .first()
        )
        assert entry is not None
        receipt = await cast_encrypted(resident, int(budget["id"]), manifest, entry["alias"], [[1, 1, 0, 0]])
        assert receipt["seq"] == early + k - 1
    status = await Ballot.select(Ballot.status).where(Ballot.id == budget["id"]).first()
    assert status == {"status": BallotStatus.open.value}

    # closed, then two supervisors decrypt with the key files the demo kept for them
    await service.close(await _who("host"), int(budget["id"]), early=True)
    kept = {}
    for k in (1, 2, 3):
        key_file = KeyFile.open(tmp_path / "demo-trustees" / f"supervisor{k}.json", DEMO_PASSWORD)
        assert set(key_file.ballots) == {budget["id"]}
        kept[k] = key_file.ballots[budget["id"]]
    with pytest.raises(KeyFileError):
        KeyFile.open(tmp_path / "demo-trustees" / "supervisor1.json", "not-the-password")
    await post_decryptions(int(budget["id"]), await trustee_principals(int(budget["id"])), kept, [2, 3])
    record = await record_of(int(budget["id"]))
    assert verify_record(record.manifest, record.board, record.result, workers=1).ok
    expected = [sum(column) for column in zip(*ballots_demo.BUDGET_EARLY_CHOICES, strict=True)]
    assert record.result["counts"] == [[expected[0] + 5, expected[1] + 5, expected[2], expected[3]]]
