"""Submit, edit, co-sign, comment and moderate, through HTTP."""

from __future__ import annotations

import asyncio
from typing import Any

from council.accounts.tables import Role
from council.audit.service import verify_chain
from council.audit.tables import AuditEntry
from council.community import residents
from council.notifications.tables import Notification
from council.proposals.tables import Cosign, Proposal
from tests.factories import make_user
from tests.proposals.helpers import as_user, people, propose, token_for


async def _rules(client: Any, cid: int, **rules: Any) -> None:
    await as_user(client, "staff")
    body = {"cosign_basis": "resident", "threshold_kind": "count", "threshold_value": 2, "response_days": 7}
    response = await client.put(f"/api/v1/communities/{cid}/rules", json={**body, **rules})
    assert response.status_code == 200, response.text


async def test_submit_cosign_and_qualify(client: Any, settings: Any) -> None:
    w = await people(settings)
    cid = w["c"].community["id"]
    await _rules(client, cid)
    await as_user(client, "alice")
    pid = await propose(client, cid)
    public = await client.get(f"/api/v1/proposals/{pid}")
    assert public.json()["proposal"]["status"] == "submitted"
    assert public.json()["proposal"]["threshold"] == 2

    own = await client.post(f"/api/v1/proposals/{pid}/cosign", json={})
    assert own.status_code == 409
    await as_user(client, "bob")
    first = await client.post(f"/api/v1/proposals/{pid}/cosign", json={})
    assert first.json() == {"count": 1, "qualified": False}
    twice = await client.post(f"/api/v1/proposals/{pid}/cosign", json={})
    assert twice.status_code == 409
    await as_user(client, "carol")
    second = await client.post(f"/api/v1/proposals/{pid}/cosign", json={"show_name": True})
    assert second.json() == {"count": 2, "qualified": True}
    row = await Proposal.objects().where(Proposal.id == pid).first()
    assert row.status == "qualified" and row.response_due_at is not None
    withdraw = await client.delete(f"/api/v1/proposals/{pid}/cosign")
    assert withdraw.status_code == 409, "no withdrawing after qualification"
    alice_inbox = await Notification.count().where(Notification.user == w["ids"]["alice"])
    assert alice_inbox >= 3, "the proposer hears of each co-sign and of qualifying"


async def test_edit_only_until_first_cosign(client: Any, settings: Any) -> None:
    w = await people(settings)
    cid = w["c"].community["id"]
    await as_user(client, "alice")
    pid = await propose(client, cid)
    edit = {"title": "楼道灯坏了（3栋）", "description": "更新后的描述", "category": "safety"}
    assert (await client.put(f"/api/v1/proposals/{pid}", json=edit)).status_code == 200
    await as_user(client, "bob")
    assert (await client.put(f"/api/v1/proposals/{pid}", json=edit)).status_code == 403
    await client.post(f"/api/v1/proposals/{pid}/cosign", json={})
    await as_user(client, "alice")
    late = await client.put(f"/api/v1/proposals/{pid}", json=edit)
    assert late.status_code == 409


async def test_bad_input_is_refused_and_changes_nothing(client: Any, settings: Any) -> None:
    w = await people(settings)
    c = w["c"]
    await as_user(client, "alice")
    before = (await Proposal.count(), await AuditEntry.count())
    cases = [
        ({"title": "", "description": "x", "scope_id": c.community["id"], "category": "repairs"}, 400),
        ({"title": "x" * 101, "description": "x", "scope_id": c.community["id"], "category": "repairs"}, 400),
        ({"title": "x", "description": "x", "scope_id": c.community["id"], "category": "gossip"}, 400),
        (
            {"title": "x", "description": "x", "scope_id": c.community["id"], "category": "repairs", "x": 1},
            400,
        ),
        ({"title": "x", "description": "x", "scope_id": c.buildings[1]["id"], "category": "repairs"}, 403),
        ({"title": "x", "description": "x", "scope_id": 99999, "category": "repairs"}, 400),
        (
            {
                "title": "x",
                "description": "x",
                "scope_id": c.community["id"],
                "category": "repairs",
                "kind": "rectification",
            },
            403,
        ),
    ]
    for body, status in cases:
        response = await client.post("/api/v1/proposals", json=body)
        assert response.status_code == status, (body, response.text)
    assert (await Proposal.count(), await AuditEntry.count()) == before
    await as_user(client, "staff")
    before = (await Proposal.count(), await AuditEntry.count())
    no_resident = await client.post(
        "/api/v1/proposals",
        json={"title": "x", "description": "x", "scope_id": c.community["id"], "category": "repairs"},
    )
    assert no_resident.status_code == 403
    assert (await Proposal.count(), await AuditEntry.count()) == before


async def test_cosign_outside_scope_and_closed_are_refused(client: Any, settings: Any) -> None:
    w = await people(settings)
    c = w["c"]
    await as_user(client, "alice")  # lives in building 1
    pid = await propose(client, c.buildings[0]["id"])
    await as_user(client, "carol")  # lives in building 2
    outside = await client.post(f"/api/v1/proposals/{pid}/cosign", json={})
    assert outside.status_code == 403
    await as_user(client, "member")
    await client.post(f"/api/v1/proposals/{pid}/reject", json={"reason": "已由物业处理"})
    await as_user(client, "bob")
    closed = await client.post(f"/api/v1/proposals/{pid}/cosign", json={})
    assert closed.status_code == 409
    assert await Cosign.count() == 0


async def test_household_basis_counts_a_household_once(client: Any, settings: Any) -> None:
    w = await people(settings)
    c = w["c"]
    await _rules(client, c.community["id"], cosign_basis="household", threshold_value=5)
    from tests.factories import ROOT

    partner = await residents.add_resident(
        ROOT, code="R1101B", name="同户", household_id=c.households[1]["id"]
    )
    await make_user(settings, "partner", [(Role.resident, c.community["id"])], partner["id"])
    await as_user(client, "alice")
    pid = await propose(client, c.community["id"])
    await as_user(client, "bob")
    assert (await client.post(f"/api/v1/proposals/{pid}/cosign", json={})).status_code == 201
    await as_user(client, "partner")
    same_household = await client.post(f"/api/v1/proposals/{pid}/cosign", json={})
    assert same_household.status_code == 409


async def test_comments_and_moderation(client: Any, settings: Any) -> None:
    w = await people(settings)
    cid = w["c"].community["id"]
    await as_user(client, "alice")
    pid = await propose(client, cid)
    await as_user(client, "bob")
    made = await client.post(f"/api/v1/proposals/{pid}/comments", json={"body": "同意，晚上确实很黑"})
    assert made.status_code == 201
    comment_id = made.json()["id"]
    refused = await client.post(f"/api/v1/proposals/comments/{comment_id}/hide", json={"reason": "x"})
    assert refused.status_code == 403
    await as_user(client, "member")
    no_reason = await client.post(f"/api/v1/proposals/comments/{comment_id}/hide", json={"reason": ""})
    assert no_reason.status_code == 400
    hidden = await client.post(
        f"/api/v1/proposals/comments/{comment_id}/hide", json={"reason": "含有个人电话"}
    )
    assert hidden.status_code == 200
    dossier = (await client.get(f"/api/v1/proposals/{pid}")).json()
    assert dossier["comments"][0]["body"] == ""
    assert dossier["comments"][0]["hidden_reason"] == "含有个人电话"
    kept = await AuditEntry.objects().where(AuditEntry.action == "comment").first()
    assert "同意，晚上确实很黑" in kept.data, "the audit log keeps the hidden text"


async def test_drafts_are_private(client: Any, settings: Any) -> None:
    w = await people(settings)
    await as_user(client, "alice")
    pid = await propose(client, w["c"].community["id"], submit=False)
    assert (await client.get(f"/api/v1/proposals/{pid}")).status_code == 200
    await as_user(client, "bob")
    assert (await client.get(f"/api/v1/proposals/{pid}")).status_code == 404
    listed = (await client.get("/api/v1/proposals")).json()
    assert pid not in [p["id"] for p in listed["items"]]


async def test_search_finds_chinese_without_spaces(client: Any, settings: Any) -> None:
    w = await people(settings)
    cid = w["c"].community["id"]
    await as_user(client, "alice")
    await propose(
        client, cid, title="小区停车位不够", description="晚上车辆乱停，消防通道被占。", category="parking"
    )
    await propose(client, cid, title="增设老年食堂", description="老人吃饭不方便。", category="care")
    found = (await client.get("/api/v1/proposals", params={"q": "停车"})).json()
    assert [p["title"] for p in found["items"]] == ["小区停车位不够"]
    found = (await client.get("/api/v1/proposals", params={"q": "消防通道"})).json()
    assert found["total"] == 1
    by_category = (await client.get("/api/v1/proposals", params={"category": "care"})).json()
    assert [p["title"] for p in by_category["items"]] == ["增设老年食堂"]
    wildcard = (await client.get("/api/v1/proposals", params={"q": "%"})).json()
    assert wildcard["total"] == 2
    bad_sort = await client.get("/api/v1/proposals", params={"sort": "random"})
    assert bad_sort.status_code == 400


async def test_hundred_concurrent_cosigns_count_exactly_and_qualify_once(
    live_client: Any, settings: Any
) -> None:
    from tests.factories import ROOT

    w = await people(settings)
    c = w["c"]
    await _rules(live_client, c.community["id"], threshold_value=100)
    await as_user(live_client, "alice")
    pid = await propose(live_client, c.community["id"])
    tokens = []
    for i in range(100):
        resident = await residents.add_resident(
            ROOT, code=f"X{i:03d}", name=f"居民{i}", household_id=c.households[i % 4]["id"]
        )
        uid = await make_user(settings, f"r{i:03d}", [(Role.resident, c.community["id"])], resident["id"])
        tokens.append(await token_for(uid))
    live_client.cookies.clear()

    async def sign(token: str) -> int:
        response = await live_client.post(
            f"/api/v1/proposals/{pid}/cosign", json={}, headers={"authorization": f"Bearer {token}"}
        )
        return int(response.status_code)

    statuses = await asyncio.gather(*(sign(t) for t in tokens))
    assert statuses == [201] * 100
    row = await Proposal.objects().where(Proposal.id == pid).first()
    assert row.cosign_count == 100 and row.status == "qualified"
    assert await Cosign.count().where(Cosign.proposal == pid) == 100
    assert await AuditEntry.count().where(AuditEntry.action == "qualify") == 1
    assert (await verify_chain()).ok


async def test_list_page_filters_by_place(client: Any, settings: Any) -> None:
    w = await people(settings)
    c = w["c"]
    await as_user(client, "alice")
    await propose(client, c.buildings[0]["id"], title="一栋的事")
    await as_user(client, "carol")
    await propose(client, c.buildings[1]["id"], title="二栋的事")
    page = await client.get(f"/matters?place={c.buildings[0]['id']}")
    assert "一栋的事" in page.text and "二栋的事" not in page.text
    both = await client.get(f"/matters?place={c.community['id']}&q=的事")
    assert "一栋的事" in both.text and "二栋的事" in both.text


async def test_list_page_takes_the_empty_filters_a_browser_sends(client: Any, settings: Any) -> None:
    w = await people(settings)
    await as_user(client, "alice")
    await propose(client, w["c"].community["id"], title="停车难")
    page = await client.get("/matters?q=停车&status=&kind=&category=&place=&sort=newest")
    assert page.status_code == 200 and "停车难" in page.text
