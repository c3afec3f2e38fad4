"""A ballot's bulletin board in the database: append under the ballot's lock, read back in order.

Appending runs inside the caller's write transaction, after `lock_ballot`: on PostgreSQL a
row lock on the ballot (SELECT … FOR UPDATE) serialises appenders of one ballot and no
other; SQLite's IMMEDIATE transactions are serial already. The entry's hash is computed
as the record's (record.entry_hash), so the rows read back are the record's board.

Casting appends thousands of ballots under that lock, so the lock is held as briefly as
possible: the payload is encoded before (`new_entry`), and on PostgreSQL the entry, the
new head and the ballot's ciphertexts go in one statement (one round trip).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from council.ballots.checks import digest
from council.ballots.record import Json
from council.ballots.tables import Ballot, BoardEntry
from council.canonical import canonical_bytes
from council.db import is_sqlite
from council.errors import NotFound
from council.i18n import N_

LOCKED_COLUMNS = "id, status, secrecy, head, length, opens_at, closes_at, fingerprint, t, n"


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def timestamps(row: dict[str, Any], *keys: str) -> dict[str, Any]:
    """Raw rows' times as aware datetimes (SQLite's raw rows keep the stored text)."""
    for key in keys:
        if isinstance(row[key], str):
            row[key] = datetime.fromisoformat(row[key])
        if row[key].tzinfo is None:
            row[key] = row[key].replace(tzinfo=UTC)
    return row


async def lock_ballot(ballot_id: int) -> dict[str, Any]:
    """The ballot's board state, locked until the transaction ends (call inside one)."""
    lock = "" if is_sqlite() else " FOR UPDATE"
    rows = await Ballot.raw(f"SELECT {LOCKED_COLUMNS} FROM ballot WHERE id = {{}}{lock}", ballot_id)
    if not rows:
        raise NotFound(N_("No ballot with number {id}."), id=ballot_id)
    return timestamps(rows[0], "opens_at", "closes_at")


@dataclass(frozen=True, slots=True)
class NewEntry:
    """An entry ready to append: its payload already in canonical JSON."""

    kind: str
    payload: Json
    text: str  # canonical(payload)
    alias: str | None = None
    tracking_code: str | None = None
    cast_by: int | None = None
    ciphertexts: tuple[str, ...] = ()  # α's (hex) recorded with it, unique per ballot


def new_entry(
    kind: str,
    payload: Json,
    *,
    alias: str | None = None,
    tracking_code: str | None = None,
    cast_by: int | None = None,
    ciphertexts: Sequence[str] = (),
) -> NewEntry:
    text = canonical_bytes(payload).decode("utf-8")
    return NewEntry(kind, payload, text, alias, tracking_code, cast_by, tuple(ciphertexts))


def _marks(count: int, width: int) -> str:
    return ", ".join("(" + ", ".join(["{}"] * width) + ")" for _ in range(count))


async def append_entries(locked: dict[str, Any], entries: Sequence[NewEntry]) -> list[Json]:
    """Appends `entries` in order after the locked head, moves the head and records their
    ciphertexts; returns the entries. A ciphertext already recorded for the ballot fails
    the statement (the unique index ballot_ciphertext_unique), and with it the transaction."""
    ballot_id = locked["id"]
    prev, seq = locked["head"], locked["length"]
    at = datetime.now(UTC)
    rows: list[Any] = []
    pairs: list[Any] = []
    out: list[Json] = []
    for entry in entries:
        # record.entry_hash, on the payload's canonical text encoded once
        entry_hex = hashlib.sha256(digest(prev, "prev") + entry.text.encode("utf-8")).hexdigest()
        rows += [ballot_id, seq, entry.kind, entry.text, prev, entry_hex, entry.alias, entry.tracking_code]
        rows += [entry.cast_by, at]
        pairs += [value for alpha in entry.ciphertexts for value in (ballot_id, alpha)]
        out.append(
            {"seq": seq, "kind": entry.kind, "payload": entry.payload, "prev": prev, "hash": entry_hex}
        )
        prev, seq = entry_hex, seq + 1
    if not out:
        return out
    insert = (
        "INSERT INTO ballot_board (ballot, seq, kind, payload, prev, hash, alias, tracking_code, cast_by, "
        "created_at) VALUES " + _marks(len(out), 10)
    )
    head = "UPDATE ballot SET head = {}, length = {} WHERE id = {}"
    ciphertexts = "INSERT INTO ballot_ciphertext (ballot, alpha) VALUES " + _marks(len(pairs) // 2, 2)
    if is_sqlite():
        await Ballot.raw(insert, *rows)
        await Ballot.raw(head, prev, seq, ballot_id)
        if pairs:
            await Ballot.raw(ciphertexts, *pairs)
    else:
        # Data-modifying CTEs: the three writes in one statement.
        statement = f"WITH entry AS ({insert}), head AS ({head}) "
        statement += ciphertexts if pairs else "SELECT 1"
        await Ballot.raw(statement, *rows, prev, seq, ballot_id, *pairs)
    locked["head"], locked["length"] = prev, seq
    return out


async def append_entry(locked: dict[str, Any], entry: NewEntry) -> Json:
    """Appends one entry (see append_entries); returns it."""
    return (await append_entries(locked, [entry]))[0]


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
    return await append_entry(
        locked, new_entry(kind, payload, alias=alias, tracking_code=tracking_code, cast_by=cast_by)
    )


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
