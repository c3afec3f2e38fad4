"""The schedule-a-hearing form: what it offers (places, hosts, secretaries, accepted matters)
and how a posted form becomes service.schedule's arguments.

Plain HTML first: the agenda has ITEM_SLOTS slots, each a matter from the list or a free
title with its time budget; empty slots are left out. The start is typed in the
community's zone (settings.timezone) and becomes an aware UTC datetime here. Anything
wrong is an Invalid naming the field, so the page can show it with the values kept.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from council.accounts.principal import Principal
from council.accounts.tables import Role, RoleAssignment
from council.community.service import places_under
from council.community.tables import NodeKind
from council.errors import Invalid
from council.hearings.service import HOST_ROLES, MAX_ITEMS, ORGANISER_ROLES, SECRETARY_ROLES
from council.hearings.tables import HearingKind, Invitees
from council.i18n import N_
from council.proposals.queries import accepted_matters
from council.web import form_slots, form_text

ITEM_SLOTS = 5
PLACE_KINDS = (NodeKind.community, NodeKind.grid, NodeKind.building, NodeKind.unit)
TIME_FORMAT = "%Y-%m-%dT%H:%M"
SPEAKING_MINUTES = ("1", "2", "3", "4", "5", "8", "10", "15")
ITEM_FIELDS = ("proposal", "title", "minutes")
FIELDS = (
    "kind",
    "title",
    "description",
    "scope_id",
    "starts_at",
    "place",
    "host_id",
    "secretary_id",
    "invitees",
    "quorum_permille",
    "speaking_minutes",
)


@dataclass
class HearingForm:
    """The form as typed: strings, so a re-rendered form shows exactly what was sent."""

    values: dict[str, str]
    items: list[dict[str, str]] = field(default_factory=list)


def _blank_item() -> dict[str, str]:
    return {"proposal": "", "title": "", "minutes": "15"}


def blank_form(
    zone: ZoneInfo, principal: Principal, proposal: Mapping[str, Any] | None = None
) -> HearingForm:
    """Defaults: tomorrow at 19:30, open to residents online too, more than half of the
    households for the quorum, three minutes a speaker; the matter given first on the agenda."""
    tomorrow = (datetime.now(zone) + timedelta(days=1)).replace(hour=19, minute=30, second=0, microsecond=0)
    values = {
        "kind": HearingKind.doorstep_talk.value,
        "title": str(proposal["title"]) if proposal else "",
        "description": "",
        "scope_id": str(proposal["scope"]) if proposal else "",
        "starts_at": tomorrow.strftime(TIME_FORMAT),
        "place": "",
        "online": "1",
        "host_id": str(principal.id) if principal.has_role(*HOST_ROLES) else "",
        "secretary_id": "",
        "invitees": Invitees.residents.value,
        "quorum_permille": "500",
        "speaking_minutes": "3",
    }
    items = [_blank_item() for _ in range(ITEM_SLOTS)]
    if proposal:
        items[0]["proposal"] = str(proposal["id"])
    return HearingForm(values, items)


def read_form(form: Any) -> HearingForm:
    """The posted form (a multi-dict) as strings, one dict per agenda slot."""
    values = {key: form_text(form, key) for key in FIELDS}
    values["online"] = "1" if form_text(form, "online") not in ("", "0", "off", "false") else ""
    items = form_slots(form, "item", ITEM_FIELDS, MAX_ITEMS, _blank_item, ITEM_SLOTS)
    return HearingForm(values, items)


def parse_time(text: str, zone: ZoneInfo) -> datetime:
    """A date and time typed in the community's zone, as an aware UTC datetime."""
    try:
        moment = datetime.fromisoformat(text.strip().replace(" ", "T"))
    except ValueError:
        raise Invalid(N_("The start is not a date and time (for example 2025-06-01 19:30).")) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)


def _whole(text: str, message: str, **params: Any) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise Invalid(message, **params) from None


def _items(slots: Sequence[Mapping[str, str]]) -> list[dict[str, Any]]:
    out = []
    for number, slot in enumerate(slots, start=1):
        proposal, title = slot["proposal"].strip(), slot["title"].strip()
        if not proposal and not title:
            continue
        minutes = _whole(
            slot["minutes"] or "15",
            N_("Agenda item {number}: the time budget is a whole number of minutes."),
            number=number,
        )
        out.append(
            {
                "proposal_id": _whole(proposal, N_("Choose a matter from the list.")) if proposal else None,
                "title": title[:100],
                "minutes_budget": minutes,
            }
        )
    return out


def schedule_args(form: HearingForm, zone: ZoneInfo) -> dict[str, Any]:
    """service.schedule's keyword arguments, or Invalid naming what to fix."""
    v = form.values
    if v["kind"] not in {k.value for k in HearingKind}:
        raise Invalid(N_("Choose the kind of hearing."))
    if not v["scope_id"].strip().isdigit():
        raise Invalid(N_("Choose the place the hearing is for."))
    if not v["host_id"].strip().isdigit():
        raise Invalid(N_("Choose who hosts the hearing."))
    secretary = v["secretary_id"].strip()
    quorum = _whole(v["quorum_permille"] or "0", N_("The quorum is a whole number of per mille (0 to 1000)."))
    minutes = _whole(v["speaking_minutes"] or "3", N_("A speaker's time is a whole number of minutes."))
    return {
        "kind": HearingKind(v["kind"]),
        "title": v["title"][:100],
        "description": v["description"][:5000],
        "scope_id": int(v["scope_id"]),
        "starts_at": parse_time(v["starts_at"], zone),
        "place": v["place"][:200],
        "online": bool(v["online"]),
        "host_id": int(v["host_id"]),
        "secretary_id": int(secretary) if secretary.isdigit() else None,
        "invitees": Invitees.council if v["invitees"] == Invitees.council.value else Invitees.residents,
        "quorum_permille": quorum,
        "speaking_seconds": minutes * 60,
        "items": _items(form.items),
    }


# What the form offers ------------------------------------------------------------------


def organised_paths(principal: Principal) -> list[str]:
    return [g.node_path for g in principal.scopes(*ORGANISER_ROLES)]


async def places(principal: Principal) -> list[dict[str, Any]]:
    """The places where the principal may schedule a hearing, the widest first."""
    return await places_under(organised_paths(principal), PLACE_KINDS)


async def matters(paths: Sequence[str], chosen: int | None = None) -> list[dict[str, Any]]:
    """Matters accepted for a hearing in these places (and the chosen one, to show it)."""
    return await accepted_matters(paths, chosen)


async def people(roles: Sequence[Role], paths: Sequence[str]) -> list[dict[str, Any]]:
    """Active users holding one of `roles` over a place that contains one of `paths`, with
    the paths they hold it over (the page hides those who do not cover the chosen place)."""
    rows = await RoleAssignment.select(
        RoleAssignment.user,
        RoleAssignment.user.display_name,
        RoleAssignment.user.username,
        RoleAssignment.user.active,
        RoleAssignment.node.path,
        RoleAssignment.node.name,
    ).where(RoleAssignment.role.is_in([r.value for r in roles]))
    found: dict[int, dict[str, Any]] = {}
    for row in rows:
        path = row["node.path"]
        if not row["user.active"] or not any(p.startswith(path) for p in paths):
            continue
        person = found.setdefault(
            row["user"],
            {"id": row["user"], "name": row["user.display_name"] or row["user.username"], "paths": []},
        )
        if path not in person["paths"]:
            person["paths"].append(path)
    return sorted(found.values(), key=lambda p: (p["name"], p["id"]))


async def choices(principal: Principal, chosen_matter: int | None = None) -> dict[str, Any]:
    """Everything the form's lists offer."""
    where = await places(principal)
    paths = [p["path"] for p in where]
    return {
        "places": where,
        "matters": await matters(organised_paths(principal), chosen_matter),
        "hosts": await people(HOST_ROLES, paths),
        "secretaries": await people(SECRETARY_ROLES, paths),
    }
