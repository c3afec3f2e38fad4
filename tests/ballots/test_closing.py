"""Closing a ballot counts outside the write lock, and recounts when a ballot came in
between."""

from __future__ import annotations

import json
from typing import Any

import pytest

from council.accounts import login
from council.ballots import service
from council.ballots.tables import Ballot
from tests.ballots.helpers import cast, create_ballot, decrypt, election_people, keygen, open_ballot


async def test_a_ballot_cast_while_closing_is_counted(
    client: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    people = await election_people(settings)
    tokens = people["tokens"]
    ballot_id = await create_ballot(client, people)
    secrets = await keygen(client, people, ballot_id)
    manifest = await open_ballot(client, people, ballot_id)
    assert (await cast(client, tokens["voter1"], ballot_id, manifest, [[1, 0, 0]])).status_code == 201

    counts: list[int] = []
    original = service._count

    async def count_then_vote(row: dict[str, Any], roster: Any, length: int) -> Any:
        counted = await original(row, roster, length)
        counts.append(length)
        if len(counts) == 1:  # a voter casts after the first count, before the lock
            late = await cast(client, tokens["voter2"], ballot_id, manifest, [[0, 1, 0]])
            assert late.status_code == 201, late.text
        return counted

    monkeypatch.setattr(service, "_count", count_then_vote)
    host = await login.load_principal(people["ids"]["host"])
    assert host is not None
    await service.close(host, ballot_id, early=True)
    assert counts == [1, 2]  # counted at length 1, then again under the lock at 2

    row = await Ballot.select(Ballot.counted).where(Ballot.id == ballot_id).first()
    assert row is not None and len(json.loads(row["counted"])) == 2
    summary = await decrypt(client, people, ballot_id, secrets, ("sup1", "sup2"))
    assert summary["result"]["counts"] == [[1, 1, 0]]


async def test_a_quiet_close_counts_once(client: Any, settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    people = await election_people(settings)
    ballot_id = await create_ballot(client, people)
    secrets = await keygen(client, people, ballot_id)
    manifest = await open_ballot(client, people, ballot_id)
    for name, choice in (("voter1", [[1, 0, 0]]), ("voter2", [[1, 0, 0]]), ("voter3", [[0, 0, 1]])):
        assert (await cast(client, people["tokens"][name], ballot_id, manifest, choice)).status_code == 201
    lengths: list[int] = []
    original = service._count

    async def counted(row: dict[str, Any], roster: Any, length: int) -> Any:
        lengths.append(length)
        return await original(row, roster, length)

    monkeypatch.setattr(service, "_count", counted)
    host = await login.load_principal(people["ids"]["host"])
    assert host is not None
    await service.close(host, ballot_id, early=True)
    assert lengths == [3]
    summary = await decrypt(client, people, ballot_id, secrets, ("sup1", "sup3"))
    assert summary["result"]["counts"] == [[2, 0, 1]]
