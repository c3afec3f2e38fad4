"""Casting: encrypted ballots and Benaloh audits (secret), roll-call votes (open), proxies.

Before a ballot touches the board the server checks, in this order: the ballot is open
and inside its window; the voter is on the frozen roster, or holds a live proxy for the
alias; every point is canonical; no ciphertext repeats one already on the board; every
proof holds for this ballot (F) and this alias. A failure is a 4xx naming the check, and
nothing is written. The board append, the ciphertexts and the audit entry are one
transaction under the ballot's lock; ballots that arrive while one is running share the
next one, each with its own entry and audit entry (see "Group append" below). The receipt
is answered only once its transaction has committed; with SMTP set, the same transaction
queues it by mail (receipts.py).
"""

from __future__ import annotations

import asyncio
import json
import os
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from council.accounts.principal import Principal
from council.audit import service as audit
from council.ballots import board as ballot_board
from council.ballots import receipts
from council.ballots.checks import CheckFailed
from council.ballots.encrypt import (
    EncryptedAnswer,
    QuestionShape,
    Reveal,
    answers_from_json,
    answers_to_json,
    check_reveal,
    tracking_code,
    verify_ballot,
)
from council.ballots.group import Point
from council.ballots.record import question_shapes
from council.ballots.tables import (
    Ballot,
    BallotSecrecy,
    BallotStatus,
    BoardEntry,
    Ciphertext,
    Proxy,
    RosterEntry,
)
from council.db import write_transaction
from council.errors import Conflict, Forbidden, Invalid, NotFound, Refused
from council.i18n import N_

NOT_ON_ROSTER = N_(
    "You are not on this ballot's roster. When the ballot counts households, "
    "the household's representative votes."
)


def now() -> datetime:
    return datetime.now(UTC)


def short_code(code: str) -> str:
    """The tracking code's short form, as vote.js shows it: the first 8 hex digits, xxxx-xxxx."""
    return f"{code[:4]}-{code[4:8]}"


@dataclass(frozen=True, slots=True)
class Crypto:
    fingerprint: bytes
    public_key: Point
    shapes: tuple[QuestionShape, ...]


# Parsed once per ballot: the manifest never changes after opening, and F names it.
_crypto: dict[str, Crypto] = {}


async def _ballot(ballot_id: int) -> dict[str, Any]:
    row = (
        await Ballot.select(
            Ballot.id,
            Ballot.status,
            Ballot.secrecy,
            Ballot.fingerprint,
            Ballot.public_key,
            Ballot.questions,
            Ballot.opens_at,
            Ballot.closes_at,
            Ballot.scope_path,
        )
        .where(Ballot.id == ballot_id)
        .first()
    )
    if row is None:
        raise NotFound(N_("No ballot with number {id}."), id=ballot_id)
    return row


def crypto_of(row: dict[str, Any]) -> Crypto:
    found = _crypto.get(row["fingerprint"])
    if found is None:
        found = Crypto(
            bytes.fromhex(row["fingerprint"]),
            Point.from_hex(row["public_key"], "public_key"),
            tuple(question_shapes(json.loads(row["questions"]))),
        )
        _crypto[row["fingerprint"]] = found
    return found


def check_window(row: dict[str, Any], at: datetime) -> None:
    if row["status"] in (BallotStatus.closed.value, BallotStatus.tallied.value) or at >= row["closes_at"]:
        raise Conflict(N_("Voting has closed."))
    if row["status"] == BallotStatus.withdrawn.value:
        raise Conflict(N_("This ballot was withdrawn before voting opened: nobody votes on it."))
    if row["status"] != BallotStatus.open.value:
        raise Conflict(N_("Voting has not been opened yet."))
    if at < row["opens_at"]:
        zone = ZoneInfo(os.environ.get("COUNCIL_TIMEZONE", "Asia/Shanghai"))
        opens = row["opens_at"].astimezone(zone).strftime("%Y-%m-%d %H:%M")
        raise Conflict(N_("Voting has not started yet: it opens at {time}."), time=opens)


async def voter_entry(
    principal: Principal, ballot_id: int, for_alias: str | None
) -> tuple[dict[str, Any], int | None]:
    """The roster entry the principal casts for, and the delegate's resident id for a proxy."""
    if principal.resident_id is None:
        raise Forbidden(N_("Only residents on this ballot's roster can vote."))
    columns = (
        RosterEntry.id,
        RosterEntry.alias,
        RosterEntry.resident,
        RosterEntry.voter_name,
        RosterEntry.weight,
    )
    if for_alias is None:
        entry = (
            await RosterEntry.select(*columns)
            .where((RosterEntry.ballot == ballot_id) & (RosterEntry.resident == principal.resident_id))
            .first()
        )
        if entry is None:
            raise Forbidden(NOT_ON_ROSTER)
        return entry, None
    entry = (
        await RosterEntry.select(*columns)
        .where((RosterEntry.ballot == ballot_id) & (RosterEntry.alias == for_alias))
        .first()
    )
    if entry is None:
        raise Forbidden(N_("{alias} is not on this ballot's roster."), alias=for_alias)
    if entry["resident"] == principal.resident_id:
        return entry, None
    if not await Proxy.exists().where(
        (Proxy.ballot == ballot_id)
        & (Proxy.delegator == entry["resident"])
        & (Proxy.delegate == principal.resident_id)
        & Proxy.revoked_at.is_null()
    ):
        raise Forbidden(N_("You hold no proxy for {alias}."), alias=for_alias)
    return entry, principal.resident_id


def _refused(error: CheckFailed) -> Refused:
    """A failed check as the 422 answer that names it."""
    return Refused(
        error.check, N_("The ballot was refused ({check}): {reason}"), check=error.check, reason=str(error)
    )


def _parse(answers_json: object) -> tuple[EncryptedAnswer, ...]:
    try:
        return answers_from_json(answers_json)
    except CheckFailed as error:
        raise _refused(error) from None


async def _check_fresh(ballot_id: int, alphas: Sequence[str]) -> None:
    if len(set(alphas)) != len(alphas) or await Ciphertext.exists().where(
        (Ciphertext.ballot == ballot_id) & Ciphertext.alpha.is_in(list(alphas))
    ):
        raise _duplicate()


async def _verify(crypto: Crypto, alias: str, answers: tuple[EncryptedAnswer, ...]) -> None:
    try:
        await asyncio.to_thread(
            verify_ballot, crypto.fingerprint, alias, crypto.shapes, crypto.public_key, answers
        )
    except CheckFailed as error:
        raise _refused(error) from None


def _repeats_a_ciphertext(error: Exception) -> bool:
    """The unique index on (ballot, alpha) refused a write: two ballots raced past the check."""
    return "ballot_ciphertext" in f"{getattr(error, 'constraint_name', '')} {error}"


async def _append_encrypted(
    principal: Principal,
    ballot_id: int,
    kind: str,
    alias: str,
    answers: tuple[EncryptedAnswer, ...],
    *,
    cast_by: int | None,
    reveals: Sequence[Reveal] = (),
) -> dict[str, Any]:
    """Queues a checked ballot (kind "ballot") or audit ("audited", with its reveals) for
    the next group append; returns its receipt once that has committed."""
    payload: dict[str, Any] = {"alias": alias, "answers": answers_to_json(answers)}
    if kind == "audited":
        payload["reveal"] = [r.to_json() for r in reveals]
    payload["cast_at"] = ballot_board.rfc3339(now())
    entry = ballot_board.new_entry(
        kind,
        payload,
        alias=alias,
        tracking_code=tracking_code(alias, answers),
        cast_by=cast_by,
        ciphertexts=[c.alpha.hex() for a in answers for c in a.choices],
    )
    loop = asyncio.get_running_loop()
    pending = _Pending(principal, entry, loop.create_future())
    # When the request went away, nobody reads the outcome: mark it read.
    pending.receipt.add_done_callback(lambda done: done.cancelled() or done.exception())
    queue = _queues.setdefault(loop, {}).setdefault(ballot_id, _Queue())
    queue.items.append(pending)
    if queue.task is None or queue.task.done():
        queue.task = loop.create_task(_drain(ballot_id, queue))
    # The receipt comes once the transaction holding this ballot has committed; a request
    # that goes away does not cancel the others' transaction.
    return await asyncio.shield(pending.receipt)


# Group append. Under load, many casts of one ballot wait for its lock at the same time.
# Each process appends the ballots that queued up while its previous transaction ran in
# one transaction: one lock, one write, one commit, and an audit entry for each ballot;
# a ballot that finds no transaction running goes at once. A failed transaction fails its
# ballots, except for a repeated ciphertext, after which each one is tried alone.
MAX_BATCH = 32


@dataclass(eq=False)
class _Pending:
    principal: Principal
    entry: ballot_board.NewEntry
    receipt: asyncio.Future[dict[str, Any]]


@dataclass(eq=False)
class _Queue:
    items: list[_Pending] = field(default_factory=list)
    task: asyncio.Task[None] | None = None


# Per event loop (a test may run several), per ballot.
_queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[int, _Queue]] = weakref.WeakKeyDictionary()


async def _drain(ballot_id: int, queue: _Queue) -> None:
    while queue.items:
        batch = queue.items[:MAX_BATCH]
        del queue.items[:MAX_BATCH]
        await _append_batch(ballot_id, batch)


async def _append_batch(ballot_id: int, batch: list[_Pending]) -> None:
    try:
        receipts = await _append_transaction(ballot_id, batch)
    except Exception as error:  # noqa: BLE001 - handed to each waiting request, which raises it
        if _repeats_a_ciphertext(error):
            if len(batch) > 1:
                for pending in batch:
                    await _append_batch(ballot_id, [pending])
                return
            error = _duplicate()
        for pending in batch:
            if not pending.receipt.done():
                pending.receipt.set_exception(error)
        return
    except BaseException:
        for pending in batch:
            pending.receipt.cancel()
        raise
    for pending, receipt in zip(batch, receipts, strict=True):
        if not pending.receipt.done():
            pending.receipt.set_result(receipt)


async def _append_transaction(ballot_id: int, batch: Sequence[_Pending]) -> list[dict[str, Any]]:
    async with write_transaction():
        locked = await ballot_board.lock_ballot(ballot_id)
        check_window(locked, now())
        added = await ballot_board.append_entries(locked, [p.entry for p in batch])
        await audit.record_many(
            [
                (
                    pending.principal.actor,
                    "cast_ballot" if entry["kind"] == "ballot" else "audit_ballot",
                    "ballot",
                    ballot_id,
                    {
                        "seq": entry["seq"],
                        "tracking_code": pending.entry.tracking_code,
                        "proxy": pending.entry.cast_by is not None,
                    },
                )
                for pending, entry in zip(batch, added, strict=True)
            ]
        )
        issued = [
            {
                "seq": entry["seq"],
                "tracking_code": pending.entry.tracking_code,
                "short_code": short_code(str(pending.entry.tracking_code)),
                "head": entry["hash"],
            }
            for pending, entry in zip(batch, added, strict=True)
        ]
        await receipts.queue(
            ballot_id,
            [(p.principal.id, r) for p, r in zip(batch, issued, strict=True) if p.entry.kind == "ballot"],
        )
    return issued


# The ballot, the caster's own roster entry and whether a ciphertext repeats one on the
# board, in one query: the checks of a cast cost one round trip before the transaction.
_OWN_ENTRY = (
    "SELECT b.status, b.secrecy, b.fingerprint, b.public_key, b.questions, b.opens_at, b.closes_at, "
    "r.id AS entry_id, r.alias, r.resident, r.voter_name, r.weight, "
    "EXISTS (SELECT 1 FROM ballot_ciphertext c WHERE c.ballot = b.id AND c.alpha IN ({alphas})) "
    "AS repeated FROM ballot b LEFT JOIN ballot_roster r ON r.ballot = b.id AND r.resident = {{}} "
    "WHERE b.id = {{}}"
)


def _duplicate() -> Refused:
    return Refused(
        "duplicate",
        N_("The ballot was refused (duplicate): it repeats a ciphertext already on the board."),
    )


async def _own_entry(
    principal: Principal, ballot_id: int, alphas: Sequence[str]
) -> tuple[dict[str, Any], dict[str, Any] | None, bool]:
    """The ballot's row, the principal's own roster entry (None when she has none), and
    whether one of `alphas` is on the board already."""
    marks = ", ".join("{}" for _ in alphas) or "NULL"
    rows = await Ballot.raw(_OWN_ENTRY.format(alphas=marks), *alphas, principal.resident_id or -1, ballot_id)
    if not rows:
        raise NotFound(N_("No ballot with number {id}."), id=ballot_id)
    row = ballot_board.timestamps(rows[0], "opens_at", "closes_at")
    entry = None
    if row["entry_id"] is not None:
        entry = {
            "id": row["entry_id"],
            "alias": row["alias"],
            "resident": row["resident"],
            "voter_name": row["voter_name"],
            "weight": row["weight"],
        }
    return row, entry, bool(row["repeated"])


async def _prepare(
    principal: Principal, ballot_id: int, answers_json: object, for_alias: str | None
) -> tuple[dict[str, Any], Crypto, tuple[EncryptedAnswer, ...], int | None]:
    if for_alias is not None:
        return await _prepare_for(principal, ballot_id, answers_json, for_alias)
    # Parsed first for the ciphertexts the query looks for; a parse error is still
    # reported in its turn, after the ballot, its window and the roster.
    answers: tuple[EncryptedAnswer, ...] = ()
    failed: CheckFailed | None = None
    try:
        answers = answers_from_json(answers_json)
    except CheckFailed as error:
        failed = error
    alphas = [c.alpha.hex() for a in answers for c in a.choices]
    row, entry, repeated = await _own_entry(principal, ballot_id, alphas)
    if row["secrecy"] != BallotSecrecy.secret.value:
        raise Conflict(N_("This is an open ballot: vote with choices, not an encrypted ballot."))
    check_window(row, now())
    if principal.resident_id is None:
        raise Forbidden(N_("Only residents on this ballot's roster can vote."))
    if entry is None:
        raise Forbidden(NOT_ON_ROSTER)
    if failed is not None:
        raise _refused(failed)
    if repeated or len(set(alphas)) != len(alphas):
        raise _duplicate()
    crypto = crypto_of(row)
    await _verify(crypto, entry["alias"], answers)
    return entry, crypto, answers, None


async def _prepare_for(
    principal: Principal, ballot_id: int, answers_json: object, for_alias: str
) -> tuple[dict[str, Any], Crypto, tuple[EncryptedAnswer, ...], int | None]:
    """A ballot cast for an alias named in the request (her own, or one she holds a proxy for)."""
    row = await _ballot(ballot_id)
    if row["secrecy"] != BallotSecrecy.secret.value:
        raise Conflict(N_("This is an open ballot: vote with choices, not an encrypted ballot."))
    check_window(row, now())
    entry, cast_by = await voter_entry(principal, ballot_id, for_alias)
    answers = _parse(answers_json)
    crypto = crypto_of(row)
    await _check_fresh(ballot_id, [c.alpha.hex() for a in answers for c in a.choices])
    await _verify(crypto, entry["alias"], answers)
    return entry, crypto, answers, cast_by


async def cast(
    principal: Principal, ballot_id: int, answers_json: object, *, for_alias: str | None = None
) -> dict[str, Any]:
    """Checks and appends an encrypted ballot; returns the receipt (tracking code, board head)."""
    entry, _, answers, cast_by = await _prepare(principal, ballot_id, answers_json, for_alias)
    return await _append_encrypted(principal, ballot_id, "ballot", entry["alias"], answers, cast_by=cast_by)


async def spoil(
    principal: Principal,
    ballot_id: int,
    answers_json: object,
    reveal_json: object,
    *,
    for_alias: str | None = None,
) -> dict[str, Any]:
    """A Benaloh audit: the ballot and its reveal go on the board's audited list, never counted."""
    entry, crypto, answers, cast_by = await _prepare(principal, ballot_id, answers_json, for_alias)
    if not isinstance(reveal_json, list) or len(reveal_json) != len(answers):
        raise _refused(CheckFailed("reveal", "one reveal per question"))
    try:
        reveals = [Reveal.from_json(r, f"reveal[{q}]") for q, r in enumerate(reveal_json)]
        for q, (answer, reveal) in enumerate(zip(answers, reveals, strict=True)):
            check_reveal(q, crypto.public_key, answer, reveal)
    except CheckFailed as error:
        raise _refused(error) from None
    return await _append_encrypted(
        principal, ballot_id, "audited", entry["alias"], answers, cast_by=cast_by, reveals=reveals
    )


async def vote(
    principal: Principal, ballot_id: int, choices: object, *, for_alias: str | None = None
) -> dict[str, Any]:
    """An open (roll-call) ballot's vote, in clear with the voter's name; the last one counts."""
    row = await _ballot(ballot_id)
    if row["secrecy"] != BallotSecrecy.open.value:
        raise Conflict(N_("This is a secret ballot: it takes encrypted ballots only."))
    check_window(row, now())
    entry, cast_by = await voter_entry(principal, ballot_id, for_alias)
    shapes = question_shapes(json.loads(row["questions"]))
    rows = _marks(choices, shapes)
    payload = {
        "alias": entry["alias"],
        "voter_name": entry["voter_name"],
        "choices": rows,
        "cast_at": ballot_board.rfc3339(now()),
    }
    async with write_transaction():
        locked = await ballot_board.lock_ballot(ballot_id)
        check_window(locked, now())
        added = await ballot_board.append(locked, "vote", payload, alias=entry["alias"], cast_by=cast_by)
        await audit.record(
            principal.actor,
            "cast_vote",
            "ballot",
            ballot_id,
            {"seq": added["seq"], "alias": entry["alias"], "proxy": cast_by is not None},
        )
    return {"seq": added["seq"], "head": added["hash"]}


def _marks(choices: object, shapes: Sequence[QuestionShape]) -> list[list[int]]:
    if not isinstance(choices, list) or len(choices) != len(shapes):
        raise Invalid(N_("Give one answer per question."))
    rows: list[list[int]] = []
    for q, (marks, shape) in enumerate(zip(choices, shapes, strict=True)):
        if (
            not isinstance(marks, list)
            or len(marks) != shape.options
            or any(m not in (0, 1) or isinstance(m, bool) for m in marks)
        ):
            raise Invalid(N_("Question {number}: mark each option 0 or 1."), number=q + 1)
        if not shape.allows(marks):
            raise Invalid(N_("Question {number}: this selection is not allowed."), number=q + 1)
        rows.append(list(marks))
    return rows


async def my_entries(principal: Principal | None, ballot_id: int) -> list[dict[str, Any]]:
    """The aliases the principal may vote for (her own and her proxies), with her last ballot."""
    if principal is None or principal.resident_id is None:
        return []
    own = await RosterEntry.select(RosterEntry.alias, RosterEntry.resident, RosterEntry.weight).where(
        (RosterEntry.ballot == ballot_id) & (RosterEntry.resident == principal.resident_id)
    )
    proxies = await Proxy.select(Proxy.delegator).where(
        (Proxy.ballot == ballot_id) & (Proxy.delegate == principal.resident_id) & Proxy.revoked_at.is_null()
    )
    delegated = []
    if proxies:
        delegated = await RosterEntry.select(
            RosterEntry.alias, RosterEntry.resident, RosterEntry.weight
        ).where(
            (RosterEntry.ballot == ballot_id) & RosterEntry.resident.is_in([p["delegator"] for p in proxies])
        )
    out = []
    for entry, is_own in [(e, True) for e in own] + [(e, False) for e in delegated]:
        last = (
            await BoardEntry.select(BoardEntry.seq, BoardEntry.tracking_code, BoardEntry.created_at)
            .where(
                (BoardEntry.ballot == ballot_id)
                & (BoardEntry.alias == entry["alias"])
                & BoardEntry.kind.is_in(["ballot", "vote"])
            )
            .order_by(BoardEntry.seq, ascending=False)
            .first()
        )
        out.append(
            {
                "alias": entry["alias"],
                "weight": entry["weight"],
                "own": is_own,
                "voted": last is not None,
                "last_seq": last["seq"] if last else None,
                "tracking_code": last["tracking_code"] if last else None,
            }
        )
    return out
