"""A hearing's live state, and telling connected clients that it changed.

The state is read from the database (state()); after each committed change the acting
process reads it once and publishes it on the channel `hearing.{id}` — in memory for one
process, through Redis when COUNCIL_REDIS_URL is set, so every process's clients get it.
The message is the Server-Sent Event itself (frame(): `id` = the hearing's `version`,
`event: state`, `data` = the state as JSON on one line), encoded once by the publisher and
passed on to each client as it is. A client that sees a gap, or reconnects, fetches the
state afresh (GET /api/v1/hearings/{id}/live). Nothing lives only in a process.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from council.hearings.tables import AgendaItem, Hearing, Speaker, SpeakerStatus

log = logging.getLogger("council.hearings")

Publisher = Callable[[str, str], None]
_publisher: Publisher | None = None


def set_publisher(publisher: Publisher | None) -> None:
    """The app registers its channels plugin here at start-up (council/app.py)."""
    global _publisher
    _publisher = publisher


def channel(hearing_id: int) -> str:
    return f"hearing.{hearing_id}"


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


async def state(hearing_id: int) -> dict[str, Any] | None:
    """What every participant's page shows: the items, the open one, the queue, the
    speaker's deadline, attendance and quorum, with the server's clock."""
    from council.hearings.attendance import counts
    from council.hearings.floor import deadline

    row = await Hearing.select().where(Hearing.id == hearing_id).first()
    if row is None:
        return None
    items = (
        await AgendaItem.select(
            AgendaItem.id,
            AgendaItem.position,
            AgendaItem.title,
            AgendaItem.proposal,
            AgendaItem.minutes_budget,
            AgendaItem.status,
            AgendaItem.opened_at,
            AgendaItem.closed_at,
            AgendaItem.outcome,
            AgendaItem.outcome_text,
            AgendaItem.ballot,
        )
        .where(AgendaItem.hearing == hearing_id)
        .order_by(AgendaItem.position)
    )
    queue: list[dict[str, Any]] = []
    speaking = None
    if row["current_item"] is not None:
        speakers = (
            await Speaker.select(
                Speaker.id,
                Speaker.name,
                Speaker.via,
                Speaker.status,
                Speaker.requested_at,
                Speaker.started_at,
                Speaker.seconds,
                Speaker.resident,
                Speaker.user,
            )
            .where(
                (Speaker.item == row["current_item"])
                & Speaker.status.is_in([SpeakerStatus.waiting.value, SpeakerStatus.speaking.value])
            )
            .order_by(Speaker.requested_at)
            .order_by(Speaker.id)
        )
        for s in speakers:
            if s["status"] == SpeakerStatus.speaking.value:
                speaking = {
                    "id": s["id"],
                    "name": s["name"],
                    "via": s["via"],
                    "started_at": _iso(s["started_at"]),
                    "seconds": s["seconds"],
                    "deadline": _iso(deadline(s)),
                    "resident": s["resident"],
                    "user": s["user"],
                }
            else:
                queue.append(
                    {
                        "id": s["id"],
                        "name": s["name"],
                        "via": s["via"],
                        "requested_at": _iso(s["requested_at"]),
                        "resident": s["resident"],
                        "user": s["user"],
                    }
                )
    return {
        "id": row["id"],
        "version": row["version"],
        "server_time": _iso(datetime.now(UTC)),
        "title": row["title"],
        "kind": row["kind"],
        "status": row["status"],
        "starts_at": _iso(row["starts_at"]),
        "started_at": _iso(row["started_at"]),
        "ended_at": _iso(row["ended_at"]),
        "place": row["place"],
        "online": row["online"],
        "current_item": row["current_item"],
        "items": [{**i, "opened_at": _iso(i["opened_at"]), "closed_at": _iso(i["closed_at"])} for i in items],
        "speaking": speaking,
        "queue": queue,
        "attendance": await counts(row),
    }


def frame(current: dict[str, Any]) -> str:
    """The Server-Sent Event of a state: what is published, and what each client is sent."""
    data = json.dumps(current, ensure_ascii=False, separators=(",", ":"))
    return f"id: {current['version']}\r\nevent: state\r\ndata: {data}\r\n\r\n"


def frame_version(message: bytes) -> int:
    """The version of a published frame (its `id: N` line)."""
    return int(message[4 : message.index(b"\r\n")])


async def changed(hearing_id: int, version: int, what: str) -> None:
    """After a committed change: publish the new state (a failure to publish loses nothing:
    clients resynchronise from the database)."""
    if _publisher is None:
        return
    try:
        current = await state(hearing_id)
        if current is not None:
            _publisher(channel(hearing_id), frame(current))
    except Exception:
        log.exception("could not publish hearing %s version %s (%s)", hearing_id, version, what)
