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
