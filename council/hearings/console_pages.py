"""HTML pages of a hearing's host: the console (its page, the list of attendees, the
check-in QR code) and its verbs (start and end, open and close items, the floor, marking
people present or leaving), and the agenda's verbs of the hearing page, for the organisers
and the host. hearing-live.js posts the console's forms with fetch() (see page_common.py).
"""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import urlencode

import segno
from litestar import Controller, Response, get, post
from litestar.response import Template

from council.accounts.guards import requires_login
from council.accounts.principal import Principal
from council.accounts.tables import Role, RoleAssignment, User
from council.community.residents import find_in_place
from council.errors import Forbidden, Invalid, NotFound
from council.hearings import attendance, floor, service
from council.hearings.page_common import (
    TERMS,
    Req,
    back_to,
    done,
    form_maybe,
    form_number,
    form_text,
    live_context,
    live_state,
    page_data,
)
from council.hearings.tables import Hearing, HearingStatus, Outcome
from council.i18n import N_
from council.web import require_principal, settings_of

SEARCH_LIMIT = 20


async def _host_row(request: Req, hearing_id: int) -> tuple[Principal, dict[str, Any]]:
    principal = require_principal(request)
    row = await service.get_row(hearing_id)
    if not service.is_host(principal, row):
        raise Forbidden(N_("Only the hearing's host can use its console."))
    return principal, row


# Resident search for the host's roster ---------------------------------------------------


async def find_residents(row: Mapping[str, Any], query: str) -> dict[str, Any]:
    """Residents of the hearing's place matching `query`, and whether each is here now."""
    residents, more = await find_in_place(row["scope_path"], query, limit=SEARCH_LIMIT)
    present = {
        a["resident"]
        for a in await attendance.attendees(row["id"])
        if a["left_at"] is None and a["resident"] is not None
    }
    items = [{**r, "present": r["id"] in present} for r in residents]
    return {"query": query.strip()[:64], "items": items, "more": more}


async def _council_members(scope_path: str) -> list[dict[str, Any]]:
    """Council members who could take a referred matter in this place."""
    rows = await RoleAssignment.select(RoleAssignment.user, RoleAssignment.node.path).where(
        RoleAssignment.role == Role.council_member.value
    )
    ids = sorted({r["user"] for r in rows if scope_path.startswith(r["node.path"])})
    if not ids:
        return []
    found: list[dict[str, Any]] = await User.select(User.id, User.display_name, User.username).where(
        User.id.is_in(ids) & (User.active == True)  # noqa: E712
    )
    return found


async def _later_hearings(row: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Scheduled hearings of the same place (or a place inside it) an item can be deferred to."""
    found: list[dict[str, Any]] = (
        await Hearing.select(Hearing.id, Hearing.title, Hearing.starts_at)
        .where(
            (Hearing.status == HearingStatus.scheduled.value)
            & Hearing.scope_path.like(f"{row['scope_path']}%")
            & (Hearing.id != row["id"])
        )
        .order_by(Hearing.starts_at)
        .limit(50)
    )
    return found


def _qr(request: Req, hearing_id: int, code: str | None = None) -> dict[str, Any]:
    settings = settings_of(request)
    current = attendance.qr_code(settings.secret_key, hearing_id)
    if code is not None:
        attendance.check_qr(settings.secret_key, hearing_id, code)
        current = {**current, "code": code}
    url = f"{settings.base_url.rstrip('/')}/hearings/{hearing_id}/check-in?code={current['code']}"
    return {**current, "url": url, "qr": segno.make(url, error="m")}


# The console's verbs ---------------------------------------------------------------------

Verb = Callable[[Principal, int, Any], Awaitable[Mapping[str, Any] | None]]


async def _open(p: Principal, h: int, form: Any) -> None:
    await floor.open_item(p, h, form_number(form, "item_id", N_("an agenda item")))


async def _close(p: Principal, h: int, form: Any) -> dict[str, Any]:
    chosen = form_text(form, "outcome", 20)
    if chosen not in {o.value for o in Outcome}:
        raise Invalid(N_("Choose how the item ends."))
    outcome = Outcome(chosen)
    ballot = None
    if outcome is Outcome.ballot:
        days = form_maybe(form, "days") or 7
        if not 1 <= days <= 90:
            raise Invalid(N_("A ballot is open for 1 to 90 days."))
        basis = "resident" if form_text(form, "weight_basis", 20) == "resident" else "household"
        ballot = {"secrecy": "open", "weight_basis": basis, "days": days}
    done = await floor.close_item(
        p,
        h,
        form_number(form, "item_id", N_("an agenda item")),
        outcome=outcome,
        text=form_text(form, "text") if outcome is Outcome.consensus else "",
        defer_to=form_maybe(form, "defer_to") if outcome is Outcome.deferred else None,
        assignee_id=form_maybe(form, "assignee_id") if outcome is Outcome.dispatch else None,
        ballot=ballot,
    )
    return {"ballot_id": done["ballot_id"]}


async def _give(p: Principal, h: int, form: Any) -> None:
    await floor.give_floor(p, h, form_maybe(form, "speaker_id"))


async def _next(p: Principal, h: int, form: Any) -> None:
    await floor.next_speaker(p, h)


async def _skip(p: Principal, h: int, form: Any) -> None:
    await floor.skip(p, h, form_number(form, "speaker_id", N_("a speaker")))


async def _extend(p: Principal, h: int, form: Any) -> None:
    await floor.extend(p, h, form_maybe(form, "seconds") or 60)


async def _add_speaker(p: Principal, h: int, form: Any) -> None:
    await floor.add_speaker(
        p, h, name=form_text(form, "name", 100), resident_id=form_maybe(form, "resident_id")
    )


async def _present(p: Principal, h: int, form: Any) -> None:
    await attendance.mark_present(p, h, form_number(form, "resident_id", N_("a resident")))


async def _departure(p: Principal, h: int, form: Any) -> None:
    await attendance.leave(p, h, form_number(form, "attendance_id", N_("a person present")))


async def _start(p: Principal, h: int, form: Any) -> None:
    await service.start(p, h)


async def _end(p: Principal, h: int, form: Any) -> None:
    await service.end(p, h)


CONSOLE: dict[str, tuple[Verb, str]] = {
    "start": (_start, N_("The hearing is in session.")),
    "end": (_end, N_("The hearing has ended.")),
    "open": (_open, N_("The item is open for discussion.")),
    "close": (_close, N_("The item is closed.")),
    "give": (_give, N_("The floor is given.")),
    "next": (_next, N_("Next speaker.")),
    "skip": (_skip, N_("Skipped.")),
    "extend": (_extend, N_("More time given.")),
    "add-speaker": (_add_speaker, N_("Added to the queue.")),
    "present": (_present, N_("Marked present.")),
    "leave": (_departure, N_("The departure is recorded.")),
}


# Agenda editing, for the organisers and the host ------------------------------------------


async def _add_item(p: Principal, h: int, form: Any) -> None:
    minutes = form_text(form, "minutes", 10).strip() or "15"
    if not minutes.isdigit():
        raise Invalid(N_("An item's time budget is between 1 and 480 minutes."))
    await service.add_item(
        p,
        h,
        {
            "proposal_id": form_maybe(form, "proposal"),
            "title": form_text(form, "title", 100),
            "minutes_budget": int(minutes),
        },
    )


async def _move_item(p: Principal, h: int, form: Any) -> None:
    item_id = form_number(form, "item_id", N_("an agenda item"))
    state = await live_state(h)
    ids = [i["id"] for i in state["items"]]
    if item_id not in ids:
        raise NotFound(N_("No agenda item {id} in this hearing."), id=item_id)
    step = -1 if form_text(form, "direction", 10) == "up" else 1
    await service.move_item(p, h, item_id, max(0, min(len(ids) - 1, ids.index(item_id) + step)))


async def _remove_item(p: Principal, h: int, form: Any) -> None:
    await service.remove_item(p, h, form_number(form, "item_id", N_("an agenda item")))


AGENDA: dict[str, tuple[Verb, str]] = {
    "add": (_add_item, N_("The item is on the agenda.")),
    "move": (_move_item, N_("The agenda is reordered.")),
    "remove": (_remove_item, N_("The item is removed from the agenda.")),
}


class HearingConsolePages(Controller):
    path = "/hearings"
    include_in_schema = False

    # the agenda's verbs, on the hearing page -----------------------------------------------

    @post("/{hearing_id:int}/agenda/{verb:str}", guards=[requires_login])
    async def agenda_verb(self, request: Req, hearing_id: int, verb: str) -> Any:
        if verb not in AGENDA:
            raise NotFound(N_("Unknown action."))
        action, message = AGENDA[verb]
        form = await request.form()
        await action(require_principal(request), hearing_id, form)
        return done(request, back_to(form, hearing_id, f"/hearings/{hearing_id}#agenda"), message)

    # the host's console --------------------------------------------------------------------

    @get("/{hearing_id:int}/console", guards=[requires_login])
    async def console(self, request: Req, hearing_id: int, q: str = "") -> Template:
        principal, row = await _host_row(request, hearing_id)
        state = await live_state(hearing_id)
        me = await attendance.viewer(principal, row)
        qr = _qr(request, hearing_id)
        people = await attendance.attendees(hearing_id)
        here = f"/hearings/{hearing_id}/console" + (f"?{urlencode({'q': q[:64]})}" if q.strip() else "")
        return Template(
            "hearings/console.html",
            context={
                "h": row,
                **live_context(state, me),
                "data": await page_data(request, row, state, me, "console"),
                "attendees": people,
                "present_residents": [a for a in people if a["left_at"] is None and a["resident"]],
                "found": await find_residents(row, q),
                "later": await _later_hearings(row),
                "members": await _council_members(row["scope_path"]),
                "qr_svg": qr["qr"].svg_inline(scale=1, omitsize=True, border=2, dark="#000"),
                "qr_url": qr["url"],
                "renews_in": qr["renews_in"],
                "here": here,
                **TERMS,
            },
        )

    @get("/{hearing_id:int}/console/attendees", guards=[requires_login])
    async def attendee_list(self, request: Req, hearing_id: int) -> dict[str, Any]:
        """Who came, for the console's list (hearing-live.js refreshes it when the counts change)."""
        await _host_row(request, hearing_id)
        return {"items": await attendance.attendees(hearing_id)}

    @get("/{hearing_id:int}/console/qr.svg", guards=[requires_login])
    async def qr_image(self, request: Req, hearing_id: int, code: str | None = None) -> Response[bytes]:
        """The check-in QR code as an SVG image: the current one, or the (still valid) code asked for."""
        await _host_row(request, hearing_id)
        qr = _qr(request, hearing_id, code[:100] if code else None)
        buffer = io.BytesIO()
        qr["qr"].save(buffer, kind="svg", scale=1, omitsize=True, border=2, xmldecl=False)
        return Response(
            buffer.getvalue(), media_type="image/svg+xml", headers={"cache-control": "private, max-age=120"}
        )

    @post("/{hearing_id:int}/console/{verb:str}", guards=[requires_login])
    async def console_verb(self, request: Req, hearing_id: int, verb: str) -> Any:
        if verb not in CONSOLE:
            raise NotFound(N_("Unknown action."))
        action, message = CONSOLE[verb]
        form = await request.form()
        result = await action(require_principal(request), hearing_id, form) or {}
        if result.get("ballot_id"):
            message = N_("The item is closed and a draft ballot has been created: set it up on its page.")
        return done(request, back_to(form, hearing_id, f"/hearings/{hearing_id}/console"), message, result)


HANDLERS = [HearingConsolePages]
