"""The host's console: agenda items, the speaker queue and the speaking time.

One item is open at a time. Residents present ask for the floor online; the host adds
people in the room. The host gives the floor (to the first waiting, or to someone
chosen), moves to the next speaker, skips, extends; the countdown everyone sees is the
speaker's `started_at + seconds`, so it survives reconnects and restarts. Closing an
item records its outcome: consensus (a text), a ballot (one is created as a draft), a
later hearing (the item is copied onto its agenda) or the three-order dispatch.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from council.accounts.principal import Principal
from council.audit import service as audit
from council.db import write_transaction
from council.errors import Conflict, Forbidden, Invalid, NotFound
from council.hearings import live
from council.hearings.service import bump, get_row, now, require_host
from council.hearings.tables import (
    AgendaItem,
    Attendance,
    Hearing,
    HearingStatus,
    ItemStatus,
    Outcome,
    Speaker,
    SpeakerStatus,
)
from council.i18n import N_

LIVE = (SpeakerStatus.waiting.value, SpeakerStatus.speaking.value)
MAX_EXTENSION = 600


def _running(row: dict[str, Any]) -> None:
    if row["status"] != HearingStatus.running.value:
        raise Conflict(N_("The hearing is not in session."))


async def _item(hearing_id: int, item_id: int) -> dict[str, Any]:
    item = (
        await AgendaItem.select()
        .where((AgendaItem.id == item_id) & (AgendaItem.hearing == hearing_id))
        .first()
    )
    if item is None:
        raise NotFound(N_("No agenda item {id} in this hearing."), id=item_id)
    return item


async def _current(row: dict[str, Any]) -> int:
    if row["current_item"] is None:
        raise Conflict(N_("No agenda item is open."))
    return int(row["current_item"])


async def open_item(principal: Principal, hearing_id: int, item_id: int) -> None:
    row = await get_row(hearing_id)
    require_host(principal, row)
    _running(row)
    item = await _item(hearing_id, item_id)
    if row["current_item"] is not None:
        raise Conflict(N_("Another item is open: close it first."))
    if item["status"] != ItemStatus.pending.value:
        raise Conflict(N_("This item has already been discussed."))
    async with write_transaction():
        updated = (
            await Hearing.update({Hearing.current_item: item_id})
            .where((Hearing.id == hearing_id) & Hearing.current_item.is_null())
            .returning(Hearing.id)
        )
        if not updated:
            raise Conflict(N_("Another item is open: close it first."))
        await AgendaItem.update(
            {AgendaItem.status: ItemStatus.open.value, AgendaItem.opened_at: now()}
        ).where(AgendaItem.id == item_id)
        await audit.record(
            principal.actor, "open_item", "hearing", hearing_id, {"item_id": item_id, "title": item["title"]}
        )
        version = await bump(hearing_id)
    await live.changed(hearing_id, version, "item")


async def _create_ballot(
    principal: Principal, row: dict[str, Any], item: dict[str, Any], options: dict[str, Any]
) -> int:
    from council.ballots import drafts
    from council.ballots.tables import BallotSecrecy, WeightBasis

    opens = now() + timedelta(minutes=5)
    question = str(options.get("question") or item["title"])
    return await drafts.create(
        principal,
        title=item["title"],
        description=f"{row['title']}",
        scope_id=row["scope"],
        secrecy=BallotSecrecy(options.get("secrecy", "open")),
        weight_basis=WeightBasis(options.get("weight_basis", "household")),
        questions=[{"text": question, "options": ["赞成", "反对", "弃权"], "min": 1, "max": 1}],
        rule={"preset": "resident_meeting", "abstain_option": 2},
        opens_at=opens,
        closes_at=opens + timedelta(days=int(options.get("days", 7))),
        trustee_ids=list(options.get("trustee_ids") or []),
        proposal_id=item["proposal"],
    )


async def close_item(
    principal: Principal,
    hearing_id: int,
    item_id: int,
    *,
    outcome: Outcome,
    text: str = "",
    defer_to: int | None = None,
    assignee_id: int | None = None,
    ballot: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Closes the open item with its outcome; waiting speakers are skipped, the speaker finishes."""
    row = await get_row(hearing_id)
    require_host(principal, row)
    _running(row)
    item = await _item(hearing_id, item_id)
    if item["status"] != ItemStatus.open.value:
        raise Conflict(N_("Only the open item can be closed."))
    text = text.strip()
    if outcome is Outcome.consensus and not text:
        raise Invalid(N_("Write down what was agreed."))
    target = None
    if outcome is Outcome.deferred:
        if defer_to is None:
            raise Invalid(N_("Choose the later hearing."))
        target = await get_row(defer_to)
        if target["status"] != HearingStatus.scheduled.value or not target["scope_path"].startswith(
            row["scope_path"]
        ):
            raise Invalid(N_("Choose a scheduled hearing of the same place."))
    if outcome is Outcome.dispatch:
        if item["proposal"] is None or assignee_id is None:
            raise Invalid(N_("Referring to dispatch needs the item's matter and a member to take it."))
    ballot_id = None
    async with write_transaction():
        stamp = now()
        if outcome is Outcome.ballot:
            ballot_id = await _create_ballot(principal, row, item, ballot or {})
        if outcome is Outcome.deferred and target is not None:
            from council.hearings.service import _add_item
            from council.proposals.tables import Proposal

            # The matter goes along when it lies within the later hearing's place, so its
            # page names both hearings.
            matter = item["proposal"]
            if matter is not None and not await Proposal.exists().where(
                (Proposal.id == matter) & Proposal.scope_path.like(f"{target['scope_path']}%")
            ):
                matter = None
            await _add_item(
                principal,
                target["id"],
                target["scope_path"],
                {"title": item["title"], "proposal_id": matter, "minutes_budget": item["minutes_budget"]},
            )
        if outcome is Outcome.dispatch and assignee_id is not None:
            from council.proposals import triage

            await triage.dispatch(principal, item["proposal"], assignee_id, from_hearing=True)
        await Speaker.update({Speaker.status: SpeakerStatus.done.value, Speaker.ended_at: stamp}).where(
            (Speaker.item == item_id) & (Speaker.status == SpeakerStatus.speaking.value)
        )
        await Speaker.update({Speaker.status: SpeakerStatus.skipped.value}).where(
            (Speaker.item == item_id) & (Speaker.status == SpeakerStatus.waiting.value)
        )
        await AgendaItem.update(
            {
                AgendaItem.status: ItemStatus.closed.value,
                AgendaItem.closed_at: stamp,
                AgendaItem.outcome: outcome.value,
                AgendaItem.outcome_text: text,
                AgendaItem.ballot: ballot_id,
                AgendaItem.deferred_to: defer_to if outcome is Outcome.deferred else None,
            }
        ).where(AgendaItem.id == item_id)
        await Hearing.update({Hearing.current_item: None}).where(Hearing.id == hearing_id)
        await audit.record(
            principal.actor,
            "close_item",
            "hearing",
            hearing_id,
            {
                "item_id": item_id,
                "outcome": outcome.value,
                "text": text,
                "ballot_id": ballot_id,
                "defer_to": defer_to,
            },
        )
        version = await bump(hearing_id)
    await live.changed(hearing_id, version, "item")
    return {"ballot_id": ballot_id}


# The speaker queue -----------------------------------------------------------------------


async def _present(hearing_id: int, principal: Principal) -> dict[str, Any]:
    match = (
        (Attendance.resident == principal.resident_id)
        if principal.resident_id is not None
        else (Attendance.user == principal.id)
    )
    row = (
        await Attendance.select(Attendance.name, Attendance.resident)
        .where((Attendance.hearing == hearing_id) & match & Attendance.left_at.is_null())
        .first()
    )
    if row is None:
        raise Forbidden(N_("Check in to the hearing first, then ask for the floor."))
    return row


async def _enqueue(
    principal: Principal, row: dict[str, Any], item_id: int, person: dict[str, Any], via: str
) -> int:
    hearing_id = row["id"]
    match = (
        (Speaker.resident == person["resident"])
        if person["resident"] is not None
        else ((Speaker.user == person["user"]) & Speaker.resident.is_null())
    )
    if person["resident"] is not None or person["user"] is not None:
        if await Speaker.exists().where((Speaker.item == item_id) & match & Speaker.status.is_in(list(LIVE))):
            raise Conflict(N_("{name} has already asked for the floor on this item."), name=person["name"])
    async with write_transaction():
        speaker = Speaker(
            hearing=hearing_id,
            item=item_id,
            resident=person["resident"],
            user=person["user"],
            name=person["name"],
            via=via,
            status=SpeakerStatus.waiting.value,
            requested_at=now(),
            seconds=row["speaking_seconds"],
        )
        await speaker.save()
        await audit.record(
            principal.actor,
            "request_floor",
            "hearing",
            hearing_id,
            {"item_id": item_id, "speaker_id": speaker.id, "name": person["name"], "via": via},
        )
        version = await bump(hearing_id)
    await live.changed(hearing_id, version, "queue")
    return int(speaker.id)


async def request_floor(principal: Principal, hearing_id: int) -> int:
    """A resident present asks to speak on the open item."""
    row = await get_row(hearing_id)
    _running(row)
    item_id = await _current(row)
    present = await _present(hearing_id, principal)
    person = {"resident": principal.resident_id, "user": principal.id, "name": present["name"]}
    return await _enqueue(principal, row, item_id, person, "online")


async def add_speaker(
    principal: Principal, hearing_id: int, *, name: str, resident_id: int | None = None
) -> int:
    """The host puts someone in the room on the queue."""
    row = await get_row(hearing_id)
    require_host(principal, row)
    _running(row)
    item_id = await _current(row)
    name = name.strip()
    if resident_id is not None:
        from council.hearings.attendance import _resident_of

        resident = await _resident_of(resident_id, row["scope_path"])
        name = name or resident["name"]
    if not name:
        raise Invalid(N_("Give the speaker's name."))
    person = {"resident": resident_id, "user": None, "name": name[:100]}
    return await _enqueue(principal, row, item_id, person, "room")


async def withdraw(principal: Principal, hearing_id: int) -> None:
    row = await get_row(hearing_id)
    item_id = await _current(row)
    match = (
        (Speaker.resident == principal.resident_id)
        if principal.resident_id is not None
        else (Speaker.user == principal.id)
    )
    async with write_transaction():
        updated = (
            await Speaker.update({Speaker.status: SpeakerStatus.withdrawn.value})
            .where((Speaker.item == item_id) & match & (Speaker.status == SpeakerStatus.waiting.value))
            .returning(Speaker.id)
        )
        if not updated:
            raise Conflict(N_("You are not waiting for the floor."))
        await audit.record(
            principal.actor, "withdraw_floor", "hearing", hearing_id, {"speaker_id": updated[0]["id"]}
        )
        version = await bump(hearing_id)
    await live.changed(hearing_id, version, "queue")


async def _speaking(item_id: int) -> dict[str, Any] | None:
    row: dict[str, Any] | None = (
        await Speaker.select()
        .where((Speaker.item == item_id) & (Speaker.status == SpeakerStatus.speaking.value))
        .first()
    )
    return row


async def give_floor(principal: Principal, hearing_id: int, speaker_id: int | None = None) -> int:
    """The floor to `speaker_id`, or to the first waiting; nobody may be speaking."""
    row = await get_row(hearing_id)
    require_host(principal, row)
    _running(row)
    item_id = await _current(row)
    if await _speaking(item_id) is not None:
        raise Conflict(N_("Someone is speaking: move to the next speaker instead."))
    async with write_transaction():
        chosen, version = await _start_next(principal, hearing_id, item_id, speaker_id, ended=None)
    await live.changed(hearing_id, version, "queue")
    return chosen


async def _start_next(
    principal: Principal, hearing_id: int, item_id: int, speaker_id: int | None, *, ended: int | None
) -> tuple[int, int]:
    """Inside a transaction: the floor to the chosen or first waiting speaker; (id or 0, version)."""
    if True:
        query = Speaker.select(Speaker.id, Speaker.name).where(
            (Speaker.item == item_id) & (Speaker.status == SpeakerStatus.waiting.value)
        )
        if speaker_id is not None:
            query = query.where(Speaker.id == speaker_id)
        chosen = await query.order_by(Speaker.requested_at).order_by(Speaker.id).first()
        if chosen is None and ended is None:
            raise Conflict(N_("Nobody is waiting for the floor."))
        if chosen is not None:
            await Speaker.update(
                {Speaker.status: SpeakerStatus.speaking.value, Speaker.started_at: now()}
            ).where(Speaker.id == chosen["id"])
        await audit.record(
            principal.actor,
            "give_floor",
            "hearing",
            hearing_id,
            {
                "speaker_id": chosen["id"] if chosen else None,
                "name": chosen["name"] if chosen else None,
                "ended": ended,
            },
        )
        version = await bump(hearing_id)
    return (int(chosen["id"]) if chosen else 0), version


async def next_speaker(principal: Principal, hearing_id: int) -> int:
    """Ends the current speaker's turn and gives the floor to the next waiting, if any."""
    row = await get_row(hearing_id)
    require_host(principal, row)
    _running(row)
    item_id = await _current(row)
    current = await _speaking(item_id)
    if current is None:
        raise Conflict(N_("Nobody is speaking."))
    async with write_transaction():
        await Speaker.update({Speaker.status: SpeakerStatus.done.value, Speaker.ended_at: now()}).where(
            (Speaker.id == current["id"]) & (Speaker.status == SpeakerStatus.speaking.value)
        )
        chosen, version = await _start_next(principal, hearing_id, item_id, None, ended=current["id"])
    await live.changed(hearing_id, version, "queue")
    return chosen


async def skip(principal: Principal, hearing_id: int, speaker_id: int) -> None:
    row = await get_row(hearing_id)
    require_host(principal, row)
    _running(row)
    async with write_transaction():
        updated = (
            await Speaker.update({Speaker.status: SpeakerStatus.skipped.value})
            .where(
                (Speaker.id == speaker_id)
                & (Speaker.hearing == hearing_id)
                & (Speaker.status == SpeakerStatus.waiting.value)
            )
            .returning(Speaker.id)
        )
        if not updated:
            raise Conflict(N_("Only a speaker who is waiting can be skipped."))
        await audit.record(principal.actor, "skip_speaker", "hearing", hearing_id, {"speaker_id": speaker_id})
        version = await bump(hearing_id)
    await live.changed(hearing_id, version, "queue")


async def extend(principal: Principal, hearing_id: int, seconds: int = 60) -> None:
    row = await get_row(hearing_id)
    require_host(principal, row)
    _running(row)
    item_id = await _current(row)
    if not 10 <= seconds <= MAX_EXTENSION:
        raise Invalid(N_("An extension is between 10 seconds and 10 minutes."))
    current = await _speaking(item_id)
    if current is None:
        raise Conflict(N_("Nobody is speaking."))
    async with write_transaction():
        await Speaker.update({Speaker.seconds: Speaker.seconds + seconds}).where(Speaker.id == current["id"])
        await audit.record(
            principal.actor,
            "extend_speaker",
            "hearing",
            hearing_id,
            {"speaker_id": current["id"], "seconds": seconds},
        )
        version = await bump(hearing_id)
    await live.changed(hearing_id, version, "queue")


def deadline(speaker: dict[str, Any]) -> datetime | None:
    started: datetime | None = speaker.get("started_at")
    if started is None:
        return None
    if started.tzinfo is None:
        started = started.replace(tzinfo=UTC)
    return started + timedelta(seconds=int(speaker["seconds"]))
