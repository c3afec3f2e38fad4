"""A voter with an email address gets her receipt by mail when SMTP is configured
(BALLOTS.md), queued with the ballot in one transaction; an audit or a voter without an
address gets none."""

from __future__ import annotations

from typing import Any

import pytest

from council.accounts.tables import User
from council.ballots.record import read_record
from council.ballots.verify import check_receipt
from council.notifications.tables import OutboxEmail
from tests.ballots.helpers import (
    alias_of,
    bearer,
    cast,
    close_and_tally,
    create_ballot,
    election_people,
    encrypt,
    keygen,
    open_ballot,
)


async def test_the_receipt_comes_by_mail_and_checks_against_the_record(
    client: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COUNCIL_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("COUNCIL_BASE_URL", "https://council.example.org")
    people = await election_people(settings)
    tokens, ids = people["tokens"], people["ids"]
    await User.update({User.email: "voter1@example.org"}).where(User.id == ids["voter1"])
    ballot_id = await create_ballot(client, people, title="东门充电棚表决")
    secrets = await keygen(client, people, ballot_id)
    manifest = await open_ballot(client, people, ballot_id)
    invitations = {row["id"] for row in await OutboxEmail.select(OutboxEmail.id)}

    first = await cast(client, tokens["voter1"], ballot_id, manifest, [[1, 0, 0]])
    assert first.status_code == 201, first.text
    receipt = first.json()
    # an audit is no cast: no receipt; voter2 has no address
    alias = await alias_of(client, tokens["voter1"], ballot_id)
    answers, reveal = encrypt(manifest, alias, [[0, 1, 0]])
    audited = await client.post(
        f"/api/v1/ballots/{ballot_id}/audited",
        json={"answers": answers, "reveal": reveal},
        headers=bearer(tokens["voter1"]),
    )
    assert audited.status_code == 201
    assert (await cast(client, tokens["voter2"], ballot_id, manifest, [[0, 1, 0]])).status_code == 201

    mails = [m for m in await OutboxEmail.select().order_by(OutboxEmail.id) if m["id"] not in invitations]
    assert len(mails) == 1
    mail = mails[0]
    assert mail["to_address"] == "voter1@example.org"
    assert "东门充电棚表决" in mail["subject"]
    assert receipt["tracking_code"] in mail["body"] and receipt["head"] in mail["body"]
    assert receipt["short_code"] in mail["body"]
    assert (
        f"https://council.example.org/ballots/{ballot_id}/board?code={receipt['short_code']}" in mail["body"]
    )

    # what the mail says checks against the final record
    await close_and_tally(client, people, ballot_id, secrets, ("sup1", "sup2"))
    record = read_record((await client.get(f"/api/v1/ballots/{ballot_id}/record.zip")).content)
    assert check_receipt(record.board, receipt["tracking_code"], receipt["head"])
    assert not check_receipt(record.board, receipt["tracking_code"], "0" * 64)


async def test_no_mail_without_smtp(client: Any, settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COUNCIL_SMTP_HOST", raising=False)
    people = await election_people(settings)
    await User.update({User.email: "voter1@example.org"}).where(User.id == people["ids"]["voter1"])
    ballot_id = await create_ballot(client, people)
    await keygen(client, people, ballot_id)
    manifest = await open_ballot(client, people, ballot_id)
    assert (
        await cast(client, people["tokens"]["voter1"], ballot_id, manifest, [[1, 0, 0]])
    ).status_code == 201
    assert await OutboxEmail.count() == 0
