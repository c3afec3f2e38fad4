"""Finding proposals (filters, sort, Chinese substring search) and reading a matter's dossier."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from council.accounts.principal import Principal
from council.accounts.tables import User
from council.audit.tables import AuditEntry
from council.community.tables import Node
from council.errors import Invalid
from council.i18n import N_
from council.proposals.service import visible_row
from council.proposals.tables import (
    Comment,
    Cosign,
    Order,
    OrderNote,
    Proposal,
    ProposalPhoto,
    ProposalStatus,
)

SORTS = {
    "newest": (Proposal.id, False),
    "oldest": (Proposal.id, True),
    "cosigns": (Proposal.cosign_count, False),
    "due": (Proposal.response_due_at, True),
}
LIST_COLUMNS = (
    Proposal.id,
    Proposal.title,
    Proposal.kind,
    Proposal.category,
    Proposal.status,
    Proposal.scope,
    Proposal.scope.name,
    Proposal.cosign_count,
    Proposal.threshold,
    Proposal.submitted_at,
    Proposal.response_due_at,
    Proposal.proposer,
)


def _literal(text: str) -> str:
    """LIKE wildcards typed by a user are dropped rather than matched as wildcards."""
    return text.replace("%", "").replace("_", "")


async def find(
    principal: Principal | None,
    *,
    q: str = "",
    status: str | None = None,
    kind: str | None = None,
    category: str | None = None,
    scope_id: int | None = None,
    mine: bool = False,
    sort: str = "newest",
    offset: int = 0,
    limit: int = 20,
) -> tuple[list[dict[str, Any]], int]:
    """Chinese has no spaces between words, so search is a substring match on the
    lower-cased title and description (a trigram index serves it on PostgreSQL)."""
    if sort not in SORTS:
        raise Invalid(N_("Unknown sort order {sort}."), sort=sort)
    # != rather than IN (every public status): SQLite can then walk the newest rows and stop.
    condition: Any = Proposal.status != ProposalStatus.draft.value
    if mine and principal is not None:
        condition = Proposal.proposer == principal.id
    if status:
        condition &= Proposal.status == status
    if kind:
        condition &= Proposal.kind == kind
    if category:
        condition &= Proposal.category == category
    if scope_id is not None:
        scope = await Node.select(Node.path).where(Node.id == scope_id).first()
        if scope is None:
            raise Invalid(N_("No place with id {id}."), id=scope_id)
        condition &= Proposal.scope_path.like(f"{scope['path']}%")
    for word in q.lower().split()[:5]:
        if _literal(word):
            condition &= Proposal.search_text.like(f"%{_literal(word)}%")
    column, ascending = SORTS[sort]
    rows = (
        await Proposal.select(*LIST_COLUMNS)
        .where(condition)
        .order_by(column, ascending=ascending)
        .order_by(Proposal.id, ascending=False)
        .offset(offset)
        .limit(limit)
    )
    total = await Proposal.count().where(condition)
    return rows, total


async def dossier(principal: Principal | None, proposal_id: int) -> dict[str, Any]:
    """Everything about a matter so far, in order, with the audit entries behind it."""
    row = await visible_row(principal, proposal_id)
    scope = await Node.select(Node.name, Node.path).where(Node.id == row["scope"]).first()
    proposer = await User.select(User.display_name).where(User.id == row["proposer"]).first()
    cosigns = (
        await Cosign.select(
            Cosign.id,
            Cosign.user,
            Cosign.show_name,
            Cosign.created_at,
            Cosign.resident.name,
            Cosign.household.path,
        )
        .where((Cosign.proposal == proposal_id) & Cosign.withdrawn_at.is_null())
        .order_by(Cosign.id)
    )
    unit_names = await _unit_names([c["household.path"] for c in cosigns])
    for cosign in cosigns:
        cosign["label"] = unit_names.get(cosign["household.path"], "")
    comments = (
        await Comment.select(*Comment.all_columns(), Comment.author.display_name)
        .where(Comment.proposal == proposal_id)
        .order_by(Comment.id)
    )
    for comment in comments:
        if comment["hidden_at"] is not None:
            comment["body"] = ""
    order = (
        await Order.select(*Order.all_columns(), Order.assignee.display_name)
        .where(Order.proposal == proposal_id)
        .first()
    )
    notes = []
    if order:
        notes = (
            await OrderNote.select(*OrderNote.all_columns(), OrderNote.author.display_name)
            .where(OrderNote.order == order["id"])
            .order_by(OrderNote.id)
        )
    merged_from = await Proposal.select(Proposal.id, Proposal.title).where(
        Proposal.merged_into == proposal_id
    )
    photos = (
        await ProposalPhoto.select()
        .where(ProposalPhoto.proposal == proposal_id)
        .order_by(ProposalPhoto.position)
    )
    entries = (
        await AuditEntry.select(
            AuditEntry.seq,
            AuditEntry.at,
            AuditEntry.actor_name,
            AuditEntry.action,
            AuditEntry.hash,
        )
        .where((AuditEntry.subject_type == "proposal") & (AuditEntry.subject_id == str(proposal_id)))
        .order_by(AuditEntry.seq)
    )
    return {
        "proposal": row,
        "ballots": await _ballots(principal, proposal_id),
        "hearings": await _hearings(principal, proposal_id),
        "scope_name": scope["name"] if scope else "",
        "proposer_name": proposer["display_name"] if proposer else "",
        "cosigns": cosigns,
        "my_cosign": principal is not None and any(c["user"] == principal.id for c in cosigns),
        "comments": comments,
        "order": order,
        "notes": notes,
        "merged_from": merged_from,
        "photos": photos,
        "timeline": entries,
    }


async def _ballots(principal: Principal | None, proposal_id: int) -> list[dict[str, Any]]:
    """The ballots deciding this matter; drafts only for those who may manage them."""
    from council.ballots.service import shown_to
    from council.ballots.tables import STATUS_TERMS, Ballot, BallotStatus

    rows = await (
        Ballot.select(Ballot.id, Ballot.title, Ballot.status, Ballot.scope_path, Ballot.closes_at)
        .where(Ballot.proposal == proposal_id)
        .order_by(Ballot.id)
    )
    shown = [r for r in rows if shown_to(principal, r["status"], r["scope_path"])]
    return [{**r, "status_term": STATUS_TERMS[BallotStatus(r["status"])]} for r in shown]


async def _hearings(principal: Principal | None, proposal_id: int) -> list[dict[str, Any]]:
    """The hearings whose agenda carried this matter, with what each decided about it and,
    for those logged in (as on the hearing's page), the statements made on it."""
    from council.hearings.tables import (
        OUTCOME_TERMS,
        STATUS_TERMS,
        AgendaItem,
        HearingStatus,
        Outcome,
        Statement,
    )

    rows = await (
        AgendaItem.select(
            AgendaItem.id,
            AgendaItem.hearing,
            AgendaItem.hearing.title,
            AgendaItem.hearing.starts_at,
            AgendaItem.hearing.status,
            AgendaItem.status,
            AgendaItem.outcome,
            AgendaItem.outcome_text,
            AgendaItem.ballot,
            AgendaItem.ballot.status,
            AgendaItem.ballot.scope_path,
            AgendaItem.deferred_to,
        )
        .where(AgendaItem.proposal == proposal_id)
        .order_by(AgendaItem.hearing.starts_at)
    )
    from council.ballots.service import shown_to

    for row in rows:
        status, path = row.pop("ballot.status"), row.pop("ballot.scope_path")
        row["ballot_shown"] = row["ballot"] is not None and shown_to(principal, status, path)
        row["status_term"] = STATUS_TERMS[HearingStatus(row["hearing.status"])]
        row["outcome_term"] = OUTCOME_TERMS[Outcome(row["outcome"])] if row["outcome"] else None
        row["statements"] = []
    if principal is not None and rows:
        said = (
            await Statement.select(Statement.item, Statement.speaker_name, Statement.summary)
            .where(Statement.item.is_in([r["id"] for r in rows]))
            .order_by(Statement.spoken_at)
        )
        for row in rows:
            row["statements"] = [s for s in said if s["item"] == row["id"]]
    return rows


async def _unit_names(paths: list[str]) -> dict[str, str]:
    """ "3栋 2单元" for each household path: co-signers are shown by unit, not by name."""
    ids = {int(p) for path in paths for p in path.strip("/").split("/")[2:4] if p}
    names = (
        {n["id"]: n["name"] for n in await Node.select(Node.id, Node.name).where(Node.id.is_in(list(ids)))}
        if ids
        else {}
    )
    out = {}
    for path in paths:
        parts = [int(p) for p in path.strip("/").split("/")]
        out[path] = " ".join(names.get(i, "") for i in parts[2:4])
    return out


async def accepted_matters(paths: Sequence[str], chosen: int | None = None) -> list[dict[str, Any]]:
    """Accepted matters in these places, newest first, to put on an agenda or a ballot (and
    the chosen one whatever its status, to show it)."""
    rows = await Proposal.select(
        Proposal.id, Proposal.title, Proposal.scope, Proposal.scope_path, Proposal.status
    ).where((Proposal.status == ProposalStatus.accepted.value) | (Proposal.id == (chosen or -1)))
    return [
        r for r in sorted(rows, key=lambda r: -r["id"]) if any(r["scope_path"].startswith(p) for p in paths)
    ]
