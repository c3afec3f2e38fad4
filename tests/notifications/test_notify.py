"""notify(): saved with the caller's change or not at all; one per active user; email only
when SMTP is configured and the user has an address; no audit entry of its own."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from council.accounts import service as accounts
from council.accounts.tables import User
from council.audit.tables import AuditEntry
from council.db import write_transaction
from council.notifications import service
from council.notifications.tables import Notification, OutboxEmail
from tests.factories import ROOT, make_user
from tests.notifications.helpers import send


async def _with_email(settings: Any, username: str, email: str) -> int:
    user_id = await make_user(settings, username, [])
    await User.update({User.email: email}).where(User.id == user_id)
    return user_id


async def test_a_failed_change_leaves_no_notification_and_no_email(mail_settings: Any) -> None:
    alice = await _with_email(mail_settings, "alice", "alice@example.org")
    before = await AuditEntry.count()

    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with write_transaction():
            made = await service.notify(
                [alice], kind="test", title="不会送达", body="正文", settings=mail_settings
            )
            assert made == 1
            assert await Notification.count() == 1 and await OutboxEmail.count() == 1
            raise Boom

    assert await Notification.count() == 0
    assert await OutboxEmail.count() == 0
    assert await AuditEntry.count() == before


async def test_notify_outside_a_transaction_is_refused(settings: Any) -> None:
    alice = await make_user(settings, "alice", [])
    with pytest.raises(RuntimeError, match="inside the write transaction"):
        await service.notify([alice], kind="test", title="t", body="b", settings=settings)
    assert await Notification.count() == 0


async def test_one_per_distinct_active_user_and_email_only_with_an_address(mail_settings: Any) -> None:
    alice = await _with_email(mail_settings, "alice", "alice@example.org")
    bob = await make_user(mail_settings, "bob", [])  # no email address
    carol = await _with_email(mail_settings, "carol", "carol@example.org")
    await accounts.set_active(ROOT, carol, False)
    before = await AuditEntry.count()

    made = await send(
        [alice, bob, alice, carol, 424242], "议题已受理", link="/matters/3", settings=mail_settings
    )

    assert made == 2
    rows = await Notification.select().order_by(Notification.user)
    assert [r["user"] for r in rows] == [alice, bob]
    assert rows[0]["title"] == "议题已受理" and rows[0]["link"] == "/matters/3"
    assert rows[0]["subject_type"] == "test" and rows[0]["subject_id"] == "1"
    assert rows[0]["read_at"] is None
    emails = await OutboxEmail.select()
    assert [e["to_address"] for e in emails] == ["alice@example.org"]
    assert emails[0]["subject"] == "议题已受理"
    assert emails[0]["body"].endswith("\n\nhttp://testserver.local/matters/3")
    assert emails[0]["attempts"] == 0 and emails[0]["sent_at"] is None
    assert await AuditEntry.count() == before  # the caller's entry covers the change


async def test_no_email_without_smtp(settings: Any) -> None:
    alice = await _with_email(settings, "alice", "alice@example.org")
    assert await send([alice], "只在站内", settings=replace(settings, smtp_host="")) == 1
    assert await Notification.count() == 1 and await OutboxEmail.count() == 0
    assert await send([], "nobody", settings=settings) == 0


async def test_bad_arguments_are_refused(settings: Any) -> None:
    alice = await make_user(settings, "alice", [])
    for kwargs in ({"link": "https://evil.example/"}, {"link": "//evil.example"}, {"kind": ""}):
        with pytest.raises(ValueError):
            await send([alice], "t", settings=settings, **kwargs)
    await send([alice], "两行\n标题\r\nBcc: x@evil.example", settings=settings)
    row = await Notification.select(Notification.title).first()
    assert row is not None and row["title"] == "两行 标题 Bcc: x@evil.example"
    await Notification.delete(force=True)
    long_title = "长" * 300
    await send([alice], long_title, settings=settings)
    row = await Notification.select(Notification.title).first()
    assert row is not None and len(row["title"]) == 200 and row["title"].endswith("…")


async def test_a_whole_community_is_notified_in_slices(settings: Any) -> None:
    """More recipients than one statement can carry on PostgreSQL (32,767 parameters)."""
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    for start in range(0, 6000, 1000):
        await User.insert(
            *[
                User(username=f"u{k}", display_name=f"u{k}", created_at=now)
                for k in range(start, start + 1000)
            ]
        )
    ids = [row["id"] for row in await User.select(User.id)]
    async with write_transaction():
        made = await service.notify(ids, kind="ballot", title="表决开始", body="表决开始", settings=settings)
    assert made == 6000 and await Notification.count() == 6000
