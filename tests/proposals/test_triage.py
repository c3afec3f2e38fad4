"""Triage verbs and the three-order dispatch, through HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from council.accounts.tables import Role
from council.audit.tables import AuditEntry
from council.community import service as roster
from council.community.tables import NodeKind
from council.proposals.tables import Cosign, Order, Proposal
from tests.factories import ROOT, make_user
from tests.proposals.helpers import as_user, people, propose


async def test_residents_cannot_triage(client: Any, settings: Any) -> None:
    w = await people(settings)
    await as_user(client, "alice")
    pid = await propose(client, w["c"].community["id"])
    await as_user(client, "bob")
    before = await AuditEntry.count()
    for verb, body in (
        ("accept", {}),
        ("reject", {"reason": "x"}),
        ("merge", {"into_id": 1, "reason": "x"}),
        ("dispatch", {"assignee_id": w["ids"]["member"]}),
    ):
        response = await client.post(f"/api/v1/proposals/{pid}/{verb}", json=body)
        assert response.status_code == 403, verb
    assert await AuditEntry.count() == before
    assert (await Proposal.objects().where(Proposal.id == pid).first()).status == "submitted"


async def test_accept_and_reject_need_the_right_state_and_reason(client: Any, settings: Any) -> None:
    w = await people(settings)
    await as_user(client, "alice")
    first = await propose(client, w["c"].community["id"])
    second = await propose(client, w["c"].community["id"])
    await as_user(client, "member")
    assert (await client.post(f"/api/v1/proposals/{first}/accept", json={"reason": ""})).status_code == 200
    again = await client.post(f"/api/v1/proposals/{first}/reject", json={"reason": "晚了"})
    assert again.status_code == 409
    no_reason = await client.post(f"/api/v1/proposals/{second}/reject", json={"reason": "  "})
    assert no_reason.status_code == 400
    done = await client.post(f"/api/v1/proposals/{second}/reject", json={"reason": "不属于居民议事范围"})
    assert done.status_code == 200
    page = await client.get(f"/matters/{second}")
    assert "不属于居民议事范围" in page.text


async def test_merge_carries_cosigners_over_once(client: Any, settings: Any) -> None:
    w = await people(settings)
    cid = w["c"].community["id"]
    await as_user(client, "alice")
    target = await propose(client, cid, title="路灯维修")
    source = await propose(client, cid, title="路灯坏了")
    await as_user(client, "bob")
    await client.post(f"/api/v1/proposals/{target}/cosign", json={})
    await client.post(f"/api/v1/proposals/{source}/cosign", json={})
    await as_user(client, "carol")
    await client.post(f"/api/v1/proposals/{source}/cosign", json={})
    await as_user(client, "member")
    into_self = await client.post(
        f"/api/v1/proposals/{source}/merge", json={"into_id": source, "reason": "x"}
    )
    assert into_self.status_code == 400
    merged = await client.post(
        f"/api/v1/proposals/{source}/merge", json={"into_id": target, "reason": "同一件事"}
    )
    assert merged.json() == {"carried_cosigns": 1}
    row = await Proposal.objects().where(Proposal.id == target).first()
    assert row.cosign_count == 2
    assert await Cosign.count().where((Cosign.proposal == target) & Cosign.withdrawn_at.is_null()) == 2
    old = await Proposal.objects().where(Proposal.id == source).first()
    assert old.status == "merged" and old.merged_into == target


async def test_three_order_dispatch_until_close_out(client: Any, settings: Any) -> None:
    w = await people(settings)
    await as_user(client, "alice")
    pid = await propose(client, w["c"].community["id"], kind="small_wish", title="帮忙换个灯泡")
    await as_user(client, "member")
    matter = await propose(client, w["c"].community["id"], title="不是微心愿")
    not_wish = await client.post(
        f"/api/v1/proposals/{matter}/dispatch", json={"assignee_id": w["ids"]["member"]}
    )
    assert not_wish.status_code == 409
    dispatched = await client.post(
        f"/api/v1/proposals/{pid}/dispatch", json={"assignee_id": w["ids"]["member"], "days": 3}
    )
    assert dispatched.status_code == 201
    await as_user(client, "bob")
    assert (await client.post(f"/api/v1/proposals/{pid}/order/take")).status_code == 403
    await as_user(client, "member")
    assert (await client.post(f"/api/v1/proposals/{pid}/order/finish", json={})).status_code == 409
    assert (await client.post(f"/api/v1/proposals/{pid}/order/take")).status_code == 200
    note = await client.post(f"/api/v1/proposals/{pid}/order/notes", json={"body": "已买好灯泡，明天上门"})
    assert note.status_code == 201
    assert (
        await client.post(f"/api/v1/proposals/{pid}/order/finish", json={"reason": "已更换"})
    ).status_code == 200
    await as_user(client, "bob")
    someone_else = await client.post(f"/api/v1/proposals/{pid}/order/confirm", json={"rating": 5})
    assert someone_else.status_code == 403
    await as_user(client, "alice")
    bad_rating = await client.post(f"/api/v1/proposals/{pid}/order/confirm", json={"rating": 6})
    assert bad_rating.status_code == 400
    reopened = await client.post(f"/api/v1/proposals/{pid}/order/reopen", json={"reason": "灯还是不亮"})
    assert reopened.status_code == 200
    await as_user(client, "member")
    await client.post(f"/api/v1/proposals/{pid}/order/finish", json={"reason": "换了开关"})
    await as_user(client, "alice")
    closed = await client.post(
        f"/api/v1/proposals/{pid}/order/confirm", json={"rating": 4, "comment": "谢谢"}
    )
    assert closed.status_code == 200
    order = await Order.objects().where(Order.proposal == pid).first()
    assert order.status == "closed" and order.rating == 4 and order.reopen_count == 1
    assert (await Proposal.objects().where(Proposal.id == pid).first()).status == "closed"
    actions = [
        e["action"]
        for e in await AuditEntry.select(AuditEntry.action)
        .where((AuditEntry.subject_type == "proposal") & (AuditEntry.subject_id == str(pid)))
        .order_by(AuditEntry.seq)
    ]
    assert actions == [
        "create_proposal",
        "submit",
        "dispatch",
        "take",
        "progress",
        "finish",
        "reopen",
        "finish",
        "confirm",
    ]
    await as_user(client, "member")
    start = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    end = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    ledger = (await client.get("/api/v1/orders/ledger", params={"start": start, "end": end})).json()
    assert ledger["received"] == 1 and ledger["confirmed"] == 1 and ledger["average_rating"] == 4
    await as_user(client, "alice")
    assert (await client.get("/api/v1/orders/ledger", params={"start": start, "end": end})).status_code == 403
    # the ledger counts the reader's places only; an admin reads it too
    other = await roster.add_node(ROOT, name="春晖社区", kind=NodeKind.community, parent_id=None)
    await make_user(settings, "elsewhere", [(Role.council_member, other["id"])])
    await make_user(settings, "root", [(Role.admin, w["c"].community["id"])])
    await as_user(client, "elsewhere")
    there = (await client.get("/api/v1/orders/ledger", params={"start": start, "end": end})).json()
    assert there["received"] == 0 and there["dispatched"] == 0
    await as_user(client, "root")
    assert (await client.get("/api/v1/orders/ledger", params={"start": start, "end": end})).json()[
        "received"
    ] == 1


async def test_overdue_list(client: Any, settings: Any) -> None:
    w = await people(settings)
    await as_user(client, "staff")
    await client.put(
        f"/api/v1/communities/{w['c'].community['id']}/rules",
        json={
            "cosign_basis": "resident",
            "threshold_kind": "count",
            "threshold_value": 1,
            "response_days": 7,
        },
    )
    await as_user(client, "alice")
    pid = await propose(client, w["c"].community["id"])
    await as_user(client, "bob")
    await client.post(f"/api/v1/proposals/{pid}/cosign", json={})
    await Proposal.update({Proposal.response_due_at: datetime.now(UTC) - timedelta(hours=1)}).where(
        Proposal.id == pid
    )
    await as_user(client, "member")
    overdue = (await client.get("/api/v1/proposals/overdue")).json()
    assert [r["id"] for r in overdue] == [pid]
    page = await client.get("/matters/overdue")
    assert page.status_code == 200 and "楼道灯坏了" in page.text
