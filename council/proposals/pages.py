"""HTML pages of the propose step: the list, the form, the matter page and its actions."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.response import Redirect, Template

from council.accounts.guards import principal_of, requires_login, requires_role
from council.accounts.principal import Principal
from council.accounts.tables import Role, RoleAssignment, User
from council.community.service import ancestors, get_node, place_choices, roots
from council.community.tables import NodeKind
from council.errors import Forbidden, Invalid, NotFound
from council.i18n import N_
from council.proposals import comments, orders, photos, queries, service, triage
from council.proposals.rules import Rules, rules_for, set_rules
from council.proposals.schemas import ProposalEditIn, ProposalIn, RulesIn
from council.proposals.tables import CATEGORY_TERMS, KIND_TERMS, ORDER_STATUS_TERMS, STATUS_TERMS
from council.web import Paging, convert, flash, form_data, redirect, require_principal, settings_of

TERMS = {
    "categories": CATEGORY_TERMS,
    "kinds": KIND_TERMS,
    "statuses": STATUS_TERMS,
    "order_statuses": ORDER_STATUS_TERMS,
}


def _int(data: dict[str, Any], key: str) -> int:
    try:
        return int(str(data.get(key, "")))
    except ValueError:
        raise Invalid(N_("Field {field}: {problem}"), field=key, problem="a number is required") from None


Action = Callable[[Principal, int, dict[str, Any]], Awaitable[Any]]


async def _edit(principal: Principal, proposal_id: int, data: dict[str, Any]) -> None:
    body = convert(data, ProposalEditIn, from_form=True)
    await service.update(
        principal, proposal_id, title=body.title, description=body.description, category=body.category
    )


ACTIONS: dict[str, tuple[Action, tuple[str, ...]]] = {
    "submit": (lambda p, i, d: service.submit(p, i), ()),
    "cosign": (lambda p, i, d: service.cosign(p, i, bool(d["show_name"])), ("show_name",)),
    "withdraw": (lambda p, i, d: service.withdraw_cosign(p, i), ()),
    "comment": (lambda p, i, d: comments.add_comment(p, i, str(d.get("body", ""))[:2000]), ()),
    "accept": (lambda p, i, d: triage.accept(p, i, str(d.get("reason", ""))[:1000]), ()),
    "reject": (lambda p, i, d: triage.reject(p, i, str(d.get("reason", ""))[:1000]), ()),
    "merge": (lambda p, i, d: triage.merge(p, i, _int(d, "into_id"), str(d.get("reason", ""))[:1000]), ()),
    "dispatch": (lambda p, i, d: triage.dispatch(p, i, _int(d, "assignee_id"), _int(d, "days")), ()),
    "take": (lambda p, i, d: orders.take(p, i), ()),
    "note": (lambda p, i, d: orders.add_note(p, i, str(d.get("body", ""))[:2000]), ()),
    "finish": (lambda p, i, d: orders.finish(p, i, str(d.get("body", ""))[:2000]), ()),
    "confirm": (lambda p, i, d: orders.confirm(p, i, _int(d, "rating"), str(d.get("comment", ""))[:500]), ()),
    "reopen": (lambda p, i, d: orders.reopen(p, i, str(d.get("reason", ""))[:1000]), ()),
}


class MatterPages(Controller):
    path = "/matters"
    include_in_schema = False

    @get("/", opt={"public": True})
    async def index(
        self,
        request: Request[Any, Any, Any],
        q: str = "",
        status: str = "",
        kind: str = "",
        category: str = "",
        place: str = "",
        sort: str = "newest",
        mine: bool = False,
        offset: int = 0,
        limit: int = 20,
    ) -> Template:
        page = Paging.of(offset, limit, default=20)
        rows, total = await queries.find(
            principal_of(request),
            q=q[:100],
            status=status or None,
            kind=kind or None,
            category=category or None,
            scope_id=int(place) if place.isdigit() else None,
            sort=sort,
            mine=mine,
            offset=page.offset,
            limit=page.limit,
        )
        filters = {
            "q": q,
            "status": status,
            "kind": kind,
            "category": category,
            "sort": sort,
            "place": place if place.isdigit() else "",
            "mine": "true" if mine else "",
        }
        query = urlencode({k: v for k, v in filters.items() if v})
        return Template(
            "proposals/index.html",
            context={
                "rows": rows,
                "total": total,
                "page": page,
                "filters": filters,
                "base": f"/matters?{query}",
                "places": await place_choices(kinds=(NodeKind.community, NodeKind.grid, NodeKind.building)),
                **TERMS,
            },
        )

    @get("/new", guards=[requires_login])
    async def new(self, request: Request[Any, Any, Any]) -> Template:
        principal = require_principal(request)
        resident = await service.household_of(principal)
        household = await get_node(resident["household"])
        places = [a for a in await ancestors(household) if a["kind"] != "household"]
        return Template(
            "proposals/new.html",
            context={
                "places": list(reversed(places)),
                "can_rectify": principal.has_role(*service.TRIAGE_ROLES),
                **TERMS,
            },
        )

    @post("/", guards=[requires_login])
    async def create(self, request: Request[Any, Any, Any]) -> Redirect:
        principal = require_principal(request)
        form = await request.form()
        uploads = [f for f in form.getall("photos") if isinstance(f, UploadFile) and f.filename]
        if len(uploads) > photos.MAX_PHOTOS:
            raise Invalid(N_("A proposal can have at most {n} photos."), n=photos.MAX_PHOTOS)
        data = {k: v for k, v in form.items() if k not in ("_csrf_token", "photos")}
        data["submit"] = data.get("submit") != "draft"
        body = convert(data, ProposalIn, from_form=True)
        # Check every photo before anything is saved: a bad photo changes nothing.
        raw = [await u.read() for u in uploads]
        for item in raw:
            await asyncio.to_thread(photos.clean_image, item)
        new_id = await service.create(
            principal,
            title=body.title,
            description=body.description,
            scope_id=body.scope_id,
            category=body.category,
            kind=body.kind,
            submit=False,
        )
        for item in raw:
            await photos.add_photo(principal, new_id, item, settings_of(request).data_dir)
        if body.submit:
            await service.submit(principal, new_id)
        flash(request, N_("Your proposal has been saved."))
        return redirect(f"/matters/{new_id}")

    @get("/{proposal_id:int}", opt={"public": True})
    async def show(self, request: Request[Any, Any, Any], proposal_id: int) -> Template:
        principal = principal_of(request)
        dossier = await queries.dossier(principal, proposal_id)
        row = dossier["proposal"]
        can_triage = principal is not None and principal.can(row["scope_path"], *service.TRIAGE_ROLES)
        assignees = await _assignees(row["scope_path"]) if can_triage else []
        return Template(
            "proposals/show.html",
            context={
                "d": dossier,
                "p": row,
                "principal": principal,
                "can_triage": can_triage,
                "assignees": assignees,
                **TERMS,
            },
        )

    @get("/{proposal_id:int}/edit", guards=[requires_login])
    async def edit_form(self, request: Request[Any, Any, Any], proposal_id: int) -> Template:
        row = await service.visible_row(require_principal(request), proposal_id)
        if row["proposer"] != require_principal(request).id:
            raise Forbidden(N_("Only the proposer can edit a proposal."))
        return Template("proposals/edit.html", context={"p": row, **TERMS})

    @post("/{proposal_id:int}/edit", guards=[requires_login])
    async def edit(self, request: Request[Any, Any, Any], proposal_id: int) -> Redirect:
        await _edit(require_principal(request), proposal_id, await form_data(request))
        flash(request, N_("Saved."))
        return redirect(f"/matters/{proposal_id}")

    @get("/rules", guards=[requires_role(Role.staff)])
    async def rules_form(self, request: Request[Any, Any, Any]) -> Template:
        communities = await roots()
        current = {c["id"]: await rules_for(c["path"]) for c in communities}
        return Template("proposals/rules.html", context={"communities": communities, "rules": current})

    @post("/rules", guards=[requires_role(Role.staff)])
    async def save_rules(self, request: Request[Any, Any, Any]) -> Redirect:
        data = await form_data(request)
        community_id = _int(data, "community_id")
        data.pop("community_id", None)
        body = convert(data, RulesIn, from_form=True)
        await set_rules(
            require_principal(request),
            community_id,
            Rules(body.cosign_basis, body.threshold_kind, body.threshold_value, body.response_days),
        )
        flash(request, N_("Saved."))
        return redirect("/matters/rules")

    @post("/{proposal_id:int}/{verb:str}", guards=[requires_login])
    async def act(self, request: Request[Any, Any, Any], proposal_id: int, verb: str) -> Redirect:
        if verb not in ACTIONS:
            raise NotFound(N_("Unknown action."))
        action, checkboxes = ACTIONS[verb]
        data = await form_data(request, *checkboxes)
        await action(require_principal(request), proposal_id, data)
        flash(request, N_("Done."))
        return redirect(f"/matters/{proposal_id}")

    @post("/comments/{comment_id:int}/hide", guards=[requires_login])
    async def hide(self, request: Request[Any, Any, Any], comment_id: int) -> Redirect:
        data = await form_data(request)
        await comments.hide_comment(require_principal(request), comment_id, str(data.get("reason", ""))[:200])
        flash(request, N_("Saved."))
        return redirect(safe_back(request))

    @get("/overdue", guards=[requires_login])
    async def overdue(self, request: Request[Any, Any, Any]) -> Template:
        rows = await triage.overdue(require_principal(request))
        return Template("proposals/overdue.html", context={"rows": rows})


def safe_back(request: Request[Any, Any, Any]) -> str:
    referer = request.headers.get("referer", "")
    path = "/" + referer.split("/", 3)[3] if referer.count("/") >= 3 else "/matters"
    return path if path.startswith("/matters/") else "/matters"


async def _assignees(scope_path: str) -> list[dict[str, Any]]:
    """Council members who could take a dispatched wish in this place."""
    rows = await RoleAssignment.select(RoleAssignment.user, RoleAssignment.node.path).where(
        RoleAssignment.role == Role.council_member.value
    )
    ids = sorted({r["user"] for r in rows if scope_path.startswith(r["node.path"])})
    if not ids:
        return []
    return await User.select(User.id, User.display_name).where(User.id.is_in(ids) & (User.active == True))  # noqa: E712


class OrderPages(Controller):
    path = "/orders"
    guards = [requires_login]
    include_in_schema = False

    @get("/")
    async def mine(self, request: Request[Any, Any, Any]) -> Template:
        return Template(
            "proposals/orders.html",
            context={
                "rows": await orders.my_orders(require_principal(request)),
                "now": datetime.now(UTC),
                **TERMS,
            },
        )

    @get("/ledger")
    async def ledger(self, request: Request[Any, Any, Any], days: int = 30) -> Template:
        days = max(1, min(days, 3660))
        end = datetime.now(UTC)
        figures = await orders.ledger(require_principal(request), end - timedelta(days=days), end)
        return Template("proposals/ledger.html", context={"f": figures, "days": days})


HANDLERS = [MatterPages, OrderPages]
