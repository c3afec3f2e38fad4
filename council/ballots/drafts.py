"""A ballot before it opens: creating it (create), changing a draft (update) and taking
back one that has not opened (withdraw), with the checks the first two share.

Life of a ballot: draft → (secret: setup → keygen → ready) → open → closed → tallied; see
service.py for the verbs after the draft.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, NotRequired, TypedDict

from council.accounts.principal import Principal
from council.accounts.tables import Role
from council.audit import service as audit
from council.ballots import board as ballot_board
from council.ballots import keys, notices
from council.ballots.record import question_shapes
from council.ballots.rules import check_rule
from council.ballots.service import (
    CREATOR_ROLES,
    MAX_OPTIONS,
    MAX_QUESTIONS,
    dumps,
    get_row,
    loads,
    managed,
    now,
    trustees_of,
)
from council.ballots.tables import Ballot, BallotSecrecy, BallotStatus, Trustee, WeightBasis
from council.community.tables import Node, NodeKind
from council.db import write_transaction
from council.errors import Conflict, Forbidden, Invalid
from council.i18n import N_
from council.proposals.tables import Proposal

if TYPE_CHECKING:
    from typing_extensions import Unpack  # typing.Unpack from Python 3.12


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
