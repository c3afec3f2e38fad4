"""委托 (proxies): recorded by staff or the council from the delegator's written consent; the
delegate then casts under the delegator's alias (casting.voter_entry checks it)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from council.accounts.principal import Principal
from council.audit import service as audit
from council.ballots.tables import BallotStatus, Proxy
from council.community.tables import Resident
from council.db import write_transaction
from council.errors import Conflict, Invalid, NotFound
from council.i18n import N_

MAX_PROXIES_PER_DELEGATE = 3


def now() -> datetime:
    return datetime.now(UTC)


async def record_proxy(
    principal: Principal, ballot_id: int, *, delegator_id: int, delegate_id: int, consent: str
) -> int:
    """委托: recorded by staff or the council from the delegator's written consent."""
    from council.ballots.service import get_row, managed

    row = await get_row(ballot_id)
    managed(principal, row)
    if row["status"] in (BallotStatus.closed.value, BallotStatus.tallied.value):
        raise Conflict(N_("Voting has closed."))
    if row["status"] == BallotStatus.withdrawn.value:
        raise Conflict(N_("This ballot has been withdrawn."))
    consent = consent.strip()
    if not consent:
        raise Invalid(N_("Say how the delegator gave written consent (for example the form's number)."))
    if delegator_id == delegate_id:
        raise Invalid(N_("A resident cannot be her own proxy."))
    people = await Resident.select(Resident.id, Resident.active, Resident.household.path).where(
        Resident.id.is_in([delegator_id, delegate_id])
    )
    found = {p["id"]: p for p in people}
    for resident_id in (delegator_id, delegate_id):
        person = found.get(resident_id)
        if (
            person is None
            or not person["active"]
            or not person["household.path"].startswith(row["scope_path"])
        ):
            raise Invalid(N_("Resident {id} does not live in this ballot's place."), id=resident_id)
    held = await Proxy.count().where(
        (Proxy.ballot == ballot_id) & (Proxy.delegate == delegate_id) & Proxy.revoked_at.is_null()
    )
    if held >= MAX_PROXIES_PER_DELEGATE:
        raise Conflict(N_("This delegate already holds {count} proxies, the most allowed."), count=held)
    if await Proxy.exists().where(
        (Proxy.ballot == ballot_id) & (Proxy.delegator == delegator_id) & Proxy.revoked_at.is_null()
    ):
        raise Conflict(N_("This resident has already given a proxy for this ballot."))
    async with write_transaction():
        proxy = Proxy(
            ballot=ballot_id,
            delegator=delegator_id,
            delegate=delegate_id,
            consent=consent,
            recorded_by=principal.id,
            created_at=now(),
        )
        await proxy.save()
        await audit.record(
            principal.actor,
            "record_proxy",
            "ballot",
            ballot_id,
            {"proxy_id": proxy.id, "delegator": delegator_id, "delegate": delegate_id, "consent": consent},
        )
    return int(proxy.id)


async def revoke_proxy(principal: Principal, ballot_id: int, proxy_id: int) -> None:
    from council.ballots.service import get_row, managed

    row = await get_row(ballot_id)
    managed(principal, row)
    async with write_transaction():
        updated = (
            await Proxy.update({Proxy.revoked_at: now()})
            .where((Proxy.id == proxy_id) & (Proxy.ballot == ballot_id) & Proxy.revoked_at.is_null())
            .returning(Proxy.id)
        )
        if not updated:
            raise NotFound(N_("No live proxy with number {id}."), id=proxy_id)
        await audit.record(principal.actor, "revoke_proxy", "ballot", ballot_id, {"proxy_id": proxy_id})


async def proxies(ballot_id: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = (
        await Proxy.select(
            Proxy.id,
            Proxy.delegator,
            Proxy.delegator.name,
            Proxy.delegate,
            Proxy.delegate.name,
            Proxy.consent,
            Proxy.created_at,
            Proxy.revoked_at,
        )
        .where(Proxy.ballot == ballot_id)
        .order_by(Proxy.id)
    )
    return rows
