"""The outbox against a real SMTP server: delivery, retries with backoff, giving up,
and no email sent twice by concurrent passes."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from council.accounts.tables import User
from council.notifications import outbox
from council.notifications.outbox import MAX_ATTEMPTS, OutboxWorker, deliver_due
from council.notifications.tables import OutboxEmail
from tests.factories import make_user
from tests.notifications.conftest import SmtpServer, free_port
from tests.notifications.helpers import send


async def _user(settings: Any, username: str) -> int:
    user_id = await make_user(settings, username, [])
    await User.update({User.email: f"{username}@example.org"}).where(User.id == user_id)
    return user_id


async def _row() -> dict[str, Any]:
    row = await OutboxEmail.select().first()
    assert row is not None
    return row


async def _make_due() -> None:
    """As if the backoff had passed."""
    await OutboxEmail.update({OutboxEmail.next_attempt_at: datetime.now(UTC) - timedelta(seconds=1)}).where(
        OutboxEmail.sent_at.is_null()
    )


async def test_delivers_utf8_chinese_email(mail_settings: Any, smtp_server: SmtpServer) -> None:
    alice = await _user(mail_settings, "alice")
    await send(
        [alice],
        "您的议题已受理",
        body="幸福里居民议事会：您提出的“楼道灯维修”已受理。",
        link="/matters/12",
        settings=mail_settings,
    )

    assert await deliver_due(mail_settings) == (1, 0)

    [(recipients, message)] = smtp_server.mailbox.received
    assert recipients == ["alice@example.org"]
    assert message["To"] == "alice@example.org"
    assert message["From"] == "council@example.org"
    assert message["Subject"] == "您的议题已受理"
    body = message.get_content()
    assert "您提出的“楼道灯维修”已受理" in body
    assert "http://testserver.local/matters/12" in body
    assert message.get_content_charset() == "utf-8"
    row = await _row()
    assert row["sent_at"] is not None and row["attempts"] == 0 and row["claimed_until"] is None
    # Nothing more to send.
    assert await deliver_due(mail_settings) == (0, 0)
    assert len(smtp_server.mailbox.received) == 1


async def test_server_down_then_back_sends_exactly_once(settings: Any) -> None:
    server = SmtpServer(free_port())  # nothing listens on this port yet
    mail = replace(settings, smtp_host="127.0.0.1", smtp_port=server.port)
    alice = await _user(mail, "alice")
    await send([alice], "重要通知", settings=mail)

    started = datetime.now(UTC)
    assert await deliver_due(mail) == (0, 1)
    row = await _row()
    assert row["attempts"] == 1 and row["sent_at"] is None and row["claimed_until"] is None
    assert row["next_attempt_at"] >= started + timedelta(seconds=29)
    assert "Connection refused" in row["last_error"] or "Errno" in row["last_error"]
    # Not due yet: a pass right now leaves it alone.
    assert await deliver_due(mail) == (0, 0)

    server.start()
    try:
        assert await deliver_due(mail) == (0, 0)  # still waiting for its time
        await _make_due()
        assert await deliver_due(mail) == (1, 0)
        await _make_due()
        assert await deliver_due(mail) == (0, 0)
        assert [r for r, _ in server.mailbox.received] == [["alice@example.org"]]
    finally:
        server.stop()
    row = await _row()
    assert row["sent_at"] is not None and row["attempts"] == 1


async def test_temporary_refusal_backs_off_exponentially(mail_settings: Any, smtp_server: SmtpServer) -> None:
    smtp_server.mailbox.answer = "451 4.3.0 Try again later"
    alice = await _user(mail_settings, "alice")
    await send([alice], "稍后再试", settings=mail_settings)

    waits = []
    for attempt in (1, 2, 3):
        before = datetime.now(UTC)
        assert await deliver_due(mail_settings) == (0, 1)
        row = await _row()
        assert row["attempts"] == attempt and row["sent_at"] is None
        assert "451" in row["last_error"]
        waits.append((row["next_attempt_at"] - before).total_seconds())
        await _make_due()
    assert 29 <= waits[0] <= 31 and 59 <= waits[1] <= 61 and 119 <= waits[2] <= 121
    assert outbox.retry_delay(30) == timedelta(hours=6)

    smtp_server.mailbox.answer = ""
    assert await deliver_due(mail_settings) == (1, 0)
    assert len(smtp_server.mailbox.received) == 1
    row = await _row()
    assert row["sent_at"] is not None and row["last_error"] == "" and row["attempts"] == 3


async def test_gives_up_after_max_attempts_and_keeps_the_row(
    mail_settings: Any, smtp_server: SmtpServer
) -> None:
    smtp_server.mailbox.answer = "451 4.3.0 Try again later"
    alice = await _user(mail_settings, "alice")
    await send([alice], "发不出去", settings=mail_settings)
    await OutboxEmail.update({OutboxEmail.attempts: MAX_ATTEMPTS - 1}).where(OutboxEmail.id > 0)

    assert await deliver_due(mail_settings) == (0, 1)
    await _make_due()
    smtp_server.mailbox.answer = ""
    assert await deliver_due(mail_settings) == (0, 0)
    row = await _row()
    assert row["attempts"] == MAX_ATTEMPTS and row["sent_at"] is None and "451" in row["last_error"]
    assert smtp_server.mailbox.received == []


async def test_permanent_refusal_is_not_retried(mail_settings: Any, smtp_server: SmtpServer) -> None:
    smtp_server.mailbox.answer = "550 5.1.1 No such user"
    alice = await _user(mail_settings, "alice")
    await send([alice], "无此用户", settings=mail_settings)
    assert await deliver_due(mail_settings) == (0, 1)
    row = await _row()
    assert row["attempts"] == MAX_ATTEMPTS and "550" in row["last_error"]
    await _make_due()
    assert await deliver_due(mail_settings) == (0, 0)


async def test_concurrent_passes_send_each_email_once(mail_settings: Any, smtp_server: SmtpServer) -> None:
    smtp_server.mailbox.delay = 0.05  # keep the passes overlapping
    users = [await _user(mail_settings, f"user{n}") for n in range(8)]
    await send(users, "并发测试", settings=mail_settings)
    assert await OutboxEmail.count() == 8

    results = await asyncio.gather(*(deliver_due(mail_settings) for _ in range(3)))

    assert sum(sent for sent, _ in results) == 8
    assert sum(failed for _, failed in results) == 0
    recipients = sorted(r[0] for r, _ in smtp_server.mailbox.received)
    assert recipients == sorted(f"user{n}@example.org" for n in range(8))
    assert await OutboxEmail.count().where(OutboxEmail.sent_at.is_null()) == 0


async def test_a_claimed_row_is_left_to_its_claimer(mail_settings: Any, smtp_server: SmtpServer) -> None:
    alice = await _user(mail_settings, "alice")
    await send([alice], "已被领取", settings=mail_settings)
    row = await _row()
    assert await outbox._claim(row["id"]) is not None
    assert await outbox._claim(row["id"]) is None
    assert await deliver_due(mail_settings) == (0, 0)
    # A claim that expired (its process died) is taken again.
    await OutboxEmail.update({OutboxEmail.claimed_until: datetime.now(UTC) - timedelta(seconds=1)}).where(
        OutboxEmail.id == row["id"]
    )
    assert await deliver_due(mail_settings) == (1, 0)


async def test_worker_keeps_going_after_a_failing_pass_and_stops_cleanly(
    mail_settings: Any, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    alice = await _user(mail_settings, "alice")
    await send([alice], "后台发送", settings=mail_settings)
    real = outbox.deliver_due
    calls = 0

    async def flaky(*args: Any, **kwargs: Any) -> tuple[int, int]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionError("database went away")
        return await real(*args, **kwargs)

    monkeypatch.setattr(outbox, "deliver_due", flaky)
    worker = OutboxWorker(mail_settings, interval=0.05)
    with caplog.at_level(logging.ERROR, logger="council.outbox"):
        await worker.start()
        for _ in range(100):
            if smtp_server.mailbox.received:
                break
            await asyncio.sleep(0.05)
        assert worker.running
        await worker.stop()
    assert not worker.running
    assert calls >= 2 and len(smtp_server.mailbox.received) == 1
    assert "database went away" in caplog.text
    assert not [t for t in asyncio.all_tasks() if t.get_name() == "council-outbox"]


async def test_worker_is_off_without_smtp(settings: Any) -> None:
    worker = OutboxWorker(settings)
    await worker.start()
    assert not worker.running
    await worker.stop()


async def test_the_app_sends_in_the_background(mail_settings: Any, smtp_server: SmtpServer) -> None:
    from litestar.testing import AsyncTestClient

    from council.app import create_app

    alice = await _user(mail_settings, "alice")
    await send([alice], "应用后台", settings=mail_settings)
    async with AsyncTestClient(app=create_app(mail_settings)) as client:
        assert (await client.get("/healthz")).status_code == 200
        for _ in range(100):
            if smtp_server.mailbox.received:
                break
            await asyncio.sleep(0.05)
    # Leaving the block ran the app's shutdown, which stopped the worker (else it would hang).
    assert len(smtp_server.mailbox.received) == 1
    row = await _row()
    assert row["sent_at"] is not None
