"""Who hears about a change to a proposal: its proposer, its co-signers and, for a
dispatched wish, the member who took it. Text is written in the community's language."""

from __future__ import annotations

from council.i18n import DEFAULT_LOCALE, translations
from council.proposals.tables import Cosign, Order, Proposal


def _in_default_locale(message: str) -> str:
    return translations(DEFAULT_LOCALE).gettext(message)


async def people_of(proposal_id: int) -> set[int]:
    row = await Proposal.select(Proposal.proposer).where(Proposal.id == proposal_id).first()
    people = {row["proposer"]} if row else set()
    for cosign in await Cosign.select(Cosign.user).where(
        (Cosign.proposal == proposal_id) & Cosign.withdrawn_at.is_null()
    ):
        people.add(cosign["user"])
    order = await Order.select(Order.assignee).where(Order.proposal == proposal_id).first()
    if order:
        people.add(order["assignee"])
    return people


async def proposal_changed(
    proposal_id: int, what: str, *, exclude: int | None = None, extra: set[int] | None = None
) -> None:
    """Call inside the write transaction of the change."""
    from council.notifications import service as notifications

    row = await Proposal.select(Proposal.title).where(Proposal.id == proposal_id).first()
    if row is None:
        return
    recipients = (await people_of(proposal_id)) | (extra or set())
    if exclude is not None:
        recipients.discard(exclude)
    if not recipients:
        return
    await notifications.notify(
        sorted(recipients),
        kind="proposal",
        title=f"{_in_default_locale(what)}：{row['title']}",
        body=_in_default_locale(what),
        link=f"/matters/{proposal_id}",
        subject_type="proposal",
        subject_id=proposal_id,
    )
