"""The inbox through HTTP: listing, marking read, and one user never seeing another's."""

from __future__ import annotations

from typing import Any

from council.audit.tables import AuditEntry
from council.notifications.tables import Notification
from tests.factories import form_post, login, make_user
from tests.notifications.helpers import send


def _csrf(client: Any) -> dict[str, str]:
    return {"x-csrftoken": client.cookies.get("council_csrf")}


async def _ids(user_id: int) -> list[int]:
    rows = (
        await Notification.select(Notification.id)
        .where(Notification.user == user_id)
        .order_by(Notification.id)
    )
    return [r["id"] for r in rows]


async def test_inbox_lists_newest_first_and_marks_read(client: Any, settings: Any) -> None:
    alice = await make_user(settings, "alice", [])
    await send([alice], "第一条", link="/account")
    await send([alice], "第二条")
    await send([alice], "第三条", link="/matters/7")
    first, second, third = await _ids(alice)
    await login(client, "alice")

    page = await client.get("/inbox")
    assert page.status_code == 200
    html = page.text
    assert html.index("第三条") < html.index("第二条") < html.index("第一条")
    assert "未读消息：3 条" in html
    assert f'id="notification-{third}"' in html
    # The menu shows the unread count on every page.
    account = await client.get("/account")
    assert 'href="/inbox"' in account.text and 'title="3 条未读"' in account.text

    listed = (await client.get("/api/v1/notifications")).json()
    assert [i["id"] for i in listed["items"]] == [third, second, first]
    assert listed["total"] == 3 and listed["unread"] == 3
    assert all(not i["read"] and i["read_at"] is None for i in listed["items"])

    # Opening goes to the notification's link and marks it read, with an audit entry.
    before = await AuditEntry.count()
    opened = await form_post(client, f"/inbox/{third}/read", {}, page="/inbox")
    assert opened.status_code == 303 and opened.headers["location"] == "/matters/7"
    assert await AuditEntry.count() == before + 1
    entry = await AuditEntry.select().order_by(AuditEntry.seq, ascending=False).first()
    assert entry is not None
    assert (entry["action"], entry["subject_id"], entry["actor_id"]) == (
        "read_notification",
        str(third),
        alice,
    )

    # Marking read again changes nothing and writes nothing.
    again = await form_post(client, f"/inbox/{third}/read", {}, page="/inbox")
    assert again.status_code == 303 and await AuditEntry.count() == before + 1

    # "Mark as read" with next= stays on the inbox; a notification without a link goes to the inbox.
    stayed = await form_post(client, f"/inbox/{first}/read", {"next": "/inbox?unread=true"}, page="/inbox")
    assert stayed.headers["location"] == "/inbox?unread=true"
    unread = (await client.get("/api/v1/notifications?unread=true")).json()
    assert [i["id"] for i in unread["items"]] == [second] and unread["unread"] == 1

    done = await form_post(client, "/inbox/read-all", {}, page="/inbox")
    assert done.status_code == 303 and done.headers["location"] == "/inbox"
    entry = await AuditEntry.select().order_by(AuditEntry.seq, ascending=False).first()
    assert entry is not None and entry["action"] == "read_all_notifications" and '"count":1' in entry["data"]
    html = (await client.get("/inbox")).text
    assert "消息都已读过。" in html and "未读消息" not in html
    assert 'title="' not in html.split("</nav>")[0].split('href="/inbox"')[1].split("</li>")[0]


async def test_another_users_notification_is_not_found_and_unchanged(client: Any, settings: Any) -> None:
    alice = await make_user(settings, "alice", [])
    bob = await make_user(settings, "bob", [])
    await send([alice], "给爱丽丝")
    await send([bob], "给鲍勃的秘密")
    [bobs] = await _ids(bob)
    await login(client, "alice")

    assert "给鲍勃的秘密" not in (await client.get("/inbox")).text
    listed = (await client.get("/api/v1/notifications")).json()
    assert [i["title"] for i in listed["items"]] == ["给爱丽丝"]

    before = await AuditEntry.count()
    page = await form_post(client, f"/inbox/{bobs}/read", {}, page="/inbox")
    assert page.status_code == 404
    api = await client.post(f"/api/v1/notifications/{bobs}/read", headers=_csrf(client))
    assert api.status_code == 404 and api.json()["status"] == 404
    missing = await client.post("/api/v1/notifications/999999/read", headers=_csrf(client))
    assert missing.status_code == 404

    marked = await client.post("/api/v1/notifications/read-all", headers=_csrf(client))
    assert marked.status_code == 200 and marked.json() == {"marked": 1}
    row = await Notification.select(Notification.read_at).where(Notification.id == bobs).first()
    assert row is not None and row["read_at"] is None
    # Only alice's read-all was recorded.
    assert await AuditEntry.count() == before + 1


async def test_api_filters_pages_and_marks(client: Any, settings: Any) -> None:
    alice = await make_user(settings, "alice", [])
    for n in range(5):
        await send([alice], f"消息{n}")
    ids = await _ids(alice)
    await login(client, "alice")

    first = (await client.get("/api/v1/notifications?limit=2")).json()
    assert [i["id"] for i in first["items"]] == [ids[4], ids[3]]
    assert (first["total"], first["offset"], first["limit"]) == (5, 0, 2)
    last = (await client.get("/api/v1/notifications?limit=2&offset=4")).json()
    assert [i["id"] for i in last["items"]] == [ids[0]]

    read = await client.post(f"/api/v1/notifications/{ids[4]}/read", headers=_csrf(client))
    assert read.status_code == 204
    unread = (await client.get("/api/v1/notifications?unread=true")).json()
    assert unread["total"] == 4 and ids[4] not in [i["id"] for i in unread["items"]]
    everything = (await client.get("/api/v1/notifications")).json()
    assert everything["total"] == 5 and everything["items"][0]["read"] is True

    assert (await client.get("/api/v1/notifications?limit=0")).status_code == 400
    assert (await client.get("/api/v1/notifications?limit=500")).status_code == 400
    marked = await client.post("/api/v1/notifications/read-all", headers=_csrf(client))
    assert marked.json() == {"marked": 4}
    assert (await client.get("/api/v1/notifications?unread=true")).json()["total"] == 0


async def test_inbox_pages_and_empty_state(client: Any, settings: Any) -> None:
    alice = await make_user(settings, "alice", [])
    await login(client, "alice")
    empty = await client.get("/inbox")
    assert empty.status_code == 200 and "还没有消息" in empty.text
    assert "/inbox/read-all" not in empty.text

    for n in range(3):
        await send([alice], f"第{n}条")
    page = await client.get("/inbox?limit=2")
    assert "第2条" in page.text and "第1条" in page.text and "第0条" not in page.text
    assert 'href="/inbox?offset=2&limit=2"' in page.text
    assert "/inbox/read-all" in page.text
    rest = await client.get("/inbox?offset=2&limit=2")
    assert "第0条" in rest.text and "第2条" not in rest.text
    unread_only = await client.get("/inbox?unread=true&limit=2")
    assert 'href="/inbox?unread=true&offset=2&limit=2"' in unread_only.text


async def test_inbox_needs_login(client: Any, settings: Any) -> None:
    assert (await client.get("/inbox")).status_code == 401
    assert (await client.get("/api/v1/notifications")).status_code == 401
    page = await client.get("/")
    assert 'href="/inbox"' not in page.text
