"""The checks of a cast keep their order and their answers with the one-query fast path
(council/ballots/casting.py `_prepare`), and two copies of one ballot sent at the same
moment make one entry: the second is refused as a duplicate, by the check before the
proofs or by the unique index under the transaction."""

from __future__ import annotations

import asyncio
from typing import Any

from council.ballots.tables import BoardEntry, Ciphertext
from tests.ballots.helpers import (
    alias_of,
    bearer,
    create_ballot,
    election_people,
    encrypt,
    keygen,
    open_ballot,
)


async def _open(client: Any, settings: Any) -> tuple[dict[str, Any], int, dict[str, Any]]:
    people = await election_people(settings)
    ballot_id = await create_ballot(client, people)
    await keygen(client, people, ballot_id)
    manifest = await open_ballot(client, people, ballot_id)
    return people, ballot_id, manifest


async def test_checks_answer_in_their_order(client: Any, settings: Any) -> None:
    people, ballot_id, manifest = await _open(client, settings)
    tokens = people["tokens"]
    url = f"/api/v1/ballots/{ballot_id}/ballots"
    # no answer at all: the proofs' shape check names it (it once failed with a 500)
    response = await client.post(url, json={"answers": []}, headers=bearer(tokens["voter1"]))
    assert response.status_code == 422 and response.json()["check"] == "shape", response.text
    # a malformed ballot from someone not on the roster: the roster answers first
    response = await client.post(url, json={"answers": [{"x": 1}]}, headers=bearer(tokens["host"]))
    assert response.status_code == 403
    # from a voter: the encoding
    response = await client.post(url, json={"answers": [{"x": 1}]}, headers=bearer(tokens["voter1"]))
    assert response.status_code == 422 and response.json()["check"] == "encoding"
    # no such ballot
    response = await client.post(
        "/api/v1/ballots/9999/ballots", json={"answers": []}, headers=bearer(tokens["voter1"])
    )
    assert response.status_code == 404
    # a ballot repeating one of its own ciphertexts
    answers, _ = encrypt(manifest, await alias_of(client, tokens["voter1"], ballot_id), [[1, 0, 0]])
    answers[0]["choices"][1] = answers[0]["choices"][0]
    response = await client.post(url, json={"answers": answers}, headers=bearer(tokens["voter1"]))
    assert response.status_code == 422 and response.json()["check"] == "duplicate"
    assert await BoardEntry.count().where(BoardEntry.ballot == ballot_id) == 0
    # after the close, the window answers before the encoding
    await client.post(
        f"/api/v1/ballots/{ballot_id}/close", json={"early": True}, headers=bearer(tokens["host"])
    )
    response = await client.post(url, json={"answers": [{"x": 1}]}, headers=bearer(tokens["voter1"]))
    assert response.status_code == 409


async def test_the_same_ballot_sent_twice_at_once_is_taken_once(live_client: Any, settings: Any) -> None:
    people, ballot_id, manifest = await _open(live_client, settings)
    token = people["tokens"]["voter1"]
    answers, _ = encrypt(manifest, await alias_of(live_client, token, ballot_id), [[0, 1, 0]])
    url = f"/api/v1/ballots/{ballot_id}/ballots"
    responses = await asyncio.gather(
        *(live_client.post(url, json={"answers": answers}, headers=bearer(token)) for _ in range(4))
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201, 422, 422, 422], [r.text for r in responses]
    assert all(r.json()["check"] == "duplicate" for r in responses if r.status_code == 422)
    assert await BoardEntry.count().where(BoardEntry.ballot == ballot_id) == 1
    assert await Ciphertext.count().where(Ciphertext.ballot == ballot_id) == 3


async def test_ballots_arriving_together_share_a_transaction_and_a_copy_fails_alone(
    db: None, monkeypatch: Any
) -> None:
    from council.accounts.login import load_principal
    from council.audit.service import verify_chain
    from council.ballots import casting
    from council.ballots.record import entry_hash
    from council.errors import Refused
    from tests.ballots.support_load import encrypted_body, prepare

    prepared = await prepare(8)
    sizes: list[int] = []
    original = casting._append_transaction

    async def spy(ballot_id: int, batch: Any) -> Any:
        sizes.append(len(batch))
        return await original(ballot_id, batch)

    monkeypatch.setattr(casting, "_append_transaction", spy)
    principals = [await load_principal(v.user_id) for v in prepared.voters]
    bodies = [
        encrypted_body(prepared.manifest, v.alias, k % 3)["answers"] for k, v in enumerate(prepared.voters)
    ]
    # voter 5's ballot twice, in the middle of the others
    calls = [(principals[k], bodies[k]) for k in range(8)] + [(principals[5], bodies[5])]
    outcomes = await asyncio.gather(
        *(casting.cast(p, prepared.ballot_id, body) for p, body in calls), return_exceptions=True
    )
    refused = [o for o in outcomes if isinstance(o, Exception)]
    assert len(refused) == 1 and isinstance(refused[0], Refused)
    assert refused[0].extensions["check"] == "duplicate"
    receipts = [o for o in outcomes if isinstance(o, dict)]
    assert sorted(r["seq"] for r in receipts) == list(range(8))
    assert max(sizes) > 1, sizes  # some ballots did go together
    board = await casting.ballot_board.board(prepared.ballot_id)
    prev = prepared.manifest["fingerprint"]
    for entry in board:
        assert entry["prev"] == prev and entry_hash(prev, entry["payload"]) == entry["hash"]
        prev = entry["hash"]
    assert {r["head"] for r in receipts} == {e["hash"] for e in board}
    assert (await verify_chain()).ok
