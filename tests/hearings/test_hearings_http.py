"""A hearing through HTTP: schedule, invitations, check-in and quorum, the floor, outcomes,
the record; and the refusals, each with nothing changed."""

from __future__ import annotations

import time
from typing import Any

from council.audit.tables import AuditEntry
from council.hearings import attendance
from council.hearings.tables import Hearing
from council.notifications.tables import Notification
from tests.hearings.helpers import act, bearer, hearing_people, schedule


async def test_a_hearing_from_check_in_to_outcomes(client: Any, settings: Any) -> None:
    people = await hearing_people(settings)
    tokens, c = people["tokens"], people["c"]
    hearing_id = await schedule(client, people)
    base = f"/api/v1/hearings/{hearing_id}"
    # invitations reach the residents' inboxes
    assert await Notification.count().where(Notification.user == people["ids"]["resident1"]) == 1

    assert (await act(client, people, "resident1", f"{base}/check-in")).json() == {
        "checked_in": True,
        "new": True,
    }
    assert (await act(client, people, "resident1", f"{base}/check-in")).json()["new"] is False
    assert (await act(client, people, "resident2", f"{base}/check-in")).status_code == 200
    state = (await client.get(f"{base}/live")).json()
    assert state["attendance"] == {
        "people": 2,
        "present": 2,
        "came": 2,
        "invited": 4,
        "basis": "households",
        "quorum_permille": 500,
        "needed": 3,
        "quorum_met": False,
    }
    me = f"{base}/me"
    third = bearer(tokens["resident3"])
    assert (await client.get(me, headers=third)).json()["present"] is False
    present = await act(client, people, "host", f"{base}/present", {"resident_id": c.residents[2]["id"]})
    assert present.status_code == 200
    # the host marked her present: her live page asks /me and learns it
    assert (await client.get(me, headers=third)).json() == {
        "id": people["ids"]["resident3"],
        "resident": c.residents[2]["id"],
        "logged_in": True,
        "invited": True,
        "present": True,
        "host": False,
    }
    outsider = (await client.get(me, headers=bearer(tokens["outsider"]))).json()
    assert outsider["invited"] is False and outsider["present"] is False
    assert (await client.get(me)).status_code == 401
    assert (await client.get(f"{base}/live")).json()["attendance"]["quorum_met"] is True

    assert (await act(client, people, "host", f"{base}/start")).status_code == 200
    items = (await client.get(f"{base}/live")).json()["items"]
    first, second = items[0]["id"], items[1]["id"]
    assert (await act(client, people, "host", f"{base}/items/{first}/open")).status_code == 200
    assert (await act(client, people, "resident1", f"{base}/floor/request")).status_code == 201
    twice = await act(client, people, "resident1", f"{base}/floor/request")
    assert twice.status_code == 409 and "居民1101" in twice.json()["detail"]
    assert (await act(client, people, "host", f"{base}/floor/add", {"name": "王阿姨"})).status_code == 201
    given = await act(client, people, "host", f"{base}/floor/give")
    assert given.status_code == 200
    state = (await client.get(f"{base}/live")).json()
    assert state["speaking"]["name"] == "居民1101" and state["speaking"]["seconds"] == 180
    assert [q["name"] for q in state["queue"]] == ["王阿姨"]
    assert (await act(client, people, "host", f"{base}/floor/extend", {"seconds": 60})).status_code == 200
    assert (await client.get(f"{base}/live")).json()["speaking"]["seconds"] == 240
    nxt = await act(client, people, "host", f"{base}/floor/next")
    assert (await client.get(f"{base}/live")).json()["speaking"]["name"] == "王阿姨" and nxt.json()[
        "speaker_id"
    ]
    assert (await act(client, people, "host", f"{base}/floor/next")).json()["speaker_id"] is None
    assert (await client.get(f"{base}/live")).json()["speaking"] is None

    statement = await act(
        client,
        people,
        "secretary",
        f"{base}/statements",
        {"speaker_name": "居民1101", "summary": "建议电梯装在北侧，不挡一楼采光。", "item_id": first},
    )
    assert statement.status_code == 201
    motion = await act(
        client,
        people,
        "secretary",
        f"{base}/motions",
        {"text": "电梯装在北侧", "moved_by": "居民1101", "seconded_by": "王阿姨", "item_id": first},
    )
    assert motion.status_code == 201
    amendment = await act(
        client,
        people,
        "secretary",
        f"{base}/motions",
        {"text": "北侧，并加装雨棚", "moved_by": "王阿姨", "amends": motion.json()["id"], "item_id": first},
    )
    assert amendment.status_code == 201
    no_text = await act(client, people, "host", f"{base}/items/{first}/close", {"outcome": "consensus"})
    assert no_text.status_code == 400
    closed = await act(
        client, people, "host", f"{base}/items/{first}/close", {"outcome": "consensus", "text": "装在北侧"}
    )
    assert closed.status_code == 200
    assert (await act(client, people, "host", f"{base}/items/{second}/open")).status_code == 200
    to_ballot = await act(client, people, "host", f"{base}/items/{second}/close", {"outcome": "ballot"})
    assert to_ballot.status_code == 200 and to_ballot.json()["ballot_id"]
    ballot = await client.get(
        f"/api/v1/ballots/{to_ballot.json()['ballot_id']}", headers=bearer(tokens["host"])
    )
    assert (
        ballot.status_code == 200
        and ballot.json()["title"] == "费用分摊"
        and ballot.json()["status"] == "draft"
    )

    # resident2 leaves; the end records everyone's departure
    assert (await act(client, people, "resident2", f"{base}/leave")).status_code == 200
    assert (await client.get(f"{base}/live")).json()["attendance"]["present"] == 2
    assert (await act(client, people, "host", f"{base}/end")).status_code == 200
    detail = (await client.get(base, headers=bearer(tokens["host"]))).json()
    assert detail["status"] == "ended"
    assert [i["outcome"] for i in detail["items"]] == ["consensus", "ballot"]
    assert all(a["left_at"] is not None for a in detail["attendees"])
    assert len(detail["record"]["statements"]) == 1 and len(detail["record"]["motions"]) == 2
    public = (await client.get(base)).json()
    assert "attendees" not in public and "record" not in public and public["attendance"]["invited"] == 4
    # a finished hearing counts everyone who came, though all have left
    assert public["attendance"]["present"] == 3 and public["attendance"]["quorum_met"] is True

    # statements stay editable until the minutes are sealed
    sid = statement.json()["id"]
    edit = await client.put(
        f"{base}/statements/{sid}", json={"summary": "北侧"}, headers=bearer(tokens["secretary"])
    )
    assert edit.status_code == 200
    await Hearing.update({Hearing.sealed_at: Hearing.ended_at}).where(Hearing.id == hearing_id)
    sealed = await client.put(
        f"{base}/statements/{sid}", json={"summary": "改"}, headers=bearer(tokens["secretary"])
    )
    assert sealed.status_code == 409


async def test_refusals_change_nothing(client: Any, settings: Any) -> None:
    people = await hearing_people(settings)
    hearing_id = await schedule(client, people)
    base = f"/api/v1/hearings/{hearing_id}"
    before = await AuditEntry.count()
    # residents cannot schedule; a host must hold a host or member role here
    from tests.hearings.helpers import hearing_body

    denied = await client.post(
        "/api/v1/hearings", json=hearing_body(people), headers=bearer(people["tokens"]["resident1"])
    )
    assert denied.status_code == 403
    bad = hearing_body(people, host_id=people["ids"]["resident1"])
    assert (
        await client.post("/api/v1/hearings", json=bad, headers=bearer(people["tokens"]["member"]))
    ).status_code == 400
    # host actions by a non-host; an outsider is not invited
    assert (await act(client, people, "member", f"{base}/start")).status_code == 403
    assert (await act(client, people, "outsider", f"{base}/check-in")).status_code == 403
    # a forged and a stale QR code
    forged = await act(client, people, "resident1", f"{base}/check-in", {"code": f"{hearing_id}.1.deadbeef"})
    assert forged.status_code == 400 and "无效" in forged.json()["detail"]
    stale = attendance.qr_code(settings.secret_key, hearing_id, at=time.time() - 600)["code"]
    expired = await act(client, people, "resident1", f"{base}/check-in", {"code": stale})
    assert expired.status_code == 400 and "过期" in expired.json()["detail"]
    other = attendance.qr_code(settings.secret_key, hearing_id + 1)["code"]
    assert (await act(client, people, "resident1", f"{base}/check-in", {"code": other})).status_code == 400
    # the floor before the hearing runs, closing an item that is not open, a statement before the start
    assert (await act(client, people, "resident1", f"{base}/floor/request")).status_code == 409
    items = (await client.get(f"{base}/live")).json()["items"]
    closing = await act(
        client, people, "host", f"{base}/items/{items[0]['id']}/close", {"outcome": "consensus", "text": "x"}
    )
    assert closing.status_code == 409
    early = await act(
        client, people, "secretary", f"{base}/statements", {"speaker_name": "a", "summary": "b"}
    )
    assert early.status_code == 409
    assert await AuditEntry.count() == before
    state = (await client.get(f"{base}/live")).json()
    assert state["attendance"]["people"] == 0 and state["version"] == 0

    # the code the host shows lets a resident in
    code = (await client.get(f"{base}/check-in-code", headers=bearer(people["tokens"]["host"]))).json()
    assert code["url"].endswith(code["code"]) and 0 < code["renews_in"] <= 61
    assert (
        await act(client, people, "resident1", f"{base}/check-in", {"code": code["code"]})
    ).status_code == 200
    assert (
        await client.get(f"{base}/check-in-code", headers=bearer(people["tokens"]["resident1"]))
    ).status_code == 403


async def test_council_meetings_are_for_members(client: Any, settings: Any) -> None:
    people = await hearing_people(settings)
    hearing_id = await schedule(client, people, kind="council_meeting", invitees="council", title="议事会")
    base = f"/api/v1/hearings/{hearing_id}"
    assert (await act(client, people, "resident1", f"{base}/check-in")).status_code == 403
    assert (await act(client, people, "member", f"{base}/check-in")).status_code == 200
    counts = (await client.get(f"{base}/live")).json()["attendance"]
    assert counts["basis"] == "members" and counts["invited"] == 2 and counts["present"] == 1
