"""The managers' ballot pages through HTTP, as a browser uses them: the new-ballot form, the
panel's buttons (send to trustees, open, close), the proxies and a vote cast by proxy."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from council.ballots.tables import Ballot, Proxy, Trustee
from council.proposals.tables import Proposal
from tests.ballots.helpers import alias_of, bearer, create_ballot, election_people, trustee_state
from tests.factories import csrf_from, login

ZONE = ZoneInfo("Asia/Shanghai")


async def log_in(client: Any, username: str) -> None:
    """A browser's login: session cookie only, every form carries its own CSRF field."""
    client.cookies.clear()
    client.headers.pop("x-csrftoken", None)
    assert (await login(client, username)).status_code == 303
    client.cookies.set("lang", "en")


def local(moment: datetime) -> str:
    return moment.astimezone(ZONE).strftime("%Y-%m-%dT%H:%M")


def ballot_form(people: dict[str, Any], **extra: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    form: dict[str, Any] = {
        "title": "加装电梯表决",
        "description": "1栋加装电梯的方案",
        "proposal_id": "",
        "scope_id": str(people["c"].community["id"]),
        "secrecy": "secret",
        "weight_basis": "household",
        "opens_at": local(now - timedelta(minutes=5)),
        "closes_at": local(now + timedelta(days=7)),
        "q-0-text": "是否同意加装电梯？",
        "q-0-kind": "yes_no",
        "q-0-options": "",
        "q-0-k": "1",
        "q-1-text": "选出两位监督员",
        "q-1-kind": "choose",
        "q-1-options": "张三\r\n李四\r\n\r\n王五\r\n",
        "q-1-k": "2",
        "q-2-text": "",
        "q-2-kind": "yes_no",
        "q-2-options": "",
        "q-2-k": "1",
        "preset": "resident_meeting",
        "quorum": "500",
        "of": "cast",
        "threshold": "simple",
        "trustee_ids": [str(people["ids"][f"sup{k}"]) for k in (1, 2, 3)],
        "t": "",
    }
    form.update(extra)
    return form


async def post_form(client: Any, path: str, data: dict[str, Any], page: str) -> Any:
    token = csrf_from((await client.get(page)).text)
    return await client.post(path, data={**data, "_csrf_token": token})


async def test_a_secret_ballot_through_the_form(client: Any, settings: Any) -> None:
    people = await election_people(settings)
    await log_in(client, "host")
    page = await client.get("/ballots/new")
    assert page.status_code == 200
    assert "幸福里" in page.text and "Sup1" in page.text and "Sup3" in page.text
    assert 'name="q-2-text"' in page.text and "Voter1" not in page.text  # three slots, only supervisors
    form = ballot_form(people)
    response = await client.post("/ballots/new", data={**form, "_csrf_token": csrf_from(page.text)})
    assert response.status_code == 303, response.text
    row = await Ballot.objects().first()
    assert response.headers["location"] == f"/ballots/{row.id}"
    assert row.secrecy == "secret" and row.weight_basis == "household" and row.status == "draft"
    assert (row.t, row.n) == (2, 3)
    assert json.loads(row.questions) == [
        {
            "text": "是否同意加装电梯？",
            "options": ["赞成", "反对", "弃权"],
            "min": 1,
            "max": 1,
            "costs": None,
            "budget": None,
        },
        {
            "text": "选出两位监督员",
            "options": ["张三", "李四", "王五"],
            "min": 1,
            "max": 2,
            "costs": None,
            "budget": None,
        },
    ]
    assert json.loads(row.rule) == {
        "preset": "resident_meeting",
        "questions": [
            {"method": "majority", "yes_option": 0, "abstain_option": 2},
            {"method": "top", "seats": 2},
        ],
    }
    # the times were typed in Beijing time and are kept in UTC
    opens = datetime.strptime(form["opens_at"], "%Y-%m-%dT%H:%M").replace(tzinfo=ZONE)
    assert row.opens_at.astimezone(UTC) == opens.astimezone(UTC)
    trustees = await Trustee.select(Trustee.position, Trustee.user).order_by(Trustee.position)
    assert [t["user"] for t in trustees] == [people["ids"][f"sup{k}"] for k in (1, 2, 3)]
    panel = await client.get(f"/ballots/{row.id}/manage")
    assert "The ballot has been created as a draft." in panel.text  # the flash message
    assert f'action="/ballots/{row.id}/setup"' in panel.text


async def test_an_open_ballot_with_a_budget_and_a_custom_rule(client: Any, settings: Any) -> None:
    people = await election_people(settings)
    await log_in(client, "host")
    form = ballot_form(
        people,
        secrecy="open",
        weight_basis="resident",
        **{
            "q-0-text": "社区微基金怎么分？",
            "q-0-kind": "budget",
            "q-0-options": "修路灯\n装座椅\n种树",
            "q-0-costs": "50\n30\n40",
            "q-0-budget": "100",
            "q-1-kind": "approval",
            "q-1-k": "1",
        },
        preset="custom",
        quorum="600",
        of="eligible",
        threshold="two_thirds",
    )
    response = await post_form(client, "/ballots/new", form, "/ballots/new")
    assert response.status_code == 303, response.text
    row = await Ballot.objects().first()
    # the supervisors ticked by default are no trustees of an open ballot
    assert row.secrecy == "open" and (row.t, row.n) == (0, 0) and await Trustee.count() == 0
    assert row.weight_basis == "resident"
    questions = json.loads(row.questions)
    assert questions[0]["costs"] == [50, 30, 40] and questions[0]["budget"] == 100
    assert (questions[1]["min"], questions[1]["max"]) == (0, 3)
    assert json.loads(row.rule) == {
        "quorum": {"basis": "eligible_weight", "more_than_permille": 600},
        "majority": {"of": "eligible", "threshold": "two_thirds", "abstain_counts": False},
        "questions": [{"method": "budget"}, {"method": "top", "seats": 1}],
    }


async def test_bad_forms_come_back_with_the_message_and_create_nothing(client: Any, settings: Any) -> None:
    people = await election_people(settings)
    await log_in(client, "host")
    now = datetime.now(UTC)
    cases = [
        ({"q-1-options": ""}, "Question 2 needs a text and 1 to 50 options"),
        ({"closes_at": local(now - timedelta(hours=1))}, "The ballot must close after it opens."),
        ({"trustee_ids": [str(people["ids"]["voter1"])]}, "is not a supervisor of this place"),
        ({"trustee_ids": []}, "A secret ballot needs at least one trustee"),
        ({"opens_at": "next monday"}, "The opening time is not a date and time"),
        ({"q-0-options": "好\n不好"}, "Question 1 is a yes / no / abstain question"),
        ({"q-1-k": "4"}, "Question 2: k is between 1 and the number of options (3)."),
        (
            {"q-0-kind": "budget", "q-0-options": "甲\n乙", "q-0-costs": "10", "q-0-budget": "20"},
            "one cost per option",
        ),
        (
            {"q-0-kind": "budget", "q-0-options": "甲", "q-0-costs": "10", "q-0-budget": "500"},
            "1 to 200 units",
        ),
        ({"t": "4"}, "The threshold must be between 1 and the number of trustees (3)."),
    ]
    for change, message in cases:
        form = ballot_form(people, title="留着的标题", **change)
        response = await post_form(client, "/ballots/new", form, "/ballots/new")
        assert response.status_code == 400, (change, response.status_code)
        assert message in response.text, (change, message)
        assert 'value="留着的标题"' in response.text and "选出两位监督员" in response.text
    assert await Ballot.count() == 0
    # the ticked trustees stay ticked when the form comes back
    form = ballot_form(people, **{"q-1-options": ""}, trustee_ids=[str(people["ids"]["sup2"])])
    page = (await post_form(client, "/ballots/new", form, "/ballots/new")).text
    assert f'name="trustee_ids" value="{people["ids"]["sup2"]}" checked' in page
    assert f'name="trustee_ids" value="{people["ids"]["sup1"]}" >' in page


async def test_residents_cannot_reach_the_form(client: Any, settings: Any) -> None:
    people = await election_people(settings)
    client.cookies.set("lang", "en")
    assert (await client.get("/ballots/new")).status_code == 401
    await log_in(client, "voter1")
    page = await client.get("/ballots/new")
    assert page.status_code == 403 and "text/html" in page.headers["content-type"]
    assert "Only council members, hosts and staff" in page.text
    posted = await post_form(client, "/ballots/new", ballot_form(people), "/account")
    assert posted.status_code == 403 and await Ballot.count() == 0


async def test_the_matter_page_leads_to_a_ballot_for_it(client: Any, settings: Any) -> None:
    people = await election_people(settings)
    cid = people["c"].community["id"]
    response = await client.post(
        "/api/v1/proposals",
        json={"title": "楼道加装扶手", "description": "老人上楼不便。", "scope_id": cid, "category": "care"},
        headers=bearer(people["tokens"]["voter1"]),
    )
    assert response.status_code == 201, response.text
    pid = response.json()["id"]
    host = bearer(people["tokens"]["host"])
    assert (await client.post(f"/api/v1/proposals/{pid}/accept", json={}, headers=host)).status_code == 200
    await log_in(client, "voter2")
    assert f"/ballots/new?proposal={pid}" not in (await client.get(f"/matters/{pid}")).text
    await log_in(client, "host")
    assert f"/ballots/new?proposal={pid}" in (await client.get(f"/matters/{pid}")).text
    page = await client.get(f"/ballots/new?proposal={pid}")
    assert (
        'value="楼道加装扶手"' in page.text
        and f'<option value="{pid}" data-title="楼道加装扶手" selected' in page.text
    )
    form = ballot_form(people, proposal_id=str(pid), title="楼道加装扶手")
    response = await client.post("/ballots/new", data={**form, "_csrf_token": csrf_from(page.text)})
    assert response.status_code == 303, response.text
    row = await Ballot.objects().first()
    assert row.proposal == pid and (await Proposal.objects().first()).id == pid
    matter = await client.get(f"/matters/{pid}")
    assert f'href="/ballots/{row.id}"' in matter.text


async def _ceremony(client: Any, people: dict[str, Any], ballot_id: int) -> None:
    """The trustees' part of the key generation, as their CLI runs it (after the setup)."""
    from council.ballots import trustee_client

    names = ("sup1", "sup2", "sup3")
    secrets = {}
    for name in names:
        state = await trustee_state(client, people, name, ballot_id)
        secrets[name] = trustee_client.new_secrets(ballot_id, state["index"])
        response = await client.post(
            f"/api/v1/ballots/{ballot_id}/trustee/box-key",
            json={"box_key": secrets[name].box_public},
            headers=bearer(people["tokens"][name]),
        )
        assert response.status_code == 200, response.text
    for name in names:
        state = await trustee_state(client, people, name, ballot_id)
        response = await client.post(
            f"/api/v1/ballots/{ballot_id}/trustee/dealing",
            json=trustee_client.dealing(state, secrets[name]),
            headers=bearer(people["tokens"][name]),
        )
        assert response.status_code == 200, response.text
    for name in names:
        state = await trustee_state(client, people, name, ballot_id)
        trustee_client.check_shares(state, secrets[name])
        response = await client.post(
            f"/api/v1/ballots/{ballot_id}/trustee/confirm", headers=bearer(people["tokens"][name])
        )
        assert response.status_code == 200, response.text


async def test_the_panel_buttons_do_their_verbs(client: Any, settings: Any) -> None:
    people = await election_people(settings)
    ballot_id = await create_ballot(client, people)
    manage = f"/ballots/{ballot_id}/manage"

    # a voter may not press the buttons, and does not even see the draft
    await log_in(client, "voter1")
    assert (await client.get(manage)).status_code == 404
    refused = await post_form(client, f"/ballots/{ballot_id}/setup", {}, "/account")
    assert refused.status_code == 403 and (await Ballot.objects().first()).status == "draft"

    await log_in(client, "host")
    page = await client.get(manage)
    assert page.status_code == 200 and "Send to the trustees" in page.text
    response = await post_form(client, f"/ballots/{ballot_id}/setup", {"next": manage}, manage)
    assert response.status_code == 303 and response.headers["location"] == manage
    assert (await Ballot.objects().first()).status == "keygen"
    page = await client.get(manage)
    assert "Sent to the trustees" in page.text and "0 of 3 trustees have finished" in page.text
    assert f"council trustee keygen --ballot {ballot_id}" in page.text
    # a `next` elsewhere is not followed
    again = await post_form(client, f"/ballots/{ballot_id}/setup", {"next": "https://evil.example/"}, manage)
    assert again.status_code == 409  # already sent: the readable error page

    await _ceremony(client, people, ballot_id)
    page = await client.get(manage)
    assert (await Ballot.objects().first()).status == "ready"
    assert "Open voting" in page.text and f'action="/ballots/{ballot_id}/open"' in page.text
    response = await post_form(client, f"/ballots/{ballot_id}/open", {"next": "//evil.example"}, manage)
    assert response.status_code == 303 and response.headers["location"] == f"/ballots/{ballot_id}"
    assert (await Ballot.objects().first()).status == "open"

    page = await client.get(manage)
    assert "0 of 4 have voted so far." in page.text and 'name="early"' in page.text
    # before the closing time, closing needs the "close early" box
    early = await post_form(client, f"/ballots/{ballot_id}/close", {"next": manage}, manage)
    assert early.status_code == 409 and "closing early must be asked for" in early.text
    assert (await Ballot.objects().first()).status == "open"
    closed = await post_form(client, f"/ballots/{ballot_id}/close", {"next": manage, "early": "1"}, manage)
    assert closed.status_code == 303
    assert (await Ballot.objects().first()).status == "closed"
    page = await client.get(manage)
    assert "The trustees have been asked to post their decryption shares." in page.text
    assert "0 of the 2 decryption shares needed are in" in page.text
    assert f"council trustee decrypt --ballot {ballot_id}" in page.text


async def test_the_panel_says_why_key_generation_stopped(client: Any, settings: Any) -> None:
    people = await election_people(settings)
    ballot_id = await create_ballot(client, people)
    host = bearer(people["tokens"]["host"])
    assert (await client.post(f"/api/v1/ballots/{ballot_id}/setup", headers=host)).status_code == 200
    complaint = await client.post(
        f"/api/v1/ballots/{ballot_id}/trustee/complaint",
        json={"dealer": 2, "reason": "share does not match"},
        headers=bearer(people["tokens"]["sup1"]),
    )
    assert complaint.status_code == 200, complaint.text
    await log_in(client, "host")
    page = await client.get(f"/ballots/{ballot_id}/manage")
    assert "Key generation stopped" in page.text and "share does not match" in page.text
    assert "/open" not in page.text and "/setup" not in page.text


async def test_proxies_are_recorded_used_and_revoked(client: Any, settings: Any) -> None:
    people = await election_people(settings)
    residents = people["c"].residents
    ballot_id = await create_ballot(client, people, secrecy="open", trustee_ids=[], threshold=None)
    host = bearer(people["tokens"]["host"])
    assert (await client.post(f"/api/v1/ballots/{ballot_id}/open", headers=host)).status_code == 200
    proxies = f"/ballots/{ballot_id}/proxies"

    await log_in(client, "voter2")
    assert (await client.get(proxies)).status_code == 403
    await log_in(client, "host")
    # find the delegator by name, the delegate by household
    page = await client.get(f"{proxies}?delegator_q=居民1101&delegate_q=2栋1单元101")
    assert page.status_code == 200
    assert f'name="delegator_id" value="{residents[0]["id"]}"' in page.text
    assert f'name="delegate_id" value="{residents[2]["id"]}"' in page.text
    assert f'name="delegate_id" value="{residents[1]["id"]}"' not in page.text
    # a proxy needs its written consent
    search = {"delegator_q": "居民1101", "delegate_q": "2栋1单元101"}
    pick = {**search, "delegator_id": str(residents[0]["id"]), "delegate_id": str(residents[2]["id"])}
    refused = await post_form(client, proxies, {**pick, "consent": "  "}, proxies)
    assert refused.status_code == 400 and "written consent" in refused.text and await Proxy.count() == 0
    assert f'value="{residents[0]["id"]}" required checked' in refused.text  # the choice is kept
    recorded = await post_form(client, proxies, {**pick, "consent": "签字委托书第12号"}, proxies)
    assert recorded.status_code == 303 and recorded.headers["location"] == proxies
    page = await client.get(proxies)
    assert "The proxy is recorded." in page.text and "签字委托书第12号" in page.text and "Host" in page.text
    twice = await post_form(client, proxies, {**pick, "consent": "第13号"}, proxies)
    assert twice.status_code == 409 and "already given a proxy" in twice.text and await Proxy.count() == 1

    # the delegate votes for the delegator; the board marks it
    alias = await alias_of(client, people["tokens"]["voter1"], ballot_id)
    delegate = bearer(people["tokens"]["voter3"])
    vote = await client.post(
        f"/api/v1/ballots/{ballot_id}/votes",
        json={"choices": [[1, 0, 0]], "for_alias": alias},
        headers=delegate,
    )
    assert vote.status_code == 201, vote.text
    board = (await client.get(f"/api/v1/ballots/{ballot_id}/board")).json()
    assert [(e["payload"]["alias"], e.get("by_proxy")) for e in board["entries"]] == [(alias, True)]

    proxy = await Proxy.objects().first()
    revoked = await post_form(client, f"{proxies}/{proxy.id}/revoke", {}, proxies)
    assert revoked.status_code == 303
    page = await client.get(proxies)
    assert "The proxy is revoked." in page.text and "Revoked proxies" in page.text
    again = await client.post(
        f"/api/v1/ballots/{ballot_id}/votes",
        json={"choices": [[0, 1, 0]], "for_alias": alias},
        headers=delegate,
    )
    assert again.status_code == 403


async def test_a_draft_past_its_closing_time_offers_no_open_button(client: Any, settings: Any) -> None:
    people = await election_people(settings)
    ballot_id = await create_ballot(client, people, secrecy="open", trustee_ids=[], threshold=None)
    await Ballot.update({Ballot.closes_at: datetime.now(UTC) - timedelta(minutes=1)}).where(
        Ballot.id == ballot_id
    )
    await log_in(client, "host")
    page = await client.get(f"/ballots/{ballot_id}/manage")
    assert "can no longer be opened" in page.text and f'action="/ballots/{ballot_id}/open"' not in page.text
