"""The audit log, for supervisors and admins: a page and /api/v1/audit."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get
from litestar.params import Parameter
from litestar.response import Template

from council.accounts.guards import requires_role
from council.accounts.principal import Principal
from council.accounts.tables import Role
from council.audit import service
from council.i18n import gettext
from council.web import Paging, require_principal


class AuditEntryOut(msgspec.Struct):
    seq: int
    at: datetime
    actor_id: int | None
    actor_name: str
    action: str
    subject_type: str
    subject_id: str
    data: dict[str, Any]
    prev_hash: str
    hash: str


class AuditPage(msgspec.Struct):
    items: list[AuditEntryOut]
    total: int
    offset: int
    limit: int


class ChainOut(msgspec.Struct):
    ok: bool
    entries: int
    head: str
    first_bad_seq: int | None
    problem: str


AUDITORS = requires_role(Role.supervisor)


class AuditApi(Controller):
    path = "/api/v1/audit"
    guards = [AUDITORS]
    tags = ["audit"]

    @get("/")
    async def list_entries(
        self,
        offset: Annotated[int, Parameter(ge=0)] = 0,
        limit: Annotated[int, Parameter(ge=1, le=200)] = 50,
        subject_type: Annotated[str | None, Parameter(max_length=32)] = None,
        subject_id: Annotated[str | None, Parameter(max_length=64)] = None,
    ) -> AuditPage:
        """Entries, newest first."""
        page = Paging.of(offset, limit)
        rows, total = await service.entries(
            offset=page.offset, limit=page.limit, subject_type=subject_type, subject_id=subject_id
        )
        items = [msgspec.convert({k: v for k, v in r.items() if k != "id"}, AuditEntryOut) for r in rows]
        return AuditPage(items=items, total=total, offset=page.offset, limit=page.limit)

    @get("/verify")
    async def verify(self) -> ChainOut:
        """Recompute the hash chain and name the first broken entry."""
        report = await service.verify_chain()
        return ChainOut(
            report.ok, report.entries, report.head, report.first_bad_seq, report.problem_in(gettext)
        )


class AuditPages(Controller):
    path = "/audit"
    guards = [AUDITORS]
    include_in_schema = False

    @get("/")
    async def index(
        self, request: Request[Any, Any, Any], offset: int = 0, limit: int = 50, verify: bool = False
    ) -> Template:
        page = Paging.of(offset, limit)
        rows, total = await service.entries(offset=page.offset, limit=page.limit)
        report = await service.verify_chain() if verify else None
        principal = require_principal(request)
        return Template(
            "audit/index.html",
            context={
                "entries": rows,
                "total": total,
                "page": page,
                "report": report,
                "staff": principal.has_role(Role.staff, Role.admin),
                "unseen": await _unseen(principal, rows),
            },
        )


async def _unseen(principal: Principal, rows: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """The page's proposals and ballots this reader cannot open (a draft is its author's, a
    ballot being prepared its managers'): named in the log, not linked."""
    from council.ballots.service import shown_to
    from council.ballots.tables import Ballot
    from council.proposals.service import can_see
    from council.proposals.tables import Proposal

    def ids(kind: str) -> list[int]:
        return sorted(
            {int(r["subject_id"]) for r in rows if r["subject_type"] == kind and r["subject_id"].isdigit()}
        )

    unseen: set[tuple[str, str]] = set()
    if wanted := ids("proposal"):
        for p in await Proposal.select(Proposal.id, Proposal.status, Proposal.proposer).where(
            Proposal.id.is_in(wanted)
        ):
            if not can_see(principal, p):
                unseen.add(("proposal", str(p["id"])))
    if wanted := ids("ballot"):
        for b in await Ballot.select(Ballot.id, Ballot.status, Ballot.scope_path).where(
            Ballot.id.is_in(wanted)
        ):
            if not shown_to(principal, b["status"], b["scope_path"]):
                unseen.add(("ballot", str(b["id"])))
    return unseen


HANDLERS = [AuditApi, AuditPages]
