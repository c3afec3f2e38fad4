"""What the hearing pages share: reading a form's fields, answering a form's verb, and the
context of the live pages (the participants' live page and the host's console).

Every button is a form posting to a route that calls the same service as the JSON API and
redirects back. On the live page and the console, static/js/hearing-live.js follows the
hearing's event stream and re-renders from each state, and turns the console's forms into
fetch() calls without a reload: it sends `x-council-fetch: 1`, and the route then answers
JSON instead of a redirect (`done`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Request, Response

from council.errors import Invalid, NotFound
from council.hearings import live, page_view
from council.hearings.tables import KIND_TERMS, OUTCOME_TERMS, STATUS_TERMS
from council.i18n import N_, Term
from council.web import flash, redirect, safe_next, settings_of
from council.web import form_text as web_form_text

Req = Request[Any, Any, Any]
FETCH_HEADER = "x-council-fetch"
TERMS = {
    "kinds": KIND_TERMS,
    "statuses": STATUS_TERMS,
    "outcomes": OUTCOME_TERMS,
    "item_statuses": page_view.ITEM_STATUS_TERMS,
    "vias": page_view.VIA_TERMS,
}


def zone_of(request: Req) -> ZoneInfo:
    return ZoneInfo(settings_of(request).timezone)


def form_text(form: Any, key: str, limit: int = 5000) -> str:
    """A field of a hearing page's form, at most `limit` characters (5000 by default)."""
    return web_form_text(form, key, limit)


def form_number(form: Any, key: str, what: str) -> int:
    text = form_text(form, key, 20).strip()
    if not text.isdigit():
        raise Invalid(N_("Choose {what}."), what=Term(what))
    return int(text)


def form_maybe(form: Any, key: str) -> int | None:
    text = form_text(form, key, 20).strip()
    return int(text) if text.isdigit() else None


def _fetched(request: Req) -> bool:
    return request.headers.get(FETCH_HEADER) == "1"


def back_to(form: Any, hearing_id: int, home: str) -> str:
    """Where a button returns: the page it was pressed on, if it is one of this hearing's."""
    target = safe_next(form_text(form, "next", 500), home)
    prefix = f"/hearings/{hearing_id}"
    return target if target == prefix or target[len(prefix) : len(prefix) + 1] in ("/", "?", "#") else home


def done(request: Req, target: str, message: str, result: Mapping[str, Any] | None = None) -> Any:
    """After a form's verb: JSON for hearing-live.js, else the flash message and a redirect."""
    if _fetched(request):
        return Response({"ok": True, **(result or {})}, status_code=200)
    flash(request, message)
    return redirect(target)


async def page_data(
    request: Req, row: Mapping[str, Any], state: Mapping[str, Any], me: Mapping[str, Any], page: str
) -> dict[str, Any]:
    """What hearing-live.js starts from (the page's <script type=application/json>)."""
    return {
        "id": row["id"],
        "page": page,
        "state": state,
        "me": me,
        "words": page_view.words(),
        "zone": settings_of(request).timezone,
    }


def live_context(state: Mapping[str, Any], me: Mapping[str, Any]) -> dict[str, Any]:
    flags = page_view.state_flags(state, me)

    def shows(expr: str, extra: Any = ()) -> bool:
        return page_view.shows(flags | set(extra or ()), expr)

    remaining = page_view.remaining_seconds(state)
    return {
        "s": state,
        "flags": flags,
        "shows": shows,
        "item_flags": lambda item: page_view.item_flags(item, state),
        "queue_flags": lambda entry: {"mine"} if page_view.is_mine(entry, me) else set(),
        "current": next((i for i in state["items"] if i["id"] == state["current_item"]), None),
        "remaining": remaining,
        "clock": page_view.clock(remaining) if remaining is not None else "",
        "quorum": page_view.quorum_words(state["attendance"]),
        "position": page_view.queue_position(state, me),
        "viewer": me,
    }


async def live_state(hearing_id: int) -> dict[str, Any]:
    state = await live.state(hearing_id)
    if state is None:
        raise NotFound(N_("No hearing with number {id}."), id=hearing_id)
    return state
