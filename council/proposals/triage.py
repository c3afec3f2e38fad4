"""Triage by council members and staff: accept, merge, dispatch or reject a proposal,
each a named verb with its reason, and the list of proposals past their response date."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from council.accounts.principal import Principal
from council.accounts.tables import User
from council.audit import service as audit
from council.db import write_transaction
from council.errors import Conflict, Forbidden, Invalid
from council.i18n import N_
from council.proposals import notices
from council.proposals.service import TRIAGE_ROLES, get_row, now
from council.proposals.tables import (
    OPEN_STATUSES,
    Cosign,
    Order,
    OrderStatus,
    Proposal,
    ProposalKind,
    ProposalStatus,
)

DEFAULT_ORDER_DAYS = 7


def _check(principal: Principal, row: dict[str, Any]) -> None:
    if not principal.can(row["scope_path"], *TRIAGE_ROLES):
        raise Forbidden(N_("Only council members and staff of this place can triage proposals."))
    if row["status"] not in OPEN_STATUSES:
        raise Conflict(N_("This proposal has been decided already."))


async def _decide(
    principal: Principal,
    proposal_id: int,
    status: ProposalStatus,
    verb: str,
    reason: str,
    data: dict[str, Any] | None = None,
    allowed: tuple[str, ...] = OPEN_STATUSES,
) -> None:
    done = (
        await Proposal.update(
            {
                Proposal.status: status.value,
                Proposal.decision_reason: reason,
                Proposal.decided_at: now(),
                Proposal.updated_at: now(),
            }
        )
        .where((Proposal.id == proposal_id) & Proposal.status.is_in(list(allowed)))
        .returning(Proposal.id)
    )
    if not done:
        raise Conflict(N_("This proposal has been decided already."))
    await audit.record(principal.actor, verb, "proposal", proposal_id, {"reason": reason, **(data or {})})


async def accept(principal: Principal, proposal_id: int, reason: str = "") -> None:
    row = await get_row(proposal_id)
    _check(principal, row)
    async with write_transaction():
        await _decide(principal, proposal_id, ProposalStatus.accepted, "accept", reason.strip())
        await notices.proposal_changed(proposal_id, N_("Accepted for a hearing"), exclude=principal.id)


async def reject(principal: Principal, proposal_id: int, reason: str) -> None:
    row = await get_row(proposal_id)
    _check(principal, row)
    if not reason.strip():
        raise Invalid(N_("Rejecting a proposal needs a public reason."))
    async with write_transaction():
        await _decide(principal, proposal_id, ProposalStatus.rejected, "reject", reason.strip())
        await notices.proposal_changed(proposal_id, N_("Rejected"), exclude=principal.id)


async def merge(principal: Principal, proposal_id: int, into_id: int, reason: str) -> int:
    """Merge into another open proposal; co-signers are carried over (once each)."""
    row = await get_row(proposal_id)
    _check(principal, row)
    target = await get_row(into_id)
    if into_id == proposal_id:
        raise Invalid(N_("A proposal cannot be merged into itself."))
    if target["status"] not in (*OPEN_STATUSES, ProposalStatus.accepted.value):
        raise Conflict(N_("The proposal to merge into is not open."))
    if not principal.can(target["scope_path"], *TRIAGE_ROLES):
        raise Forbidden(N_("Only council members and staff of this place can triage proposals."))
    if not reason.strip():
        raise Invalid(N_("Merging needs a reason."))
    people_before = await notices.people_of(proposal_id)
    async with write_transaction():
        await _decide(
            principal, proposal_id, ProposalStatus.merged, "merge", reason.strip(), {"into": into_id}
        )
        await Proposal.update({Proposal.merged_into: into_id}).where(Proposal.id == proposal_id)
        have = {
            c["dedupe_key"]
            for c in await Cosign.select(Cosign.dedupe_key).where(
                (Cosign.proposal == into_id) & Cosign.withdrawn_at.is_null()
            )
        }
        carried = 0
        for cosign in await Cosign.select().where(
            (Cosign.proposal == proposal_id) & Cosign.withdrawn_at.is_null()
        ):
            if cosign["dedupe_key"] in have or cosign["user"] == target["proposer"]:
                continue
            await Cosign(
                proposal=into_id,
                user=cosign["user"],
                resident=cosign["resident"],
                household=cosign["household"],
                dedupe_key=cosign["dedupe_key"],
                show_name=cosign["show_name"],
                created_at=cosign["created_at"],
            ).save()
            have.add(cosign["dedupe_key"])
            carried += 1
        await Proposal.update({Proposal.cosign_count: Proposal.cosign_count + carried}).where(
            Proposal.id == into_id
        )
        await audit.record(
            principal.actor,
            "receive_merge",
            "proposal",
            into_id,
            {"from": proposal_id, "carried_cosigns": carried},
        )
        await notices.proposal_changed(proposal_id, N_("Merged into another proposal"), exclude=principal.id)
        await notices.proposal_changed(
            into_id,
            N_("Another proposal was merged into this one"),
            exclude=principal.id,
            extra=people_before,
        )
    return carried


async def dispatch(
    principal: Principal,
    proposal_id: int,
    assignee_id: int,
    days: int = DEFAULT_ORDER_DAYS,
    *,
    from_hearing: bool = False,
) -> int:
    """A small wish goes to the three-order dispatch: a member or volunteer will take it.
    A hearing may also refer a matter it discussed there (`from_hearing`)."""
    row = await get_row(proposal_id)
    if from_hearing:
        if not principal.can(row["scope_path"], *TRIAGE_ROLES):
            raise Forbidden(N_("Only council members and staff of this place can triage proposals."))
        if row["status"] != ProposalStatus.accepted.value:
            raise Conflict(N_("Only a matter accepted for a hearing can be referred to dispatch."))
    else:
        _check(principal, row)
    if not from_hearing and row["kind"] != ProposalKind.small_wish.value:
        raise Conflict(N_("Only small wishes are dispatched; a matter goes to a hearing."))
    assignee = await User.select(User.id, User.active).where(User.id == assignee_id).first()
    if assignee is None or not assignee["active"]:
        raise Invalid(N_("No active user with id {id}."), id=assignee_id)
    if not 1 <= days <= 90:
        raise Invalid(N_("The time to finish must be between 1 and 90 days."))
    stamp = now()
    async with write_transaction():
        await _decide(
            principal,
            proposal_id,
            ProposalStatus.dispatched,
            "dispatch",
            "",
            {"assignee": assignee_id, "days": days, "from_hearing": from_hearing},
            (ProposalStatus.accepted.value,) if from_hearing else OPEN_STATUSES,
        )
        order = Order(
            proposal=proposal_id,
            status=OrderStatus.dispatched.value,
            dispatcher=principal.id,
            assignee=assignee_id,
            dispatched_at=stamp,
            due_at=stamp + timedelta(days=days),
        )
        await order.save()
        await notices.proposal_changed(proposal_id, N_("Dispatched to a member"), exclude=principal.id)
    return int(order.id)


async def overdue(principal: Principal) -> list[dict[str, Any]]:
    """Qualified proposals the council has not answered by their response date."""
    rows = (
        await Proposal.select(
            Proposal.id,
            Proposal.title,
            Proposal.scope_path,
            Proposal.qualified_at,
            Proposal.response_due_at,
            Proposal.cosign_count,
        )
        .where((Proposal.status == ProposalStatus.qualified.value) & (Proposal.response_due_at < now()))
        .order_by(Proposal.response_due_at)
    )
    return [r for r in rows if principal.can(r["scope_path"], *TRIAGE_ROLES)]
