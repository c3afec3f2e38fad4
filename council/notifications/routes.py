"""JSON API for one's own notifications: /api/v1/notifications."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.params import Parameter

from council.accounts.guards import requires_login
from council.notifications import service
from council.notifications.schemas import NotificationOut, NotificationPage, ReadAllOut
from council.web import Paging, require_principal


def notification_out(row: dict[str, Any]) -> NotificationOut:
    return NotificationOut(
        id=row["id"],
        kind=row["kind"],
        title=row["title"],
        body=row["body"],
        link=row["link"],
        subject_type=row["subject_type"],
        subject_id=row["subject_id"],
        created_at=row["created_at"],
        read_at=row["read_at"],
        read=row["read_at"] is not None,
    )


class NotificationsApi(Controller):
    path = "/api/v1/notifications"
    guards = [requires_login]
    tags = ["notifications"]

    @get("/")
    async def list_notifications(
        self,
        request: Request[Any, Any, Any],
        unread: bool = False,
        offset: Annotated[int, Parameter(ge=0)] = 0,
        limit: Annotated[int, Parameter(ge=1, le=200)] = 50,
    ) -> NotificationPage:
        """One's notifications, newest first (`unread=true`: only the unread ones)."""
        principal = require_principal(request)
        page = Paging.of(offset, limit)
        rows, total = await service.inbox(principal, unread_only=unread, offset=page.offset, limit=page.limit)
        return NotificationPage(
            items=[notification_out(r) for r in rows],
            total=total,
            offset=page.offset,
            limit=page.limit,
            unread=await service.unread_count(principal.id),
        )

    @post("/{notification_id:int}/read", status_code=204)
    async def mark_read(self, request: Request[Any, Any, Any], notification_id: int) -> None:
        """Mark one notification read."""
        await service.mark_read(require_principal(request), notification_id)

    @post("/read-all", status_code=200)
    async def mark_all_read(self, request: Request[Any, Any, Any]) -> ReadAllOut:
        """Mark every unread notification read; answers how many were."""
        return ReadAllOut(marked=await service.mark_all_read(require_principal(request)))


HANDLERS = [NotificationsApi]
