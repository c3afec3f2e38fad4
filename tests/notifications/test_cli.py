"""`council outbox send`: one delivery pass, with counts."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from council import cli
from council.accounts.tables import User
from council.notifications.tables import OutboxEmail
from tests.factories import make_user
from tests.notifications.conftest import SmtpServer
from tests.notifications.helpers import send


async def test_outbox_send_runs_one_pass(
    mail_settings: Any, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    alice = await make_user(mail_settings, "alice", [])
    await User.update({User.email: "alice@example.org"}).where(User.id == alice)
    await send([alice], "命令行发送", settings=mail_settings)
    monkeypatch.setenv("COUNCIL_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("COUNCIL_SMTP_PORT", str(smtp_server.port))

    code = await asyncio.to_thread(cli.main, ["outbox", "send"])

    assert code == 0
    assert "outbox: 1 sent, 0 failed" in capsys.readouterr().out
    assert [r for r, _ in smtp_server.mailbox.received] == [["alice@example.org"]]
    assert await OutboxEmail.count().where(OutboxEmail.sent_at.is_null()) == 0


async def test_outbox_send_without_smtp_says_so(
    settings: Any, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.delenv("COUNCIL_SMTP_HOST", raising=False)
    assert await asyncio.to_thread(cli.main, ["outbox", "send"]) == 2
    assert "COUNCIL_SMTP_HOST" in capsys.readouterr().err
