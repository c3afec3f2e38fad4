"""JSON API for proposals, co-signs, comments, triage and the three-order dispatch."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from litestar import Controller, Request, delete, get, post, put
from litestar.exceptions import NotFoundException
from litestar.params import Parameter, QueryParameter
from litestar.response import File

from council.accounts.guards import principal_of, requires_login, requires_role
from council.accounts.tables import Role
from council.proposals import comments, orders, photos, queries, service, triage
from council.proposals.rules import Rules, rules_for, set_rules
from council.proposals.schemas import (
    CommentIn,
    ConfirmIn,
    CosignIn,
    CosignOut,
    CreatedOut,
    DispatchIn,
    MergeIn,
    NoteIn,
    ProposalEditIn,
    ProposalIn,
    ProposalOut,
    ProposalPage,
    ReasonIn,
    RulesIn,
)
from council.web import Paging, require_principal, settings_of


def proposal_out(row: dict[str, Any]) -> ProposalOut:
    return ProposalOut(
        id=row["id"],
        title=row["title"],
        kind=row["kind"],
        category=row["category"],
        status=row["status"],
        scope_id=row["scope"],
        scope_name=row.get("scope.name", ""),
        cosign_count=row["cosign_count"],
        threshold=row["threshold"],
        submitted_at=row["submitted_at"],
        response_due_at=row["response_due_at"],
    )


class ProposalsApi(Controller):
    """Anyone may read submitted proposals and their dossiers; everything else needs a login."""

    path = "/api/v1/proposals"
    tags = ["proposals"]

    @get("/", opt={"public": True})
    async def find(
        self,
        request: Request[Any, Any, Any],
        q: Annotated[str, Parameter(max_length=100)] = "",
        status: Annotated[str | None, Parameter(max_length=16)] = None,
        kind: Annotated[str | None, Parameter(max_length=16)] = None,
        category: Annotated[str | None, Parameter(max_length=16)] = None,
        scope_id: Annotated[int | None, QueryParameter(name="scope")] = None,
        sort: Annotated[str, Parameter(max_length=16)] = "newest",
        offset: Annotated[int, Parameter(ge=0)] = 0,
        limit: Annotated[int, Parameter(ge=1, le=200)] = 20,
    ) -> ProposalPage:
        """Search (substring, works on Chinese), filter, sort and page through proposals."""
        page = Paging.of(offset, limit)
        rows, total = await queries.find(
            principal_of(request),
            q=q,
            status=status,
            kind=kind,
            category=category,
            scope_id=scope_id,
            sort=sort,
            offset=page.offset,
            limit=page.limit,
        )
        return ProposalPage([proposal_out(r) for r in rows], total, page.offset, page.limit)

    @get("/{proposal_id:int}", opt={"public": True})
    async def dossier(self, request: Request[Any, Any, Any], proposal_id: int) -> dict[str, Any]:
        """The matter's dossier so far, with the audit entries behind each step."""
        return await queries.dossier(principal_of(request), proposal_id)

    @post("/", status_code=201, guards=[requires_login])
    async def create(self, request: Request[Any, Any, Any], data: ProposalIn) -> CreatedOut:
        new_id = await service.create(
            require_principal(request),
            title=data.title,
            description=data.description,
            scope_id=data.scope_id,
            category=data.category,
            kind=data.kind,
            submit=data.submit,
        )
        return CreatedOut(new_id, f"/matters/{new_id}")

    @put("/{proposal_id:int}", status_code=200, guards=[requires_login])
    async def edit(self, request: Request[Any, Any, Any], proposal_id: int, data: ProposalEditIn) -> None:
        await service.update(
            require_principal(request),
            proposal_id,
            title=data.title,
            description=data.description,
            category=data.category,
        )

    @post("/{proposal_id:int}/submit", status_code=200, guards=[requires_login])
    async def submit(self, request: Request[Any, Any, Any], proposal_id: int) -> None:
        await service.submit(require_principal(request), proposal_id)

    @post("/{proposal_id:int}/photos", status_code=201, guards=[requires_login])
    async def add_photo(self, request: Request[Any, Any, Any], proposal_id: int) -> dict[str, int]:
        """Body: the image bytes (JPEG, PNG or WebP)."""
        photo_id = await photos.add_photo(
            require_principal(request), proposal_id, await request.body(), settings_of(request).data_dir
        )
        return {"id": photo_id}

    @post("/{proposal_id:int}/cosign", status_code=201, guards=[requires_login])
    async def cosign(self, request: Request[Any, Any, Any], proposal_id: int, data: CosignIn) -> CosignOut:
        result = await service.cosign(require_principal(request), proposal_id, data.show_name)
        return CosignOut(**result)

    @delete("/{proposal_id:int}/cosign", status_code=204, guards=[requires_login])
    async def withdraw(self, request: Request[Any, Any, Any], proposal_id: int) -> None:
        await service.withdraw_cosign(require_principal(request), proposal_id)

    @post("/{proposal_id:int}/comments", status_code=201, guards=[requires_login])
    async def comment(
        self, request: Request[Any, Any, Any], proposal_id: int, data: CommentIn
    ) -> dict[str, int]:
        return {"id": await comments.add_comment(require_principal(request), proposal_id, data.body)}

    @post("/comments/{comment_id:int}/hide", status_code=200, guards=[requires_login])
    async def hide(self, request: Request[Any, Any, Any], comment_id: int, data: ReasonIn) -> None:
        await comments.hide_comment(require_principal(request), comment_id, data.reason)

    @post("/{proposal_id:int}/accept", status_code=200, guards=[requires_login])
    async def accept(self, request: Request[Any, Any, Any], proposal_id: int, data: ReasonIn) -> None:
        await triage.accept(require_principal(request), proposal_id, data.reason)

    @post("/{proposal_id:int}/reject", status_code=200, guards=[requires_login])
    async def reject(self, request: Request[Any, Any, Any], proposal_id: int, data: ReasonIn) -> None:
        await triage.reject(require_principal(request), proposal_id, data.reason)

    @post("/{proposal_id:int}/merge", status_code=200, guards=[requires_login])
    async def merge(self, request: Request[Any, Any, Any], proposal_id: int, data: MergeIn) -> dict[str, int]:
        carried = await triage.merge(require_principal(request), proposal_id, data.into_id, data.reason)
        return {"carried_cosigns": carried}

    @post("/{proposal_id:int}/dispatch", status_code=201, guards=[requires_login])
    async def dispatch(
        self, request: Request[Any, Any, Any], proposal_id: int, data: DispatchIn
    ) -> dict[str, int]:
        order_id = await triage.dispatch(require_principal(request), proposal_id, data.assignee_id, data.days)
        return {"order_id": order_id}

    @get("/overdue", guards=[requires_login])
    async def overdue(self, request: Request[Any, Any, Any]) -> list[dict[str, Any]]:
        """Qualified proposals past their response date, in your scope."""
        return await triage.overdue(require_principal(request))

    @post("/{proposal_id:int}/order/take", status_code=200, guards=[requires_login])
    async def take(self, request: Request[Any, Any, Any], proposal_id: int) -> None:
        await orders.take(require_principal(request), proposal_id)

    @post("/{proposal_id:int}/order/notes", status_code=201, guards=[requires_login])
    async def note(self, request: Request[Any, Any, Any], proposal_id: int, data: NoteIn) -> None:
        await orders.add_note(require_principal(request), proposal_id, data.body)

    @post("/{proposal_id:int}/order/finish", status_code=200, guards=[requires_login])
    async def finish(self, request: Request[Any, Any, Any], proposal_id: int, data: ReasonIn) -> None:
        await orders.finish(require_principal(request), proposal_id, data.reason)

    @post("/{proposal_id:int}/order/confirm", status_code=200, guards=[requires_login])
    async def confirm(self, request: Request[Any, Any, Any], proposal_id: int, data: ConfirmIn) -> None:
        await orders.confirm(require_principal(request), proposal_id, data.rating, data.comment)

    @post("/{proposal_id:int}/order/reopen", status_code=200, guards=[requires_login])
    async def reopen(self, request: Request[Any, Any, Any], proposal_id: int, data: ReasonIn) -> None:
        await orders.reopen(require_principal(request), proposal_id, data.reason)


class LedgerApi(Controller):
    path = "/api/v1/orders"
    guards = [requires_login]
    tags = ["proposals"]

    @get("/ledger")
    async def ledger(self, request: Request[Any, Any, Any], start: datetime, end: datetime) -> dict[str, Any]:
        """台账: small wishes received, taken, done, confirmed, overdue and the average rating."""
        return await orders.ledger(require_principal(request), start, end)

    @get("/mine")
    async def mine(self, request: Request[Any, Any, Any]) -> list[dict[str, Any]]:
        return await orders.my_orders(require_principal(request))


class RulesApi(Controller):
    path = "/api/v1/communities/{community_id:int}/rules"
    guards = [requires_role(Role.staff)]
    tags = ["proposals"]

    @get("/")
    async def show(self, community_id: int) -> RulesIn:
        from council.community.service import get_node

        node = await get_node(community_id)
        rules = await rules_for(node["path"])
        return RulesIn(rules.cosign_basis, rules.threshold_kind, rules.threshold_value, rules.response_days)

    @put("/", status_code=200)
    async def update(self, request: Request[Any, Any, Any], community_id: int, data: RulesIn) -> RulesIn:
        await set_rules(
            require_principal(request),
            community_id,
            Rules(data.cosign_basis, data.threshold_kind, data.threshold_value, data.response_days),
        )
        return data


@get("/media/{name:str}", opt={"public": True}, include_in_schema=False)
async def media(request: Request[Any, Any, Any], name: str) -> File:
    """Photos, by content hash: the name cannot be guessed, and the bytes never change."""
    stem, _, ext = name.partition(".")
    if len(stem) != 64 or not all(c in "0123456789abcdef" for c in stem) or ext not in ("jpg", "png", "webp"):
        raise NotFoundException()
    path: Path = photos.media_dir(settings_of(request).data_dir) / name
    if not await asyncio.to_thread(path.exists):
        raise NotFoundException()
    media_type = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}[ext]
    return File(
        path=path,
        media_type=media_type,
        headers={"cache-control": "public, max-age=31536000, immutable", "x-content-type-options": "nosniff"},
        content_disposition_type="inline",
    )


HANDLERS: list[Any] = [ProposalsApi, LedgerApi, RulesApi, media]
