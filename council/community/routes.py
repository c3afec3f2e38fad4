"""JSON API for the roster: /api/v1/nodes and /api/v1/residents."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, patch, post
from litestar.params import Parameter, QueryParameter

from council.accounts.guards import requires_role
from council.accounts.tables import Role
from council.community import residents, roster_csv, roster_export, service
from council.community.schemas import (
    ImportProblem,
    ImportReport,
    NodeIn,
    NodeMoveIn,
    NodeOut,
    NodeRenameIn,
    ResidentIn,
    ResidentMoveIn,
    ResidentOut,
    ResidentPage,
    ResidentUpdateIn,
)
from council.errors import Invalid
from council.i18n import N_, gettext
from council.web import Paging, require_principal


def node_out(row: dict[str, Any]) -> NodeOut:
    return NodeOut(
        id=row["id"],
        kind=row["kind"],
        name=row["name"],
        parent_id=row["parent"],
        path=row["path"],
        active=row["active"],
        children=row.get("children", 0),
        residents=row.get("residents", 0),
    )


def resident_out(row: dict[str, Any]) -> ResidentOut:
    return msgspec.convert({k: v for k, v in row.items() if k != "household_path"}, ResidentOut)


def report_out(result: roster_csv.ImportResult) -> ImportReport:
    return ImportReport(
        ok=result.ok,
        imported=result.imported,
        households_created=result.households_created,
        problems=[
            ImportProblem(row=p.row, field=p.field, message=gettext(p.message).format(**p.params))
            for p in result.problems
        ],
    )


class NodesApi(Controller):
    path = "/api/v1/nodes"
    guards = [requires_role(Role.staff)]
    tags = ["roster"]

    @get("/")
    async def roots(self) -> list[NodeOut]:
        """The communities (top of the tree)."""
        return [node_out(r) for r in await service.roots()]

    @get("/{node_id:int}")
    async def get_node(self, node_id: int) -> NodeOut:
        return node_out(await service.get_node(node_id))

    @get("/{node_id:int}/children")
    async def children(self, node_id: int) -> list[NodeOut]:
        await service.get_node(node_id)
        return [node_out(r) for r in await service.children(node_id)]

    @post("/", status_code=201)
    async def add(self, request: Request[Any, Any, Any], data: NodeIn) -> NodeOut:
        """Add a grid, building, unit or household under its parent."""
        row = await service.add_node(
            require_principal(request), name=data.name, kind=data.kind, parent_id=data.parent_id
        )
        return node_out(row)

    @patch("/{node_id:int}")
    async def rename(self, request: Request[Any, Any, Any], node_id: int, data: NodeRenameIn) -> NodeOut:
        await service.rename_node(require_principal(request), node_id, data.name)
        return node_out(await service.get_node(node_id))

    @post("/{node_id:int}/move", status_code=200)
    async def move(self, request: Request[Any, Any, Any], node_id: int, data: NodeMoveIn) -> NodeOut:
        await service.move_node(require_principal(request), node_id, data.parent_id)
        return node_out(await service.get_node(node_id))

    @post("/{node_id:int}/deactivate", status_code=200)
    async def deactivate(self, request: Request[Any, Any, Any], node_id: int) -> NodeOut:
        await service.set_node_active(require_principal(request), node_id, False)
        return node_out(await service.get_node(node_id))

    @post("/{node_id:int}/activate", status_code=200)
    async def activate(self, request: Request[Any, Any, Any], node_id: int) -> NodeOut:
        await service.set_node_active(require_principal(request), node_id, True)
        return node_out(await service.get_node(node_id))


class ResidentsApi(Controller):
    path = "/api/v1/residents"
    guards = [requires_role(Role.staff)]
    tags = ["roster"]

    @get("/")
    async def list_residents(
        self,
        request: Request[Any, Any, Any],
        scope_id: Annotated[
            int, QueryParameter(name="scope", description="id of a place; residents under it")
        ],
        q: Annotated[str, Parameter(max_length=64)] = "",
        inactive: bool = False,
        offset: Annotated[int, Parameter(ge=0)] = 0,
        limit: Annotated[int, Parameter(ge=1, le=200)] = 50,
    ) -> ResidentPage:
        node = await service.get_node(scope_id)
        service.require_scope(require_principal(request), node["path"])
        page = Paging.of(offset, limit)
        rows, total = await residents.list_residents(
            scope_path=node["path"],
            query=q,
            include_inactive=inactive,
            offset=page.offset,
            limit=page.limit,
        )
        return ResidentPage(
            items=[resident_out(r) for r in rows], total=total, offset=page.offset, limit=page.limit
        )

    @post("/", status_code=201)
    async def add(self, request: Request[Any, Any, Any], data: ResidentIn) -> ResidentOut:
        row = await residents.add_resident(
            require_principal(request),
            code=data.code,
            name=data.name,
            household_id=data.household_id,
            phone=data.phone,
            is_representative=data.is_representative,
        )
        return resident_out(row)

    @get("/{resident_id:int}")
    async def get_resident(self, resident_id: int) -> ResidentOut:
        return resident_out(await residents.get_resident(resident_id))

    @patch("/{resident_id:int}")
    async def update(
        self, request: Request[Any, Any, Any], resident_id: int, data: ResidentUpdateIn
    ) -> ResidentOut:
        await residents.update_resident(
            require_principal(request),
            resident_id,
            name=data.name,
            phone=data.phone,
            is_representative=data.is_representative,
        )
        return resident_out(await residents.get_resident(resident_id))

    @post("/{resident_id:int}/move", status_code=200)
    async def move(
        self, request: Request[Any, Any, Any], resident_id: int, data: ResidentMoveIn
    ) -> ResidentOut:
        await residents.move_resident(require_principal(request), resident_id, data.household_id)
        return resident_out(await residents.get_resident(resident_id))

    @post("/{resident_id:int}/deactivate", status_code=200)
    async def deactivate(self, request: Request[Any, Any, Any], resident_id: int) -> ResidentOut:
        await residents.set_resident_active(require_principal(request), resident_id, False)
        return resident_out(await residents.get_resident(resident_id))

    @post("/{resident_id:int}/activate", status_code=200)
    async def activate(self, request: Request[Any, Any, Any], resident_id: int) -> ResidentOut:
        await residents.set_resident_active(require_principal(request), resident_id, True)
        return resident_out(await residents.get_resident(resident_id))

    @post("/import", status_code=200)
    async def import_csv(
        self,
        request: Request[Any, Any, Any],
        community: Annotated[int, Parameter(description="id of the community to import into")],
    ) -> Response[ImportReport]:
        """Import residents from CSV (body: the file, Content-Type: text/csv). All or nothing:
        a bad file answers 422 with a report naming each bad row, and nothing changes."""
        data = await request.body()
        if not data:
            raise Invalid(N_("The file is empty."))
        result = await roster_csv.import_residents(require_principal(request), community, data, "api")
        return Response(report_out(result), status_code=200 if result.ok else 422)

    @get("/export.csv", media_type="text/csv; charset=utf-8")
    async def export_csv(
        self,
        request: Request[Any, Any, Any],
        scope_id: Annotated[int, QueryParameter(name="scope", description="id of a place")],
        inactive: bool = False,
    ) -> Response[bytes]:
        node = await service.get_node(scope_id)
        service.require_scope(require_principal(request), node["path"])
        text = await roster_export.export_residents(scope_id, include_inactive=inactive)
        return Response(
            ("\ufeff" + text).encode("utf-8"),
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": 'attachment; filename="residents.csv"'},
        )


HANDLERS = [NodesApi, ResidentsApi]
