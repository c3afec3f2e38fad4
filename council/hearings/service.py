"""民事民议: scheduling a hearing, its agenda, starting and ending it.

Who does what: council members, hosts and staff of a place schedule hearings there and
name the host and the secretary; the hearing's host runs it (attendance.py for check-in,
floor.py for items and the speaker queue); the secretary, or the host, keeps the record
(records.py). Every verb is one transaction with its audit entry and bumps the hearing's
`version`; after the commit live.changed() tells every connected client.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from council.accounts.principal import Principal
from council.accounts.tables import Role, User
from council.audit import service as audit
from council.community.tables import Node, NodeKind
from council.db import write_transaction
from council.errors import Conflict, Forbidden, Invalid, NotFound
from council.hearings.tables import (
    AgendaItem,
    Hearing,
    HearingKind,
    HearingStatus,
    Invitees,
    ItemStatus,
)
from council.i18n import N_, Term
from council.proposals.tables import Proposal, ProposalStatus

ORGANISER_ROLES = (Role.council_member, Role.host, Role.staff)
HOST_ROLES = (Role.host, Role.council_member)
SECRETARY_ROLES = (Role.secretary, Role.council_member)
MAX_ITEMS = 30


def now() -> datetime:
    return datetime.now(UTC)


async def get_row(hearing_id: int) -> dict[str, Any]:
    row = await Hearing.select().where(Hearing.id == hearing_id).first()
    if row is None:
        raise NotFound(N_("No hearing with number {id}."), id=hearing_id)
    return row


def is_host(principal: Principal | None, row: dict[str, Any]) -> bool:
    return principal is not None and principal.id == row["host"]


def is_secretary(principal: Principal | None, row: dict[str, Any]) -> bool:
    return principal is not None and (principal.id == row["secretary"] or is_host(principal, row))


def can_organise(principal: Principal | None, row: dict[str, Any]) -> bool:
    return principal is not None and principal.can(row["scope_path"], *ORGANISER_ROLES)


def require_host(principal: Principal, row: dict[str, Any]) -> None:
    if not is_host(principal, row):
        raise Forbidden(N_("Only the hearing's host can do this."))


def require_secretary(principal: Principal, row: dict[str, Any]) -> None:
    if not is_secretary(principal, row):
        raise Forbidden(N_("Only the hearing's secretary or host can do this."))


async def bump(hearing_id: int) -> int:
    """The next version of the hearing's live state; call inside the change's transaction."""
    rows = (
        await Hearing.update({Hearing.version: Hearing.version + 1})
        .where(Hearing.id == hearing_id)
        .returning(Hearing.version)
    )
    return int(rows[0]["version"])


async def _person(user_id: int | None, path: str, roles: Sequence[Role], what: str) -> None:
    from council.accounts.login import load_principal

    if user_id is None:
        return
    principal = await load_principal(user_id)
    if principal is None or not principal.can(path, *roles):
        raise Invalid(N_("User {id} cannot be this hearing's {what} here."), id=user_id, what=what)


async def _scope(scope_id: int) -> dict[str, Any]:
    node = await Node.select().where(Node.id == scope_id).first()
    if node is None or not node["active"] or node["kind"] == NodeKind.household.value:
        raise Invalid(N_("A hearing is for a unit, a building, a grid or the community."))
    return node


async def schedule(
    principal: Principal,
    *,
    kind: HearingKind,
    title: str,
    description: str,
    scope_id: int,
    starts_at: datetime,
    place: str,
    online: bool,
    host_id: int,
    secretary_id: int | None,
    invitees: Invitees,
    quorum_permille: int,
    speaking_seconds: int,
    items: Sequence[dict[str, Any]] = (),
) -> int:
    scope = await _scope(scope_id)
    if not principal.can(scope["path"], *ORGANISER_ROLES):
        raise Forbidden(N_("Only council members, hosts and staff of this place can schedule hearings."))
    title = title.strip()
    if not title:
        raise Invalid(N_("A title is required."))
    if starts_at.tzinfo is None:
        raise Invalid(N_("Times need a time zone."))
    if not place.strip() and not online:
        raise Invalid(N_("Give a place, or hold the hearing online."))
    if not 0 <= quorum_permille <= 1000:
        raise Invalid(N_("The quorum is between 0 and 1000 per mille."))
    if not 30 <= speaking_seconds <= 3600:
        raise Invalid(N_("A speaker's time is between 30 seconds and an hour."))
    await _person(host_id, scope["path"], HOST_ROLES, Term(N_("host")))
    await _person(secretary_id, scope["path"], SECRETARY_ROLES, Term(N_("secretary")))
    stamp = now()
    async with write_transaction():
        hearing = Hearing(
            kind=kind.value,
            title=title,
            description=description.strip(),
            scope=scope_id,
            scope_path=scope["path"],
            starts_at=starts_at,
            place=place.strip(),
            online=online,
            host=host_id,
            secretary=secretary_id,
            invitees=invitees.value,
            quorum_permille=quorum_permille,
            speaking_seconds=speaking_seconds,
            status=HearingStatus.scheduled.value,
            created_by=principal.id,
            created_at=stamp,
        )
        await hearing.save()
        await audit.record(
            principal.actor,
            "schedule_hearing",
            "hearing",
            hearing.id,
            {"title": title, "kind": kind.value, "scope_id": scope_id, "starts_at": starts_at.isoformat()},
        )
        for item in items:
            await _add_item(principal, hearing.id, scope["path"], item)
        from council.hearings import notices

        await notices.invited(hearing.id)
    return int(hearing.id)


async def _add_item(principal: Principal, hearing_id: int, scope_path: str, item: dict[str, Any]) -> int:
    """Inside a transaction: one agenda item, from an accepted matter or with a title only."""
    count = await AgendaItem.count().where(AgendaItem.hearing == hearing_id)
    if count >= MAX_ITEMS:
        raise Invalid(N_("A hearing has at most {max} agenda items."), max=MAX_ITEMS)
    proposal_id = item.get("proposal_id")
    title = str(item.get("title") or "").strip()
    if proposal_id is not None:
        proposal = (
            await Proposal.select(Proposal.title, Proposal.status, Proposal.scope_path)
            .where(Proposal.id == proposal_id)
            .first()
        )
        if proposal is None:
            raise Invalid(N_("No proposal with number {id}."), id=proposal_id)
        if proposal["status"] != ProposalStatus.accepted.value:
            raise Invalid(N_("Only matters accepted for a hearing go on an agenda."))
        if not proposal["scope_path"].startswith(scope_path):
            raise Invalid(N_("This matter is outside the hearing's place."))
        title = title or proposal["title"]
    if not title:
        raise Invalid(N_("An agenda item needs a title or a matter."))
    minutes = int(item.get("minutes_budget") or 15)
    if not 1 <= minutes <= 480:
        raise Invalid(N_("An item's time budget is between 1 and 480 minutes."))
    row = AgendaItem(
        hearing=hearing_id,
        position=count,
        title=title[:100],
        proposal=proposal_id,
        minutes_budget=minutes,
        status=ItemStatus.pending.value,
    )
    await row.save()
    await audit.record(
        principal.actor,
        "add_agenda_item",
        "hearing",
        hearing_id,
        {"item_id": row.id, "title": title[:100], "proposal_id": proposal_id},
    )
    return int(row.id)


def _not_over(row: dict[str, Any]) -> None:
    if row["status"] in (HearingStatus.ended.value, HearingStatus.cancelled.value):
        raise Conflict(N_("This hearing is over."))


async def add_item(principal: Principal, hearing_id: int, item: dict[str, Any]) -> int:
    from council.hearings import live

    row = await get_row(hearing_id)
    if not (can_organise(principal, row) or is_host(principal, row)):
        raise Forbidden(N_("Only the hearing's host or organisers can change its agenda."))
    _not_over(row)
    async with write_transaction():
        item_id = await _add_item(principal, hearing_id, row["scope_path"], item)
        version = await bump(hearing_id)
    await live.changed(hearing_id, version, "agenda")
    return item_id


async def move_item(principal: Principal, hearing_id: int, item_id: int, position: int) -> None:
    """Puts a pending item at `position` (0-based); the others close up in order."""
    from council.hearings import live

    row = await get_row(hearing_id)
    if not (can_organise(principal, row) or is_host(principal, row)):
        raise Forbidden(N_("Only the hearing's host or organisers can change its agenda."))
    _not_over(row)
    async with write_transaction():
        items = (
            await AgendaItem.select(AgendaItem.id, AgendaItem.status)
            .where(AgendaItem.hearing == hearing_id)
            .order_by(AgendaItem.position)
        )
        ids = [i["id"] for i in items]
        if item_id not in ids:
            raise NotFound(N_("No agenda item {id} in this hearing."), id=item_id)
        if not 0 <= position < len(ids):
            raise Invalid(N_("Position {position} is outside the agenda."), position=position)
        ids.remove(item_id)
        ids.insert(position, item_id)
        for k, other in enumerate(ids):
            await AgendaItem.update({AgendaItem.position: k}).where(AgendaItem.id == other)
        await audit.record(
            principal.actor,
            "move_agenda_item",
            "hearing",
            hearing_id,
            {"item_id": item_id, "position": position},
        )
        version = await bump(hearing_id)
    await live.changed(hearing_id, version, "agenda")


async def remove_item(principal: Principal, hearing_id: int, item_id: int) -> None:
    from council.hearings import live

    row = await get_row(hearing_id)
    if not (can_organise(principal, row) or is_host(principal, row)):
        raise Forbidden(N_("Only the hearing's host or organisers can change its agenda."))
    _not_over(row)
    async with write_transaction():
        item = (
            await AgendaItem.select()
            .where((AgendaItem.id == item_id) & (AgendaItem.hearing == hearing_id))
            .first()
        )
        if item is None:
            raise NotFound(N_("No agenda item {id} in this hearing."), id=item_id)
        if item["status"] != ItemStatus.pending.value:
            raise Conflict(N_("Only an item not yet discussed can be removed."))
        from council.hearings.tables import Speaker

        if await Speaker.exists().where(Speaker.item == item_id):
            raise Conflict(N_("Only an item not yet discussed can be removed."))
        await AgendaItem.delete().where(AgendaItem.id == item_id)
        rest = (
            await AgendaItem.select(AgendaItem.id)
            .where(AgendaItem.hearing == hearing_id)
            .order_by(AgendaItem.position)
        )
        for k, other in enumerate(rest):
            await AgendaItem.update({AgendaItem.position: k}).where(AgendaItem.id == other["id"])
        await audit.record(
            principal.actor,
            "remove_agenda_item",
            "hearing",
            hearing_id,
            {"item_id": item_id, "title": item["title"]},
        )
        version = await bump(hearing_id)
    await live.changed(hearing_id, version, "agenda")


async def start(principal: Principal, hearing_id: int) -> None:
    from council.hearings import live

    row = await get_row(hearing_id)
    require_host(principal, row)
    if row["status"] != HearingStatus.scheduled.value:
        raise Conflict(N_("Only a scheduled hearing can start."))
    async with write_transaction():
        updated = (
            await Hearing.update({Hearing.status: HearingStatus.running.value, Hearing.started_at: now()})
            .where((Hearing.id == hearing_id) & (Hearing.status == HearingStatus.scheduled.value))
            .returning(Hearing.id)
        )
        if not updated:
            raise Conflict(N_("Only a scheduled hearing can start."))
        await audit.record(principal.actor, "start_hearing", "hearing", hearing_id, {})
        version = await bump(hearing_id)
    await live.changed(hearing_id, version, "status")


async def end(principal: Principal, hearing_id: int) -> None:
    from council.hearings import live

    row = await get_row(hearing_id)
    require_host(principal, row)
    if row["status"] != HearingStatus.running.value:
        raise Conflict(N_("Only a hearing in session can end."))
    if row["current_item"] is not None:
        raise Conflict(N_("Close the open agenda item first."))
    async with write_transaction():
        await Hearing.update({Hearing.status: HearingStatus.ended.value, Hearing.ended_at: now()}).where(
            Hearing.id == hearing_id
        )
        from council.hearings.tables import Attendance

        await Attendance.update({Attendance.left_at: now()}).where(
            (Attendance.hearing == hearing_id) & Attendance.left_at.is_null()
        )
        await audit.record(principal.actor, "end_hearing", "hearing", hearing_id, {})
        version = await bump(hearing_id)
    await live.changed(hearing_id, version, "status")


async def cancel(principal: Principal, hearing_id: int, reason: str) -> None:
    from council.hearings import live

    row = await get_row(hearing_id)
    if not can_organise(principal, row):
        raise Forbidden(N_("Only council members, hosts and staff of this place can schedule hearings."))
    if row["status"] != HearingStatus.scheduled.value:
        raise Conflict(N_("Only a hearing that has not started can be cancelled."))
    if not reason.strip():
        raise Invalid(N_("Say why the hearing is cancelled."))
    async with write_transaction():
        await Hearing.update({Hearing.status: HearingStatus.cancelled.value}).where(Hearing.id == hearing_id)
        await audit.record(
            principal.actor, "cancel_hearing", "hearing", hearing_id, {"reason": reason.strip()}
        )
        version = await bump(hearing_id)
        from council.hearings import notices

        await notices.cancelled(hearing_id)
    await live.changed(hearing_id, version, "status")


async def user_name(user_id: int | None) -> str:
    if user_id is None:
        return ""
    row = await User.select(User.display_name, User.username).where(User.id == user_id).first()
    return "" if row is None else str(row["display_name"] or row["username"])
