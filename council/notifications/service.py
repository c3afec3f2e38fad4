"""Notifications: the in-app inbox, and an email queued in the outbox when SMTP is set up.

Features call `notify` inside the write transaction of the change the notification is
about: the notification and its email are then saved, or rolled back, with that change.
Sending happens later, outside any transaction (see outbox.py), so a mail server that is
down never blocks or undoes anything.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from council.accounts.principal import Principal
from council.accounts.tables import User
from council.audit import service as audit
from council.db import engine, write_transaction
from council.errors import NotFound
from council.i18n import N_
from council.notifications.tables import Notification, OutboxEmail
from council.settings import Settings

TITLE_MAX = 200
LINK_MAX = 300

BATCH = 1000  # rows (or ids) per statement


def _now() -> datetime:
    return datetime.now(UTC)


def _clip(value: str, length: int) -> str:
    return value if len(value) <= length else value[: length - 1] + "…"


def email_text(settings: Settings, body: str, link: str) -> str:
    """The email body: the notification's text, then the full address of its page."""
    if not link:
        return body
    url = settings.base_url + link
    return f"{body}\n\n{url}" if body else url


async def notify(
    user_ids: Iterable[int],
    *,
    kind: str,
    title: str,
    body: str,
    link: str = "",
    subject_type: str = "",
    subject_id: object = "",
    settings: Settings | None = None,
) -> int:
    """Put one notification in the inbox of each distinct active user among `user_ids`, and
    queue an email to those with an address when SMTP is configured. Returns how many
    notifications were made.

    Call it inside the caller's write_transaction (it raises RuntimeError otherwise); it
    writes no audit entry, the caller's entry covers the change. `title` and `body` are
    final text, already in the language the caller chose. `link` is a site path such as
    "/proposals/12". `settings=None` reads the settings from the environment.
    """
    if not engine().transaction_exists():
        raise RuntimeError("notify() must run inside the write transaction of the change")
    if not 0 < len(kind) <= 32:
        raise ValueError("notify(): kind must have 1 to 32 characters")
    if link and (not link.startswith("/") or link.startswith("//") or len(link) > LINK_MAX):
        raise ValueError(f"notify(): link must be a path on this site (/…), at most {LINK_MAX} characters")
    ids = sorted({int(user_id) for user_id in user_ids})
    if not ids:
        return 0
    users: list[dict[str, Any]] = []
    for start in range(0, len(ids), BATCH):  # PostgreSQL takes at most 32,767 parameters a statement
        users += await User.select(User.id, User.email).where(
            User.id.is_in(ids[start : start + BATCH]) & (User.active == True)  # noqa: E712
        )
    if not users:
        return 0
    settings = settings or Settings.from_env()
    now = _now()
    title = _clip(" ".join(title.split()), TITLE_MAX)  # one line: it is also an email subject
    notifications = [
        Notification(
            user=row["id"],
            kind=kind,
            title=title,
            body=body,
            link=link,
            subject_type=subject_type[:32],
            subject_id=str(subject_id)[:64],
            created_at=now,
        )
        for row in users
    ]
    for start in range(0, len(notifications), BATCH):
        await Notification.insert(*notifications[start : start + BATCH])
    if settings.email_enabled:
        text = email_text(settings, body, link)
        emails = [
            OutboxEmail(
                to_address=row["email"],
                subject=title,
                body=text,
                created_at=now,
                next_attempt_at=now,
            )
            for row in users
            if row["email"]
        ]
        for start in range(0, len(emails), BATCH):
            await OutboxEmail.insert(*emails[start : start + BATCH])
    return len(users)


async def users_of_residents(resident_ids: Iterable[int]) -> list[int]:
    """The active accounts of these residents, looked up a slice at a time."""
    ids = sorted(set(resident_ids))
    found: list[int] = []
    for start in range(0, len(ids), BATCH):
        rows = await User.select(User.id).where(
            User.resident.is_in(ids[start : start + BATCH]) & (User.active == True)  # noqa: E712
        )
        found += [row["id"] for row in rows]
    return found


# --- the inbox ----------------------------------------------------------------------


def _mine(principal: Principal, unread_only: bool) -> Any:
    condition: Any = Notification.user == principal.id
    if unread_only:
        condition = condition & Notification.read_at.is_null()
    return condition


async def inbox(
    principal: Principal, *, unread_only: bool = False, offset: int = 0, limit: int = 50
) -> tuple[list[dict[str, Any]], int]:
    """One's notifications, newest first, and how many there are in all."""
    condition = _mine(principal, unread_only)
    rows = (
        await Notification.select(
            Notification.id,
            Notification.kind,
            Notification.title,
            Notification.body,
            Notification.link,
            Notification.subject_type,
            Notification.subject_id,
            Notification.created_at,
            Notification.read_at,
        )
        .where(condition)
        .order_by(Notification.id, ascending=False)
        .offset(offset)
        .limit(limit)
    )
    total = await Notification.count().where(condition)
    return rows, total


async def unread_count(user_id: int) -> int:
    return int(
        await Notification.count().where((Notification.user == user_id) & Notification.read_at.is_null())
    )


async def mark_read(principal: Principal, notification_id: int) -> dict[str, Any]:
    """Mark one of one's notifications read (again is harmless); returns it.

    Someone else's notification is reported as not found and left as it is.
    """
    async with write_transaction():
        row = (
            await Notification.select(Notification.id, Notification.link, Notification.read_at)
            .where((Notification.id == notification_id) & (Notification.user == principal.id))
            .first()
        )
        if row is None:
            raise NotFound(N_("No notification with id {id}."), id=notification_id)
        if row["read_at"] is None:
            row["read_at"] = _now()
            await Notification.update({Notification.read_at: row["read_at"]}).where(
                Notification.id == notification_id
            )
            await audit.record(principal.actor, "read_notification", "notification", notification_id)
    return row


async def mark_all_read(principal: Principal) -> int:
    """Mark all of one's unread notifications read; returns how many there were."""
    async with write_transaction():
        marked = (
            await Notification.update({Notification.read_at: _now()})
            .where(_mine(principal, unread_only=True))
            .returning(Notification.id)
        )
        if marked:
            await audit.record(
                principal.actor, "read_all_notifications", "user", principal.id, {"count": len(marked)}
            )
    return len(marked)
