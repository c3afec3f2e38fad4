"""HTML pages of the discuss step (民事民议) for residents: the list of hearings and the
schedule form, a hearing's page (for everyone; the public record once it is over), the QR
check-in and leaving, the participants' live page and their floor button, and cancelling.

Every page renders fully on the server; what the pages share (form fields, answers to a
form's verb, the live pages' context) is in page_common.py. The host's console and the
agenda's verbs are in console_pages.py, the secretary's record in record_pages.py.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Controller, get, post
from litestar.response import Redirect, Template

from council.accounts.guards import principal_of, requires_login
from council.accounts.principal import Principal
from council.community.tables import Node
from council.errors import DomainError, Forbidden, NotFound
from council.hearings import attendance, floor, page_view, schedule_form, service
from council.hearings.page_common import (
    TERMS,
    Req,
    done,
    form_text,
    live_context,
    live_state,
    page_data,
    zone_of,
)
from council.hearings.tables import Hearing, HearingStatus, Invitees
from council.i18n import N_
from council.web import Paging, flash, redirect, require_principal, settings_of

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


def _login(path: str) -> Redirect:
    return redirect("/login?" + urlencode({"next": path}))


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
        form = schedule_form.blank_form(zone_of(request), principal, chosen)
        if not form.values["scope_id"]:
            places = await schedule_form.places(principal)
            form.values["scope_id"] = str(places[0]["id"]) if places else ""
        return await _form_page(request, principal, form)

    @post("/new", guards=[requires_login])
    async def schedule(self, request: Req) -> Template | Redirect:
        principal = _organiser(request)
        form = schedule_form.read_form(await request.form())
        try:
            new_id = await service.schedule(principal, **schedule_form.schedule_args(form, zone_of(request)))
        except DomainError as error:
            return await _form_page(request, principal, form, error)
        flash(request, N_("The hearing is scheduled and the invitations are sent."))
        return redirect(f"/hearings/{new_id}")

    @get("/{hearing_id:int}", opt={"public": True})
    async def show(self, request: Req, hearing_id: int) -> Template:
        principal = principal_of(request)
        d = await _detail(principal, hearing_id)
        row = await service.get_row(hearing_id)
        me = await attendance.viewer(principal, row)
        finished = row["status"] == HearingStatus.ended.value
        items = await page_view.agenda(hearing_id, principal)
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
        code = form_text(form, "code", 100).strip() or None
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
        return done(request, f"/hearings/{hearing_id}/live", message)

    @post("/{hearing_id:int}/cancel", guards=[requires_login])
    async def cancel(self, request: Req, hearing_id: int) -> Redirect:
        form = await request.form()
        await service.cancel(require_principal(request), hearing_id, form_text(form, "reason", 1000))
        flash(request, N_("The hearing is cancelled and the invitees are told."))
        return redirect(f"/hearings/{hearing_id}")

    # the live page -------------------------------------------------------------------------

    @get("/{hearing_id:int}/live", opt={"public": True})
    async def live_page(self, request: Req, hearing_id: int) -> Template:
        principal = principal_of(request)
        row = await service.get_row(hearing_id)
        state = await live_state(hearing_id)
        me = await attendance.viewer(principal, row)
        return Template(
            "hearings/live.html",
            context={
                "h": row,
                **live_context(state, me),
                "data": await page_data(request, row, state, me, "live"),
                **TERMS,
            },
        )


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


HANDLERS = [HearingPages]
