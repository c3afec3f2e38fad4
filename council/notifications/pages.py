"""HTML pages: the inbox, and the unread count shown in the menu."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Template

from council.accounts.guards import principal_of, requires_login
from council.notifications import service
from council.web import Paging, form_data, redirect, require_principal, safe_next, settings_of


async def unread_badge(request: Request[Any, Any, Any]) -> None:
    """App-wide before_request hook: the menu's unread count for HTML pages (one indexed COUNT)."""
    principal = principal_of(request)
    if principal is not None and request.method == "GET" and not request.url.path.startswith("/api/"):
        request.state.unread_notifications = await service.unread_count(principal.id)


class InboxPages(Controller):
    path = "/inbox"
    guards = [requires_login]
    include_in_schema = False

    @get("/")
    async def index(
        self, request: Request[Any, Any, Any], unread: bool = False, offset: int = 0, limit: int | None = None
    ) -> Template:
        principal = require_principal(request)
        page = Paging.of(offset, limit, default=settings_of(request).page_size)
        items, total = await service.inbox(
            principal, unread_only=unread, offset=page.offset, limit=page.limit
        )
        query = request.url.query
        return Template(
            "notifications/inbox.html",
            context={
                "items": items,
                "total": total,
                "page": page,
                "unread_only": unread,
                "unread_total": await service.unread_count(principal.id),
                "here": request.url.path + (f"?{query}" if query else ""),
            },
        )

    @post("/{notification_id:int}/read")
    async def mark_read(self, request: Request[Any, Any, Any], notification_id: int) -> Redirect:
        """Mark it read, then go to `next` when the form names one, else to what it is about."""
        row = await service.mark_read(require_principal(request), notification_id)
        data = await form_data(request)
        target = str(data.get("next") or row["link"])
        return redirect(safe_next(target, "/inbox"))

    @post("/read-all")
    async def mark_all_read(self, request: Request[Any, Any, Any]) -> Redirect:
        await service.mark_all_read(require_principal(request))
        return redirect("/inbox")


HANDLERS = [InboxPages]
