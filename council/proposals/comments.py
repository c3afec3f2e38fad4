"""Comments on a proposal before its hearing, and their moderation."""

from __future__ import annotations

from council.accounts.principal import Principal
from council.audit import service as audit
from council.db import write_transaction
from council.errors import Conflict, Forbidden, Invalid, NotFound
from council.i18n import N_
from council.proposals import notices
from council.proposals.service import MODERATOR_ROLES, household_of, now, visible_row
from council.proposals.tables import OPEN_STATUSES, Comment, ProposalStatus


async def add_comment(principal: Principal, proposal_id: int, body: str) -> int:
    row = await visible_row(principal, proposal_id)
    body = body.strip()
    if not body:
        raise Invalid(N_("The comment is empty."))
    if row["status"] not in (*OPEN_STATUSES, ProposalStatus.accepted.value):
        raise Conflict(N_("Comments are closed for this proposal."))
    if not principal.has_role(*MODERATOR_ROLES):
        resident = await household_of(principal)
        if not resident["household.path"].startswith(row["scope_path"]):
            raise Forbidden(N_("Only residents of the proposal's place can comment."))
    async with write_transaction():
        comment = Comment(proposal=proposal_id, author=principal.id, body=body, created_at=now())
        await comment.save()
        await audit.record(
            principal.actor, "comment", "proposal", proposal_id, {"comment_id": comment.id, "body": body}
        )
        await notices.proposal_changed(proposal_id, N_("New comment"), exclude=principal.id)
    return int(comment.id)


async def hide_comment(principal: Principal, comment_id: int, reason: str) -> None:
    comment = (
        await Comment.select(Comment.id, Comment.proposal, Comment.hidden_at, Comment.proposal.scope_path)
        .where(Comment.id == comment_id)
        .first()
    )
    if comment is None:
        raise NotFound(N_("No comment with number {id}."), id=comment_id)
    if not principal.can(comment["proposal.scope_path"], *MODERATOR_ROLES):
        raise Forbidden(N_("Only council members and staff can moderate comments."))
    reason = reason.strip()
    if not reason:
        raise Invalid(N_("Hiding a comment needs a public reason."))
    if comment["hidden_at"] is not None:
        raise Conflict(N_("This comment is hidden already."))
    async with write_transaction():
        await Comment.update(
            {Comment.hidden_at: now(), Comment.hidden_reason: reason, Comment.hidden_by: principal.id}
        ).where(Comment.id == comment_id)
        # The audit entry of the comment keeps its text; this one keeps the reason.
        await audit.record(
            principal.actor,
            "hide_comment",
            "proposal",
            comment["proposal"],
            {"comment_id": comment_id, "reason": reason},
        )
