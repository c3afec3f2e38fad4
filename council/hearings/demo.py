"""The demo community's hearings: a doorstep talk about the lift held last week, and the
next council meeting with its agenda.

Everything goes through the services, as the host, the secretary and the residents would
do it: the schedule and invitations, check-ins online and marks by the host, late arrivals
and a departure, the speaker queue, statements, a motion and its amendment, and the three
outcomes (consensus, sent to ballot, deferred to the council meeting). The services stamp
the present moment; the finished hearing's times are then set back to the evening it was
held (the audit entries keep when the demo was loaded).
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from council.accounts import login
from council.accounts.principal import Principal
from council.accounts.tables import User
from council.community.tables import Node, NodeKind, Resident
from council.hearings import attendance, floor, records, service
from council.hearings.tables import (
    AgendaItem,
    Attendance,
    Hearing,
    HearingKind,
    Invitees,
    Motion,
    Outcome,
    Speaker,
    Statement,
)
from council.proposals.tables import Proposal, ProposalStatus

LIFT_MATTER = "加装电梯的费用怎么分摊"
PARKING_MATTER = "小区停车位严重不足"
ON_TIME = 16  # households the host marks present before the start
LATE = 4  # and after it


async def _who(username: str) -> Principal:
    row = await User.select(User.id).where(User.username == username).first()
    assert row is not None, username
    principal = await login.load_principal(row["id"])
    assert principal is not None, username
    return principal


async def _matter(title: str) -> int:
    row = (
        await Proposal.select(Proposal.id)
        .where((Proposal.title == title) & (Proposal.status == ProposalStatus.accepted.value))
        .first()
    )
    assert row is not None, f"the demo's accepted matter {title!r} is missing"
    return int(row["id"])


async def _households_of(building: str, community_path: str, skip: set[int]) -> list[dict[str, Any]]:
    """One representative per household of a building, residents with an account left out."""
    node = (
        await Node.select(Node.path)
        .where(
            (Node.kind == NodeKind.building.value)
            & (Node.name == building)
            & Node.path.like(f"{community_path}%")
        )
        .first()
    )
    assert node is not None, building
    rows: list[dict[str, Any]] = (
        await Resident.select(Resident.id, Resident.name)
        .where(
            Resident.household.path.like(f"{node['path']}%")
            & (Resident.is_representative == True)  # noqa: E712 - a SQL comparison
            & (Resident.active == True)  # noqa: E712
        )
        .order_by(Resident.id)
    )
    return [r for r in rows if r["id"] not in skip]


def _evening(zone: ZoneInfo, days: int) -> datetime:
    """19:30 in the community's time zone, `days` from today (negative: in the past)."""
    day = datetime.now(zone).date() + timedelta(days=days)
    return datetime.combine(day, time(19, 30), tzinfo=zone).astimezone(UTC)


async def load_demo_hearings(community: dict[str, Any], timezone: str = "Asia/Shanghai") -> dict[str, int]:
    """The two hearings; needs the demo's people and its accepted matters (council/demo.py,
    after the proposals). Returns their ids and the ballot the doorstep talk sent a matter to."""
    zone = ZoneInfo(timezone)
    host, secretary, member = await _who("host"), await _who("secretary"), await _who("member1")
    residents = [await _who(f"resident{i}") for i in range(1, 4)]
    with_accounts = {
        r["resident"] for r in await User.select(User.resident).where(User.resident.is_not_null())
    }
    room = await _households_of("3栋", community["path"], with_accounts)
    lift, parking = await _matter(LIFT_MATTER), await _matter(PARKING_MATTER)

    upcoming = await service.schedule(
        member,
        kind=HearingKind.council_meeting,
        title="幸福里社区议事会（停车专题）",
        description="议题：小区停车位不足与东侧绿地改建方案；上次屋场恳谈会转来的施工期间噪音和临时停车问题。",
        scope_id=community["id"],
        starts_at=_evening(zone, 5),
        place="社区党群服务中心二楼议事厅",
        online=True,
        host_id=host.id,
        secretary_id=secretary.id,
        invitees=Invitees.residents,
        quorum_permille=0,
        speaking_seconds=180,
        items=[
            {"proposal_id": parking, "minutes_budget": 40},
            {"title": "东侧绿地改生态停车位的方案", "minutes_budget": 30},
        ],
    )

    held = _evening(zone, -6)
    talk = await service.schedule(
        member,
        kind=HearingKind.doorstep_talk,
        title="3栋加装电梯屋场恳谈会",
        description="听取3栋住户特别是一楼、二楼住户对加装电梯的意见，商量选址和费用分摊。",
        scope_id=community["id"],
        starts_at=held,
        place="3栋楼下小广场",
        online=True,
        host_id=host.id,
        secretary_id=secretary.id,
        invitees=Invitees.residents,
        quorum_permille=100,
        speaking_seconds=180,
        items=[
            {"title": "电梯装在哪一侧", "minutes_budget": 30},
            {"proposal_id": lift, "minutes_budget": 40},
            {"title": "施工期间的噪音和临时停车", "minutes_budget": 15},
        ],
    )

    # arrivals: the host marks the households in the square, two residents check in online
    arrivals: list[tuple[int, float]] = []  # (resident id, minutes from the start)
    for k, person in enumerate(room[:ON_TIME]):
        await attendance.mark_present(host, talk, person["id"])
        arrivals.append((person["id"], -14 + k * 0.8))
    for k, online in enumerate(residents[:2]):
        await attendance.check_in(online, talk)
        assert online.resident_id is not None
        arrivals.append((online.resident_id, -5 + k * 3))
    await service.start(host, talk)
    for k, person in enumerate(room[ON_TIME : ON_TIME + LATE]):
        await attendance.mark_present(host, talk, person["id"])
        arrivals.append((person["id"], 12 + k * 5))
    await attendance.check_in(residents[2], talk)
    assert residents[2].resident_id is not None
    arrivals.append((residents[2].resident_id, 18))

    items = [
        i["id"]
        for i in await AgendaItem.select(AgendaItem.id)
        .where(AgendaItem.hearing == talk)
        .order_by(AgendaItem.position)
    ]
    first, second, third = items
    speakers = {p.display_name: p for p in residents}
    names = [p.display_name for p in residents]
    aunt = "王阿姨（3栋102）"

    # 1. where the lift goes: the queue, statements, a motion and its amendment, consensus
    await floor.open_item(host, talk, first)
    await floor.request_floor(speakers[names[0]], talk)
    await floor.add_speaker(host, talk, name=aunt)
    await floor.request_floor(speakers[names[1]], talk)
    await floor.give_floor(host, talk)
    await floor.next_speaker(host, talk)
    await floor.extend(host, talk, 60)
    await floor.next_speaker(host, talk)
    await floor.next_speaker(host, talk)
    said = [
        (names[0], "建议电梯装在北侧楼梯间外，不占南面的采光，也不挡单元门。", 8),
        (aunt, "我家在一楼，装在南侧会挡住客厅的光；北侧可以接受，但施工前要看到图纸。", 11),
        (names[1], "北侧有燃气管道，需要设计单位先勘察能不能改线。", 15),
    ]
    for name, summary, minute in said:
        await records.record_statement(
            secretary,
            talk,
            speaker_name=name,
            summary=summary,
            item_id=first,
            resident_id=speakers[name].resident_id if name in speakers else None,
            spoken_at=held + timedelta(minutes=minute),
        )
    motion = await records.record_motion(
        secretary,
        talk,
        text="电梯装在3栋1单元北侧楼梯间外。",
        moved_by=names[0],
        seconded_by=aunt,
        item_id=first,
    )
    await records.record_motion(
        secretary,
        talk,
        text="在动议后加上：施工前由设计单位向一楼、二楼住户出示采光影响示意图，并勘察燃气管道改线。",
        moved_by=names[1],
        seconded_by=names[0],
        item_id=first,
        amends=motion,
    )
    await floor.close_item(
        host,
        talk,
        first,
        outcome=Outcome.consensus,
        text="电梯装在北侧楼梯间外，不挡一楼采光；施工前设计单位出示采光示意图并勘察燃气管道改线。",
    )

    # 2. the matter itself: how to share the cost goes to a ballot
    await floor.open_item(host, talk, second)
    for name, summary, minute in [
        (room[0]["name"], "一楼基本不用电梯，希望一楼不出资，二楼少出。", 44),
        (names[2], "参照区里其他小区，按楼层系数分摊比较公平，六楼出得最多。", 52),
    ]:
        await records.record_statement(
            secretary,
            talk,
            speaker_name=name,
            summary=summary,
            item_id=second,
            spoken_at=held + timedelta(minutes=minute),
        )
    done = await floor.close_item(
        host,
        talk,
        second,
        outcome=Outcome.ballot,
        text="分摊方案意见不一，按楼层系数分摊的方案交住户表决。",
        ballot={
            "question": "是否同意按楼层系数分摊加装电梯费用（一楼不出资、二楼减半）？",
            "secrecy": "open",
        },
    )

    # a departure before the last item
    leaving = (
        await Attendance.select(Attendance.id)
        .where((Attendance.hearing == talk) & (Attendance.resident == room[3]["id"]))
        .first()
    )
    assert leaving is not None
    await attendance.leave(host, talk, leaving["id"])

    # 3. no time left: to the council meeting
    await floor.open_item(host, talk, third)
    await floor.close_item(host, talk, third, outcome=Outcome.deferred, defer_to=upcoming)
    await service.end(host, talk)

    await _held_at(talk, held, arrivals, departed=(room[3]["id"], 83), items=items)
    return {"finished": talk, "upcoming": upcoming, "ballot": int(done["ballot_id"])}


async def _held_at(
    talk: int,
    held: datetime,
    arrivals: list[tuple[int, float]],
    departed: tuple[int, float],
    items: list[int],
) -> None:
    """The finished hearing's times, set back to the evening it was held."""

    def at(minutes: float) -> datetime:
        return held + timedelta(minutes=minutes)

    ended = at(100)
    await Hearing.update(
        {Hearing.created_at: at(-8 * 24 * 60), Hearing.started_at: at(2), Hearing.ended_at: ended}
    ).where(Hearing.id == talk)
    for resident, minutes in arrivals:
        await Attendance.update({Attendance.arrived_at: at(minutes), Attendance.left_at: ended}).where(
            (Attendance.hearing == talk) & (Attendance.resident == resident)
        )
    await Attendance.update({Attendance.left_at: at(departed[1])}).where(
        (Attendance.hearing == talk) & (Attendance.resident == departed[0])
    )
    for item, (opened, closed) in zip(items, [(5, 40), (40, 82), (84, 98)], strict=True):
        await AgendaItem.update({AgendaItem.opened_at: at(opened), AgendaItem.closed_at: at(closed)}).where(
            AgendaItem.id == item
        )
    speakers = await Speaker.select(Speaker.id).where(Speaker.hearing == talk).order_by(Speaker.id)
    for speaker, (asked, started, ended_speaking) in zip(
        speakers, [(6, 8, 11), (7, 11, 15), (9, 15, 18)], strict=False
    ):
        await Speaker.update(
            {
                Speaker.requested_at: at(asked),
                Speaker.started_at: at(started),
                Speaker.ended_at: at(ended_speaking),
            }
        ).where(Speaker.id == speaker["id"])
    statements = await Statement.select(Statement.id, Statement.spoken_at).where(Statement.hearing == talk)
    for statement in statements:
        await Statement.update({Statement.updated_at: statement["spoken_at"] + timedelta(minutes=2)}).where(
            Statement.id == statement["id"]
        )
    for motion, minutes in zip(
        await Motion.select(Motion.id).where(Motion.hearing == talk).order_by(Motion.id),
        (25, 31),
        strict=True,
    ):
        await Motion.update({Motion.created_at: at(minutes), Motion.updated_at: at(minutes)}).where(
            Motion.id == motion["id"]
        )
