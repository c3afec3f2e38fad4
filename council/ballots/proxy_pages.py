"""HTML pages of the proxies (委托) of one ballot, for the people who manage it: the list,
recording one from the delegator's written consent (finding both residents by name, ID or
household) and revoking one. The verbs are in proxies.py; the management panel links here.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Template

from council.accounts.guards import requires_login
from council.ballots import proxies
from council.ballots.manage_pages import CLOSED, managed_row
from council.ballots.tables import Proxy, RosterEntry
from council.community.residents import find_in_place
from council.community.service import household_labels
from council.community.tables import Resident
from council.errors import DomainError, Invalid
from council.i18n import N_
from council.web import flash, form_text, redirect, require_principal

Req = Request[Any, Any, Any]
SEARCH_LIMIT = 20


class BallotProxyPages(Controller):
    path = "/ballots"
    guards = [requires_login]
    include_in_schema = False

    @get("/{ballot_id:int}/proxies")
    async def proxies(
        self, request: Req, ballot_id: int, delegator_q: str = "", delegate_q: str = ""
    ) -> Template:
        principal = require_principal(request)
        row = await managed_row(principal, ballot_id)
        values = {"delegator_q": delegator_q[:64], "delegate_q": delegate_q[:64]}
        return await _proxies_page(row, values)

    @post("/{ballot_id:int}/proxies")
    async def add_proxy(self, request: Req, ballot_id: int) -> Template | Redirect:
        principal = require_principal(request)
        row = await managed_row(principal, ballot_id)
        form = await request.form()
        keys = ("delegator_q", "delegate_q", "delegator_id", "delegate_id", "consent")
        values = {k: form_text(form, k)[:500] for k in keys}
        try:
            if not values["delegator_id"].isdigit() or not values["delegate_id"].isdigit():
                raise Invalid(
                    N_("Find and pick both the resident who gives the proxy and the one who holds it.")
                )
            await proxies.record_proxy(
                principal,
                ballot_id,
                delegator_id=int(values["delegator_id"]),
                delegate_id=int(values["delegate_id"]),
                consent=values["consent"],
            )
        except DomainError as error:
            return await _proxies_page(row, values, error)
        flash(request, N_("The proxy is recorded."))
        return redirect(f"/ballots/{ballot_id}/proxies")

    @post("/{ballot_id:int}/proxies/{proxy_id:int}/revoke")
    async def revoke_proxy(self, request: Req, ballot_id: int, proxy_id: int) -> Redirect:
        await proxies.revoke_proxy(require_principal(request), ballot_id, proxy_id)
        flash(request, N_("The proxy is revoked."))
        return redirect(f"/ballots/{ballot_id}/proxies")


async def _proxies_page(
    row: dict[str, Any], values: dict[str, str], error: DomainError | None = None
) -> Template:
    ballot_id = row["id"]
    rows = await proxies.proxies(ballot_id)
    recorders = {
        p["id"]: p["recorded_by.display_name"]
        for p in await Proxy.select(Proxy.id, Proxy.recorded_by.display_name).where(Proxy.ballot == ballot_id)
    }
    people = [p["delegator"] for p in rows] + [p["delegate"] for p in rows]
    found = {
        side: await find_residents(row, values.get(f"{side}_q", ""), values.get(f"{side}_id", ""))
        for side in ("delegator", "delegate")
    }
    labels = await resident_labels(row, people)
    for proxy in rows:
        proxy["recorded_by_name"] = recorders.get(proxy["id"], "")
        proxy["delegator_label"] = labels.get(proxy["delegator"], {})
        proxy["delegate_label"] = labels.get(proxy["delegate"], {})
    return Template(
        "ballots/manage_proxies.html",
        context={
            "b": row,
            "proxies": rows,
            "live": [p for p in rows if p["revoked_at"] is None],
            "revoked": [p for p in rows if p["revoked_at"] is not None],
            "found": found,
            "v": values,
            "can_record": row["status"] not in CLOSED,
            "household_basis": row["weight_basis"] == "household",
            "max_per_delegate": proxies.MAX_PROXIES_PER_DELEGATE,
            "error": error.detail() if error else "",
        },
        status_code=error.status_code if error else 200,
    )


async def _roster_aliases(ballot_id: int, resident_ids: list[int]) -> dict[int, str]:
    if not resident_ids:
        return {}
    rows = await RosterEntry.select(RosterEntry.resident, RosterEntry.alias).where(
        (RosterEntry.ballot == ballot_id) & RosterEntry.resident.is_in(resident_ids)
    )
    return {r["resident"]: r["alias"] for r in rows}


def _described(resident: dict[str, Any], place: str, alias: str | None) -> dict[str, Any]:
    return {
        "id": resident["id"],
        "name": resident["name"],
        "code": resident["code"],
        "place": place,
        "representative": resident["is_representative"],
        "alias": alias,
    }


async def resident_labels(row: dict[str, Any], resident_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Place, roster alias (once the ballot is open) and code of the given residents."""
    if not resident_ids:
        return {}
    places = await household_labels(row["scope_path"])
    residents = await Resident.select(
        Resident.id, Resident.name, Resident.code, Resident.household, Resident.is_representative
    ).where(Resident.id.is_in(sorted(set(resident_ids))))
    aliases = await _roster_aliases(row["id"], [r["id"] for r in residents])
    return {r["id"]: _described(r, places.get(r["household"], ""), aliases.get(r["id"])) for r in residents}


async def find_residents(row: dict[str, Any], query: str, chosen: str = "") -> dict[str, Any]:
    """Residents of the ballot's place matching `query`, with their roster aliases; the
    chosen one is kept in the list."""
    residents, more = await find_in_place(
        row["scope_path"], query, chosen=int(chosen) if chosen.isdigit() else None, limit=SEARCH_LIMIT
    )
    aliases = await _roster_aliases(row["id"], [r["id"] for r in residents])
    items = [_described(r, r["place"], aliases.get(r["id"])) for r in residents]
    return {"query": query.strip()[:64], "items": items, "more": more}


HANDLERS = [BallotProxyPages]
