"""Who hears about a ballot: its trustees when they have work to do (or none any more, once
it is withdrawn), and its voters when it opens. Call inside the write transaction of the change."""

from __future__ import annotations

from collections.abc import Iterable

from council.ballots.tables import Ballot, RosterEntry, Trustee
from council.i18n import DEFAULT_LOCALE, N_, translations
from council.notifications.service import users_of_residents


def _say(message: str) -> str:
    return translations(DEFAULT_LOCALE).gettext(message)


async def _send(ballot_id: int, user_ids: Iterable[int], what: str) -> None:
    from council.notifications import service as notifications

    row = await Ballot.select(Ballot.title).where(Ballot.id == ballot_id).first()
    users = sorted(set(user_ids))
    if row is None or not users:
        return
    await notifications.notify(
        users,
        kind="ballot",
        title=f"{_say(what)}：{row['title']}",
        body=_say(what),
        link=f"/ballots/{ballot_id}",
        subject_type="ballot",
        subject_id=ballot_id,
    )


async def _trustee_users(ballot_id: int) -> list[int]:
    return [r["user"] for r in await Trustee.select(Trustee.user).where(Trustee.ballot == ballot_id)]


async def trustees_called(ballot_id: int) -> None:
    await _send(ballot_id, await _trustee_users(ballot_id), N_("You are a trustee: generate your key share"))


async def trustees_to_decrypt(ballot_id: int) -> None:
    await _send(
        ballot_id, await _trustee_users(ballot_id), N_("Voting has closed: post your decryption share")
    )


async def voters_invited(ballot_id: int) -> None:
    residents = [
        r["resident"]
        for r in await RosterEntry.select(RosterEntry.resident).where(RosterEntry.ballot == ballot_id)
    ]
    if not residents:
        return
    await _send(ballot_id, await users_of_residents(residents), N_("A ballot is open: you can vote"))


async def trustees_told_withdrawn(ballot_id: int) -> None:
    await _send(
        ballot_id,
        await _trustee_users(ballot_id),
        N_("A ballot you are a trustee of has been withdrawn: you have nothing more to do for it"),
    )
