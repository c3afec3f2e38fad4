"""Reading ballots: the list, one ballot's summary, its board page by page."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from council.accounts.principal import Principal
from council.ballots import board as ballot_board
from council.ballots.service import CREATOR_ROLES, UNPUBLISHED, loads, trustees_of, visible_row
from council.ballots.tables import Ballot, BoardEntry, Proxy, RosterEntry
from council.errors import Conflict, NotFound
from council.i18n import N_


async def find(
    principal: Principal | None, *, status: str | None, offset: int, limit: int
) -> tuple[list[dict[str, Any]], int]:
    """Published ballots for everyone; drafts too for those who may manage them."""
    query = Ballot.select(
        Ballot.id,
        Ballot.title,
        Ballot.status,
        Ballot.secrecy,
        Ballot.scope,
        Ballot.scope.name,
        Ballot.scope_path,
        Ballot.opens_at,
        Ballot.closes_at,
        Ballot.proposal,
    )
    count = Ballot.count()
    managed_paths = [g.node_path for g in principal.scopes(*CREATOR_ROLES)] if principal else []
    where: Any = Ballot.status.not_in(list(UNPUBLISHED))
    for path in managed_paths:
        where = where | Ballot.scope_path.like(f"{path}%")
    if status:
        where = (Ballot.status == status) & where
    rows: list[dict[str, Any]] = (
        await query.where(where).order_by(Ballot.id, ascending=False).offset(offset).limit(limit)
    )
    total = await count.where(where)
    return rows, int(total)


def _result(row: dict[str, Any]) -> dict[str, Any] | None:
    value: dict[str, Any] | None = loads(row["result"])
    return value


async def summary(principal: Principal | None, ballot_id: int) -> dict[str, Any]:
    row = await visible_row(principal, ballot_id)
    trustees = await trustees_of(ballot_id)
    result = _result(row)
    roster_size = await RosterEntry.count().where(RosterEntry.ballot == ballot_id)
    return {
        "id": row["id"],
        "title": row["title"],
        "description": row["description"],
        "status": row["status"],
        "secrecy": row["secrecy"],
        "weight_basis": row["weight_basis"],
        "scope_id": row["scope"],
        "proposal_id": row["proposal"],
        "questions": json.loads(row["questions"]),
        "rule": json.loads(row["rule"]),
        "t": row["t"],
        "n": row["n"],
        "opens_at": row["opens_at"],
        "closes_at": row["closes_at"],
        "opened_at": row["opened_at"],
        "closed_at": row["closed_at"],
        "tallied_at": row["tallied_at"],
        "withdrawn_at": row["withdrawn_at"],
        "withdrawn_reason": row["withdrawn_reason"],
        "f0": row["f0"] or None,
        "fingerprint": row["fingerprint"] or None,
        "head": row["head"] or None,
        "length": row["length"],
        "roster_size": roster_size,
        "failure": row["failure"] or None,
        "trustees": [
            {
                "index": tr["position"],
                "name": tr["name"],
                "user_id": tr["user"],
                "box_key": tr["box_key"] or None,
                "dealt": bool(tr["commitments"]),
                "checked": tr["checked_at"] is not None,
                "share_posted": tr["share_posted_at"] is not None,
            }
            for tr in trustees
        ],
        "result": result,
    }


async def manifest(principal: Principal | None, ballot_id: int) -> dict[str, Any]:
    row = await visible_row(principal, ballot_id)
    if not row["manifest"]:
        raise Conflict(N_("The manifest is fixed when the ballot opens."))
    value: dict[str, Any] = json.loads(row["manifest"])
    return value


async def board_page(
    principal: Principal | None, ballot_id: int, *, offset: int, limit: int, alias: str | None = None
) -> dict[str, Any]:
    """Entries with, for each ballot or vote, whether a later one of the same alias superseded it."""
    row = await visible_row(principal, ballot_id)
    if not row["fingerprint"]:
        raise Conflict(N_("The board starts when the ballot opens."))
    if alias:
        rows = await (
            BoardEntry.select(
                BoardEntry.seq,
                BoardEntry.kind,
                BoardEntry.payload,
                BoardEntry.prev,
                BoardEntry.hash,
                BoardEntry.alias,
                BoardEntry.tracking_code,
                BoardEntry.cast_by,
            )
            .where((BoardEntry.ballot == ballot_id) & (BoardEntry.alias == alias))
            .order_by(BoardEntry.seq)
            .offset(offset)
            .limit(limit)
        )
        total = await BoardEntry.count().where((BoardEntry.ballot == ballot_id) & (BoardEntry.alias == alias))
    else:
        rows = await ballot_board.entries(ballot_id, offset=offset, limit=limit)
        total = row["length"]
    aliases = sorted({r["alias"] for r in rows if r["alias"] and r["kind"] in ("ballot", "vote")})
    latest: dict[str, int] = {}
    if aliases:
        marks = ", ".join("{}" for _ in aliases)
        for found in await BoardEntry.raw(
            "SELECT alias, MAX(seq) AS seq FROM ballot_board WHERE ballot = {} AND kind IN ('ballot', 'vote') "
            f"AND alias IN ({marks}) GROUP BY alias",
            ballot_id,
            *aliases,
        ):
            latest[found["alias"]] = found["seq"]
    entries = []
    for r in rows:
        entry = ballot_board.entry_of(r)
        if r["kind"] in ("ballot", "vote"):
            entry["superseded"] = latest.get(r["alias"], r["seq"]) > r["seq"]
        if r["tracking_code"]:
            entry["tracking_code"] = r["tracking_code"]
        if r["cast_by"] is not None:
            entry["by_proxy"] = True
        entries.append(entry)
    return {
        "ballot_id": ballot_id,
        "fingerprint": row["fingerprint"],
        "head": row["head"],
        "length": row["length"],
        "total": int(total),
        "offset": offset,
        "limit": limit,
        "entries": entries,
    }


async def find_tracking_code(ballot_id: int, code: str) -> list[dict[str, Any]]:
    """Board entries with this tracking code, in full or in its short form (xxxx-xxxx)."""
    code = code.strip().lower().replace("-", "").replace(" ", "")
    if not code or len(code) not in (8, 64) or any(ch not in "0123456789abcdef" for ch in code):
        return []
    match = BoardEntry.tracking_code == code if len(code) == 64 else BoardEntry.tracking_code.like(f"{code}%")
    rows: list[dict[str, Any]] = await (
        BoardEntry.select(
            BoardEntry.seq, BoardEntry.kind, BoardEntry.alias, BoardEntry.hash, BoardEntry.tracking_code
        )
        .where((BoardEntry.ballot == ballot_id) & match)
        .order_by(BoardEntry.seq)
    )
    return rows


async def audited_file(principal: Principal | None, ballot_id: int, seq: int) -> dict[str, Any]:
    """{manifest, audited}: what `council verify --audited FILE` checks on any device."""
    document = {"manifest": await manifest(principal, ballot_id)}
    row = (
        await BoardEntry.select(BoardEntry.payload)
        .where((BoardEntry.ballot == ballot_id) & (BoardEntry.seq == seq) & (BoardEntry.kind == "audited"))
        .first()
    )
    if row is None:
        raise NotFound(N_("No audited ballot at position {seq} of this board."), seq=seq)
    document["audited"] = json.loads(row["payload"])
    return document


async def ballots_voted_in(principal: Principal | None, ballot_ids: Sequence[int]) -> set[int]:
    """Which of these ballots the principal may vote in: she is on the roster, or holds a
    live proxy for someone who is."""
    if principal is None or principal.resident_id is None or not ballot_ids:
        return set()
    ids = list(ballot_ids)
    own = await RosterEntry.select(RosterEntry.ballot).where(
        (RosterEntry.resident == principal.resident_id) & RosterEntry.ballot.is_in(ids)
    )
    held = await Proxy.select(Proxy.ballot).where(
        (Proxy.delegate == principal.resident_id) & Proxy.revoked_at.is_null() & Proxy.ballot.is_in(ids)
    )
    return {r["ballot"] for r in own} | {r["ballot"] for r in held}
