"""Reading hearings: the list and one hearing's page data."""

from __future__ import annotations

from typing import Any

from council.accounts.principal import Principal
from council.hearings import attendance, live, records, service
from council.hearings.tables import Hearing


async def find(*, status: str | None, offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    """Hearings are public notices: everyone sees when and where they are held."""
    query = Hearing.select(
        Hearing.id,
        Hearing.kind,
        Hearing.title,
        Hearing.status,
        Hearing.starts_at,
        Hearing.place,
        Hearing.online,
        Hearing.scope,
        Hearing.scope.name,
    )
    count = Hearing.count()
    if status:
        query = query.where(Hearing.status == status)
        count = count.where(Hearing.status == status)
    rows: list[dict[str, Any]] = (
        await query.order_by(Hearing.starts_at, ascending=False).offset(offset).limit(limit)
    )
    return rows, int(await count)


async def detail(principal: Principal | None, hearing_id: int) -> dict[str, Any]:
    row = await service.get_row(hearing_id)
    state = await live.state(hearing_id)
    out: dict[str, Any] = {
        **(state or {}),
        "description": row["description"],
        "scope_id": row["scope"],
        "host": {"id": row["host"], "name": await service.user_name(row["host"])},
        "secretary": {"id": row["secretary"], "name": await service.user_name(row["secretary"])}
        if row["secretary"]
        else None,
        "invitees": row["invitees"],
        "quorum_permille": row["quorum_permille"],
        "speaking_seconds": row["speaking_seconds"],
        "sealed_at": row["sealed_at"],
        "may_host": service.is_host(principal, row),
        "may_record": service.is_secretary(principal, row),
        "may_organise": service.can_organise(principal, row),
    }
    if out["may_record"] or out["may_organise"]:
        out["attendees"] = await attendance.attendees(hearing_id)
    if principal is not None:
        out["record"] = await records.record_of(hearing_id)
    return out
