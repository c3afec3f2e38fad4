"""HTML pages of the discuss step (民事民议): the list of hearings and the schedule form, a
hearing's page (for everyone; the public record once it is over), the participants' live
page and the QR check-in, the host's console and the secretary's record.

Every page renders fully on the server, and every button is a form posting to a route
here that calls the same service as the JSON API and redirects back. On the live page and
the console, static/js/hearing-live.js follows the hearing's event stream and re-renders
from each state, and turns the console's forms into fetch() calls without a reload: it
sends `x-council-fetch: 1`, and the route then answers JSON instead of a redirect.
"""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import segno
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.response import File, Redirect, Template

from council.accounts.guards import principal_of, requires_login
from council.accounts.principal import Principal
from council.accounts.tables import Role, RoleAssignment, User
from council.community.service import household_labels
from council.community.tables import Node, Resident
from council.errors import DomainError, Forbidden, Invalid, NotFound
from council.hearings import attendance, floor, live, page_view, records, schedule_form, service
from council.hearings.tables import (
    KIND_TERMS,
    OUTCOME_TERMS,
    STATUS_TERMS,
    Attachment,
    Attendance,
    Hearing,
    HearingStatus,
    Invitees,
    Outcome,
    Statement,
)
from council.i18n import N_, Term
from council.web import Paging, flash, redirect, require_principal, safe_next, settings_of

Req = Request[Any, Any, Any]
FETCH_HEADER = "x-council-fetch"
SEARCH_LIMIT = 20
UPCOMING = [HearingStatus.scheduled.value, HearingStatus.running.value]
LIST_COLUMNS = (
    Hearing.id,
    Hearing.kind,
    Hearing.title,
    Hearing.status,
    Hearing.starts_at,
    Hearing.place,
    Hearing.online,
    Hearing.scope.name,
)
TERMS = {
    "kinds": KIND_TERMS,
    "statuses": STATUS_TERMS,
    "outcomes": OUTCOME_TERMS,
    "item_statuses": page_view.ITEM_STATUS_TERMS,
    "vias": page_view.VIA_TERMS,
}


def _zone(request: Req) -> ZoneInfo:
    return ZoneInfo(settings_of(request).timezone)


def _text(form: Any, key: str, limit: int = 5000) -> str:
    value = form.get(key, "")
    return value[:limit] if isinstance(value, str) else ""


def _number(form: Any, key: str, what: str) -> int:
    text = _text(form, key, 20).strip()
    if not text.isdigit():
        raise Invalid(N_("Choose {what}."), what=Term(what))
    return int(text)


def _maybe(form: Any, key: str) -> int | None:
    text = _text(form, key, 20).strip()
    return int(text) if text.isdigit() else None


def _fetched(request: Req) -> bool:
    return request.headers.get(FETCH_HEADER) == "1"


def _back(form: Any, hearing_id: int, home: str) -> str:
    """Where a button returns: the page it was pressed on, if it is one of this hearing's."""
    target = safe_next(_text(form, "next", 500), home)
    prefix = f"/hearings/{hearing_id}"
    return target if target == prefix or target[len(prefix) : len(prefix) + 1] in ("/", "?", "#") else home


def _done(request: Req, target: str, message: str, result: Mapping[str, Any] | None = None) -> Any:
    """After a form's verb: JSON for hearing-live.js, else the flash message and a redirect."""
    if _fetched(request):
        return Response({"ok": True, **(result or {})}, status_code=200)
    flash(request, message)
    return redirect(target)


def _login(path: str) -> Redirect:
    return redirect("/login?" + urlencode({"next": path}))


async def _page_data(
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


def _live_context(state: Mapping[str, Any], me: Mapping[str, Any]) -> dict[str, Any]:
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


async def _state(hearing_id: int) -> dict[str, Any]:
    state = await live.state(hearing_id)
    if state is None:
        raise NotFound(N_("No hearing with number {id}."), id=hearing_id)
    return state


async def _host_row(request: Req, hearing_id: int) -> tuple[Principal, dict[str, Any]]:
    principal = require_principal(request)
    row = await service.get_row(hearing_id)
    if not service.is_host(principal, row):
        raise Forbidden(N_("Only the hearing's host can use its console."))
    return principal, row


async def _secretary_row(request: Req, hearing_id: int) -> tuple[Principal, dict[str, Any]]:
    principal = require_principal(request)
    row = await service.get_row(hearing_id)
    if not service.is_secretary(principal, row):
        raise Forbidden(N_("Only the hearing's secretary or host can keep its record."))
    return principal, row


# The list and the schedule form ---------------------------------------------------------


async def _list(offset: int, limit: int) -> tuple[list[dict[str, Any]], int, int]:
    """Upcoming hearings (soonest first), then past ones (latest first), one page of them."""
    upcoming = Hearing.status.is_in(UPCOMING)
    n_upcoming = int(await Hearing.count().where(upcoming))
    total = int(await Hearing.count())
    rows: list[dict[str, Any]] = []
    if offset < n_upcoming:
        rows += (
            await Hearing.select(*LIST_COLUMNS)
            .where(upcoming)
            .order_by(Hearing.starts_at)
            .order_by(Hearing.id)
            .offset(offset)
            .limit(limit)
        )
    if len(rows) < limit:
        rows += (
            await Hearing.select(*LIST_COLUMNS)
            .where(Hearing.status.not_in(UPCOMING))
            .order_by(Hearing.starts_at, ascending=False)
            .order_by(Hearing.id, ascending=False)
            .offset(max(0, offset - n_upcoming))
            .limit(limit - len(rows))
        )
    return rows, n_upcoming, total


def _organiser(request: Req) -> Principal:
    principal = require_principal(request)
    if not schedule_form.organised_paths(principal):
        raise Forbidden(N_("Only council members, hosts and staff of this place can schedule hearings."))
    return principal


async def _form_page(
    request: Req, principal: Principal, form: schedule_form.HearingForm, error: DomainError | None = None
) -> Template:
    chosen = [int(i["proposal"]) for i in form.items if i["proposal"].isdigit()]
    offered = await schedule_form.choices(principal, chosen[0] if chosen else None)
    return Template(
        "hearings/new.html",
        context={
            "f": form.values,
            "items": form.items,
            **offered,
            "speaking_minutes": schedule_form.SPEAKING_MINUTES,
            "zone": settings_of(request).timezone,
            "error": error.detail() if error else "",
            **TERMS,
        },
        status_code=error.status_code if error else 200,
    )


# Resident search for the host's roster ---------------------------------------------------


async def find_residents(row: Mapping[str, Any], query: str) -> dict[str, Any]:
    """Active residents of the hearing's place whose name, ID or household ("3栋2单元301",
    "2单元", "301") matches."""
    query = query.strip()[:64]
    if not query:
        return {"query": "", "items": [], "more": False}
    places = await household_labels(row["scope_path"])
    squeezed = "".join(query.split())
    households = [h for h, label in places.items() if squeezed in label]
    literal = query.replace("%", "").replace("_", "")
    match: Any = Resident.household.is_in(households[:2000] or [-1])
    if literal:
        match = match | Resident.name.like(f"%{literal}%") | Resident.code.like(f"%{literal}%")
    residents = await Resident.select(
        Resident.id, Resident.name, Resident.code, Resident.household, Resident.is_representative
    ).where((Resident.active == True) & Resident.household.is_in(list(places) or [-1]) & match)  # noqa: E712
    residents.sort(key=lambda r: (places.get(r["household"], ""), not r["is_representative"], r["code"]))
    present = {
        a["resident"]
        for a in await attendance.attendees(row["id"])
        if a["left_at"] is None and a["resident"] is not None
    }
    items = [
        {**r, "place": places.get(r["household"], ""), "present": r["id"] in present}
        for r in residents[:SEARCH_LIMIT]
    ]
    return {"query": query, "items": items, "more": len(residents) > SEARCH_LIMIT}


_HOME: Any = Attendance.household


async def attendees(hearing_id: int) -> list[dict[str, Any]]:
    """Who came, with arrival and departure times, and where they live ("1栋1单元101")."""
    rows: list[dict[str, Any]] = (
        await Attendance.select(
            Attendance.id,
            Attendance.name,
            Attendance.via,
            Attendance.arrived_at,
            Attendance.left_at,
            Attendance.late,
            Attendance.resident,
            _HOME.name,
            _HOME.parent.name,
            _HOME.parent.parent.name,
        )
        .where(Attendance.hearing == hearing_id)
        .order_by(Attendance.arrived_at)
        .order_by(Attendance.id)
    )
    for row in rows:
        parts = [row.pop(key) for key in ("household.parent.parent.name", "household.parent.name")]
        room = row.pop("household.name")
        row["place"] = "".join(p or "" for p in [*parts, room]) if room else ""
    return rows


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
    await floor.open_item(p, h, _number(form, "item_id", N_("an agenda item")))


async def _close(p: Principal, h: int, form: Any) -> dict[str, Any]:
    chosen = _text(form, "outcome", 20)
    if chosen not in {o.value for o in Outcome}:
        raise Invalid(N_("Choose how the item ends."))
    outcome = Outcome(chosen)
    ballot = None
    if outcome is Outcome.ballot:
        days = _maybe(form, "days") or 7
        if not 1 <= days <= 90:
            raise Invalid(N_("A ballot is open for 1 to 90 days."))
        basis = "resident" if _text(form, "weight_basis", 20) == "resident" else "household"
        ballot = {"secrecy": "open", "weight_basis": basis, "days": days}
    done = await floor.close_item(
        p,
        h,
        _number(form, "item_id", N_("an agenda item")),
        outcome=outcome,
        text=_text(form, "text") if outcome is Outcome.consensus else "",
        defer_to=_maybe(form, "defer_to") if outcome is Outcome.deferred else None,
        assignee_id=_maybe(form, "assignee_id") if outcome is Outcome.dispatch else None,
        ballot=ballot,
    )
    return {"ballot_id": done["ballot_id"]}


async def _give(p: Principal, h: int, form: Any) -> None:
    await floor.give_floor(p, h, _maybe(form, "speaker_id"))


async def _next(p: Principal, h: int, form: Any) -> None:
    await floor.next_speaker(p, h)


async def _skip(p: Principal, h: int, form: Any) -> None:
    await floor.skip(p, h, _number(form, "speaker_id", N_("a speaker")))


async def _extend(p: Principal, h: int, form: Any) -> None:
    await floor.extend(p, h, _maybe(form, "seconds") or 60)


async def _add_speaker(p: Principal, h: int, form: Any) -> None:
    await floor.add_speaker(p, h, name=_text(form, "name", 100), resident_id=_maybe(form, "resident_id"))


async def _present(p: Principal, h: int, form: Any) -> None:
    await attendance.mark_present(p, h, _number(form, "resident_id", N_("a resident")))


async def _departure(p: Principal, h: int, form: Any) -> None:
    await attendance.leave(p, h, _number(form, "attendance_id", N_("a person present")))


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
    minutes = _text(form, "minutes", 10).strip() or "15"
    if not minutes.isdigit():
        raise Invalid(N_("An item's time budget is between 1 and 480 minutes."))
    await service.add_item(
        p,
        h,
        {
            "proposal_id": _maybe(form, "proposal"),
            "title": _text(form, "title", 100),
            "minutes_budget": int(minutes),
        },
    )


async def _move_item(p: Principal, h: int, form: Any) -> None:
    item_id = _number(form, "item_id", N_("an agenda item"))
    state = await _state(h)
    ids = [i["id"] for i in state["items"]]
    if item_id not in ids:
        raise NotFound(N_("No agenda item {id} in this hearing."), id=item_id)
    step = -1 if _text(form, "direction", 10) == "up" else 1
    await service.move_item(p, h, item_id, max(0, min(len(ids) - 1, ids.index(item_id) + step)))


async def _remove_item(p: Principal, h: int, form: Any) -> None:
    await service.remove_item(p, h, _number(form, "item_id", N_("an agenda item")))


AGENDA: dict[str, tuple[Verb, str]] = {
    "add": (_add_item, N_("The item is on the agenda.")),
    "move": (_move_item, N_("The agenda is reordered.")),
    "remove": (_remove_item, N_("The item is removed from the agenda.")),
}


# The record ---------------------------------------------------------------------------------


def _spoken_at(text: str, row: Mapping[str, Any], zone: ZoneInfo) -> datetime | None:
    """ "14:05" on the day the hearing started, in the community's zone; empty for now."""
    text = text.strip()
    if not text:
        return None
    try:
        hour, minute = (int(part) for part in text.split(":")[:2])
        day: datetime = (row["started_at"] or row["starts_at"]).astimezone(zone)
        return day.replace(hour=hour, minute=minute, second=0, microsecond=0).astimezone(UTC)
    except (ValueError, TypeError):
        raise Invalid(N_("The time is hours and minutes, for example 14:05.")) from None


async def _people_named(hearing_id: int, name: str) -> int | None:
    """The resident behind a speaker's name, when exactly one attendee carries it."""
    found = {
        a["resident"] for a in await attendance.attendees(hearing_id) if a["name"] == name and a["resident"]
    }
    return found.pop() if len(found) == 1 else None


class HearingPages(Controller):
    path = "/hearings"
    include_in_schema = False

    @get("/", opt={"public": True})
    async def index(self, request: Req, offset: int = 0, limit: int = 20) -> Template:
        page = Paging.of(offset, limit, default=20)
        rows, n_upcoming, total = await _list(page.offset, page.limit)
        principal = principal_of(request)
        for number, row in enumerate(rows, start=page.offset):
            row["upcoming"] = number < n_upcoming
        return Template(
            "hearings/index.html",
            context={
                "upcoming": [r for r in rows if r["upcoming"]],
                "past": [r for r in rows if not r["upcoming"]],
                "total": total,
                "page": page,
                "base": "/hearings",
                "can_schedule": principal is not None and bool(schedule_form.organised_paths(principal)),
                **TERMS,
            },
        )

    @get("/new", guards=[requires_login])
    async def new(self, request: Req, proposal: str = "") -> Template:
        principal = _organiser(request)
        chosen = None
        if proposal.isdigit():
            found = await schedule_form.matters(schedule_form.organised_paths(principal), int(proposal))
            chosen = next((m for m in found if m["id"] == int(proposal)), None)
        form = schedule_form.blank_form(_zone(request), principal, chosen)
        if not form.values["scope_id"]:
            places = await schedule_form.places(principal)
            form.values["scope_id"] = str(places[0]["id"]) if places else ""
        return await _form_page(request, principal, form)

    @post("/new", guards=[requires_login])
    async def schedule(self, request: Req) -> Template | Redirect:
        principal = _organiser(request)
        form = schedule_form.read_form(await request.form())
        try:
            new_id = await service.schedule(principal, **schedule_form.schedule_args(form, _zone(request)))
        except DomainError as error:
            return await _form_page(request, principal, form, error)
        flash(request, N_("The hearing is scheduled and the invitations are sent."))
        return redirect(f"/hearings/{new_id}")

    @get("/{hearing_id:int}", opt={"public": True})
    async def show(self, request: Req, hearing_id: int) -> Template:
        principal = principal_of(request)
        d = await _detail(principal, hearing_id)
        if "attendees" in d:
            d["attendees"] = await attendees(hearing_id)
        row = await service.get_row(hearing_id)
        me = await attendance.viewer(principal, row)
        finished = row["status"] == HearingStatus.ended.value
        items = await page_view.agenda(hearing_id)
        context = {
            "h": row,
            "d": d,
            "viewer": me,
            "items": items,
            "titles": {i["id"]: i["title"] for i in items},
            "speaking_minutes": f"{row['speaking_seconds'] / 60:g}",
            "counts": await page_view.came(row) if finished else d["attendance"],
            "finished": finished,
            "over": page_view.over(row["status"]),
            "quorum_rule": page_view.quorum_rule(row["quorum_permille"], row["invitees"]),
            "scope_name": await _scope_name(row["scope"]),
            "can_edit": (d["may_organise"] or d["may_host"]) and not page_view.over(row["status"]),
            "matters": await schedule_form.matters([row["scope_path"]])
            if d["may_organise"] or d["may_host"]
            else [],
            "council": row["invitees"] == Invitees.council.value,
            **TERMS,
        }
        return Template("hearings/show.html", context=context)

    @post("/{hearing_id:int}/check-in", guards=[requires_login])
    async def check_in(self, request: Req, hearing_id: int) -> Template | Redirect:
        """Online (no code), or with the code of the QR shown in the room."""
        principal = require_principal(request)
        form = await request.form()
        code = _text(form, "code", 100).strip() or None
        try:
            added = await attendance.check_in(
                principal, hearing_id, code=code, secret=settings_of(request).secret_key
            )
        except DomainError as error:
            if code is None:
                raise
            return await _check_in_page(request, hearing_id, code, error)
        flash(request, N_("You are checked in.") if added else N_("You were already checked in."))
        return redirect(f"/hearings/{hearing_id}/live")

    @get("/{hearing_id:int}/check-in", opt={"public": True})
    async def check_in_form(self, request: Req, hearing_id: int, code: str = "") -> Template | Redirect:
        """What the QR code in the room opens: a confirm button (after logging in)."""
        await service.get_row(hearing_id)
        if principal_of(request) is None:
            return _login(f"/hearings/{hearing_id}/check-in?" + urlencode({"code": code[:100]}))
        error = None
        try:
            attendance.check_qr(settings_of(request).secret_key, hearing_id, code[:100])
        except DomainError as problem:
            error = problem
        return await _check_in_page(request, hearing_id, code[:100], error)

    @post("/{hearing_id:int}/leave", guards=[requires_login])
    async def leave(self, request: Req, hearing_id: int) -> Redirect:
        await attendance.leave(require_principal(request), hearing_id)
        flash(request, N_("Your departure is recorded. Thank you for coming."))
        return redirect(f"/hearings/{hearing_id}")

    @post("/{hearing_id:int}/floor/{verb:str}", guards=[requires_login])
    async def floor_verb(self, request: Req, hearing_id: int, verb: str) -> Any:
        """The live page's button without JavaScript: ask for the floor, or withdraw."""
        principal = require_principal(request)
        if verb == "request":
            await floor.request_floor(principal, hearing_id)
            message = N_("You are in the queue. The host will give you the floor.")
        elif verb == "withdraw":
            await floor.withdraw(principal, hearing_id)
            message = N_("Your request is withdrawn.")
        else:
            raise NotFound(N_("Unknown action."))
        return _done(request, f"/hearings/{hearing_id}/live", message)

    @post("/{hearing_id:int}/cancel", guards=[requires_login])
    async def cancel(self, request: Req, hearing_id: int) -> Redirect:
        form = await request.form()
        await service.cancel(require_principal(request), hearing_id, _text(form, "reason", 1000))
        flash(request, N_("The hearing is cancelled and the invitees are told."))
        return redirect(f"/hearings/{hearing_id}")

    @post("/{hearing_id:int}/agenda/{verb:str}", guards=[requires_login])
    async def agenda_verb(self, request: Req, hearing_id: int, verb: str) -> Any:
        if verb not in AGENDA:
            raise NotFound(N_("Unknown action."))
        action, message = AGENDA[verb]
        form = await request.form()
        await action(require_principal(request), hearing_id, form)
        return _done(request, _back(form, hearing_id, f"/hearings/{hearing_id}#agenda"), message)

    # the live page -------------------------------------------------------------------------

    @get("/{hearing_id:int}/live", opt={"public": True})
    async def live_page(self, request: Req, hearing_id: int) -> Template:
        principal = principal_of(request)
        row = await service.get_row(hearing_id)
        state = await _state(hearing_id)
        me = await attendance.viewer(principal, row)
        return Template(
            "hearings/live.html",
            context={
                "h": row,
                **_live_context(state, me),
                "data": await _page_data(request, row, state, me, "live"),
                **TERMS,
            },
        )

    # the host's console --------------------------------------------------------------------

    @get("/{hearing_id:int}/console", guards=[requires_login])
    async def console(self, request: Req, hearing_id: int, q: str = "") -> Template:
        principal, row = await _host_row(request, hearing_id)
        state = await _state(hearing_id)
        me = await attendance.viewer(principal, row)
        qr = _qr(request, hearing_id)
        people = await attendees(hearing_id)
        here = f"/hearings/{hearing_id}/console" + (f"?{urlencode({'q': q[:64]})}" if q.strip() else "")
        return Template(
            "hearings/console.html",
            context={
                "h": row,
                **_live_context(state, me),
                "data": await _page_data(request, row, state, me, "console"),
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
        return {"items": await attendees(hearing_id)}

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
        return _done(request, _back(form, hearing_id, f"/hearings/{hearing_id}/console"), message, result)

    # the secretary's record ----------------------------------------------------------------

    @get("/{hearing_id:int}/record", guards=[requires_login])
    async def record(self, request: Req, hearing_id: int) -> Template:
        _, row = await _secretary_row(request, hearing_id)
        return await _record_page(request, row)

    @post("/{hearing_id:int}/record/{verb:str}", guards=[requires_login])
    async def record_verb(self, request: Req, hearing_id: int, verb: str) -> Template | Redirect:
        principal, row = await _secretary_row(request, hearing_id)
        form = await request.form()
        values = {k: v for k, v in form.items() if isinstance(v, str) and k != "_csrf_token"}
        try:
            if verb == "statement":
                speaker = _text(form, "speaker_name", 100).strip()
                await records.record_statement(
                    principal,
                    hearing_id,
                    speaker_name=speaker,
                    summary=_text(form, "summary"),
                    item_id=_maybe(form, "item_id"),
                    resident_id=await _people_named(hearing_id, speaker),
                    spoken_at=_spoken_at(_text(form, "time", 10), row, _zone(request)),
                )
                message = N_("The statement is recorded.")
            elif verb == "edit":
                await records.edit_statement(
                    principal,
                    hearing_id,
                    _number(form, "statement_id", N_("a statement")),
                    summary=_text(form, "summary"),
                )
                message = N_("Saved.")
            elif verb == "motion":
                await records.record_motion(
                    principal,
                    hearing_id,
                    text=_text(form, "text"),
                    moved_by=_text(form, "moved_by", 100),
                    seconded_by=_text(form, "seconded_by", 100),
                    item_id=_maybe(form, "item_id"),
                    amends=_maybe(form, "amends"),
                )
                message = N_("The motion is recorded.")
            elif verb == "attach":
                upload = form.get("file")
                if not isinstance(upload, UploadFile) or not upload.filename:
                    raise Invalid(N_("Choose a file to attach."))
                await records.attach(
                    principal,
                    hearing_id,
                    data_dir=settings_of(request).data_dir,
                    filename=upload.filename,
                    content_type=upload.content_type,
                    content=await upload.read(),
                    item_id=_maybe(form, "item_id"),
                )
                message = N_("The file is attached.")
            else:
                raise NotFound(N_("Unknown action."))
        except DomainError as error:
            if isinstance(error, Forbidden):
                raise
            row = await service.get_row(hearing_id)
            return await _record_page(request, row, verb, values, error)
        flash(request, message)
        return redirect(f"/hearings/{hearing_id}/record#{verb}")

    @get("/{hearing_id:int}/attachments/{attachment_id:int}", guards=[requires_login])
    async def attachment(self, request: Req, hearing_id: int, attachment_id: int) -> File:
        """An attachment of the record: for those logged in, who see the record."""
        row = (
            await Attachment.select()
            .where((Attachment.id == attachment_id) & (Attachment.hearing == hearing_id))
            .first()
        )
        if row is None:
            raise NotFound(N_("No attachment {id} in this hearing."), id=attachment_id)
        path = records.attachment_path(settings_of(request).data_dir, row["sha256"])
        if not path.exists():
            raise NotFound(N_("No attachment {id} in this hearing."), id=attachment_id)
        return File(path=path, filename=row["filename"], media_type=row["content_type"])


async def _detail(principal: Principal | None, hearing_id: int) -> dict[str, Any]:
    from council.hearings import queries

    return await queries.detail(principal, hearing_id)


async def _scope_name(node_id: int) -> str:
    node = await Node.select(Node.name).where(Node.id == node_id).first()
    return str(node["name"]) if node else ""


async def _check_in_page(request: Req, hearing_id: int, code: str, error: DomainError | None) -> Template:
    row = await service.get_row(hearing_id)
    me = await attendance.viewer(principal_of(request), row)
    return Template(
        "hearings/check_in.html",
        context={
            "h": row,
            "code": code,
            "viewer": me,
            "over": page_view.over(row["status"]),
            "error": error.detail() if error else "",
            **TERMS,
        },
        status_code=error.status_code if error else 200,
    )


async def _record_page(
    request: Req,
    row: Mapping[str, Any],
    verb: str = "",
    values: Mapping[str, str] | None = None,
    error: DomainError | None = None,
) -> Template:
    hearing_id = row["id"]
    state = await _state(hearing_id)
    kept = await records.record_of(hearing_id)
    people = await attendance.attendees(hearing_id)
    names = sorted({a["name"] for a in people} | {q["name"] for q in state["queue"]})
    if state["speaking"]:
        names = sorted(set(names) | {state["speaking"]["name"]})
    spoken = await Statement.select(Statement.speaker_name).where(Statement.hearing == hearing_id)
    names = sorted(set(names) | {s["speaker_name"] for s in spoken})
    titles = {i["id"]: i["title"] for i in state["items"]}
    motions = kept["motions"]
    for motion in motions:
        motion["amendments"] = [m for m in motions if m["amends"] == motion["id"]]
    return Template(
        "hearings/record.html",
        context={
            "h": row,
            "s": state,
            "statements": kept["statements"],
            "motions": [m for m in motions if m["amends"] is None],
            "all_motions": motions,
            "attachments": kept["attachments"],
            "titles": titles,
            "names": names,
            "speaker_now": state["speaking"]["name"] if state["speaking"] else "",
            "editable": row["sealed_at"] is None
            and row["status"] in (HearingStatus.running.value, HearingStatus.ended.value),
            "verb": verb,
            "v": values or {},
            "error": error.detail() if error else "",
            "types": ", ".join(sorted(records.ATTACHMENT_TYPES.values())),
            "max_mb": min(records.MAX_ATTACHMENT, settings_of(request).max_upload_bytes) // (1024 * 1024),
            **TERMS,
        },
        status_code=error.status_code if error else 200,
    )


HANDLERS = [HearingPages]
