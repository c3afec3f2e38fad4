"""The demo community's hearings: last week's doorstep talk, finished, and the next council
meeting with its agenda."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from council.ballots.tables import Ballot
from council.hearings.demo import LIFT_MATTER, PARKING_MATTER
from council.hearings.tables import AgendaItem, Attendance, Hearing, Motion, Speaker, Statement
from council.proposals.tables import Proposal


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


async def _demo(monkeypatch: pytest.MonkeyPatch) -> tuple[dict[str, Any], dict[str, Any]]:
    from council.ballots import demo as ballots_demo
    from council.demo import load_demo

    async def no_ballots(*args: Any, **kwargs: Any) -> None:
        """The demo's ballots (their own test) take most of its time and play no part here."""

    monkeypatch.setattr(ballots_demo, "load", no_ballots)
    await load_demo(only_if_empty=False)
    talk = await Hearing.select().where(Hearing.title == "3栋加装电梯屋场恳谈会").first()
    meeting = await Hearing.select().where(Hearing.title == "幸福里社区议事会（停车专题）").first()
    assert talk is not None and meeting is not None
    return talk, meeting


async def test_the_demo_has_a_finished_hearing_and_an_upcoming_one(
    db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    talk, meeting = await _demo(monkeypatch)
    now = datetime.now(UTC)
    started, ended = _utc(talk["started_at"]), _utc(talk["ended_at"])
    assert talk["status"] == "ended" and talk["kind"] == "doorstep_talk"
    assert now - timedelta(days=7) < started < ended < now - timedelta(days=5)
    assert meeting["status"] == "scheduled" and _utc(meeting["starts_at"]) > now

    # attendance: on time and late, one departure before the end, everyone gone at the end
    rows = await Attendance.select().where(Attendance.hearing == talk["id"])
    late = [r for r in rows if r["late"]]
    assert len(rows) == 23 and len(late) == 5
    assert all(_utc(r["arrived_at"]) > started for r in late)
    assert all(_utc(r["arrived_at"]) <= started for r in rows if not r["late"])
    assert {r["via"] for r in rows} == {"host", "online"}
    left_early = [r for r in rows if _utc(r["left_at"]) < ended]
    assert len(left_early) == 1 and all(r["left_at"] is not None for r in rows)
    assert len({r["household"] for r in rows}) == 23

    # the agenda and its three outcomes
    lift = await Proposal.select(Proposal.id).where(Proposal.title == LIFT_MATTER).first()
    items = await AgendaItem.select().where(AgendaItem.hearing == talk["id"]).order_by(AgendaItem.position)
    assert [i["status"] for i in items] == ["closed"] * 3
    assert [i["outcome"] for i in items] == ["consensus", "ballot", "deferred"]
    assert "北侧" in items[0]["outcome_text"]
    assert items[1]["proposal"] == lift["id"]
    ballot = await Ballot.select().where(Ballot.id == items[1]["ballot"]).first()
    assert ballot is not None and ballot["proposal"] == lift["id"]
    assert items[2]["deferred_to"] == meeting["id"]
    assert all(started <= _utc(i["opened_at"]) < _utc(i["closed_at"]) <= ended for i in items)

    # the floor and the record
    speakers = await Speaker.select().where(Speaker.hearing == talk["id"]).order_by(Speaker.id)
    assert [s["status"] for s in speakers] == ["done"] * 3 and [s["seconds"] for s in speakers] == [
        180,
        240,
        180,
    ]
    assert [s["via"] for s in speakers] == ["online", "room", "online"]
    statements = await Statement.select().where(Statement.hearing == talk["id"]).order_by(Statement.spoken_at)
    assert len(statements) == 5 and all(started <= _utc(s["spoken_at"]) <= ended for s in statements)
    assert [s["item"] for s in statements] == [items[0]["id"]] * 3 + [items[1]["id"]] * 2
    motion, amendment = await Motion.select().where(Motion.hearing == talk["id"]).order_by(Motion.id)
    assert motion["amends"] is None and amendment["amends"] == motion["id"]
    assert all(
        m["moved_by"] and m["seconded_by"] and m["moved_by"] != m["seconded_by"] for m in (motion, amendment)
    )

    # the council meeting's agenda: the parking matter, a title, and what the talk deferred
    parking = await Proposal.select(Proposal.id).where(Proposal.title == PARKING_MATTER).first()
    agenda = (
        await AgendaItem.select().where(AgendaItem.hearing == meeting["id"]).order_by(AgendaItem.position)
    )
    assert [a["status"] for a in agenda] == ["pending"] * 3
    assert agenda[0]["proposal"] == parking["id"] and agenda[2]["title"] == items[2]["title"]


async def test_the_talks_draft_ballot_is_linked_for_its_managers_only(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The talk sent the lift to a vote: the draft is linked for the council (who prepare it),
    and named without a link for residents and visitors, to whom it does not exist yet."""
    from tests.factories import login

    talk, _ = await _demo(monkeypatch)
    item = await AgendaItem.select().where(AgendaItem.outcome == "ballot").first()
    assert item is not None
    link = f'href="/ballots/{item["ballot"]}"'
    lift = await Proposal.select(Proposal.id).where(Proposal.title == LIFT_MATTER).first()
    assert lift is not None
    pages = (f"/hearings/{talk['id']}", f"/matters/{lift['id']}")
    for who in (None, "resident1", "host"):
        client.cookies.clear()
        if who:
            assert (await login(client, who, "council-demo")).status_code == 303
        for page in pages:
            response = await client.get(page)
            assert response.status_code == 200, (who, page)
            assert (link in response.text) == (who == "host"), (who, page)
        shown = await client.get(f"/ballots/{item['ballot']}")
        assert shown.status_code == (200 if who == "host" else 404)
