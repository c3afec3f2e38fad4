"""JSON API of the ballots: managing them, casting, the public board and record, trustees."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, post, put
from litestar.params import Parameter

from council.accounts.guards import principal_of, requires_login
from council.ballots import casting, drafts, export, proxies, queries, service, trustees
from council.ballots.drafts import BallotArgs
from council.ballots.schemas import (
    AuditIn,
    BallotIn,
    BoxKeyIn,
    CastIn,
    CloseIn,
    ComplaintIn,
    CreatedOut,
    DealingIn,
    ProxyIn,
    ReceiptOut,
    SharesIn,
    VoteIn,
    WithdrawIn,
)
from council.web import Paging, require_principal

Req = Request[Any, Any, Any]


def _arguments(data: BallotIn) -> BallotArgs:
    """drafts.create's and drafts.update's keyword arguments from the body."""
    return {
        "title": data.title,
        "description": data.description,
        "scope_id": data.scope_id,
        "secrecy": data.secrecy,
        "weight_basis": data.weight_basis,
        "questions": [
            {
                "text": q.text,
                "options": q.options,
                "min": q.min,
                "max": q.max,
                "costs": q.costs,
                "budget": q.budget,
            }
            for q in data.questions
        ],
        "rule": data.rule,
        "opens_at": data.opens_at,
        "closes_at": data.closes_at,
        "trustee_ids": data.trustee_ids,
        "threshold": data.threshold,
        "proposal_id": data.proposal_id,
    }


class BallotsApi(Controller):
    """Published ballots, their boards and records are public; everything else needs a login."""

    path = "/api/v1/ballots"
    tags = ["ballots"]

    @get("/", opt={"public": True})
    async def find(
        self,
        request: Req,
        status: Annotated[str | None, Parameter(max_length=16)] = None,
        offset: Annotated[int, Parameter(ge=0)] = 0,
        limit: Annotated[int, Parameter(ge=1, le=200)] = 20,
    ) -> dict[str, Any]:
        page = Paging.of(offset, limit)
        rows, total = await queries.find(
            principal_of(request), status=status, offset=page.offset, limit=page.limit
        )
        items = [
            {
                "id": r["id"],
                "title": r["title"],
                "status": r["status"],
                "secrecy": r["secrecy"],
                "scope_id": r["scope"],
                "scope_name": r["scope.name"],
                "opens_at": r["opens_at"],
                "closes_at": r["closes_at"],
                "proposal_id": r["proposal"],
            }
            for r in rows
        ]
        return {"items": items, "total": total, "offset": page.offset, "limit": page.limit}

    @post("/", status_code=201, guards=[requires_login])
    async def create(self, request: Req, data: BallotIn) -> CreatedOut:
        new_id = await drafts.create(require_principal(request), **_arguments(data))
        return CreatedOut(new_id, f"/ballots/{new_id}")

    @get("/{ballot_id:int}", opt={"public": True})
    async def show(self, request: Req, ballot_id: int) -> dict[str, Any]:
        return await queries.summary(principal_of(request), ballot_id)

    @put("/{ballot_id:int}", guards=[requires_login])
    async def update(self, request: Req, ballot_id: int, data: BallotIn) -> dict[str, Any]:
        """Changes a draft: the same body as creating it; its trustees are replaced too."""
        await drafts.update(require_principal(request), ballot_id, **_arguments(data))
        return await queries.summary(principal_of(request), ballot_id)

    @post("/{ballot_id:int}/withdraw", status_code=200, guards=[requires_login])
    async def withdraw(self, request: Req, ballot_id: int, data: WithdrawIn) -> dict[str, Any]:
        """Takes back a ballot that has not opened (draft, key generation, ready), with a public reason."""
        await drafts.withdraw(require_principal(request), ballot_id, data.reason)
        return await queries.summary(principal_of(request), ballot_id)

    @post("/{ballot_id:int}/setup", status_code=200, guards=[requires_login])
    async def setup(self, request: Req, ballot_id: int) -> None:
        """Freezes a secret ballot and calls its trustees to generate the key."""
        await service.setup(require_principal(request), ballot_id)

    @post("/{ballot_id:int}/restart-keygen", status_code=200, guards=[requires_login])
    async def restart_keygen(self, request: Req, ballot_id: int) -> None:
        """After a trustee's complaint stopped the key generation: every trustee deals again."""
        await trustees.restart_keygen(require_principal(request), ballot_id)

    @post("/{ballot_id:int}/open", status_code=200, guards=[requires_login])
    async def open(self, request: Req, ballot_id: int) -> dict[str, Any]:
        """Freezes the roster and the manifest; votes are taken inside the window."""
        await service.open_ballot(require_principal(request), ballot_id)
        return await queries.summary(principal_of(request), ballot_id)

    @post("/{ballot_id:int}/close", status_code=200, guards=[requires_login])
    async def close(self, request: Req, ballot_id: int, data: CloseIn) -> dict[str, Any]:
        await service.close(require_principal(request), ballot_id, early=data.early)
        return await queries.summary(principal_of(request), ballot_id)

    @get("/{ballot_id:int}/manifest", opt={"public": True})
    async def manifest(self, request: Req, ballot_id: int) -> dict[str, Any]:
        return await queries.manifest(principal_of(request), ballot_id)

    @get("/{ballot_id:int}/board", opt={"public": True})
    async def board(
        self,
        request: Req,
        ballot_id: int,
        offset: Annotated[int, Parameter(ge=0)] = 0,
        limit: Annotated[int, Parameter(ge=1, le=1000)] = 100,
        alias: Annotated[str | None, Parameter(max_length=100)] = None,
    ) -> dict[str, Any]:
        """The hash-chained board: ballots (aliases, tracking codes), audited ballots, close, shares, result."""
        return await queries.board_page(
            principal_of(request), ballot_id, offset=offset, limit=limit, alias=alias
        )

    @get("/{ballot_id:int}/track/{code:str}", opt={"public": True})
    async def track(self, request: Req, ballot_id: int, code: str) -> dict[str, Any]:
        """Finds a tracking code (full or short) on the board."""
        await queries.summary(principal_of(request), ballot_id)
        return {"entries": await queries.find_tracking_code(ballot_id, code)}

    @get("/{ballot_id:int}/record.zip", opt={"public": True})
    async def record(self, request: Req, ballot_id: int) -> Response[bytes]:
        """The election record (council/v1) for `council verify`."""
        await queries.summary(principal_of(request), ballot_id)
        return Response(
            await export.record_zip(ballot_id),
            media_type="application/zip",
            headers={"content-disposition": f'attachment; filename="ballot-{ballot_id}-record.zip"'},
        )

    @get("/{ballot_id:int}/audited/{seq:int}", opt={"public": True})
    async def audited_file(self, request: Req, ballot_id: int, seq: int) -> dict[str, Any]:
        """One audited (spoiled) ballot with the manifest: the file `council verify --audited` checks."""
        return await queries.audited_file(principal_of(request), ballot_id, seq)

    @get("/{ballot_id:int}/me", guards=[requires_login])
    async def me(self, request: Req, ballot_id: int) -> dict[str, Any]:
        """The aliases I may vote for (mine and my proxies) and my last ballot for each."""
        await queries.summary(principal_of(request), ballot_id)
        return {"entries": await casting.my_entries(principal_of(request), ballot_id)}

    @post("/{ballot_id:int}/ballots", status_code=201, guards=[requires_login])
    async def cast(self, request: Req, ballot_id: int, data: CastIn) -> ReceiptOut:
        """An encrypted ballot (made by vote.js or council.ballots.encrypt); the receipt comes back."""
        receipt = await casting.cast(
            require_principal(request), ballot_id, data.answers, for_alias=data.for_alias
        )
        return ReceiptOut(**receipt)

    @post("/{ballot_id:int}/audited", status_code=201, guards=[requires_login])
    async def audit(self, request: Req, ballot_id: int, data: AuditIn) -> ReceiptOut:
        """A Benaloh audit: the ballot with its randomness, posted and never counted."""
        receipt = await casting.spoil(
            require_principal(request), ballot_id, data.answers, data.reveal, for_alias=data.for_alias
        )
        return ReceiptOut(**receipt)

    @post("/{ballot_id:int}/votes", status_code=201, guards=[requires_login])
    async def vote(self, request: Req, ballot_id: int, data: VoteIn) -> dict[str, Any]:
        """An open ballot's vote: per question, 0 or 1 for each option."""
        return await casting.vote(
            require_principal(request), ballot_id, data.choices, for_alias=data.for_alias
        )

    @get("/{ballot_id:int}/proxies", guards=[requires_login])
    async def proxies(self, request: Req, ballot_id: int) -> dict[str, Any]:
        await queries.summary(principal_of(request), ballot_id)
        return {"items": await proxies.proxies(ballot_id)}

    @post("/{ballot_id:int}/proxies", status_code=201, guards=[requires_login])
    async def add_proxy(self, request: Req, ballot_id: int, data: ProxyIn) -> dict[str, Any]:
        proxy_id = await proxies.record_proxy(
            require_principal(request),
            ballot_id,
            delegator_id=data.delegator_id,
            delegate_id=data.delegate_id,
            consent=data.consent,
        )
        return {"id": proxy_id}

    @delete("/{ballot_id:int}/proxies/{proxy_id:int}", status_code=204, guards=[requires_login])
    async def revoke_proxy(self, request: Req, ballot_id: int, proxy_id: int) -> None:
        await proxies.revoke_proxy(require_principal(request), ballot_id, proxy_id)


class TrusteeApi(Controller):
    """What `council trustee` talks to: only the ballot's trustees, each for herself."""

    path = "/api/v1/ballots/{ballot_id:int}/trustee"
    tags = ["trustees"]
    guards = [requires_login]

    @get("/")
    async def state(self, request: Req, ballot_id: int) -> dict[str, Any]:
        return await trustees.state(require_principal(request), ballot_id)

    @post("/box-key", status_code=200)
    async def box_key(self, request: Req, ballot_id: int, data: BoxKeyIn) -> dict[str, Any]:
        await trustees.register_box_key(require_principal(request), ballot_id, data.box_key)
        return await trustees.state(require_principal(request), ballot_id)

    @post("/dealing", status_code=200)
    async def dealing(self, request: Req, ballot_id: int, data: DealingIn) -> dict[str, Any]:
        await trustees.post_dealing(
            require_principal(request),
            ballot_id,
            commitments=data.commitments,
            pok=data.pok,
            sealed=data.sealed,
        )
        return await trustees.state(require_principal(request), ballot_id)

    @post("/confirm", status_code=200)
    async def confirm(self, request: Req, ballot_id: int) -> dict[str, Any]:
        await trustees.confirm_shares(require_principal(request), ballot_id)
        return await trustees.state(require_principal(request), ballot_id)

    @post("/complaint", status_code=200)
    async def complaint(self, request: Req, ballot_id: int, data: ComplaintIn) -> dict[str, Any]:
        failure = await trustees.complain(
            require_principal(request), ballot_id, dealer=data.dealer, reason=data.reason
        )
        return {"failure": failure}

    @post("/shares", status_code=201)
    async def shares(self, request: Req, ballot_id: int, data: SharesIn) -> dict[str, Any]:
        return await trustees.post_shares(require_principal(request), ballot_id, data.shares)


HANDLERS = [BallotsApi, TrusteeApi]
