"""Ballot verbs and refusals through HTTP: open ballots, rosters, windows, permissions,
trustees' complaints and proxies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from council.ballots.record import read_record
from council.ballots.tables import Ballot, Trustee
from council.ballots.verify import verify_record
from council.community import residents as roster_residents
from tests.ballots.helpers import (
    YES_NO_ABSTAIN,
    alias_of,
    bearer,
    cast,
    create_ballot,
    election_people,
    keygen,
    open_ballot,
    trustee_state,
)
from tests.factories import ROOT


def verified(content: bytes) -> bool:
    record = read_record(content)
    return verify_record(record.manifest, record.board, record.result, workers=1).ok


async def test_open_ballot_roll_call(client: Any, settings: Any) -> None:
    people = await election_people(settings)
    tokens = people["tokens"]
    approval = {"text": "选出两位楼栋长", "options": ["王", "李", "张"], "min": 0, "max": 2}
    ballot_id = await create_ballot(
        client,
        people,
        secrecy="open",
        trustee_ids=[],
        threshold=None,
        weight_basis="resident",
        questions=[YES_NO_ABSTAIN, approval],
        rule={"quorum": None},
    )
    assert (
        await client.post(f"/api/v1/ballots/{ballot_id}/setup", headers=bearer(tokens["host"]))
    ).status_code == 409
    await open_ballot(client, people, ballot_id)
    url = f"/api/v1/ballots/{ballot_id}/votes"
    votes = {
        "voter1": [[1, 0, 0], [1, 1, 0]],
        "voter2": [[0, 1, 0], [0, 1, 0]],
        "voter3": [[1, 0, 0], [0, 0, 1]],
    }
    for name, choices in votes.items():
        response = await client.post(url, json={"choices": choices}, headers=bearer(tokens[name]))
        assert response.status_code == 201, response.text
    # a revote replaces the earlier vote; a vote that breaks the rule is refused
    assert (
        await client.post(url, json={"choices": [[0, 0, 1], [1, 0, 0]]}, headers=bearer(tokens["voter2"]))
    ).status_code == 201
    bad = await client.post(url, json={"choices": [[1, 1, 0], [1, 0, 0]]}, headers=bearer(tokens["voter4"]))
    assert bad.status_code == 400 and "第 1 题" in bad.json()["detail"]
    encrypted = await client.post(
        f"/api/v1/ballots/{ballot_id}/ballots", json={"answers": []}, headers=bearer(tokens["voter4"])
    )
    assert encrypted.status_code == 409
    board = (await client.get(f"/api/v1/ballots/{ballot_id}/board")).json()
    assert [e["payload"]["voter_name"] for e in board["entries"]] == [
        "居民1101",
        "居民1102",
        "居民2101",
        "居民1102",
    ]
    assert [e["superseded"] for e in board["entries"]] == [False, True, False, False]

    closed = await client.post(
        f"/api/v1/ballots/{ballot_id}/close", json={"early": True}, headers=bearer(tokens["host"])
    )
    assert closed.status_code == 200 and closed.json()["status"] == "tallied"
    result = closed.json()["result"]
    assert result["counts"] == [[2, 0, 1], [2, 1, 1]]
    assert result["turnout"] == {"weight_cast": 3, "weight_eligible": 4}
    assert result["outcome"]["questions"][0]["passed"] is True
    assert result["outcome"]["questions"][1]["elected"] == [0]
    zipped = await client.get(f"/api/v1/ballots/{ballot_id}/record.zip")
    assert zipped.status_code == 200 and verified(zipped.content)


async def test_roster_is_frozen_at_opening(client: Any, settings: Any) -> None:
    people = await election_people(settings)
    c = people["c"]
    ballot_id = await create_ballot(client, people, weight_basis="resident")
    await keygen(client, people, ballot_id)
    manifest = await open_ballot(client, people, ballot_id)
    assert len(manifest["roster"]) == 4
    newcomer = await roster_residents.add_resident(
        ROOT, code="R9", name="新住户", household_id=c.households[0]["id"], phone="", is_representative=False
    )
    await roster_residents.set_resident_active(ROOT, c.residents[1]["id"], False)
    assert newcomer["id"]
    again = (await client.get(f"/api/v1/ballots/{ballot_id}/manifest")).json()
    assert again == manifest
    summary = (await client.get(f"/api/v1/ballots/{ballot_id}")).json()
    assert summary["roster_size"] == 4
    # the resident who moved out after the opening is still on this ballot's roster
    response = await cast(client, people["tokens"]["voter2"], ballot_id, manifest, [[1, 0, 0]])
    assert response.status_code == 201, response.text


async def test_window_and_permissions(client: Any, settings: Any) -> None:
    people = await election_people(settings)
    tokens = people["tokens"]
    body_later = {"opens_at": (datetime.now(UTC) + timedelta(days=1)).isoformat()}
    # residents and outsiders cannot create; a non-supervisor cannot be a trustee
    from tests.ballots.helpers import ballot_body

    response = await client.post(
        "/api/v1/ballots", json=ballot_body(people), headers=bearer(tokens["voter1"])
    )
    assert response.status_code == 403
    bad = ballot_body(people, trustee_ids=[people["ids"]["voter1"]])
    response = await client.post("/api/v1/ballots", json=bad, headers=bearer(tokens["host"]))
    assert response.status_code == 400 and "监督委员会" in response.json()["detail"]
    bad = ballot_body(people, closes_at=(datetime.now(UTC) - timedelta(days=1)).isoformat())
    assert (await client.post("/api/v1/ballots", json=bad, headers=bearer(tokens["host"]))).status_code == 400
    bad = ballot_body(people, questions=[{"text": "空", "options": ["a", "a"], "min": 1, "max": 1}])
    assert (await client.post("/api/v1/ballots", json=bad, headers=bearer(tokens["host"]))).status_code == 400
    bad = ballot_body(people, rule={"preset": "nonsense"})
    assert (await client.post("/api/v1/ballots", json=bad, headers=bearer(tokens["host"]))).status_code == 400
    assert await Ballot.count() == 0

    ballot_id = await create_ballot(client, people, **body_later)
    # a draft is not public; trustees and managers see it
    assert (await client.get(f"/api/v1/ballots/{ballot_id}")).status_code == 404
    assert (
        await client.get(f"/api/v1/ballots/{ballot_id}", headers=bearer(tokens["voter1"]))
    ).status_code == 404
    assert (
        await client.get(f"/api/v1/ballots/{ballot_id}", headers=bearer(tokens["sup2"]))
    ).status_code == 200
    # opening before the key exists, trustee steps by a non-trustee
    assert (
        await client.post(f"/api/v1/ballots/{ballot_id}/open", headers=bearer(tokens["host"]))
    ).status_code == 409
    assert (
        await client.get(f"/api/v1/ballots/{ballot_id}/trustee", headers=bearer(tokens["host"]))
    ).status_code == 403
    await keygen(client, people, ballot_id)
    assert (
        await client.post(f"/api/v1/ballots/{ballot_id}/open", headers=bearer(tokens["voter1"]))
    ).status_code == 403
    manifest = await open_ballot(client, people, ballot_id)
    early = await cast(client, tokens["voter1"], ballot_id, manifest, [[1, 0, 0]])
    assert early.status_code == 409 and "尚未开始" in early.json()["detail"]
    # closing before the closing time must be asked for
    response = await client.post(
        f"/api/v1/ballots/{ballot_id}/close", json={}, headers=bearer(tokens["host"])
    )
    assert response.status_code == 409


async def test_keygen_refusals_and_complaint(client: Any, settings: Any) -> None:
    people = await election_people(settings)
    tokens = people["tokens"]
    ballot_id = await create_ballot(client, people)
    assert (
        await client.post(f"/api/v1/ballots/{ballot_id}/setup", headers=bearer(tokens["host"]))
    ).status_code == 200
    from council.ballots import trustee_client

    secrets = {}
    for name in ("sup1", "sup2", "sup3"):
        state = await trustee_state(client, people, name, ballot_id)
        secrets[name] = trustee_client.new_secrets(ballot_id, state["index"])
        await client.post(
            f"/api/v1/ballots/{ballot_id}/trustee/box-key",
            json={"box_key": secrets[name].box_public},
            headers=bearer(tokens[name]),
        )
    second = await client.post(
        f"/api/v1/ballots/{ballot_id}/trustee/box-key",
        json={"box_key": "11" * 32},
        headers=bearer(tokens["sup1"]),
    )
    assert second.status_code == 409
    # a dealing whose proof of knowledge fails is refused, naming the check
    state = await trustee_state(client, people, "sup1", ballot_id)
    body = trustee_client.dealing(state, secrets["sup1"])
    forged = {**body, "pok": {"c": body["pok"]["s"], "s": body["pok"]["c"]}}
    response = await client.post(
        f"/api/v1/ballots/{ballot_id}/trustee/dealing", json=forged, headers=bearer(tokens["sup1"])
    )
    assert response.status_code == 422 and response.json()["check"] == "pok"
    for name in ("sup1", "sup2", "sup3"):
        state = await trustee_state(client, people, name, ballot_id)
        body = trustee_client.dealing(state, secrets[name])
        response = await client.post(
            f"/api/v1/ballots/{ballot_id}/trustee/dealing", json=body, headers=bearer(tokens[name])
        )
        assert response.status_code == 200
    # trustee 3's share for trustee 2 is swapped for trustee 1's: trustee 2's check names trustee 3
    row = await Trustee.select().where((Trustee.ballot == ballot_id) & (Trustee.position == 3)).first()
    import json

    sealed = json.loads(row["sealed"])
    sealed["2"] = sealed["1"]
    await Trustee.update({Trustee.sealed: json.dumps(sealed)}).where(Trustee.id == row["id"])
    state = await trustee_state(client, people, "sup2", ballot_id)
    try:
        trustee_client.check_shares(state, secrets["sup2"])
        raise AssertionError("the swapped share passed its check")
    except trustee_client.ShareComplaint as complaint:
        assert complaint.dealer == 3
        response = await client.post(
            f"/api/v1/ballots/{ballot_id}/trustee/complaint",
            json={"dealer": complaint.dealer, "reason": str(complaint)},
            headers=bearer(tokens["sup2"]),
        )
    assert response.status_code == 200
    summary = (await client.get(f"/api/v1/ballots/{ballot_id}", headers=bearer(tokens["host"]))).json()
    assert summary["status"] == "failed"
    assert "trustee 2 (Sup2)" in summary["failure"] and "trustee 3 (Sup3)" in summary["failure"]
    assert (
        await client.post(f"/api/v1/ballots/{ballot_id}/open", headers=bearer(tokens["host"]))
    ).status_code == 409


async def test_proxy_cast_by_delegate(client: Any, settings: Any) -> None:
    people = await election_people(settings)
    tokens, c = people["tokens"], people["c"]
    ballot_id = await create_ballot(client, people)
    await keygen(client, people, ballot_id)
    manifest = await open_ballot(client, people, ballot_id)
    delegator, delegate = c.residents[0]["id"], c.residents[1]["id"]
    body = {"delegator_id": delegator, "delegate_id": delegate, "consent": "书面委托书第12号"}
    assert (
        await client.post(f"/api/v1/ballots/{ballot_id}/proxies", json=body, headers=bearer(tokens["voter2"]))
    ).status_code == 403
    response = await client.post(
        f"/api/v1/ballots/{ballot_id}/proxies", json=body, headers=bearer(tokens["host"])
    )
    assert response.status_code == 201, response.text
    proxy_id = response.json()["id"]
    again = await client.post(
        f"/api/v1/ballots/{ballot_id}/proxies", json=body, headers=bearer(tokens["host"])
    )
    assert again.status_code == 409
    mine = (await client.get(f"/api/v1/ballots/{ballot_id}/me", headers=bearer(tokens["voter2"]))).json()[
        "entries"
    ]
    assert sorted(e["own"] for e in mine) == [False, True]
    alias1 = await alias_of(client, tokens["voter1"], ballot_id)
    response = await cast(client, tokens["voter2"], ballot_id, manifest, [[1, 0, 0]], alias=alias1)
    assert response.status_code == 201, response.text
    board = (await client.get(f"/api/v1/ballots/{ballot_id}/board")).json()
    assert board["entries"][0]["payload"]["alias"] == alias1 and board["entries"][0]["by_proxy"] is True
    revoked = await client.delete(
        f"/api/v1/ballots/{ballot_id}/proxies/{proxy_id}", headers=bearer(tokens["host"])
    )
    assert revoked.status_code == 204
    response = await cast(client, tokens["voter2"], ballot_id, manifest, [[0, 1, 0]], alias=alias1)
    assert response.status_code == 403
    listed = (await client.get(f"/api/v1/ballots/{ballot_id}/proxies", headers=bearer(tokens["host"]))).json()
    assert listed["items"][0]["revoked_at"] is not None
