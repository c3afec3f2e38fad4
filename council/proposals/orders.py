"""The three-order dispatch after dispatch: the member takes the order (接单), notes
progress, marks it done; the resident confirms and rates it (销号) or reopens it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from council.accounts.principal import Principal
from council.accounts.tables import Role
from council.audit import service as audit
from council.db import write_transaction
from council.errors import Conflict, Forbidden, Invalid, NotFound
from council.i18n import N_
from council.proposals import notices
from council.proposals.service import now
from council.proposals.tables import Order, OrderNote, OrderStatus, Proposal, ProposalKind, ProposalStatus


async def order_of(proposal_id: int) -> dict[str, Any]:
    row = await Order.select().where(Order.proposal == proposal_id).first()
    if row is None:
        raise NotFound(N_("This proposal has no dispatch order."))
    return row


async def _move(
    principal: Principal,
    order: dict[str, Any],
    frm: tuple[OrderStatus, ...],
    to: OrderStatus,
    stamp_column: Any,
    verb: str,
    note_kind: str,
    note: str,
    data: dict[str, Any] | None = None,
    extra: dict[Any, Any] | None = None,
) -> None:
    values = {
        Order.status: to.value,
        **({stamp_column: now()} if stamp_column is not None else {}),
        **(extra or {}),
    }
    async with write_transaction():
        moved = (
            await Order.update(values)
            .where((Order.id == order["id"]) & Order.status.is_in([s.value for s in frm]))
            .returning(Order.id)
        )
        if not moved:
            raise Conflict(N_("The order is not in a state that allows this."))
        if note:
            await OrderNote(
                order=order["id"], author=principal.id, kind=note_kind, body=note, created_at=now()
            ).save()
        await audit.record(
            principal.actor,
            verb,
            "proposal",
            order["proposal"],
            {"order_id": order["id"], "note": note, **(data or {})},
        )
        if to is OrderStatus.closed:
            await Proposal.update(
                {Proposal.status: ProposalStatus.closed.value, Proposal.updated_at: now()}
            ).where(Proposal.id == order["proposal"])
        await notices.proposal_changed(order["proposal"], _WHAT[verb], exclude=principal.id)


_WHAT = {
    "take": N_("A member has taken the order"),
    "progress": N_("Progress on the order"),
    "finish": N_("The order is done: please confirm"),
    "confirm": N_("The resident confirmed: closed out"),
    "reopen": N_("The resident reopened the order"),
}


def _assignee_only(principal: Principal, order: dict[str, Any]) -> None:
    if order["assignee"] != principal.id:
        raise Forbidden(N_("Only the member the order was dispatched to can do this."))


async def take(principal: Principal, proposal_id: int) -> None:
    order = await order_of(proposal_id)
    _assignee_only(principal, order)
    await _move(
        principal, order, (OrderStatus.dispatched,), OrderStatus.taken, Order.taken_at, "take", "", ""
    )


async def add_note(principal: Principal, proposal_id: int, body: str) -> None:
    order = await order_of(proposal_id)
    _assignee_only(principal, order)
    if not body.strip():
        raise Invalid(N_("The note is empty."))
    await _move(
        principal, order, (OrderStatus.taken,), OrderStatus.taken, None, "progress", "progress", body.strip()
    )


async def finish(principal: Principal, proposal_id: int, note: str = "") -> None:
    order = await order_of(proposal_id)
    _assignee_only(principal, order)
    await _move(
        principal,
        order,
        (OrderStatus.taken,),
        OrderStatus.done,
        Order.done_at,
        "finish",
        "done",
        note.strip(),
    )


async def _proposer_only(principal: Principal, proposal_id: int) -> None:
    row = await Proposal.select(Proposal.proposer).where(Proposal.id == proposal_id).first()
    if row is None or row["proposer"] != principal.id:
        raise Forbidden(N_("Only the resident who made the wish can confirm or reopen it."))


async def confirm(principal: Principal, proposal_id: int, rating: int, comment: str = "") -> None:
    await _proposer_only(principal, proposal_id)
    if not 1 <= rating <= 5:
        raise Invalid(N_("The rating is from 1 to 5."))
    order = await order_of(proposal_id)
    await _move(
        principal,
        order,
        (OrderStatus.done,),
        OrderStatus.closed,
        Order.closed_at,
        "confirm",
        "confirm",
        comment.strip(),
        {"rating": rating},
        {Order.rating: rating, Order.rating_comment: comment.strip()[:500]},
    )


async def reopen(principal: Principal, proposal_id: int, reason: str) -> None:
    await _proposer_only(principal, proposal_id)
    if not reason.strip():
        raise Invalid(N_("Reopening needs a reason."))
    order = await order_of(proposal_id)
    await _move(
        principal,
        order,
        (OrderStatus.done,),
        OrderStatus.taken,
        None,
        "reopen",
        "reopen",
        reason.strip(),
        extra={Order.reopen_count: order["reopen_count"] + 1, Order.done_at: None},
    )


async def notes(order_id: int) -> list[dict[str, Any]]:
    return (
        await OrderNote.select(*OrderNote.all_columns(), OrderNote.author.display_name)
        .where(OrderNote.order == order_id)
        .order_by(OrderNote.id)
    )


async def my_orders(principal: Principal) -> list[dict[str, Any]]:
    return (
        await Order.select(*Order.all_columns(), Order.proposal.title)
        .where((Order.assignee == principal.id) & (Order.status != OrderStatus.closed.value))
        .order_by(Order.due_at)
    )


async def ledger(principal: Principal, start: datetime, end: datetime) -> dict[str, Any]:
    """台账: the small wishes of a period in the places the reader serves (council members,
    staff and supervisors, over their scopes; an admin over hers), as communities report them."""
    paths = [g.node_path for g in principal.scopes(Role.council_member, Role.staff, Role.supervisor)]
    if not paths:
        raise Forbidden(N_("Only council members, staff and supervisors can read the ledger."))
    rows = await Proposal.select(Proposal.id, Proposal.scope_path).where(
        (Proposal.kind == ProposalKind.small_wish.value)
        & Proposal.submitted_at.is_not_null()
        & (Proposal.submitted_at >= start)
        & (Proposal.submitted_at < end)
    )
    wishes = [w for w in rows if any(w["scope_path"].startswith(p) for p in paths)]
    ids = [w["id"] for w in wishes]
    orders = await Order.select().where(Order.proposal.is_in(ids)) if ids else []
    stamp = now()
    ratings = [o["rating"] for o in orders if o["rating"] is not None]
    return {
        "received": len(wishes),
        "dispatched": len(orders),
        "taken": sum(1 for o in orders if o["taken_at"] is not None),
        "done": sum(1 for o in orders if o["done_at"] is not None or o["status"] == OrderStatus.closed.value),
        "confirmed": sum(1 for o in orders if o["status"] == OrderStatus.closed.value),
        "overdue": sum(1 for o in orders if o["status"] != OrderStatus.closed.value and o["due_at"] < stamp),
        "average_rating": round(sum(ratings) / len(ratings), 2) if ratings else None,
        "start": start,
        "end": end,
    }
