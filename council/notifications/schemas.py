"""What the notifications API gives."""

from __future__ import annotations

from datetime import datetime

import msgspec


class NotificationOut(msgspec.Struct):
    id: int
    kind: str
    title: str
    body: str
    link: str
    subject_type: str
    subject_id: str
    created_at: datetime
    read_at: datetime | None
    read: bool


class NotificationPage(msgspec.Struct):
    items: list[NotificationOut]
    total: int
    offset: int
    limit: int
    unread: int


class ReadAllOut(msgspec.Struct):
    marked: int
