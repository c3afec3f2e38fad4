"""Receipts by mail (BALLOTS.md): a voter with an email address gets the receipt of each
ballot she casts — the tracking code and the board's head just after it — so she keeps a
copy the server cannot change afterwards. With the final board published, `council verify
RECORD --receipt CODE HEAD` checks that this head lies on its chain.

Queued in the outbox inside the cast's own transaction (one statement for a group of
ballots), and only when SMTP is configured; the in-app inbox gets nothing, as the voting
page already shows the receipt and lists her ballots.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from council.accounts.tables import User
from council.ballots.tables import Ballot
from council.i18n import DEFAULT_LOCALE, N_, translations
from council.notifications.service import email_text
from council.notifications.tables import OutboxEmail
from council.settings import Settings


def receipt_text(title: str, receipt: dict[str, Any]) -> tuple[str, str]:
    """The subject and body of one receipt, in the community's language."""
    say = translations(DEFAULT_LOCALE).gettext
    subject = say(N_("Receipt of your ballot: {title}")).format(title=title)
    body = say(
        N_(
            "Your ballot is on the board.\n\n"
            "Tracking code: {code}\n"
            "Short form: {short}\n"
            "Board head just after your ballot: {head}\n\n"
            "Keep this message. You can look your ballot up on the board by its tracking code, "
            "and after the count check it against the published record with "
            "council verify RECORD --receipt {code} {head}. If you vote again, the last ballot counts."
        )
    ).format(code=receipt["tracking_code"], short=receipt["short_code"], head=receipt["head"])
    return subject[:200], body


async def queue(ballot_id: int, casts: Sequence[tuple[int, dict[str, Any]]]) -> int:
    """Queues the receipt of each (user id, receipt) whose user has an address. Call inside
    the write transaction of the casts. Returns how many mails were queued."""
    if not casts:
        return 0
    settings = Settings.from_env()
    if not settings.email_enabled:
        return 0
    addresses = {
        row["id"]: row["email"]
        for row in await User.select(User.id, User.email).where(
            User.id.is_in(sorted({user for user, _ in casts})) & (User.active == True)  # noqa: E712
        )
        if row["email"]
    }
    if not addresses:
        return 0
    row = await Ballot.select(Ballot.title).where(Ballot.id == ballot_id).first()
    title = row["title"] if row else str(ballot_id)
    now = datetime.now(UTC)
    mails = []
    for user, receipt in casts:
        if user not in addresses:
            continue
        subject, body = receipt_text(title, receipt)
        link = f"/ballots/{ballot_id}/board?code={receipt['short_code']}"
        mails.append(
            OutboxEmail(
                to_address=addresses[user],
                subject=subject,
                body=email_text(settings, body, link),
                created_at=now,
                next_attempt_at=now,
            )
        )
    if mails:
        await OutboxEmail.insert(*mails)
    return len(mails)
