"""Who hears about a hearing: its invitees when it is scheduled or cancelled. Call inside
the write transaction of the change."""

from __future__ import annotations

from council.community.tables import Resident
from council.hearings.tables import Hearing, Invitees
from council.i18n import DEFAULT_LOCALE, N_, translations
from council.notifications.service import users_of_residents


def _say(message: str) -> str:
    return translations(DEFAULT_LOCALE).gettext(message)


async def invitee_users(hearing_id: int) -> list[int]:
    from council.hearings.attendance import council_members

    row = await Hearing.select().where(Hearing.id == hearing_id).first()
    if row is None:
        return []
    if row["invitees"] == Invitees.council.value:
        users = await council_members(row["scope_path"])
    else:
        residents = await Resident.select(Resident.id).where(
            Resident.household.path.like(f"{row['scope_path']}%") & (Resident.active == True)  # noqa: E712
        )
        users = set(await users_of_residents([r["id"] for r in residents]))
    users |= {row["host"]} | ({row["secretary"]} if row["secretary"] else set())
    return sorted(users)


async def _send(hearing_id: int, what: str) -> None:
    from council.notifications import service as notifications

    row = (
        await Hearing.select(Hearing.title, Hearing.starts_at, Hearing.place)
        .where(Hearing.id == hearing_id)
        .first()
    )
    users = await invitee_users(hearing_id)
    if row is None or not users:
        return
    await notifications.notify(
        users,
        kind="hearing",
        title=f"{_say(what)}：{row['title']}",
        body=f"{_say(what)}：{row['title']} · {row['place']}",
        link=f"/hearings/{hearing_id}",
        subject_type="hearing",
        subject_id=hearing_id,
    )


async def invited(hearing_id: int) -> None:
    await _send(hearing_id, N_("You are invited to a hearing"))


async def cancelled(hearing_id: int) -> None:
    await _send(hearing_id, N_("A hearing you were invited to is cancelled"))
