"""签到: who is present at a hearing, and whether the quorum is met.

Three ways in: a resident checks in online; in the room she scans the QR code the host
shows (a short-lived code signed with the server's key, renewed every minute, good for
two); or the host marks her present from the roster. A household counts once however
many of its members come. The quorum is more than `quorum_permille`/1000 of the invited
households (residents' hearings) or members (council meetings) present now.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping
from typing import Any

from council.accounts.principal import Principal
from council.accounts.tables import Role, RoleAssignment, User
from council.audit import service as audit
from council.community.tables import Node, NodeKind, Resident
from council.db import write_transaction
from council.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from council.hearings import live
from council.hearings.service import bump, get_row, now, require_host
from council.hearings.tables import Attendance, HearingStatus, Invitees
from council.i18n import N_

QR_PERIOD = 60  # seconds a QR code is shown before the next one
QR_WINDOWS = 2  # a code is good during its own period and the next


def _mac(secret: str, hearing_id: int, window: int) -> str:
    message = f"council/checkin/{hearing_id}/{window}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:20]


def qr_code(secret: str, hearing_id: int, at: float | None = None) -> dict[str, Any]:
    """The code the host's screen shows now, and when it is replaced."""
    moment = time.time() if at is None else at
    window = int(moment // QR_PERIOD)
    return {
        "code": f"{hearing_id}.{window}.{_mac(secret, hearing_id, window)}",
        "renews_in": int((window + 1) * QR_PERIOD - moment) + 1,
    }


def check_qr(secret: str, hearing_id: int, code: str, at: float | None = None) -> None:
    parts = code.strip().split(".")
    if len(parts) != 3 or not parts[1].isdigit() or parts[0] != str(hearing_id):
        raise Invalid(N_("This check-in code is not for this hearing."))
    window = int(parts[1])
    if not hmac.compare_digest(parts[2], _mac(secret, hearing_id, window)):
        raise Invalid(N_("This check-in code is not valid."))
    current = int((time.time() if at is None else at) // QR_PERIOD)
    if not 0 <= current - window < QR_WINDOWS:
        raise Invalid(N_("This check-in code has expired: scan the code on the screen again."))


async def invited_households(row: dict[str, Any]) -> int:
    if row["invitees"] == Invitees.council.value:
        return len(await council_members(row["scope_path"]))
    return int(
        await Node.count().where(
            Node.path.like(f"{row['scope_path']}%")
            & (Node.kind == NodeKind.household.value)
            & (Node.active == True)  # noqa: E712
        )
    )


async def council_members(scope_path: str) -> set[int]:
    """Users who hold the council member role over the scope (or a place inside it)."""
    rows = await RoleAssignment.select(RoleAssignment.user, RoleAssignment.node.path).where(
        RoleAssignment.role == Role.council_member.value
    )
    return {
        r["user"]
        for r in rows
        if r["node.path"].startswith(scope_path) or scope_path.startswith(r["node.path"])
    }


async def _resident_of(resident_id: int, scope_path: str) -> dict[str, Any]:
    row = (
        await Resident.select(
            Resident.id, Resident.name, Resident.household, Resident.household.path, Resident.active
        )
        .where(Resident.id == resident_id)
        .first()
    )
    if row is None or not row["active"]:
        raise NotFound(N_("No resident with number {id}."), id=resident_id)
    if not row["household.path"].startswith(scope_path):
        raise Forbidden(N_("This resident does not live in the hearing's place and is not invited."))
    return row


async def _invited_person(principal: Principal, row: dict[str, Any]) -> dict[str, Any]:
    """Who the principal is at this hearing: resident (with household) or council member."""
    if row["invitees"] == Invitees.council.value:
        if principal.id not in await council_members(row["scope_path"]) and principal.id not in (
            row["host"],
            row["secretary"],
        ):
            raise Forbidden(N_("This council meeting is for council members only; you are not invited."))
        household = None
        if principal.resident_id is not None:
            resident = (
                await Resident.select(Resident.household).where(Resident.id == principal.resident_id).first()
            )
            household = resident["household"] if resident else None
        return {
            "resident": principal.resident_id,
            "user": principal.id,
            "household": household,
            "name": principal.display_name or principal.username,
        }
    if principal.resident_id is None:
        if principal.id in (row["host"], row["secretary"]):
            return {
                "resident": None,
                "user": principal.id,
                "household": None,
                "name": principal.display_name or principal.username,
            }
        raise Forbidden(N_("Only residents of the hearing's place are invited."))
    resident = await _resident_of(principal.resident_id, row["scope_path"])
    return {
        "resident": resident["id"],
        "user": principal.id,
        "household": resident["household"],
        "name": resident["name"],
    }


def _open_for_check_in(row: dict[str, Any]) -> None:
    if row["status"] not in (HearingStatus.scheduled.value, HearingStatus.running.value):
        raise Conflict(N_("Check-in is closed: the hearing is over."))


async def _arrive(actor: Principal, row: dict[str, Any], person: dict[str, Any], via: str) -> bool:
    """Records an arrival (or a return after leaving); False if already present."""
    hearing_id = row["id"]
    match = (Attendance.hearing == hearing_id) & (
        (Attendance.resident == person["resident"])
        if person["resident"] is not None
        else ((Attendance.user == person["user"]) & Attendance.resident.is_null())
    )
    stamp = now()
    late = row["status"] == HearingStatus.running.value
    async with write_transaction():
        existing = await Attendance.select(Attendance.id, Attendance.left_at).where(match).first()
        if existing is not None and existing["left_at"] is None:
            return False
        if existing is None:
            await Attendance(
                hearing=hearing_id,
                resident=person["resident"],
                user=person["user"],
                household=person["household"],
                name=person["name"],
                via=via,
                arrived_at=stamp,
                late=late,
            ).save()
        else:
            await Attendance.update({Attendance.left_at: None, Attendance.via: via}).where(
                Attendance.id == existing["id"]
            )
        await audit.record(
            actor.actor,
            "check_in",
            "hearing",
            hearing_id,
            {
                "name": person["name"],
                "resident": person["resident"],
                "via": via,
                "late": late,
                "again": existing is not None,
            },
        )
        version = await bump(hearing_id)
    await live.changed(hearing_id, version, "attendance")
    return True


async def check_in(
    principal: Principal, hearing_id: int, *, code: str | None = None, secret: str = ""
) -> bool:
    """Online (no code) or in the room (the QR code shown by the host)."""
    row = await get_row(hearing_id)
    _open_for_check_in(row)
    if code is not None:
        check_qr(secret, hearing_id, code)
    elif not row["online"]:
        raise Conflict(N_("This hearing is held in the room only: scan the code shown there."))
    person = await _invited_person(principal, row)
    return await _arrive(principal, row, person, "qr" if code is not None else "online")


async def mark_present(principal: Principal, hearing_id: int, resident_id: int) -> bool:
    """The host marks a resident present from the roster."""
    row = await get_row(hearing_id)
    require_host(principal, row)
    _open_for_check_in(row)
    resident = await _resident_of(resident_id, row["scope_path"])
    if row["invitees"] == Invitees.council.value:
        user = await User.select(User.id).where(User.resident == resident_id).first()
        if user is None or user["id"] not in await council_members(row["scope_path"]):
            raise Forbidden(
                N_("This council meeting is for council members only; this resident is not invited.")
            )
    user = await User.select(User.id).where(User.resident == resident_id).first()
    person = {
        "resident": resident_id,
        "user": user["id"] if user else None,
        "household": resident["household"],
        "name": resident["name"],
    }
    return await _arrive(principal, row, person, "host")


async def leave(principal: Principal, hearing_id: int, attendance_id: int | None = None) -> None:
    """A departure: the person herself, or the host for anyone present."""
    row = await get_row(hearing_id)
    if attendance_id is None:
        match = (Attendance.hearing == hearing_id) & (
            (Attendance.resident == principal.resident_id)
            if principal.resident_id is not None
            else (Attendance.user == principal.id)
        )
    else:
        require_host(principal, row)
        match = (Attendance.hearing == hearing_id) & (Attendance.id == attendance_id)
    async with write_transaction():
        present = (
            await Attendance.select(Attendance.id, Attendance.name)
            .where(match & Attendance.left_at.is_null())
            .first()
        )
        if present is None:
            raise Conflict(N_("This person is not checked in."))
        await Attendance.update({Attendance.left_at: now()}).where(Attendance.id == present["id"])
        await audit.record(principal.actor, "leave_hearing", "hearing", hearing_id, {"name": present["name"]})
        version = await bump(hearing_id)
    await live.changed(hearing_id, version, "attendance")


async def counts(row: dict[str, Any]) -> dict[str, Any]:
    """Present people and households now (for a finished hearing: everyone who came), invited
    households, and the quorum by the rule."""
    rows = await Attendance.select(Attendance.household, Attendance.user, Attendance.left_at).where(
        Attendance.hearing == row["id"]
    )
    finished = row["status"] == HearingStatus.ended.value
    present = rows if finished else [p for p in rows if p["left_at"] is None]
    invited = await invited_households(row)
    council = row["invitees"] == Invitees.council.value
    members = await council_members(row["scope_path"]) if council else set()

    def units(people: list[dict[str, Any]]) -> int:
        if council:
            return len({p["user"] for p in people if p["user"] in members})
        return len({p["household"] for p in people if p["household"] is not None})

    permille = row["quorum_permille"]
    needed = invited * permille // 1000 + 1 if permille else 0
    return {
        "people": len(present),
        "present": units(present),
        "came": units(rows),
        "invited": invited,
        "basis": "members" if council else "households",
        "quorum_permille": permille,
        "needed": needed,
        "quorum_met": units(present) >= needed,
    }


_HOME: Any = Attendance.household


async def attendees(hearing_id: int) -> list[dict[str, Any]]:
    """Who came, with arrival and departure times, and where they live ("1栋1单元101")."""
    rows: list[dict[str, Any]] = (
        await Attendance.select(
            Attendance.id,
            Attendance.name,
            Attendance.via,
            Attendance.arrived_at,
            Attendance.left_at,
            Attendance.late,
            Attendance.resident,
            _HOME.name,
            _HOME.parent.name,
            _HOME.parent.parent.name,
        )
        .where(Attendance.hearing == hearing_id)
        .order_by(Attendance.arrived_at)
        .order_by(Attendance.id)
    )
    for row in rows:
        parts = [row.pop(key) for key in ("household.parent.parent.name", "household.parent.name")]
        room = row.pop("household.name")
        row["place"] = "".join(p or "" for p in [*parts, room]) if room else ""
    return rows


async def viewer(principal: Principal | None, row: Mapping[str, Any]) -> dict[str, Any]:
    """Who is looking at a hearing: invited? present now? its host?"""
    if principal is None:
        return {"id": None, "resident": None, "logged_in": False, "invited": False, "present": False}
    try:
        await _invited_person(principal, dict(row))
        invited = True
    except DomainError:
        invited = False
    match = (
        (Attendance.resident == principal.resident_id)
        if principal.resident_id is not None
        else (Attendance.user == principal.id)
    )
    present = await Attendance.exists().where(
        (Attendance.hearing == row["id"]) & match & Attendance.left_at.is_null()
    )
    return {
        "id": principal.id,
        "resident": principal.resident_id,
        "logged_in": True,
        "invited": invited,
        "present": bool(present),
        "host": principal.id == row["host"],
    }
