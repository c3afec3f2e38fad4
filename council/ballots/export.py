"""`council ballots export ID`: the election record (manifest, board, result) as one zip."""

from __future__ import annotations

import json

from council.ballots import board as ballot_board
from council.ballots.record import Record, record_bytes
from council.ballots.tables import Ballot, BallotStatus
from council.errors import Conflict, NotFound
from council.i18n import N_


async def record_of(ballot_id: int) -> Record:
    row = (
        await Ballot.select(Ballot.status, Ballot.manifest, Ballot.result)
        .where(Ballot.id == ballot_id)
        .first()
    )
    if row is None:
        raise NotFound(N_("No ballot with number {id}."), id=ballot_id)
    if row["status"] != BallotStatus.tallied.value:
        raise Conflict(N_("The record is complete once the result is published."))
    return Record(json.loads(row["manifest"]), await ballot_board.board(ballot_id), json.loads(row["result"]))


async def record_zip(ballot_id: int) -> bytes:
    return record_bytes(await record_of(ballot_id))
