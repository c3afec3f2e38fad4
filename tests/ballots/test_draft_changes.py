"""Changing a draft ballot (PUT /api/v1/ballots/ID, the page /ballots/ID/edit) and withdrawing
a ballot that has not opened, through HTTP; every refusal leaves the ballot as it was."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from council.accounts.tables import Role
from council.audit.tables import AuditEntry
from council.ballots.tables import Ballot, Trustee
from council.notifications.tables import Notification
from tests.ballots.helpers import (
    YES_NO_ABSTAIN,
    ballot_body,
    bearer,
    cast,
    close_and_tally,
    create_ballot,
    election_people,
    keygen,
    open_ballot,
)
from tests.ballots.test_manage_pages import ballot_form, local, log_in
from tests.factories import csrf_from, make_user
from tests.hearings.helpers import act, hearing_people, schedule

GREENING = {"text": "楼前绿地种什么？", "options": ["草坪", "花坛", "果树"], "min": 1, "max": 1}


def host(people: dict[str, Any]) -> dict[str, str]:
    return bearer(people["tokens"]["host"])


async def audit_data(action: str, ballot_id: int) -> list[dict[str, Any]]:
    rows = await AuditEntry.select(AuditEntry.data).where(
        (AuditEntry.action == action) & (AuditEntry.subject_id == str(ballot_id))
    )
    return [json.loads(r["data"]) for r in rows]


async def stored(ballot_id: int) -> dict[str, Any]:
    """The ballot row and its trustees, to show that a refusal changed nothing."""
    row = await Ballot.select().where(Ballot.id == ballot_id).first()
    trustees = await Trustee.select(Trustee.position, Trustee.user).where(Trustee.ballot == ballot_id)
    return {"row": row, "trustees": sorted((t["position"], t["user"]) for t in trustees)}


async def test_a_draft_changes_from_open_to_secret_then_runs_to_its_result(
    client: Any, settings: Any
) -> None:
    people = await election_people(settings)
    ids = people["ids"]
    ballot_id = await create_ballot(client, people, secrecy="open", trustee_ids=[], threshold=None)
    closes = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    body = ballot_body(
        people,
        title="加装电梯与绿化表决",
        questions=[YES_NO_ABSTAIN, GREENING],
        rule={
            "preset": "resident_meeting",
            "questions": [{"method": "majority", "yes_option": 0, "abstain_option": 2}, {"method": "top"}],
        },
        closes_at=closes.isoformat(),
        trustee_ids=[ids["sup1"], ids["sup2"]],
        threshold=None,
    )
    response = await client.put(f"/api/v1/ballots/{ballot_id}", json=body, headers=host(people))
    assert response.status_code == 200, response.text
    summary = response.json()
    assert summary["status"] == "draft" and summary["secrecy"] == "secret"
    assert summary["title"] == "加装电梯与绿化表决"
    assert [q["text"] for q in summary["questions"]] == [YES_NO_ABSTAIN["text"], GREENING["text"]]
    assert datetime.fromisoformat(summary["closes_at"]) == closes
    assert (summary["t"], summary["n"]) == (2, 2)
    assert [(t["index"], t["user_id"]) for t in summary["trustees"]] == [(1, ids["sup1"]), (2, ids["sup2"])]
    (entry,) = await audit_data("update_ballot", ballot_id)
    assert set(entry["changed"]) == {
        *("title", "secrecy", "questions", "rule", "opens_at", "closes_at", "trustee_ids", "threshold")
    }
    assert entry["secrecy"] == "secret" and entry["trustee_ids"] == [ids["sup1"], ids["sup2"]]

    secrets = await keygen(client, people, ballot_id, names=("sup1", "sup2"))
    manifest = await open_ballot(client, people, ballot_id)
    assert [q["text"] for q in manifest["questions"]] == [YES_NO_ABSTAIN["text"], GREENING["text"]]
    for k in (1, 2, 3):
        receipt = await cast(
            client, people["tokens"][f"voter{k}"], ballot_id, manifest, [[1, 0, 0], [0, 0, 1]]
        )
        assert receipt.status_code == 201, receipt.text
    result = await close_and_tally(client, people, ballot_id, secrets, ("sup1", "sup2"))
    assert result["status"] == "tallied"
    assert result["result"]["counts"] == [[3, 0, 0], [0, 0, 3]]


async def test_refused_updates_change_nothing(client: Any, settings: Any) -> None:
    client.cookies.set("lang", "en")  # the problems' details in English
    people = await election_people(settings)
    ballot_id = await create_ballot(client, people)
    before = await stored(ballot_id)
    url = f"/api/v1/ballots/{ballot_id}"
    now = datetime.now(UTC)

    backwards = ballot_body(
        people,
        title="改了的标题",
        opens_at=(now + timedelta(days=2)).isoformat(),
        closes_at=(now + timedelta(days=1)).isoformat(),
    )
    response = await client.put(url, json=backwards, headers=host(people))
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["detail"] == "The ballot must close after it opens."
    open_with_trustees = ballot_body(people, title="改了的标题", secrecy="open")
    assert (await client.put(url, json=open_with_trustees, headers=host(people))).status_code == 400
    no_questions = {**ballot_body(people), "questions": []}
    assert (await client.put(url, json=no_questions, headers=host(people))).status_code == 400
    for who in ("outsider", "voter1", "sup1"):  # sup1 is a trustee of it, and may see it, not manage it
        response = await client.put(
            url, json=ballot_body(people, title="改"), headers=bearer(people["tokens"][who])
        )
        assert response.status_code == 403, who
    assert await stored(ballot_id) == before
    assert await audit_data("update_ballot", ballot_id) == []

    assert (await client.post(f"{url}/setup", headers=host(people))).status_code == 200
    sent = await stored(ballot_id)
    response = await client.put(url, json=ballot_body(people, title="改了的标题"), headers=host(people))
    assert response.status_code == 409
    assert "Only a draft can be changed" in response.json()["detail"]
    assert await stored(ballot_id) == sent and sent["row"]["status"] == "keygen"
    assert sent["row"]["title"] == before["row"]["title"] and sent["trustees"] == before["trustees"]


async def test_withdrawing_a_draft_and_a_ready_secret_ballot(client: Any, settings: Any) -> None:
    client.cookies.set("lang", "en")  # the problems' details in English
    people = await election_people(settings)
    draft = await create_ballot(
        client, people, title="试点草案", secrecy="open", trustee_ids=[], threshold=None
    )
    response = await client.post(
        f"/api/v1/ballots/{draft}/withdraw", json={"reason": "  方案需要重新论证  "}, headers=host(people)
    )
    assert response.status_code == 200, response.text
    assert (
        response.json()["status"] == "withdrawn" and response.json()["withdrawn_reason"] == "方案需要重新论证"
    )
    assert await audit_data("withdraw_ballot", draft) == [{"reason": "方案需要重新论证", "status": "draft"}]

    ready = await create_ballot(client, people, title="加装电梯表决")
    await keygen(client, people, ready)
    assert (await client.get(f"/api/v1/ballots/{ready}")).json()["status"] == "ready"
    told_before = await Notification.count().where(Notification.user == people["ids"]["sup1"])
    response = await client.post(
        f"/api/v1/ballots/{ready}/withdraw", json={"reason": "业主大会决定改期"}, headers=host(people)
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "withdrawn"
    assert await audit_data("withdraw_ballot", ready) == [{"reason": "业主大会决定改期", "status": "ready"}]
    # the trustees, who made its key, hear that they have nothing more to do
    assert await Notification.count().where(Notification.user == people["ids"]["sup1"]) == told_before + 1

    # a withdrawn ballot is public, with its reason; it opens no more and is not withdrawn twice
    page = await client.get(f"/ballots/{ready}")
    assert page.status_code == 200
    assert "Withdrawn before voting" in page.text and "业主大会决定改期" in page.text
    assert (await client.post(f"/api/v1/ballots/{ready}/open", headers=host(people))).status_code == 409
    voting = await client.post(
        f"/api/v1/ballots/{ready}/ballots", json={"answers": []}, headers=bearer(people["tokens"]["voter1"])
    )
    assert voting.status_code == 409 and "withdrawn" in voting.json()["detail"]
    again = await client.post(
        f"/api/v1/ballots/{ready}/withdraw", json={"reason": "再撤"}, headers=host(people)
    )
    assert again.status_code == 409
    listed = (await client.get("/api/v1/ballots", params={"status": "withdrawn"})).json()
    assert sorted(item["id"] for item in listed["items"]) == sorted([draft, ready])
    index = await client.get("/ballots", params={"status": "withdrawn"})
    assert "试点草案" in index.text and "Withdrawn before voting opened." in index.text


async def test_refused_withdrawals_change_nothing(client: Any, settings: Any) -> None:
    client.cookies.set("lang", "en")  # the problems' details in English
    people = await election_people(settings)
    draft = await create_ballot(client, people)
    url = f"/api/v1/ballots/{draft}/withdraw"
    for reason in ("", "   \n "):
        response = await client.post(url, json={"reason": reason}, headers=host(people))
        assert response.status_code == 400 and "reason" in response.json()["detail"]
    assert (await client.post(url, json={"reason": "长" * 501}, headers=host(people))).status_code == 400
    outsider = await client.post(url, json={"reason": "不要了"}, headers=bearer(people["tokens"]["outsider"]))
    assert outsider.status_code == 403
    row = await Ballot.select(Ballot.status, Ballot.withdrawn_reason).where(Ballot.id == draft).first()
    assert row == {"status": "draft", "withdrawn_reason": None}

    running = await create_ballot(client, people, secrecy="open", trustee_ids=[], threshold=None)
    await open_ballot(client, people, running)
    response = await client.post(
        f"/api/v1/ballots/{running}/withdraw", json={"reason": "不想投了"}, headers=host(people)
    )
    assert response.status_code == 409 and "only closed" in response.json()["detail"]
    assert (await client.get(f"/api/v1/ballots/{running}")).json()["status"] == "open"
    assert await audit_data("withdraw_ballot", draft) == await audit_data("withdraw_ballot", running) == []


async def test_the_edit_page_shows_the_draft_and_saves_it(client: Any, settings: Any) -> None:
    people = await election_people(settings)
    opens = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(hours=2)
    closes = opens + timedelta(days=5)
    ballot_id = await create_ballot(
        client,
        people,
        description="1栋加装电梯的方案",
        opens_at=opens.isoformat(),
        closes_at=closes.isoformat(),
        trustee_ids=[people["ids"]["sup1"], people["ids"]["sup3"]],
    )
    await log_in(client, "host")
    panel = await client.get(f"/ballots/{ballot_id}")
    assert f'href="/ballots/{ballot_id}/edit"' in panel.text and "Change the draft" in panel.text
    assert f'action="/ballots/{ballot_id}/withdraw"' in panel.text

    page = await client.get(f"/ballots/{ballot_id}/edit")
    assert page.status_code == 200
    assert f'action="/ballots/{ballot_id}/edit"' in page.text
    assert 'value="加装电梯表决"' in page.text and "是否同意加装电梯？</textarea>" in page.text
    # the times in the community's zone (Beijing time, 8 hours ahead of UTC)
    assert f'value="{local(opens)}"' in page.text and f'value="{local(closes)}"' in page.text
    assert local(opens) == (opens + timedelta(hours=8)).strftime("%Y-%m-%dT%H:%M")
    sup = {k: people["ids"][f"sup{k}"] for k in (1, 2, 3)}
    assert f'value="{sup[1]}" checked' in page.text and f'value="{sup[3]}" checked' in page.text
    assert f'value="{sup[2]}" >' in page.text  # not a trustee of this draft: not ticked
    assert "cannot show" not in page.text  # the form says all the draft says

    before = await stored(ballot_id)
    token = csrf_from(page.text)
    wrong = ballot_form(people, title="保留的标题", opens_at=local(closes), closes_at=local(opens))
    refused = await client.post(f"/ballots/{ballot_id}/edit", data={**wrong, "_csrf_token": token})
    assert refused.status_code == 400
    assert "The ballot must close after it opens." in refused.text and 'value="保留的标题"' in refused.text
    assert await stored(ballot_id) == before

    changed = ballot_form(people, title="加装电梯表决（修订）", closes_at=local(closes + timedelta(days=1)))
    saved = await client.post(f"/ballots/{ballot_id}/edit", data={**changed, "_csrf_token": token})
    assert saved.status_code == 303 and saved.headers["location"] == f"/ballots/{ballot_id}"
    row = await Ballot.objects().where(Ballot.id == ballot_id).first()
    assert row.title == "加装电梯表决（修订）" and row.closes_at == closes + timedelta(days=1)
    assert [q["text"] for q in json.loads(row.questions)] == ["是否同意加装电梯？", "选出两位监督员"]
    assert (row.t, row.n) == (2, 3)  # ballot_form ticks all three supervisors
    assert "The draft has been changed." in (await client.get(f"/ballots/{ballot_id}")).text
    again = (await client.get(f"/ballots/{ballot_id}/edit")).text  # the form's own draft, shown as typed
    assert (
        '<option value="choose" selected>' in again and 'name="q-1-k" inputmode="numeric" value="2"' in again
    )
    assert "张三\n李四\n王五</textarea>" in again and "cannot show" not in again

    # withdrawn from the panel: an empty reason shows the panel again, then it goes
    refused = await client.post(
        f"/ballots/{ballot_id}/withdraw",
        data={"reason": " ", "next": f"/ballots/{ballot_id}", "_csrf_token": token},
    )
    assert refused.status_code == 400 and 'id="withdraw-error"' in refused.text
    assert f'name="next" value="/ballots/{ballot_id}"' in refused.text
    done = await client.post(
        f"/ballots/{ballot_id}/withdraw",
        data={"reason": "等业主大会后再表决", "next": f"/ballots/{ballot_id}", "_csrf_token": token},
    )
    assert done.status_code == 303 and done.headers["location"] == f"/ballots/{ballot_id}"
    shown = await client.get(f"/ballots/{ballot_id}")
    assert "等业主大会后再表决" in shown.text and "The ballot has been withdrawn." in shown.text
    assert "Change the draft" not in shown.text
    assert (await client.get(f"/ballots/{ballot_id}/edit")).status_code == 409


async def test_the_edit_page_warns_of_what_it_cannot_show(client: Any, settings: Any) -> None:
    people = await election_people(settings)
    question = {"text": "是否同意改建车棚？", "options": ["同意", "不同意"], "min": 1, "max": 1}
    ballot_id = await create_ballot(client, people, questions=[question], rule={"preset": "two_thirds"})
    await log_in(client, "host")
    page = await client.get(f"/ballots/{ballot_id}/edit")
    assert page.status_code == 200 and "this form cannot show" in page.text


async def test_a_hearings_ballot_is_made_secret_before_it_opens(client: Any, settings: Any) -> None:
    people = await hearing_people(settings)
    supervisor = await make_user(settings, "sup", [(Role.supervisor, people["c"].community["id"])])
    hearing_id = await schedule(client, people)
    base = f"/api/v1/hearings/{hearing_id}"
    assert (await act(client, people, "host", f"{base}/start")).status_code == 200
    item = (await client.get(f"{base}/live")).json()["items"][0]["id"]
    assert (await act(client, people, "host", f"{base}/items/{item}/open")).status_code == 200
    closed = await act(client, people, "host", f"{base}/items/{item}/close", {"outcome": "ballot"})
    ballot_id = closed.json()["ballot_id"]
    draft = (await client.get(f"/api/v1/ballots/{ballot_id}", headers=host(people))).json()
    assert draft["secrecy"] == "open"
    keys = ("title", "description", "scope_id", "questions", "rule", "opens_at", "closes_at", "proposal_id")
    body = {
        **{key: draft[key] for key in keys},
        "weight_basis": "resident",
        "secrecy": "secret",
        "trustee_ids": [supervisor],
    }
    response = await client.put(f"/api/v1/ballots/{ballot_id}", json=body, headers=host(people))
    assert response.status_code == 200, response.text
    changed = response.json()
    assert (changed["status"], changed["secrecy"], changed["weight_basis"]) == ("draft", "secret", "resident")
    assert [t["user_id"] for t in changed["trustees"]] == [supervisor] and (changed["t"], changed["n"]) == (
        1,
        1,
    )
