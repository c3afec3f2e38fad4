"""民事民决: a ballot's row and who may manage it, freezing its parameters (setup),
opening it (roster snapshot, manifest, F) and closing it. Creating, changing and
withdrawing drafts are in drafts.py, casting in casting.py, the trustees' work in
trustees.py, the result in results.py.

Life of a ballot: draft → (secret: setup → keygen → ready) → open → closed → tallied.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from council.accounts.principal import Principal
from council.accounts.tables import Role
from council.audit import service as audit
from council.ballots import board as ballot_board
from council.ballots import keys, notices
from council.ballots.encrypt import answers_from_json
from council.ballots.keys import Dealing
from council.ballots.proofs import ChallengeResponse
from council.ballots.record import build_manifest, parameters, question_shapes
from council.ballots.roster import snapshot
from council.ballots.tables import (
    Ballot,
    BallotSecrecy,
    BallotStatus,
    BoardEntry,
    RosterEntry,
    Trustee,
)
from council.ballots.tally import sum_ballots
from council.canonical import canonical_bytes
from council.db import write_transaction
from council.errors import Conflict, Forbidden, NotFound
from council.i18n import N_

if TYPE_CHECKING:
    pass  # typing.Unpack from Python 3.12

CREATOR_ROLES = (Role.council_member, Role.host, Role.staff)
MAX_QUESTIONS = 20
MAX_OPTIONS = 50


def now() -> datetime:
    return datetime.now(UTC)


def loads(text: str) -> Any:
    return json.loads(text) if text else None


def dumps(value: Any) -> str:
    return canonical_bytes(value).decode("utf-8")


async def get_row(ballot_id: int) -> dict[str, Any]:
    row = await Ballot.select().where(Ballot.id == ballot_id).first()
    if row is None:
        raise NotFound(N_("No ballot with number {id}."), id=ballot_id)
    return row


def can_manage(principal: Principal | None, row: dict[str, Any]) -> bool:
    return principal is not None and principal.can(row["scope_path"], *CREATOR_ROLES)


UNPUBLISHED = (BallotStatus.draft.value, BallotStatus.keygen.value, BallotStatus.failed.value)


def shown_to(principal: Principal | None, status: str, scope_path: str) -> bool:
    """Whether a link to a ballot in this status and place may be shown to `principal`: a
    ballot being prepared is seen by those who may manage it (and by its trustees, whom
    visible_row lets in and who reach it from their notices)."""
    return status not in UNPUBLISHED or can_manage(principal, {"scope_path": scope_path})


async def visible_row(principal: Principal | None, ballot_id: int) -> dict[str, Any]:
    """Drafts are seen by the people who may manage them and by their trustees."""
    row = await get_row(ballot_id)
    if row["status"] in UNPUBLISHED:
        if can_manage(principal, row):
            return row
        if principal is not None and await Trustee.exists().where(
            (Trustee.ballot == ballot_id) & (Trustee.user == principal.id)
        ):
            return row
        raise NotFound(N_("No ballot with number {id}."), id=ballot_id)
    return row


def managed(principal: Principal, row: dict[str, Any]) -> None:
    if not can_manage(principal, row):
        raise Forbidden(N_("Only council members, hosts and staff of this place can manage its ballots."))


async def setup(principal: Principal, ballot_id: int) -> None:
    """Freezes a secret ballot's parameters and asks its trustees to generate the key."""
    row = await get_row(ballot_id)
    managed(principal, row)
    if row["secrecy"] != BallotSecrecy.secret.value:
        raise Conflict(N_("An open ballot needs no key: open it directly."))
    async with write_transaction():
        locked = await ballot_board.lock_ballot(ballot_id)
        if locked["status"] != BallotStatus.draft.value:
            raise Conflict(N_("Only a draft can be sent to the trustees."))
        await Ballot.update({Ballot.status: BallotStatus.keygen.value}).where(Ballot.id == ballot_id)
        await audit.record(principal.actor, "setup_ballot", "ballot", ballot_id, {})
        await notices.trustees_called(ballot_id)


def ballot_parameters(row: dict[str, Any], trustees: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """What F₀ hashes, from the ballot row and its trustees (by position)."""
    return parameters(
        ballot_id=row["id"],
        title=row["title"],
        secrecy=row["secrecy"],
        questions=loads(row["questions"]),
        rule=loads(row["rule"]),
        weight_basis=row["weight_basis"],
        t=row["t"],
        n=row["n"],
        trustees=[{"index": tr["position"], "name": tr["name"], "box_key": tr["box_key"]} for tr in trustees],
    )


def dealing_of(trustee: dict[str, Any]) -> Dealing:
    commitments = keys.commitments_from_json(loads(trustee["commitments"]), f"trustee {trustee['position']}")
    pok = ChallengeResponse.from_json(loads(trustee["pok"]), f"trustee {trustee['position']}.pok")
    sealed = {int(j): bytes.fromhex(box) for j, box in loads(trustee["sealed"]).items()}
    return Dealing(trustee["position"], commitments, pok, sealed)


async def trustees_of(ballot_id: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = (
        await Trustee.select().where(Trustee.ballot == ballot_id).order_by(Trustee.position)
    )
    return rows


async def open_ballot(principal: Principal, ballot_id: int) -> None:
    """Freezes the roster and the manifest (F) and starts taking votes inside the window."""
    row = await get_row(ballot_id)
    managed(principal, row)
    secret = row["secrecy"] == BallotSecrecy.secret.value
    wanted = BallotStatus.ready.value if secret else BallotStatus.draft.value
    if row["status"] != wanted:
        if secret and row["status"] in (BallotStatus.draft.value, BallotStatus.keygen.value):
            raise Conflict(N_("The trustees have not finished generating the key yet."))
        raise Conflict(N_("This ballot cannot be opened in its present state."))
    if row["closes_at"] <= now():
        raise Conflict(N_("The closing time is already past: change the times first."))
    roster = await snapshot(row["scope_path"], row["weight_basis"])
    if not roster:
        raise Conflict(N_("Nobody lives in this place: there is nobody to vote."))
    trustees = await trustees_of(ballot_id)
    params = ballot_parameters(row, trustees)
    manifest = build_manifest(
        params,
        dealings=[dealing_of(tr) for tr in trustees],
        roster=[{"alias": e["alias"], "weight": e["weight"]} for e in roster],
        opens_at=ballot_board.rfc3339(row["opens_at"]),
        closes_at=ballot_board.rfc3339(row["closes_at"]),
    )
    async with write_transaction():
        locked = await ballot_board.lock_ballot(ballot_id)
        if locked["status"] != wanted:
            raise Conflict(N_("This ballot cannot be opened in its present state."))
        rows = [
            RosterEntry(
                ballot=ballot_id,
                alias=e["alias"],
                weight=e["weight"],
                resident=e["resident"],
                household=e["household"],
                voter_name=e["voter_name"],
                position=k,
            )
            for k, e in enumerate(roster)
        ]
        for start in range(0, len(rows), 1000):  # PostgreSQL takes at most 32767 parameters a statement
            await RosterEntry.insert(*rows[start : start + 1000])
        await Ballot.update(
            {
                Ballot.status: BallotStatus.open.value,
                Ballot.parameters: dumps(params),
                Ballot.f0: manifest["F0"],
                Ballot.manifest: dumps(manifest),
                Ballot.fingerprint: manifest["fingerprint"],
                Ballot.public_key: manifest["public_key"] or "",
                Ballot.head: manifest["fingerprint"],
                Ballot.length: 0,
                Ballot.opened_at: now(),
            }
        ).where(Ballot.id == ballot_id)
        await audit.record(
            principal.actor,
            "open_ballot",
            "ballot",
            ballot_id,
            {"fingerprint": manifest["fingerprint"], "roster": len(roster)},
        )
        await notices.voters_invited(ballot_id)


async def _last_ballots(ballot_id: int, kind: str, length: int) -> dict[str, dict[str, Any]]:
    """The last entry of each alias among the board's first `length` entries (a revote
    supersedes the earlier ones)."""
    rows = await (
        BoardEntry.select(BoardEntry.alias, BoardEntry.payload, BoardEntry.seq)
        .where((BoardEntry.ballot == ballot_id) & (BoardEntry.kind == kind) & (BoardEntry.seq < length))
        .order_by(BoardEntry.seq)
    )
    return {row["alias"]: row for row in rows}


@dataclass(frozen=True, slots=True)
class _Count:
    """What closing at board length `length` counts: the last entry of each voter and, for
    a secret ballot, the weighted sums of their ciphertexts."""

    length: int
    counted: list[str]
    last: dict[str, dict[str, Any]]
    sums: list[list[dict[str, str]]] | None


async def _count(row: dict[str, Any], roster: Sequence[dict[str, Any]], length: int) -> _Count:
    from council.ballots.record import sums_to_json

    secret = row["secrecy"] == BallotSecrecy.secret.value
    last = await _last_ballots(row["id"], "ballot" if secret else "vote", length)
    counted = [r["alias"] for r in roster if r["alias"] in last]
    if not secret:
        return _Count(length, counted, last, None)
    weights = {r["alias"]: r["weight"] for r in roster}
    shapes = question_shapes(loads(row["questions"]))
    pairs = [(weights[a], answers_from_json(json.loads(last[a]["payload"])["answers"])) for a in counted]
    sums = await asyncio.to_thread(sum_ballots, shapes, pairs)
    return _Count(length, counted, last, sums_to_json(sums))


async def close(principal: Principal, ballot_id: int, *, early: bool = False) -> None:
    """Ends voting: appends `close`, stores the sums of the counted ballots (secret) or
    publishes the result at once (open).

    The counting reads thousands of ballots, so it runs before the write transaction, at the
    board's length then; inside, under the ballot's lock, it is redone only if a ballot
    arrived in between (on SQLite the lock is the whole database's).
    """
    row = await get_row(ballot_id)
    managed(principal, row)
    if row["status"] != BallotStatus.open.value:
        raise Conflict(N_("Only an open ballot can be closed."))
    if now() < row["closes_at"] and not early:
        raise Conflict(N_("The ballot closes at its closing time; closing early must be asked for."))
    from council.ballots import results

    secret = row["secrecy"] == BallotSecrecy.secret.value
    roster = await (
        RosterEntry.select(RosterEntry.alias, RosterEntry.weight)
        .where(RosterEntry.ballot == ballot_id)
        .order_by(RosterEntry.position)
    )
    before = await _count(row, roster, row["length"])
    async with write_transaction():
        locked = await ballot_board.lock_ballot(ballot_id)
        if locked["status"] != BallotStatus.open.value:
            raise Conflict(N_("Only an open ballot can be closed."))
        count = before if locked["length"] == before.length else await _count(row, roster, locked["length"])
        closed_at = now()
        await ballot_board.append(locked, "close", {"closed_at": ballot_board.rfc3339(closed_at)})
        update: dict[Any, Any] = {
            Ballot.status: BallotStatus.closed.value,
            Ballot.closed_at: closed_at,
            Ballot.counted: dumps(count.counted),
        }
        if count.sums is not None:
            update[Ballot.sums] = dumps(count.sums)
        await Ballot.update(update).where(Ballot.id == ballot_id)
        await audit.record(
            principal.actor,
            "close_ballot",
            "ballot",
            ballot_id,
            {"early": early and now() < row["closes_at"], "counted": len(count.counted)},
        )
        if secret:
            await notices.trustees_to_decrypt(ballot_id)
        else:
            weights = {r["alias"]: r["weight"] for r in roster}
            choices = {a: json.loads(count.last[a]["payload"])["choices"] for a in count.counted}
            await results.publish_open(locked, row, count.counted, weights, choices)
