"""The email outbox: rows that notify() wrote, sent later, outside any transaction.

Each pass claims a due row with one conditional UPDATE (claimed_until), so two processes
never send the same row at once, then sends it with smtplib in a worker thread. A failure
is kept on the row (attempts, last_error) and retried with exponential backoff; after
MAX_ATTEMPTS, or at once when the server refuses for good (5xx), the row stays unsent and
visible. Delivery is at least once: a process that dies between sending and marking the
row sent leaves a claim that expires after CLAIM_SECONDS, and the row is sent again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import smtplib
import ssl
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Any

from council.db import write_transaction
from council.notifications.tables import OutboxEmail
from council.settings import Settings

log = logging.getLogger("council.outbox")

MAX_ATTEMPTS = 8
RETRY_BASE_SECONDS = 30
RETRY_MAX_SECONDS = 6 * 3600
SMTP_TIMEOUT_SECONDS = 30.0
# Longer than one send can take (each SMTP step is bounded by the timeout).
CLAIM_SECONDS = 10 * 60
POLL_SECONDS = 5.0
BATCH = 50
STOP_WAIT_SECONDS = 10.0


def _now() -> datetime:
    return datetime.now(UTC)


def retry_delay(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failure: 30 s, 1 min, 2 min … at most 6 h."""
    return timedelta(seconds=min(RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0), RETRY_MAX_SECONDS))


def _is_permanent(exc: Exception) -> bool:
    """A 5xx answer: the server will refuse this email every time."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    return isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code >= 500


def build_message(settings: Settings, row: dict[str, Any]) -> EmailMessage:
    domain = parseaddr(settings.smtp_from)[1].rpartition("@")[2] or "localhost"
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = row["to_address"]
    message["Subject"] = row["subject"]
    message["Date"] = format_datetime(row["created_at"])
    # Stable per row: a mail client can tell a repeated delivery from a new email.
    message["Message-ID"] = f"<outbox-{row['id']}.{int(row['created_at'].timestamp())}@{domain}>"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(row["body"])
    return message


def send_message(settings: Settings, message: EmailMessage) -> None:
    """Blocking: run it in a thread. Every network step is bounded by the timeout."""
    smtp_class = smtplib.SMTP_SSL if settings.smtp_port == 465 else smtplib.SMTP
    with smtp_class(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT_SECONDS) as smtp:
        if settings.smtp_starttls and smtp_class is smtplib.SMTP:
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password)
        smtp.send_message(message)


def _due(now: datetime) -> Any:
    return (
        OutboxEmail.sent_at.is_null()
        & (OutboxEmail.attempts < MAX_ATTEMPTS)
        & (OutboxEmail.next_attempt_at <= now)
        & (OutboxEmail.claimed_until.is_null() | (OutboxEmail.claimed_until < now))
    )


async def _claim(row_id: int) -> dict[str, Any] | None:
    """Take the row for CLAIM_SECONDS if it is still due and unclaimed; None if another
    process took it first. One UPDATE with the condition, so only one process wins."""
    now = _now()
    async with write_transaction():
        rows = (
            await OutboxEmail.update({OutboxEmail.claimed_until: now + timedelta(seconds=CLAIM_SECONDS)})
            .where((OutboxEmail.id == row_id) & _due(now))
            .returning(
                OutboxEmail.id,
                OutboxEmail.to_address,
                OutboxEmail.subject,
                OutboxEmail.body,
                OutboxEmail.created_at,
                OutboxEmail.attempts,
            )
        )
    return rows[0] if rows else None


async def _mark_sent(row_id: int) -> None:
    async with write_transaction():
        await OutboxEmail.update(
            {OutboxEmail.sent_at: _now(), OutboxEmail.claimed_until: None, OutboxEmail.last_error: ""}
        ).where(OutboxEmail.id == row_id)


async def _mark_failed(row: dict[str, Any], exc: Exception) -> None:
    attempts = row["attempts"] + 1
    if _is_permanent(exc):
        attempts = max(attempts, MAX_ATTEMPTS)
    error = f"{type(exc).__name__}: {exc}"[:2000]
    async with write_transaction():
        await OutboxEmail.update(
            {
                OutboxEmail.attempts: attempts,
                OutboxEmail.last_error: error,
                OutboxEmail.next_attempt_at: _now() + retry_delay(attempts),
                OutboxEmail.claimed_until: None,
            }
        ).where(OutboxEmail.id == row["id"])
    if attempts >= MAX_ATTEMPTS:
        log.warning(
            "email %s to %s given up after %s attempts: %s", row["id"], row["to_address"], attempts, error
        )
    else:
        log.info("email %s to %s failed (attempt %s): %s", row["id"], row["to_address"], attempts, error)


async def deliver_due(
    settings: Settings, *, limit: int = BATCH, stop: asyncio.Event | None = None
) -> tuple[int, int]:
    """One delivery pass over at most `limit` due emails; returns (sent, failed).

    Safe to run in several processes at once. Stops between emails when `stop` is set.
    """
    if not settings.email_enabled:
        return 0, 0
    candidates = (
        await OutboxEmail.select(OutboxEmail.id)
        .where(_due(_now()))
        .order_by(OutboxEmail.next_attempt_at, OutboxEmail.id)
        .limit(limit)
    )
    sent = failed = 0
    for candidate in candidates:
        if stop is not None and stop.is_set():
            break
        row = await _claim(candidate["id"])
        if row is None:
            continue
        try:
            await asyncio.to_thread(send_message, settings, build_message(settings, row))
        except Exception as exc:  # noqa: BLE001 - any failure to send is kept on the row and retried
            await _mark_failed(row, exc)
            failed += 1
        else:
            await _mark_sent(row["id"])
            sent += 1
    return sent, failed


class OutboxWorker:
    """Runs deliver_due every few seconds in the app's event loop while SMTP is configured.

    A failing pass is logged and the loop goes on; stop() ends it between two emails.
    """

    def __init__(self, settings: Settings, *, interval: float = POLL_SECONDS) -> None:
        self.settings = settings
        self.interval = interval
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        if not self.settings.email_enabled or self.running:
            return
        self._stopping = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name="council-outbox")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping.set()
        done, _ = await asyncio.wait({task}, timeout=STOP_WAIT_SECONDS)
        if not done:
            # Stuck in a send: its row stays claimed and is retried once the claim expires.
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while not self._stopping.is_set():
            handled = 0
            try:
                sent, failed = await deliver_due(self.settings, stop=self._stopping)
                handled = sent + failed
                if handled:
                    log.info("outbox: %s sent, %s failed", sent, failed)
            except Exception:  # the loop must outlive a database hiccup
                log.exception("outbox delivery pass failed; trying again in %s s", self.interval)
            if handled >= BATCH:
                continue  # more may be waiting
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=self.interval)
