"""民事民决: creating a ballot, freezing its parameters, opening it (roster snapshot,
manifest, F) and closing it. Casting is in casting.py, the trustees' work in trustees.py,
the result in results.py.

Life of a ballot: draft → (secret: setup → keygen → ready) → open → closed → tallied.
A draft can change (update); a ballot that has not opened can be withdrawn (withdraw).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NotRequired, TypedDict

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
from council.ballots.rules import check_rule
from council.ballots.tables import (
    Ballot,
    BallotSecrecy,
    BallotStatus,
    BoardEntry,
    RosterEntry,
    Trustee,
    WeightBasis,
)
from council.ballots.tally import sum_ballots
from council.canonical import canonical_bytes
from council.community.tables import Node, NodeKind
from council.db import write_transaction
from council.errors import Conflict, Forbidden, Invalid, NotFound
from council.i18n import N_
from council.proposals.tables import Proposal

if TYPE_CHECKING:
    from typing_extensions import Unpack  # typing.Unpack from Python 3.12

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


async def visible_row(principal: Principal | None, ballot_id: int) -> dict[str, Any]:
    """Drafts are seen by the people who may manage them and by their trustees."""
    row = await get_row(ballot_id)
    if row["status"] in (BallotStatus.draft.value, BallotStatus.keygen.value, BallotStatus.failed.value):
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


def check_questions(questions: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The questions completed with costs and budget, or Invalid naming the problem."""
    if not questions or len(questions) > MAX_QUESTIONS:
        raise Invalid(N_("A ballot has 1 to {max} questions."), max=MAX_QUESTIONS)
    full: list[dict[str, Any]] = []
    for q, question in enumerate(questions):
        options = [str(o).strip() for o in question.get("options", [])]
        text = str(question.get("text", "")).strip()
        if not text or len(options) < 1 or len(options) > MAX_OPTIONS or not all(options):
            raise Invalid(
                N_("Question {number} needs a text and 1 to {max} options, none empty."),
                number=q + 1,
                max=MAX_OPTIONS,
            )
        if len(set(options)) != len(options):
            raise Invalid(N_("Question {number} lists an option twice."), number=q + 1)
        full.append(
            {
                "text": text,
                "options": options,
                "min": question.get("min", 1),
                "max": question.get("max", 1),
                "costs": question.get("costs"),
                "budget": question.get("budget"),
            }
        )
    try:
        question_shapes(full)
    except ValueError as error:
        raise Invalid(N_("The questions are not valid: {problem}"), problem=str(error)) from None
    return full


async def _trustee_users(user_ids: Sequence[int], scope_path: str) -> list[dict[str, Any]]:
    if len(set(user_ids)) != len(user_ids):
        raise Invalid(N_("A trustee is listed twice."))
    users = []
    from council.accounts.login import load_principal

    for user_id in user_ids:
        principal = await load_principal(user_id)
        if principal is None or not principal.can(scope_path, Role.supervisor):
            raise Invalid(
                N_("User {id} is not a supervisor of this place and cannot be a trustee."), id=user_id
            )
        users.append({"id": user_id, "name": principal.display_name or principal.username})
    return users


@dataclass(frozen=True, slots=True)
class _Checked:
    """A ballot's parameters as create and update store them, once every check passed."""

    title: str
    description: str
    scope_id: int
    scope_path: str
    secrecy: BallotSecrecy
    weight_basis: WeightBasis
    questions: list[dict[str, Any]]
    rule: dict[str, Any]
    opens_at: datetime
    closes_at: datetime
    trustees: list[dict[str, Any]]
    t: int
    n: int
    proposal_id: int | None

    def columns(self) -> dict[Any, Any]:
        return {
            Ballot.title: self.title,
            Ballot.description: self.description,
            Ballot.proposal: self.proposal_id,
            Ballot.scope: self.scope_id,
            Ballot.scope_path: self.scope_path,
            Ballot.secrecy: self.secrecy.value,
            Ballot.weight_basis: self.weight_basis.value,
            Ballot.questions: dumps(self.questions),
            Ballot.rule: dumps(self.rule),
            Ballot.t: self.t,
            Ballot.n: self.n,
            Ballot.opens_at: self.opens_at,
            Ballot.closes_at: self.closes_at,
        }


class BallotArgs(TypedDict):
    """The keyword arguments of create and update."""

    title: str
    description: str
    scope_id: int
    secrecy: BallotSecrecy
    weight_basis: WeightBasis
    questions: Sequence[dict[str, Any]]
    rule: dict[str, Any]
    opens_at: datetime
    closes_at: datetime
    trustee_ids: NotRequired[Sequence[int]]
    threshold: NotRequired[int | None]
    proposal_id: NotRequired[int | None]


async def _checked(principal: Principal, arguments: BallotArgs) -> _Checked:
    """The checks of create and update: Forbidden or Invalid naming the problem."""
    scope_id, secrecy = arguments["scope_id"], arguments["secrecy"]
    opens_at, closes_at = arguments["opens_at"], arguments["closes_at"]
    trustee_ids, threshold = arguments.get("trustee_ids", ()), arguments.get("threshold")
    proposal_id = arguments.get("proposal_id")
    scope = await Node.select().where(Node.id == scope_id).first()
    if scope is None or not scope["active"] or scope["kind"] == NodeKind.household.value:
        raise Invalid(N_("A ballot is for a unit, a building, a grid or the community."))
    if not principal.can(scope["path"], *CREATOR_ROLES):
        raise Forbidden(N_("Only council members, hosts and staff of this place can manage its ballots."))
    title = arguments["title"].strip()
    if not title:
        raise Invalid(N_("A title is required."))
    if opens_at.tzinfo is None or closes_at.tzinfo is None:
        raise Invalid(N_("Times need a time zone."))
    if closes_at <= opens_at:
        raise Invalid(N_("The ballot must close after it opens."))
    if closes_at <= now():
        raise Invalid(N_("The closing time is already past."))
    full = check_questions(arguments["questions"])
    rule = arguments["rule"]
    try:
        check_rule(rule, question_shapes(full))
    except ValueError as error:
        raise Invalid(N_("The outcome rule is not valid: {problem}"), problem=str(error)) from None
    if proposal_id is not None and not await Proposal.exists().where(Proposal.id == proposal_id):
        raise Invalid(N_("No proposal with number {id}."), id=proposal_id)
    trustees: list[dict[str, Any]] = []
    t = n = 0
    if secrecy is BallotSecrecy.secret:
        trustees = await _trustee_users(trustee_ids, scope["path"])
        n = len(trustees)
        if n < 1:
            raise Invalid(N_("A secret ballot needs at least one trustee from the supervisory committee."))
        t = keys.default_threshold(n) if threshold is None else threshold
        if not 1 <= t <= n:
            raise Invalid(N_("The threshold must be between 1 and the number of trustees ({n})."), n=n)
    elif trustee_ids:
        raise Invalid(N_("An open ballot has no trustees."))
    return _Checked(
        title=title,
        description=arguments["description"].strip(),
        scope_id=scope_id,
        scope_path=scope["path"],
        secrecy=secrecy,
        weight_basis=arguments["weight_basis"],
        questions=full,
        rule=rule,
        opens_at=opens_at,
        closes_at=closes_at,
        trustees=trustees,
        t=t,
        n=n,
        proposal_id=proposal_id,
    )


async def _save_trustees(ballot_id: int, trustees: Sequence[dict[str, Any]]) -> None:
    for j, user in enumerate(trustees, start=1):
        await Trustee(ballot=ballot_id, position=j, user=user["id"], name=user["name"]).save()


async def create(principal: Principal, **arguments: Unpack[BallotArgs]) -> int:
    """A new draft ballot."""
    ballot = await _checked(principal, arguments)
    async with write_transaction():
        row = Ballot(
            {
                **ballot.columns(),
                Ballot.status: BallotStatus.draft.value,
                Ballot.created_by: principal.id,
                Ballot.created_at: now(),
            }
        )
        await row.save()
        await _save_trustees(row.id, ballot.trustees)
        await audit.record(
            principal.actor,
            "create_ballot",
            "ballot",
            row.id,
            {
                "title": ballot.title,
                "secrecy": ballot.secrecy.value,
                "scope_id": ballot.scope_id,
                "t": ballot.t,
                "n": ballot.n,
            },
        )
    return int(row.id)


def require_draft(row: dict[str, Any]) -> None:
    if row["status"] != BallotStatus.draft.value:
        raise Conflict(
            N_(
                "Only a draft can be changed: once a ballot is sent to the trustees or opened, "
                "its questions, rule, times and trustees are fixed."
            )
        )


def _changes(row: dict[str, Any], trustee_ids: list[int], ballot: _Checked) -> dict[str, Any]:
    """What update changes, for its audit entry: the fields' names, and the new values of
    the short ones."""
    before: dict[str, Any] = {
        "title": row["title"],
        "description": row["description"],
        "scope_id": row["scope"],
        "secrecy": row["secrecy"],
        "weight_basis": row["weight_basis"],
        "questions": loads(row["questions"]),
        "rule": loads(row["rule"]),
        "opens_at": row["opens_at"],
        "closes_at": row["closes_at"],
        "trustee_ids": trustee_ids,
        "threshold": row["t"],
        "proposal_id": row["proposal"],
    }
    after: dict[str, Any] = {
        "title": ballot.title,
        "description": ballot.description,
        "scope_id": ballot.scope_id,
        "secrecy": ballot.secrecy.value,
        "weight_basis": ballot.weight_basis.value,
        "questions": ballot.questions,
        "rule": ballot.rule,
        "opens_at": ballot.opens_at,
        "closes_at": ballot.closes_at,
        "trustee_ids": [user["id"] for user in ballot.trustees],
        "threshold": ballot.t,
        "proposal_id": ballot.proposal_id,
    }
    changed = [name for name in after if after[name] != before[name]]
    out: dict[str, Any] = {"changed": changed}
    for name in changed:
        if name in ("opens_at", "closes_at"):
            out[name] = ballot_board.rfc3339(after[name])
        elif name not in ("description", "questions", "rule"):
            out[name] = after[name]
    return out


async def update(principal: Principal, ballot_id: int, **arguments: Unpack[BallotArgs]) -> None:
    """Replaces a draft's parameters (the keyword arguments of create) and its trustees."""
    row = await get_row(ballot_id)
    managed(principal, row)
    require_draft(row)
    ballot = await _checked(principal, arguments)
    async with write_transaction():
        await ballot_board.lock_ballot(ballot_id)
        row = await get_row(ballot_id)
        managed(principal, row)
        require_draft(row)
        before = [tr["user"] for tr in await trustees_of(ballot_id)]
        await Ballot.update(ballot.columns()).where(Ballot.id == ballot_id)
        # A draft's trustees have done nothing yet: their rows are simply replaced.
        await Trustee.delete().where(Trustee.ballot == ballot_id)
        await _save_trustees(ballot_id, ballot.trustees)
        await audit.record(
            principal.actor, "update_ballot", "ballot", ballot_id, _changes(row, before, ballot)
        )


WITHDRAWABLE = (
    BallotStatus.draft.value,
    BallotStatus.keygen.value,
    BallotStatus.failed.value,
    BallotStatus.ready.value,
)
MAX_REASON = 500


def _withdrawable(row: dict[str, Any]) -> None:
    if row["status"] in WITHDRAWABLE:
        return
    if row["status"] == BallotStatus.open.value:
        raise Conflict(N_("Voting has opened: the ballot cannot be withdrawn any more, only closed."))
    if row["status"] == BallotStatus.withdrawn.value:
        raise Conflict(N_("This ballot has been withdrawn."))
    raise Conflict(N_("Only a ballot that has not opened can be withdrawn."))


async def withdraw(principal: Principal, ballot_id: int, reason: str) -> None:
    """Takes back a ballot that has not opened, for a reason anyone can read on its page."""
    row = await get_row(ballot_id)
    managed(principal, row)
    reason = reason.strip()
    if not reason or len(reason) > MAX_REASON:
        raise Invalid(
            N_("Give the reason for withdrawing the ballot (up to {max} characters)."), max=MAX_REASON
        )
    _withdrawable(row)
    async with write_transaction():
        locked = await ballot_board.lock_ballot(ballot_id)
        _withdrawable(locked)
        await Ballot.update(
            {
                Ballot.status: BallotStatus.withdrawn.value,
                Ballot.withdrawn_at: now(),
                Ballot.withdrawn_reason: reason,
            }
        ).where(Ballot.id == ballot_id)
        await audit.record(
            principal.actor,
            "withdraw_ballot",
            "ballot",
            ballot_id,
            {"reason": reason, "status": locked["status"]},
        )
        # The trustees of a secret ballot heard of it when it was sent to them.
        if locked["secrecy"] == BallotSecrecy.secret.value and locked["status"] != BallotStatus.draft.value:
            await notices.trustees_told_withdrawn(ballot_id)


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
