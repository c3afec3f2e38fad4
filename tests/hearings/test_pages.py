"""The hearing pages through HTTP, as a browser without JavaScript uses them: the list and the
schedule form, the hearing's page, the QR check-in page, the live page, the host's console
(every verb a form that redirects back) and the secretary's record; and who is refused."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from council.audit.tables import AuditEntry
from council.ballots.tables import Ballot
from council.hearings import attendance
from council.hearings.tables import AgendaItem, Attendance, Hearing, Motion, Speaker, Statement
from council.proposals.tables import Proposal
from tests.factories import csrf_from, login
from tests.hearings.helpers import act, bearer, hearing_people, schedule

ZONE = ZoneInfo("Asia/Shanghai")


async def log_in(client: Any, username: str) -> None:
    """A browser's login: session cookie only, every form carries its own CSRF field."""
    client.cookies.clear()
    client.headers.pop("x-csrftoken", None)
    assert (await login(client, username)).status_code == 303
    client.cookies.set("lang", "en")


async def post(client: Any, path: str, data: dict[str, Any] | None = None, page: str = "/hearings") -> Any:
    """Post a form the way a browser does: with the CSRF field of a page it loaded."""
    token = csrf_from((await client.get(page)).text)
    return await client.post(path, data={**(data or {}), "_csrf_token": token})


def schedule_form(people: dict[str, Any], **extra: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "kind": "doorstep_talk",
        "title": "加装电梯屋场恳谈会",
        "description": "听听各家意见",
        "scope_id": str(people["c"].community["id"]),
        "starts_at": "2030-06-01T19:30",
        "place": "3栋楼下",
        "online": "1",
        "host_id": str(people["ids"]["host"]),
        "secretary_id": str(people["ids"]["secretary"]),
        "invitees": "residents",
        "quorum_permille": "500",
        "speaking_minutes": "2",
        "item-0-proposal": "",
        "item-0-title": "电梯选址",
        "item-0-minutes": "20",
        "item-1-proposal": "",
        "item-1-title": "",
        "item-1-minutes": "15",
    }
    form.update(extra)
    return form


async def accepted_matter(client: Any, people: dict[str, Any], title: str = "楼道加装扶手") -> int:
    cid = people["c"].community["id"]
    response = await client.post(
        "/api/v1/proposals",
        json={"title": title, "description": "老人上楼不便。", "scope_id": cid, "category": "care"},
        headers=bearer(people["tokens"]["resident1"]),
    )
    assert response.status_code == 201, response.text
    pid = int(response.json()["id"])
    accepted = await client.post(
        f"/api/v1/proposals/{pid}/accept", json={}, headers=bearer(people["tokens"]["host"])
    )
    assert accepted.status_code == 200, accepted.text
    return pid


async def test_the_schedule_form_schedules_and_keeps_values_on_errors(client: Any, settings: Any) -> None:
    people = await hearing_people(settings)
    pid = await accepted_matter(client, people)
    await log_in(client, "member")
    page = await client.get(f"/hearings/new?proposal={pid}")
    assert page.status_code == 200
    # the matter given is the first agenda item; the five slots work without JavaScript
    assert f'<option value="{pid}" data-path=' in page.text and "selected>#" in page.text
    assert all(f'name="item-{k}-title"' in page.text for k in range(5))
    token = csrf_from(page.text)

    # a missing title: the same form again, with what was typed, and nothing scheduled
    bad = await client.post("/hearings/new", data={**schedule_form(people, title="  "), "_csrf_token": token})
    assert bad.status_code == 400 and "A title is required." in bad.text
    assert (
        'value="3栋楼下"' in bad.text
        and 'value="电梯选址"' in bad.text
        and 'value="2030-06-01T19:30"' in bad.text
    )
    not_a_time = await client.post(
        "/hearings/new", data={**schedule_form(people, starts_at="next week"), "_csrf_token": token}
    )
    assert not_a_time.status_code == 400 and "not a date and time" in not_a_time.text
    # a resident cannot host
    no_host = await client.post(
        "/hearings/new",
        data={**schedule_form(people, host_id=str(people["ids"]["resident1"])), "_csrf_token": token},
    )
    assert no_host.status_code == 400 and "cannot be this hearing&#39;s host" in no_host.text
    assert await Hearing.count() == 0

    form = schedule_form(people, **{"item-1-proposal": str(pid), "item-1-minutes": "25"})
    done = await client.post("/hearings/new", data={**form, "_csrf_token": token})
    assert done.status_code == 303, done.text
    hearing = await Hearing.objects().first()
    assert done.headers["location"] == f"/hearings/{hearing.id}"
    # typed in the community's zone, stored in UTC
    assert hearing.starts_at.astimezone(UTC) == datetime(2030, 6, 1, 11, 30, tzinfo=UTC)
    assert hearing.speaking_seconds == 120 and hearing.quorum_permille == 500 and hearing.online
    items = await AgendaItem.select().where(AgendaItem.hearing == hearing.id).order_by(AgendaItem.position)
    assert [(i["title"], i["proposal"], i["minutes_budget"]) for i in items] == [
        ("电梯选址", None, 20),
        ("楼道加装扶手", pid, 25),
    ]
    shown = await client.get(done.headers["location"])
    assert "The hearing is scheduled and the invitations are sent." in shown.text
    # the matter's page now names the hearing
    matter = await client.get(f"/matters/{pid}")
    assert f'href="/hearings/{hearing.id}"' in matter.text and "Hearings on this matter" in matter.text


async def test_residents_cannot_schedule(client: Any, settings: Any) -> None:
    people = await hearing_people(settings)
    await log_in(client, "resident1")
    page = await client.get("/hearings/new")
    assert page.status_code == 403 and "<h1>You may not do this</h1>" in page.text
    assert "Only council members, hosts and staff" in page.text
    posted = await post(client, "/hearings/new", schedule_form(people))
    assert posted.status_code == 403 and await Hearing.count() == 0
    client.cookies.clear()
    client.cookies.set("lang", "en")
    anonymous = await client.get("/hearings/new")
    assert anonymous.status_code == 401 and "/login?next=" in anonymous.text


async def test_the_list_shows_upcoming_first_then_past_with_pages(client: Any, settings: Any) -> None:
    client.cookies.set("lang", "en")
    empty = await client.get("/hearings")
    assert empty.status_code == 200 and "No hearing has been scheduled yet." in empty.text
    people = await hearing_people(settings)
    now = datetime.now(UTC)
    soon = await schedule(client, people, title="下周的会", starts_at=(now + timedelta(days=7)).isoformat())
    sooner = await schedule(client, people, title="明天的会", starts_at=(now + timedelta(days=1)).isoformat())
    past = await schedule(
        client, people, title="上个月的会", starts_at=(now - timedelta(days=30)).isoformat()
    )
    await Hearing.update({Hearing.status: "ended"}).where(Hearing.id == past)
    page = (await client.get("/hearings")).text
    order = [page.index(f'href="/hearings/{i}"') for i in (sooner, soon, past)]
    assert order == sorted(order) and "Coming up" in page and "Held and cancelled" in page
    first = await client.get("/hearings?limit=2")
    assert f'href="/hearings/{past}"' not in first.text and "offset=2&limit=2" in first.text
    second = await client.get("/hearings?offset=2&limit=2")
    assert f'href="/hearings/{past}"' in second.text and f'href="/hearings/{soon}"' not in second.text


async def test_each_page_renders_for_the_right_people(client: Any, settings: Any) -> None:
    people = await hearing_people(settings)
    hearing_id = await schedule(client, people)
    base = f"/hearings/{hearing_id}"
    client.cookies.set("lang", "en")
    # everyone sees the hearing's page and can follow the live page
    public = await client.get(base)
    assert public.status_code == 200 and "加装电梯屋场恳谈会" in public.text and "/login?next=" in public.text
    assert (await client.get(f"{base}/live")).status_code == 200
    assert (await client.get(f"{base}/console")).status_code == 401
    missing = await client.get("/hearings/999")
    assert missing.status_code == 404 and "No hearing with number 999." in missing.text

    await log_in(client, "resident1")
    mine = await client.get(base)
    assert "Check in online" in mine.text and f"{base}/console" not in mine.text
    refused = await client.get(f"{base}/console")
    assert refused.status_code == 403 and "Only the hearing&#39;s host can use its console." in refused.text
    assert (await client.get(f"{base}/record")).status_code == 403
    assert (await client.get(f"{base}/console/attendees")).status_code == 403
    assert (await post(client, f"{base}/check-in", {}, base)).status_code == 303

    await log_in(client, "outsider")
    assert "You are not invited to this hearing." in (await client.get(base)).text
    assert "You are not invited to this hearing" in (await client.get(f"{base}/live")).text

    await log_in(client, "secretary")
    page = await client.get(base)
    assert f'href="{base}/record"' in page.text and f'href="{base}/console"' not in page.text
    assert (await client.get(f"{base}/record")).status_code == 200
    assert (await client.get(f"{base}/console")).status_code == 403

    await log_in(client, "host")
    page = await client.get(base)
    assert f'href="{base}/console"' in page.text and f'href="{base}/record"' in page.text
    console = await client.get(f"{base}/console")
    assert console.status_code == 200 and "<svg" in console.text and "check-in?code=" in console.text
    assert 'id="hearing-data"' in console.text and "/static/js/hearing-live.js" in console.text
    came = (await client.get(f"{base}/console/attendees")).json()["items"]
    assert [(a["name"], a["place"], a["via"]) for a in came] == [("居民1101", "1栋1单元101", "online")]
    image = await client.get(f"{base}/console/qr.svg")
    assert image.status_code == 200 and image.headers["content-type"].startswith("image/svg+xml")
    stale = attendance.qr_code(settings.secret_key, hearing_id, at=time.time() - 600)["code"]
    assert (await client.get(f"{base}/console/qr.svg?code={stale}")).status_code == 400


async def test_check_in_page_with_a_valid_and_a_stale_code(client: Any, settings: Any) -> None:
    people = await hearing_people(settings)
    hearing_id = await schedule(client, people, online=False)
    base = f"/hearings/{hearing_id}"
    code = attendance.qr_code(settings.secret_key, hearing_id)["code"]
    # not logged in: log in first, then back here with the code
    anonymous = await client.get(f"{base}/check-in?code={code}")
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/login?next=" + f"{base}/check-in?code={code}".replace(
        "/", "%2F"
    ).replace("?", "%3F").replace("=", "%3D")

    await log_in(client, "resident1")
    stale = attendance.qr_code(settings.secret_key, hearing_id, at=time.time() - 600)["code"]
    expired = await client.get(f"{base}/check-in?code={stale}")
    assert expired.status_code == 400 and "This check-in code has expired" in expired.text
    assert "I am here" not in expired.text
    forged = await client.get(f"{base}/check-in?code={hearing_id}.1.deadbeef")
    assert forged.status_code == 400 and "not valid" in forged.text
    # an online check-in is refused for a hearing in the room only
    online = await post(client, f"{base}/check-in", {}, base)
    assert online.status_code == 409 and "scan the code shown there" in online.text
    assert await Attendance.count() == 0

    page = await client.get(f"{base}/check-in?code={code}")
    assert page.status_code == 200 and "I am here: check me in" in page.text
    assert f'name="code" value="{code}"' in page.text
    done = await client.post(f"{base}/check-in", data={"code": code, "_csrf_token": csrf_from(page.text)})
    assert done.status_code == 303 and done.headers["location"] == f"{base}/live"
    row = await Attendance.objects().first()
    assert row.via == "qr" and row.name == "居民1101"
    assert "You are checked in." in (await client.get(f"{base}/check-in?code={code}")).text
    # a stale code posted (the page was left open too long) says so and changes nothing
    await log_in(client, "resident2")
    late = await post(client, f"{base}/check-in", {"code": stale}, base)
    assert late.status_code == 400 and "expired" in late.text and await Attendance.count() == 1


async def test_the_console_runs_a_hearing_without_javascript(client: Any, settings: Any) -> None:
    people = await hearing_people(settings)
    later = await schedule(client, people, title="下次的会", items=[])
    hearing_id = await schedule(client, people)
    base = f"/hearings/{hearing_id}"
    console = f"{base}/console"

    async def host(verb: str, data: dict[str, Any] | None = None) -> Any:
        response = await post(client, f"{console}/{verb}", data, console)
        assert response.status_code == 303, f"{verb}: {response.status_code} {response.text[:2000]}"
        assert response.headers["location"].startswith(console)
        return response

    async def state() -> dict[str, Any]:
        result: dict[str, Any] = (await client.get(f"/api/v1/hearings/{hearing_id}/live")).json()
        return result

    # resident1 checks in online from the hearing's page
    await log_in(client, "resident1")
    checked = await post(client, f"{base}/check-in", {}, base)
    assert checked.status_code == 303 and checked.headers["location"] == f"{base}/live"
    live = await client.get(f"{base}/live")
    assert "You are checked in." in live.text and "Ask for the floor" in live.text

    await log_in(client, "host")
    await host("start")
    assert (await state())["status"] == "running"
    # mark resident2 present from the roster: search by unit and room
    found = (await client.get(f"{console}?q=2栋1单元101")).text
    found = found[found.index('<ul class="plain found">') :]
    found = found[: found.index("</ul>")]
    assert "居民2101" in found and "2栋1单元101" in found and "居民1101" not in found
    await host("present", {"resident_id": str(people["c"].residents[2]["id"])})
    assert (await state())["attendance"]["present"] == 2
    assert 'class="tag">present<' in (await client.get(f"{console}?q=居民2101")).text
    items = (await state())["items"]
    await host("open", {"item_id": str(items[0]["id"])})

    await log_in(client, "resident1")
    asked = await post(client, f"{base}/floor/request", {}, f"{base}/live")
    assert asked.status_code == 303
    assert "You are number 1 in the queue." in (await client.get(f"{base}/live")).text
    twice = await post(client, f"{base}/floor/request", {}, f"{base}/live")
    assert twice.status_code == 409 and "has already asked for the floor" in twice.text

    await log_in(client, "host")
    page = await client.get(console)
    assert "居民1101" in page.text and "Give the floor" in page.text
    await host("add-speaker", {"name": "王阿姨", "resident_id": ""})
    await host("add-speaker", {"name": "", "resident_id": str(people["c"].residents[2]["id"])})
    assert [q["name"] for q in (await state())["queue"]] == ["居民1101", "王阿姨", "居民2101"]
    await host("give")
    assert (await state())["speaking"]["name"] == "居民1101"
    assert "Next speaker" in (await client.get(console)).text
    await host("extend", {"seconds": "60"})
    assert (await state())["speaking"]["seconds"] == 240
    wang = next(q for q in (await state())["queue"] if q["name"] == "王阿姨")
    await host("skip", {"speaker_id": str(wang["id"])})
    await host("next")
    assert (await state())["speaking"]["name"] == "居民2101"
    # with JavaScript the same route answers JSON instead of redirecting
    token = csrf_from((await client.get(console)).text)
    fetched = await client.post(
        f"{console}/next",
        data={"_csrf_token": token},
        headers={"x-council-fetch": "1", "accept": "application/json"},
    )
    assert fetched.status_code == 200 and fetched.json() == {"ok": True}
    refused = await client.post(
        f"{console}/next",
        data={"_csrf_token": token},
        headers={"x-council-fetch": "1", "accept": "application/json"},
    )
    assert refused.status_code == 409 and refused.json()["detail"] == "Nobody is speaking."

    # close the item: a consensus needs its text, then the outcome is on the public page
    no_text = await post(
        client, f"{console}/close", {"item_id": str(items[0]["id"]), "outcome": "consensus"}, console
    )
    assert no_text.status_code == 400 and "Write down what was agreed." in no_text.text
    await host("close", {"item_id": str(items[0]["id"]), "outcome": "consensus", "text": "装在北侧"})
    await host("open", {"item_id": str(items[1]["id"])})
    closed = await host(
        "close",
        {"item_id": str(items[1]["id"]), "outcome": "ballot", "days": "5", "weight_basis": "household"},
    )
    ballot = await Ballot.objects().first()
    assert ballot.status == "draft" and ballot.title == "费用分摊" and ballot.secrecy == "open"
    assert "draft ballot has been created" in (await client.get(closed.headers["location"])).text

    # departures, then the end
    attendee = await Attendance.select().where(Attendance.name == "居民2101").first()
    await host("leave", {"attendance_id": str(attendee["id"])})
    assert (await state())["attendance"]["present"] == 1
    await host("end")
    assert (await state())["status"] == "ended"
    assert await Hearing.count().where(Hearing.id == later) == 1

    # the public page of the finished hearing
    client.cookies.clear()
    client.cookies.set("lang", "en")
    public = (await client.get(base)).text
    assert "Agreed:</strong> 装在北侧" in public
    # the draft is the council's until it opens: named for the public, not linked
    assert f"ballot #{ballot.id}" in public and "being prepared" in public
    assert f'href="/ballots/{ballot.id}"' not in public
    assert "2 people came, from 2 of 4 invited households." in public
    assert "Quorum: 3 needed — not reached." in public
    assert "Who came" not in public  # names only for the host, secretary and organisers
    assert await Speaker.count().where(Speaker.status == "skipped") == 1


async def test_deferral_and_dispatch_from_the_console(client: Any, settings: Any) -> None:
    people = await hearing_people(settings)
    deferred = await accepted_matter(client, people, "电梯选址")
    referred = await accepted_matter(client, people, "楼道加装扶手")
    later = await schedule(client, people, title="下次的会", items=[])
    hearing_id = await schedule(
        client,
        people,
        items=[
            {"proposal_id": deferred, "minutes_budget": 10},
            {"proposal_id": referred, "minutes_budget": 10},
        ],
    )
    console = f"/hearings/{hearing_id}/console"
    await log_in(client, "host")
    page = await client.get(console)
    assert f'<option value="{later}">' in page.text
    token = csrf_from(page.text)
    items = (await client.get(f"/api/v1/hearings/{hearing_id}/live")).json()["items"]
    for verb, data in (
        ("start", {}),
        ("open", {"item_id": items[0]["id"]}),
        ("close", {"item_id": items[0]["id"], "outcome": "deferred", "defer_to": later}),
        ("open", {"item_id": items[1]["id"]}),
        ("close", {"item_id": items[1]["id"], "outcome": "dispatch", "assignee_id": people["ids"]["member"]}),
    ):
        response = await client.post(f"{console}/{verb}", data={**data, "_csrf_token": token})
        assert response.status_code == 303, f"{verb}: {response.text[:1000]}"
    moved = await AgendaItem.select().where(AgendaItem.hearing == later)
    assert [(m["title"], m["proposal"]) for m in moved] == [("电梯选址", deferred)]
    assert (await Proposal.objects().where(Proposal.id == referred).first()).status == "dispatched"
    public = (await client.get(f"/hearings/{hearing_id}")).text
    assert f'Deferred:</strong> to <a href="/hearings/{later}">下次的会</a>' in public
    assert "Referred to the three-order dispatch" in public
    # each matter's page names the hearings that discussed it, with the outcome
    matter = (await client.get(f"/matters/{deferred}")).text
    assert f'href="/hearings/{hearing_id}"' in matter and f'href="/hearings/{later}"' in matter
    assert "Deferred to a later hearing" in matter
    assert "Referred to dispatch" in (await client.get(f"/matters/{referred}")).text


async def test_organisers_edit_the_agenda_on_the_hearing_page(client: Any, settings: Any) -> None:
    people = await hearing_people(settings)
    pid = await accepted_matter(client, people)
    hearing_id = await schedule(client, people)
    base = f"/hearings/{hearing_id}"

    async def titles() -> list[str]:
        rows = (
            await AgendaItem.select(AgendaItem.title)
            .where(AgendaItem.hearing == hearing_id)
            .order_by(AgendaItem.position)
        )
        return [r["title"] for r in rows]

    await log_in(client, "resident1")
    assert "Add an item" not in (await client.get(base)).text
    refused = await post(client, f"{base}/agenda/add", {"title": "我也加一项", "minutes": "5"}, base)
    assert refused.status_code == 403 and await titles() == ["电梯选址", "费用分摊"]

    await log_in(client, "member")
    page = await client.get(base)
    assert "Add an item" in page.text and f'<option value="{pid}">' in page.text
    added = await post(
        client, f"{base}/agenda/add", {"proposal": str(pid), "title": "", "minutes": "10"}, base
    )
    assert added.status_code == 303 and added.headers["location"] == f"{base}#agenda"
    assert await titles() == ["电梯选址", "费用分摊", "楼道加装扶手"]
    third = await AgendaItem.select().where(AgendaItem.proposal == pid).first()
    await post(client, f"{base}/agenda/move", {"item_id": str(third["id"]), "direction": "up"}, base)
    assert await titles() == ["电梯选址", "楼道加装扶手", "费用分摊"]
    first = await AgendaItem.select().where(AgendaItem.title == "电梯选址").first()
    await post(client, f"{base}/agenda/move", {"item_id": str(first["id"]), "direction": "down"}, base)
    assert await titles() == ["楼道加装扶手", "电梯选址", "费用分摊"]
    await post(client, f"{base}/agenda/remove", {"item_id": str(first["id"])}, base)
    assert await titles() == ["楼道加装扶手", "费用分摊"]
    bad = await post(client, f"{base}/agenda/add", {"title": "", "minutes": "10"}, base)
    assert bad.status_code == 400 and "needs a title or a matter" in bad.text


async def test_the_secretary_keeps_the_record(client: Any, settings: Any) -> None:
    people = await hearing_people(settings)
    hearing_id = await schedule(client, people)
    base = f"/hearings/{hearing_id}"
    record = f"{base}/record"
    await log_in(client, "secretary")
    before = await client.get(record)
    assert (
        "The record starts when the hearing does." in before.text
        and "Record the statement" not in before.text
    )
    assert (
        await act(client, people, "resident1", f"/api/v1/hearings/{hearing_id}/check-in")
    ).status_code == 200
    assert (await act(client, people, "host", f"/api/v1/hearings/{hearing_id}/start")).status_code == 200
    page = await client.get(record)
    assert '<option value="居民1101">' in page.text  # attendees to pick from
    token = csrf_from(page.text)
    # a missing summary: the form again with what was typed
    bad = await client.post(
        f"{record}/statement",
        data={
            "speaker_name": "居民1101",
            "summary": " ",
            "time": "19:40",
            "item_id": "",
            "_csrf_token": token,
        },
    )
    assert bad.status_code == 400 and 'value="19:40"' in bad.text and "needs the speaker" in bad.text
    said = await client.post(
        f"{record}/statement",
        data={
            "speaker_name": "居民1101",
            "summary": "建议装在北侧。",
            "time": "19:40",
            "item_id": "",
            "_csrf_token": token,
        },
    )
    assert said.status_code == 303
    statement = await Statement.objects().first()
    assert statement.resident == people["c"].residents[0]["id"]  # the attendee's name: her record
    assert statement.spoken_at.astimezone(ZONE).strftime("%H:%M") == "19:40"
    edited = await client.post(
        f"{record}/edit",
        data={"statement_id": str(statement.id), "summary": "北侧，不挡采光。", "_csrf_token": token},
    )
    assert edited.status_code == 303
    assert (await Statement.objects().first()).summary == "北侧，不挡采光。"
    moved = await client.post(
        f"{record}/motion",
        data={"text": "电梯装在北侧", "moved_by": "居民1101", "seconded_by": "王阿姨", "_csrf_token": token},
    )
    assert moved.status_code == 303
    motion = await Motion.objects().first()
    same = await client.post(
        f"{record}/motion",
        data={
            "text": "加雨棚",
            "moved_by": "王阿姨",
            "seconded_by": "王阿姨",
            "amends": str(motion.id),
            "_csrf_token": token,
        },
    )
    assert (
        same.status_code == 400
        and "someone other than the mover" in same.text
        and 'value="加雨棚"' not in same.text
    )
    assert "加雨棚</textarea>" in same.text
    amended = await client.post(
        f"{record}/motion",
        data={"text": "加雨棚", "moved_by": "王阿姨", "amends": str(motion.id), "_csrf_token": token},
    )
    assert amended.status_code == 303 and await Motion.count() == 2
    attached = await client.post(
        f"{record}/attach",
        data={"_csrf_token": token, "item_id": ""},
        files={"file": ("签到表.txt", "居民1101 到".encode(), "text/plain")},
    )
    assert attached.status_code == 303, attached.text
    wrong = await client.post(
        f"{record}/attach",
        data={"_csrf_token": token},
        files={"file": ("x.exe", b"MZ", "application/x-msdownload")},
    )
    assert wrong.status_code == 400 and "Attachments are PDF" in wrong.text
    page = (await client.get(record)).text
    assert "北侧，不挡采光。" in page and "Amendment" in page and "签到表.txt" in page
    link = re.search(rf'href="({base}/attachments/\d+)"', page)
    assert link
    download = await client.get(link.group(1))
    assert download.status_code == 200 and download.content == "居民1101 到".encode()
    # the record shows on the hearing's page for those logged in; the minutes sealed, it is read only
    await Hearing.update({Hearing.sealed_at: datetime.now(UTC)}).where(Hearing.id == hearing_id)
    sealed = await client.get(record)
    assert "The minutes are sealed" in sealed.text and "Record the statement" not in sealed.text
    late = await client.post(
        f"{record}/statement", data={"speaker_name": "a", "summary": "b", "_csrf_token": token}
    )
    assert late.status_code == 409 and await Statement.count() == 1
    await log_in(client, "resident2")
    shown = (await client.get(base)).text
    assert "北侧，不挡采光。" in shown and "seconded by 王阿姨" in shown
    assert (await client.get(record)).status_code == 403
    assert await AuditEntry.count().where(AuditEntry.action == "record_statement") == 1
