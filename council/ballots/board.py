"""A ballot's bulletin board in the database: append under the ballot's lock, read back in order.

Appending runs inside the caller's write transaction, after `lock_ballot`: on PostgreSQL a
row lock on the ballot (SELECT … FOR UPDATE) serialises appenders of one ballot and no
other; SQLite's IMMEDIATE transactions are serial already. The entry's hash is computed
as the record's (record.entry_hash), so the rows read back are the record's board.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from council.ballots.record import Json, entry_hash
from council.ballots.tables import Ballot, BoardEntry
from council.canonical import canonical_bytes
from council.db import is_sqlite
from council.errors import NotFound
from council.i18n import N_

LOCKED_COLUMNS = "id, status, secrecy, head, length, opens_at, closes_at, fingerprint, t, n"


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def lock_ballot(ballot_id: int) -> dict[str, Any]:
    """The ballot's board state, locked until the transaction ends (call inside one)."""
    lock = "" if is_sqlite() else " FOR UPDATE"
    rows = await Ballot.raw(f"SELECT {LOCKED_COLUMNS} FROM ballot WHERE id = {{}}{lock}", ballot_id)
    if not rows:
        raise NotFound(N_("No ballot with number {id}."), id=ballot_id)
    row: dict[str, Any] = rows[0]
    for key in ("opens_at", "closes_at"):
        if isinstance(row[key], str):  # SQLite's raw rows keep the stored text
            row[key] = datetime.fromisoformat(row[key])
        if row[key].tzinfo is None:
            row[key] = row[key].replace(tzinfo=UTC)
    return row


async def append(
    locked: dict[str, Any],
    kind: str,
    payload: Json,
    *,
    alias: str | None = None,
    tracking_code: str | None = None,
    cast_by: int | None = None,
) -> Json:
    """Appends one entry after the locked head and moves the head; returns the entry."""
    prev = locked["head"]
    seq = locked["length"]
    entry_hex = entry_hash(prev, payload)
    await BoardEntry.insert(
        BoardEntry(
            ballot=locked["id"],
            seq=seq,
            kind=kind,
            payload=canonical_bytes(payload).decode("utf-8"),
            prev=prev,
            hash=entry_hex,
            alias=alias,
            tracking_code=tracking_code,
            cast_by=cast_by,
            created_at=datetime.now(UTC),
        )
    )
    await Ballot.update({Ballot.head: entry_hex, Ballot.length: seq + 1}).where(Ballot.id == locked["id"])
    locked["head"], locked["length"] = entry_hex, seq + 1
    return {"seq": seq, "kind": kind, "payload": payload, "prev": prev, "hash": entry_hex}


def entry_of(row: dict[str, Any]) -> Json:
    return {
        "seq": row["seq"],
        "kind": row["kind"],
        "payload": json.loads(row["payload"]),
        "prev": row["prev"],
        "hash": row["hash"],
    }


async def entries(
    ballot_id: int, *, offset: int = 0, limit: int | None = None, kinds: tuple[str, ...] = ()
) -> list[dict[str, Any]]:
    """Rows of the board in seq order (payload still as text)."""
    query = BoardEntry.select(
        BoardEntry.seq,
        BoardEntry.kind,
        BoardEntry.payload,
        BoardEntry.prev,
        BoardEntry.hash,
        BoardEntry.alias,
        BoardEntry.tracking_code,
        BoardEntry.cast_by,
        BoardEntry.created_at,
    ).where(BoardEntry.ballot == ballot_id)
    if kinds:
        query = query.where(BoardEntry.kind.is_in(list(kinds)))
    query = query.order_by(BoardEntry.seq)
    if limit is not None:
        query = query.offset(offset).limit(limit)
    elif offset:
        query = query.where(BoardEntry.seq >= offset)
    rows: list[dict[str, Any]] = await query
    return rows


async def board(ballot_id: int) -> list[Json]:
    """The whole board as the record's entries."""
    return [entry_of(row) for row in await entries(ballot_id)]
