"""What the hearing pages show, computed once for the server's rendering and, in the same
terms, by static/js/hearing-live.js for its live re-rendering.

The pages mark their parts with `data-when="running !item"`: shown when every flag is
set (or, with "!", unset). The flags come from the live state (the hearing's status, an
open item, someone speaking, people waiting, the quorum), from the person looking (present,
waiting, speaking) and, for a row of a list, from the row. hearing-live.js has the same
flags; keep the two in step.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from council.accounts.principal import Principal
from council.hearings import attendance
from council.hearings.tables import (
    KIND_TERMS,
    OUTCOME_TERMS,
    STATUS_TERMS,
    AgendaItem,
    Attendance,
    HearingKind,
    HearingStatus,
    Invitees,
)
from council.i18n import N_, Term, gettext

ITEM_STATUS_TERMS = {
    "pending": Term(N_("Not yet discussed")),
    "open": Term(N_("Under discussion")),
    "closed": Term(N_("Done")),
}
VIA_TERMS = {
    "online": Term(N_("online")),
    "room": Term(N_("in the room")),
    "qr": Term(N_("in the room (QR code)")),
    "host": Term(N_("marked by the host")),
}


def parse_iso(value: str | None) -> datetime | None:
    if not value:
        return None
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def clock(seconds: float) -> str:
    """2:05, or −0:12 once the time is up."""
    whole = math.ceil(seconds)
    left = abs(whole)
    text = f"{left // 60}:{left % 60:02d}"
    return text if whole >= 0 else f"−{text}"


def remaining_seconds(state: Mapping[str, Any]) -> float | None:
    speaking = state.get("speaking")
    deadline = parse_iso(speaking["deadline"]) if speaking else None
    if deadline is None:
        return None
    return (deadline - datetime.now(UTC)).total_seconds()


def is_mine(entry: Mapping[str, Any] | None, me: Mapping[str, Any]) -> bool:
    if not entry or not me.get("id"):
        return False
    if me.get("resident") is not None:
        return bool(entry.get("resident") == me["resident"])
    return bool(entry.get("user") == me["id"] and entry.get("resident") is None)


def state_flags(state: Mapping[str, Any], me: Mapping[str, Any] | None = None) -> set[str]:
    flags = {str(state["status"])}
    if state.get("current_item") is not None:
        flags.add("item")
        current = next((i for i in state.get("items") or [] if i["id"] == state["current_item"]), None)
        if current and current.get("proposal"):
            flags.add("current-matter")
    if state.get("speaking"):
        flags.add("speaking")
    if state.get("queue"):
        flags.add("queue")
    if state.get("online"):
        flags.add("online")
    counts = state.get("attendance") or {}
    if counts.get("quorum_met"):
        flags.add("quorum")
    if counts.get("quorum_permille"):
        flags.add("rule")
    if me:
        for key in ("logged_in", "invited", "present", "host"):
            if me.get(key):
                flags.add(key)
        if any(is_mine(q, me) for q in state.get("queue") or []):
            flags.add("waiting")
        if is_mine(state.get("speaking"), me):
            flags.add("me-speaking")
    return flags


def shows(flags: Iterable[str], expr: str) -> bool:
    have = set(flags)
    return all((word[1:] not in have) if word.startswith("!") else (word in have) for word in expr.split())


def item_flags(item: Mapping[str, Any], state: Mapping[str, Any]) -> set[str]:
    flags = {f"item-{item['status']}"}
    if item["id"] == state.get("current_item"):
        flags.add("current")
    if item.get("outcome"):
        flags.add(f"outcome-{item['outcome']}")
    if item.get("proposal"):
        flags.add("matter")
    return flags


def queue_position(state: Mapping[str, Any], me: Mapping[str, Any]) -> int:
    for number, entry in enumerate(state.get("queue") or [], start=1):
        if is_mine(entry, me):
            return number
    return 0


def quorum_words(counts: Mapping[str, Any]) -> str:
    """ "3 of 4 households present" and what the rule asks."""
    if counts["basis"] == "members":
        text = gettext(N_("{present} of {invited} council members present"))
    else:
        text = gettext(N_("{present} of {invited} households present"))
    text = text.format(present=counts["present"], invited=counts["invited"])
    if not counts["quorum_permille"]:
        return f"{text} · {gettext(N_('no quorum needed'))}"
    rule = gettext(N_("{needed} needed")).format(needed=counts["needed"])
    met = gettext(N_("quorum reached")) if counts["quorum_met"] else gettext(N_("quorum not reached"))
    return f"{text} · {rule} · {met}"


def quorum_rule(permille: int, invitees: str) -> str:
    if not permille:
        return gettext(N_("No quorum is needed."))
    basis = (
        gettext(N_("the invited council members"))
        if invitees == Invitees.council.value
        else gettext(N_("the invited households"))
    )
    if permille == 500:
        share = gettext(N_("more than half of {basis}"))
    else:
        share = gettext(N_("more than {permille}‰ of {basis}"))
    return share.format(basis=basis, permille=permille)


def words() -> dict[str, Any]:
    """Every word hearing-live.js writes into a page, in the reader's language."""
    return {
        "status": {s.value: gettext(t) for s, t in STATUS_TERMS.items()},
        "item_status": {k: gettext(t) for k, t in ITEM_STATUS_TERMS.items()},
        "via": {k: gettext(t) for k, t in VIA_TERMS.items()},
        "outcome": {o.value: gettext(t) for o, t in OUTCOME_TERMS.items()},
        "minutes": gettext(N_("{n} min")),
        "members_present": gettext(N_("{present} of {invited} council members present")),
        "households_present": gettext(N_("{present} of {invited} households present")),
        "no_quorum": gettext(N_("no quorum needed")),
        "needed": gettext(N_("{needed} needed")),
        "quorum_met": gettext(N_("quorum reached")),
        "quorum_not_met": gettext(N_("quorum not reached")),
        "no_item": gettext(N_("No item is open right now.")),
        "position": gettext(N_("You are number {n} in the queue.")),
        "people_waiting": gettext(N_("{n} waiting")),
        "elapsed": gettext(N_("{used} of {budget} minutes used")),
        "offline": gettext(N_("Connection lost: trying again…")),
        "failed": gettext(N_("That did not work: {detail}")),
        "network": gettext(N_("No connection to the server. Check the network and try again.")),
        "ballot_made": gettext(N_("A draft ballot has been created.")),
        "open_ballot": gettext(N_("Open the ballot")),
        "done": gettext(N_("Done.")),
        "renews": gettext(N_("New code in {n} s")),
        "arrived": gettext(N_("arrived {time}")),
        "left": gettext(N_("left {time}")),
        "late": gettext(N_("late")),
    }


def kind_term(kind: str) -> Term:
    return KIND_TERMS[HearingKind(kind)]


def over(status: str) -> bool:
    return status in (HearingStatus.ended.value, HearingStatus.cancelled.value)


async def agenda(hearing_id: int, principal: Principal | None) -> list[dict[str, Any]]:
    """The agenda with what each outcome points at: the matter, the ballot (linked when the
    viewer may see it: a ballot being prepared is its managers'), the later hearing."""
    from council.ballots.service import shown_to

    rows: list[dict[str, Any]] = (
        await AgendaItem.select(
            *AgendaItem.all_columns(),
            AgendaItem.proposal.title,
            AgendaItem.proposal.status,
            AgendaItem.ballot.status,
            AgendaItem.ballot.scope_path,
            AgendaItem.deferred_to.title,
            AgendaItem.deferred_to.starts_at,
        )
        .where(AgendaItem.hearing == hearing_id)
        .order_by(AgendaItem.position)
    )
    for row in rows:
        path = row.pop("ballot.scope_path")
        row["ballot_shown"] = row["ballot"] is not None and shown_to(principal, row["ballot.status"], path)
    return rows


async def came(row: Mapping[str, Any]) -> dict[str, Any]:
    """Who came at any time during a finished hearing: people, households (or members), late."""
    rows = await Attendance.select(Attendance.household, Attendance.user, Attendance.late).where(
        Attendance.hearing == row["id"]
    )
    counts = await attendance.counts(dict(row))
    if row["invitees"] == Invitees.council.value:
        members = await attendance.council_members(row["scope_path"])
        units = len({r["user"] for r in rows if r["user"] in members})
    else:
        units = len({r["household"] for r in rows if r["household"] is not None})
    return {
        **counts,
        "people": len(rows),
        "present": units,
        "late": sum(1 for r in rows if r["late"]),
        "quorum_met": units >= counts["needed"],
    }
