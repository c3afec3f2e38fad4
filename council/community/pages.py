"""HTML pages of the roster, for staff."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.response import Redirect, Template

from council.accounts.guards import requires_role
from council.accounts.tables import Role, User
from council.community import residents, roster_csv, roster_export, service
from council.community.schemas import NodeIn, NodeMoveIn, NodeRenameIn, ResidentIn, ResidentUpdateIn
from council.community.tables import CHILD_KIND, NodeKind
from council.errors import Invalid
from council.i18n import N_
from council.web import Paging, convert, drop_empty, flash, form_data, redirect, require_principal


class RosterPages(Controller):
    path = "/roster"
    guards = [requires_role(Role.staff)]
    include_in_schema = False

    @get("/")
    async def index(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        """The communities, or for staff of a part (a grid leader) the places they keep."""
        principal = require_principal(request)
        roots = await service.roots()
        if not all(principal.can(r["path"], Role.staff) for r in roots):
            roots = await service.kept_places(principal)
        if len(roots) == 1:
            return redirect(f"/roster/nodes/{roots[0]['id']}")
        return Template("roster/index.html", context={"communities": roots})

    @get("/nodes/{node_id:int}")
    async def node(
        self,
        request: Request[Any, Any, Any],
        node_id: int,
        q: str = "",
        offset: int = 0,
        limit: int = 50,
        inactive: bool = False,
    ) -> Template:
        node = await service.get_node(node_id)
        service.require_scope(require_principal(request), node["path"])
        page = Paging.of(offset, limit)
        rows, total = await residents.list_residents(
            scope_path=node["path"],
            query=q[:64],
            include_inactive=inactive,
            offset=page.offset,
            limit=page.limit,
        )
        child_kind = CHILD_KIND.get(NodeKind(node["kind"]))
        principal = require_principal(request)
        # Places above the reader's own scope are named, not linked: she may not open them.
        trail = [
            {**a, "reachable": principal.can(a["path"], Role.staff)} for a in await service.ancestors(node)
        ]
        # "1栋2单元301" for a household, the plain name for the rest.
        label = (
            "".join(a["name"] for a in trail if a["kind"] in ("building", "unit", "household"))
            if node["kind"] == NodeKind.household.value
            else node["name"]
        )
        return Template(
            "roster/node.html",
            context={
                "node": node,
                "label": label,
                "trail": trail,
                "children": await service.children(node_id),
                "child_kind": child_kind,
                "residents": rows,
                "total": total,
                "q": q,
                "page": page,
                "inactive": inactive,
            },
        )

    @post("/nodes")
    async def add_node(self, request: Request[Any, Any, Any]) -> Redirect:
        body = convert(drop_empty(await form_data(request), "parent_id"), NodeIn, from_form=True)
        row = await service.add_node(
            require_principal(request), name=body.name, kind=body.kind, parent_id=body.parent_id
        )
        flash(request, N_("Added."))
        return redirect(f"/roster/nodes/{row['parent'] or row['id']}")

    @post("/nodes/{node_id:int}/rename")
    async def rename_node(self, request: Request[Any, Any, Any], node_id: int) -> Redirect:
        body = convert(await form_data(request), NodeRenameIn, from_form=True)
        await service.rename_node(require_principal(request), node_id, body.name)
        flash(request, N_("Saved."))
        return redirect(f"/roster/nodes/{node_id}")

    @post("/nodes/{node_id:int}/move")
    async def move_node(self, request: Request[Any, Any, Any], node_id: int) -> Redirect:
        body = convert(await form_data(request), NodeMoveIn, from_form=True)
        await service.move_node(require_principal(request), node_id, body.parent_id)
        flash(request, N_("Moved."))
        return redirect(f"/roster/nodes/{node_id}")

    @post("/nodes/{node_id:int}/active")
    async def set_node_active(self, request: Request[Any, Any, Any], node_id: int) -> Redirect:
        data = await form_data(request, "active")
        await service.set_node_active(require_principal(request), node_id, bool(data["active"]))
        flash(request, N_("Saved."))
        return redirect(f"/roster/nodes/{node_id}")

    @get("/residents/{resident_id:int}")
    async def resident(self, request: Request[Any, Any, Any], resident_id: int) -> Template:
        resident = await residents.get_resident(resident_id)
        service.require_scope(require_principal(request), resident["household_path"])
        account = await User.select(User.id, User.username).where(User.resident == resident_id).first()
        community_path = "/" + resident["household_path"].strip("/").split("/")[0] + "/"
        households = await service.place_choices(kinds=(NodeKind.household,), under=community_path)
        households.sort(key=lambda h: h["label"])
        return Template(
            "roster/resident.html",
            context={
                "resident": resident,
                "account": account,
                "households": households,
                "label": await service.household_label(resident["household_id"]),
            },
        )

    @post("/residents")
    async def add_resident(self, request: Request[Any, Any, Any]) -> Redirect:
        data = await form_data(request, "is_representative")
        body = convert(data, ResidentIn, from_form=True)
        row = await residents.add_resident(
            require_principal(request),
            code=body.code,
            name=body.name,
            household_id=body.household_id,
            phone=body.phone,
            is_representative=body.is_representative,
        )
        flash(request, N_("The resident has been added."))
        return redirect(f"/roster/residents/{row['id']}")

    @post("/residents/{resident_id:int}")
    async def update_resident(self, request: Request[Any, Any, Any], resident_id: int) -> Redirect:
        body = convert(await form_data(request, "is_representative"), ResidentUpdateIn, from_form=True)
        await residents.update_resident(
            require_principal(request),
            resident_id,
            name=body.name,
            phone=body.phone,
            is_representative=body.is_representative,
        )
        flash(request, N_("Saved."))
        return redirect(f"/roster/residents/{resident_id}")

    @post("/residents/{resident_id:int}/move")
    async def move_resident(self, request: Request[Any, Any, Any], resident_id: int) -> Redirect:
        data = await form_data(request)
        try:
            household_id = int(str(data.get("household_id", "")))
        except ValueError:
            raise Invalid(N_("Choose the household by its number (id).")) from None
        await residents.move_resident(require_principal(request), resident_id, household_id)
        flash(request, N_("Moved."))
        return redirect(f"/roster/residents/{resident_id}")

    @post("/residents/{resident_id:int}/active")
    async def set_resident_active(self, request: Request[Any, Any, Any], resident_id: int) -> Redirect:
        data = await form_data(request, "active")
        await residents.set_resident_active(require_principal(request), resident_id, bool(data["active"]))
        flash(request, N_("Saved."))
        return redirect(f"/roster/residents/{resident_id}")

    @get("/import")
    async def import_form(self) -> Template:
        return Template(
            "roster/import.html",
            context={"communities": await service.roots(), "result": None, "columns": roster_csv.COLUMNS},
        )

    @post("/import")
    async def import_upload(self, request: Request[Any, Any, Any]) -> Template:
        form = await request.form()
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise Invalid(N_("Choose a CSV file to upload."))
        try:
            community_id = int(str(form.get("community_id", "")))
        except ValueError:
            raise Invalid(N_("Choose the community to import into.")) from None
        data = await upload.read()
        result = await roster_csv.import_residents(
            require_principal(request), community_id, data, upload.filename or ""
        )
        return Template(
            "roster/import.html",
            context={"communities": await service.roots(), "result": result, "columns": roster_csv.COLUMNS},
            status_code=200 if result.ok else 422,
        )

    @get("/nodes/{node_id:int}/export.csv")
    async def export(self, request: Request[Any, Any, Any], node_id: int) -> Response[bytes]:
        node = await service.get_node(node_id)
        service.require_scope(require_principal(request), node["path"])
        text = await roster_export.export_residents(node_id)
        return Response(
            ("\ufeff" + text).encode("utf-8"),
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="residents-{node_id}.csv"'},
        )


HANDLERS = [RosterPages]
