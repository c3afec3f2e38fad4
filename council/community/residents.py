"""Residents on the roster: added, changed, moved between households, moved out. Never deleted."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from council.accounts.principal import Principal
from council.audit import service as audit
from council.community.service import check_phone, get_node, household_labels, require_scope
from council.community.tables import KIND_TERMS, NodeKind, Resident
from council.db import write_transaction
from council.errors import Conflict, Invalid, NotFound
from council.i18n import N_


def _now() -> datetime:
    return datetime.now(UTC)


# Typed loosely: Piccolo's join chains through a self-referencing key defeat mypy.
_HOUSEHOLD: Any = Resident.household


def _resident_out(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "code": row["code"],
        "name": row["name"],
        "phone": row["phone"],
        "household_id": row["household"],
        "household": row.get("household.name", ""),
        "place": "".join(
            row.get(key, "") or ""
            for key in ("household.parent.parent.name", "household.parent.name", "household.name")
        ),
        "household_path": row.get("household.path", ""),
        "is_representative": row["is_representative"],
        "active": row["active"],
    }


async def get_resident(resident_id: int) -> dict[str, Any]:
    row = (
        await Resident.select(*Resident.all_columns(), Resident.household.name, Resident.household.path)
        .where(Resident.id == resident_id)
        .first()
    )
    if row is None:
        raise NotFound(N_("No resident with id {id}."), id=resident_id)
    return _resident_out(row)


async def list_residents(
    *,
    scope_path: str,
    query: str = "",
    include_inactive: bool = False,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[dict[str, Any]], int]:
    condition = Resident.household.path.like(f"{scope_path}%")
    if not include_inactive:
        condition &= Resident.active == True  # noqa: E712
    if query:
        condition &= (
            Resident.name.like(f"%{query}%")
            | Resident.code.like(f"%{query}%")
            | Resident.phone.like(f"%{query}%")
        )
    rows = (
        await Resident.select(
            *Resident.all_columns(),
            Resident.household.name,
            Resident.household.path,
            _HOUSEHOLD.parent.name,
            _HOUSEHOLD.parent.parent.name,
        )
        .where(condition)
        .order_by(_HOUSEHOLD.parent.parent.name)
        .order_by(_HOUSEHOLD.parent.name)
        .order_by(Resident.household.name)
        .order_by(Resident.id)
        .offset(offset)
        .limit(limit)
    )
    total = await Resident.count().where(condition)
    return [_resident_out(row) for row in rows], total


async def find_in_place(
    scope_path: str, query: str, *, chosen: int | None = None, limit: int = 20
) -> tuple[list[dict[str, Any]], bool]:
    """Active residents of a place whose name, code or household ("3栋2单元301", "2单元",
    "301") matches `query`, by household with its representative first, each with its
    `place`; at most `limit` of them, and `chosen` whatever the query. Returns them and
    whether more matched. For pickers (a proxy, someone in the room), not the roster."""
    query = query.strip()[:64]
    if not query and chosen is None:
        return [], False
    places = await household_labels(scope_path)
    match: Any = Resident.id == (chosen if chosen is not None else -1)
    if query:
        squeezed = "".join(query.split())
        households = [h for h, label in places.items() if squeezed in label]
        match |= Resident.household.is_in(households[:2000] or [-1])
        if literal := query.replace("%", "").replace("_", ""):
            match |= Resident.name.like(f"%{literal}%") | Resident.code.like(f"%{literal}%")
    rows = await Resident.select(
        Resident.id, Resident.name, Resident.code, Resident.household, Resident.is_representative
    ).where((Resident.active == True) & Resident.household.is_in(list(places) or [-1]) & match)  # noqa: E712
    rows.sort(key=lambda r: (places.get(r["household"], ""), not r["is_representative"], r["code"]))
    shown = rows[:limit] + [r for r in rows[limit:] if r["id"] == chosen]
    return [{**r, "place": places.get(r["household"], "")} for r in shown], len(rows) > limit


async def _household(principal: Principal, household_id: int) -> dict[str, Any]:
    node = await get_node(household_id)
    if node["kind"] != NodeKind.household.value:
        raise Invalid(
            N_("Residents belong to a household, not to a {kind}."), kind=KIND_TERMS[NodeKind(node["kind"])]
        )
    if not node["active"]:
        raise Invalid(N_("This household is deactivated."))
    require_scope(principal, node["path"])
    return node


async def add_resident(
    principal: Principal,
    *,
    code: str,
    name: str,
    household_id: int,
    phone: str = "",
    is_representative: bool = False,
) -> dict[str, Any]:
    await _household(principal, household_id)
    phone = check_phone(phone)
    if await Resident.exists().where(Resident.code == code):
        raise Conflict(N_("A resident with the ID {code} is on the roster already."), code=code)
    now = _now()
    async with write_transaction():
        resident = Resident(
            code=code,
            name=name.strip(),
            phone=phone,
            household=household_id,
            is_representative=is_representative,
            created_at=now,
            updated_at=now,
        )
        await resident.save()
        await audit.record(
            principal.actor,
            "add_resident",
            "resident",
            resident.id,
            {
                "code": code,
                "name": name,
                "household_id": household_id,
                "is_representative": is_representative,
            },
        )
    return await get_resident(resident.id)


async def update_resident(
    principal: Principal, resident_id: int, *, name: str, phone: str, is_representative: bool
) -> None:
    resident = await get_resident(resident_id)
    require_scope(principal, resident["household_path"])
    phone = check_phone(phone)
    async with write_transaction():
        await Resident.update(
            {
                Resident.name: name.strip(),
                Resident.phone: phone,
                Resident.is_representative: is_representative,
                Resident.updated_at: _now(),
            }
        ).where(Resident.id == resident_id)
        await audit.record(
            principal.actor,
            "update_resident",
            "resident",
            resident_id,
            {
                "name": name,
                "phone_changed": phone != resident["phone"],
                "is_representative": is_representative,
            },
        )


async def move_resident(principal: Principal, resident_id: int, household_id: int) -> None:
    resident = await get_resident(resident_id)
    require_scope(principal, resident["household_path"])
    await _household(principal, household_id)
    if resident["household_id"] == household_id:
        raise Conflict(N_("The resident lives in this household already."))
    async with write_transaction():
        await Resident.update({Resident.household: household_id, Resident.updated_at: _now()}).where(
            Resident.id == resident_id
        )
        await audit.record(
            principal.actor,
            "move_resident",
            "resident",
            resident_id,
            {"from_household": resident["household_id"], "to_household": household_id},
        )


async def set_resident_active(principal: Principal, resident_id: int, active: bool) -> None:
    resident = await get_resident(resident_id)
    require_scope(principal, resident["household_path"])
    if resident["active"] == active:
        return
    async with write_transaction():
        await Resident.update({Resident.active: active, Resident.updated_at: _now()}).where(
            Resident.id == resident_id
        )
        await audit.record(
            principal.actor,
            "activate_resident" if active else "deactivate_resident",
            "resident",
            resident_id,
        )
