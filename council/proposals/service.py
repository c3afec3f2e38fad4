"""民事民提: writing, submitting and co-signing proposals, and commenting on them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from council.accounts.principal import Principal
from council.accounts.tables import Role
from council.audit import service as audit
from council.community.tables import Node, NodeKind, Resident
from council.db import write_transaction
from council.errors import Conflict, Forbidden, Invalid, NotFound
from council.i18n import N_
from council.proposals import notices
from council.proposals.rules import rules_for, threshold_for
from council.proposals.tables import (
    OPEN_STATUSES,
    Category,
    Cosign,
    Proposal,
    ProposalKind,
    ProposalStatus,
)

TRIAGE_ROLES = (Role.council_member, Role.staff)
MODERATOR_ROLES = (Role.council_member, Role.staff)


def now() -> datetime:
    return datetime.now(UTC)


def search_text(title: str, description: str) -> str:
    return f"{title}\n{description}".lower()


async def get_row(proposal_id: int) -> dict[str, Any]:
    row = await Proposal.select().where(Proposal.id == proposal_id).first()
    if row is None:
        raise NotFound(N_("No proposal with number {id}."), id=proposal_id)
    return row


def can_see(principal: Principal | None, row: dict[str, Any]) -> bool:
    if row["status"] != ProposalStatus.draft.value:
        return True
    return principal is not None and principal.id == row["proposer"]


async def visible_row(principal: Principal | None, proposal_id: int) -> dict[str, Any]:
    row = await get_row(proposal_id)
    if not can_see(principal, row):
        raise NotFound(N_("No proposal with number {id}."), id=proposal_id)
    return row


async def household_of(principal: Principal) -> dict[str, Any]:
    """The logged-in resident's roster entry and household path, or a clear refusal."""
    if principal.resident_id is None:
        raise Forbidden(N_("Only residents on the roster can do this."))
    row = (
        await Resident.select(Resident.id, Resident.household, Resident.household.path, Resident.active)
        .where(Resident.id == principal.resident_id)
        .first()
    )
    if row is None or not row["active"]:
        raise Forbidden(N_("Only residents on the roster can do this."))
    return row


async def _scope(scope_id: int) -> dict[str, Any]:
    node = await Node.select().where(Node.id == scope_id).first()
    if node is None or not node["active"]:
        raise Invalid(N_("No place with id {id}."), id=scope_id)
    if node["kind"] == NodeKind.household.value:
        raise Invalid(N_("A proposal is for a unit, a building, a grid or the community, not one household."))
    return node


async def create(
    principal: Principal,
    *,
    title: str,
    description: str,
    scope_id: int,
    category: Category,
    kind: ProposalKind,
    submit: bool,
) -> int:
    resident = await household_of(principal)
    scope = await _scope(scope_id)
    if not resident["household.path"].startswith(scope["path"]):
        raise Forbidden(N_("You can only propose for a place you live in."))
    if kind is ProposalKind.rectification and not principal.has_role(*TRIAGE_ROLES):
        raise Forbidden(N_("Rectification matters are opened by the council."))
    title, description = title.strip(), description.strip()
    if not title or not description:
        raise Invalid(N_("A title and a description are required."))
    stamp = now()
    async with write_transaction():
        proposal = Proposal(
            title=title,
            description=description,
            kind=kind.value,
            category=category.value,
            status=ProposalStatus.draft.value,
            scope=scope_id,
            scope_path=scope["path"],
            proposer=principal.id,
            search_text=search_text(title, description),
            created_at=stamp,
            updated_at=stamp,
        )
        await proposal.save()
        await audit.record(
            principal.actor,
            "create_proposal",
            "proposal",
            proposal.id,
            {"title": title, "kind": kind.value, "scope_id": scope_id},
        )
        if submit:
            await _submit(principal, proposal.id, scope["path"])
    return int(proposal.id)


async def update(
    principal: Principal, proposal_id: int, *, title: str, description: str, category: Category
) -> None:
    row = await visible_row(principal, proposal_id)
    if row["proposer"] != principal.id:
        raise Forbidden(N_("Only the proposer can edit a proposal."))
    if (
        row["status"] not in (ProposalStatus.draft.value, ProposalStatus.submitted.value)
        or row["cosign_count"]
    ):
        raise Conflict(N_("A proposal can be edited only until its first co-sign."))
    title, description = title.strip(), description.strip()
    if not title or not description:
        raise Invalid(N_("A title and a description are required."))
    async with write_transaction():
        changed = (
            await Proposal.update(
                {
                    Proposal.title: title,
                    Proposal.description: description,
                    Proposal.category: category.value,
                    Proposal.updated_at: now(),
                    Proposal.search_text: search_text(title, description),
                }
            )
            .where((Proposal.id == proposal_id) & (Proposal.cosign_count == 0))
            .returning(Proposal.id)
        )
        if not changed:
            raise Conflict(N_("A proposal can be edited only until its first co-sign."))
        await audit.record(
            principal.actor,
            "edit_proposal",
            "proposal",
            proposal_id,
            {"title": title, "category": category.value},
        )


async def submit(principal: Principal, proposal_id: int) -> None:
    row = await visible_row(principal, proposal_id)
    if row["proposer"] != principal.id:
        raise Forbidden(N_("Only the proposer can submit a proposal."))
    if row["status"] != ProposalStatus.draft.value:
        raise Conflict(N_("This proposal has been submitted already."))
    async with write_transaction():
        await _submit(principal, proposal_id, row["scope_path"])


async def _submit(principal: Principal, proposal_id: int, scope_path: str) -> None:
    rules = await rules_for(scope_path)
    threshold = await threshold_for(rules, scope_path)
    updated = (
        await Proposal.update(
            {
                Proposal.status: ProposalStatus.submitted.value,
                Proposal.threshold: threshold,
                Proposal.submitted_at: now(),
                Proposal.updated_at: now(),
            }
        )
        .where((Proposal.id == proposal_id) & (Proposal.status == ProposalStatus.draft.value))
        .returning(Proposal.id)
    )
    if not updated:
        raise Conflict(N_("This proposal has been submitted already."))
    await audit.record(principal.actor, "submit", "proposal", proposal_id, {"threshold": threshold})


async def cosign(principal: Principal, proposal_id: int, show_name: bool = False) -> dict[str, Any]:
    row = await visible_row(principal, proposal_id)
    resident = await household_of(principal)
    if row["proposer"] == principal.id:
        raise Conflict(N_("You cannot co-sign your own proposal."))
    if row["status"] not in OPEN_STATUSES:
        raise Conflict(N_("This proposal is not open for co-signs."))
    if not resident["household.path"].startswith(row["scope_path"]):
        raise Forbidden(N_("Only residents of the proposal's place can co-sign it."))
    rules = await rules_for(row["scope_path"])
    key = f"h{resident['household']}" if rules.cosign_basis == "household" else f"r{resident['id']}"
    async with write_transaction():
        if await Cosign.exists().where(
            (Cosign.proposal == proposal_id) & (Cosign.dedupe_key == key) & Cosign.withdrawn_at.is_null()
        ):
            raise Conflict(
                N_("Your household has co-signed already.")
                if key.startswith("h")
                else N_("You have co-signed already.")
            )
        await Cosign(
            proposal=proposal_id,
            user=principal.id,
            resident=resident["id"],
            household=resident["household"],
            dedupe_key=key,
            show_name=show_name,
            created_at=now(),
        ).save()
        counted = (
            await Proposal.update({Proposal.cosign_count: Proposal.cosign_count + 1})
            .where(Proposal.id == proposal_id)
            .returning(Proposal.cosign_count, Proposal.threshold)
        )
        count = counted[0]["cosign_count"]
        await audit.record(principal.actor, "cosign", "proposal", proposal_id, {"count": count})
        qualified = False
        if count >= counted[0]["threshold"]:
            qualified = await _qualify(principal, proposal_id, row["scope_path"])
        await notices.proposal_changed(proposal_id, N_("New co-sign"), exclude=principal.id)
    return {"count": count, "qualified": qualified}


async def _qualify(principal: Principal, proposal_id: int, scope_path: str) -> bool:
    rules = await rules_for(scope_path)
    stamp = now()
    done = (
        await Proposal.update(
            {
                Proposal.status: ProposalStatus.qualified.value,
                Proposal.qualified_at: stamp,
                Proposal.response_due_at: stamp + timedelta(days=rules.response_days),
            }
        )
        .where((Proposal.id == proposal_id) & (Proposal.status == ProposalStatus.submitted.value))
        .returning(Proposal.id)
    )
    if done:
        await audit.record(
            principal.actor, "qualify", "proposal", proposal_id, {"response_days": rules.response_days}
        )
        await notices.proposal_changed(proposal_id, N_("The proposal has enough co-signs"))
    return bool(done)


async def withdraw_cosign(principal: Principal, proposal_id: int) -> None:
    row = await visible_row(principal, proposal_id)
    if row["status"] != ProposalStatus.submitted.value:
        raise Conflict(N_("A co-sign can be withdrawn only until the proposal qualifies."))
    async with write_transaction():
        withdrawn = (
            await Cosign.update({Cosign.withdrawn_at: now()})
            .where(
                (Cosign.proposal == proposal_id)
                & (Cosign.user == principal.id)
                & Cosign.withdrawn_at.is_null()
            )
            .returning(Cosign.id)
        )
        if not withdrawn:
            raise NotFound(N_("You have not co-signed this proposal."))
        await Proposal.update({Proposal.cosign_count: Proposal.cosign_count - 1}).where(
            Proposal.id == proposal_id
        )
        await audit.record(principal.actor, "withdraw_cosign", "proposal", proposal_id)
