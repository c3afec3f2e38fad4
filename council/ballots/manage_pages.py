"""HTML pages for the people who manage ballots (council members, hosts, staff of the place):
the new-ballot form, the management panel's verbs (send to trustees, open, close) and the
proxies (委托). The residents' pages (list, ballot page, voting, board) are in pages.py; the
ballot page includes templates/ballots/_manage.html, filled by `manage_context`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Template

from council.accounts.guards import requires_login
from council.accounts.principal import Principal
from council.ballots import manage_form, proxies, service
from council.ballots.encrypt import MAX_BUDGET
from council.ballots.tables import STATUS_TERMS, BallotSecrecy, BallotStatus, BoardEntry, Proxy, RosterEntry
from council.community.service import household_labels
from council.community.tables import Resident
from council.errors import DomainError, Forbidden, Invalid
from council.i18n import N_
from council.web import flash, redirect, require_principal, safe_next, settings_of

Req = Request[Any, Any, Any]
KEYGEN_COMMAND = "council trustee keygen --ballot {id} --wait"
DECRYPT_COMMAND = "council trustee decrypt --ballot {id}"
SEARCH_LIMIT = 20
CLOSED = (BallotStatus.closed.value, BallotStatus.tallied.value)


def now() -> datetime:
    return datetime.now(UTC)


def _next_step(row: dict[str, Any]) -> str:
    status, secret = row["status"], row["secrecy"] == BallotSecrecy.secret.value
    if status == BallotStatus.draft.value:
        return "setup" if secret else "open"
    if status == BallotStatus.ready.value:
        return "open"
    if status == BallotStatus.open.value:
        return "close"
    if status == BallotStatus.closed.value and secret:
        return "decrypt"
    return {BallotStatus.keygen.value: "keygen", BallotStatus.failed.value: "failed"}.get(status, "done")


async def manage_context(principal: Principal | None, row: dict[str, Any]) -> dict[str, Any]:
    """What templates/ballots/_manage.html shows; {} when `principal` may not manage the
    ballot `row` (a full row of the ballot table, as service.get_row gives it)."""
    if not service.can_manage(principal, row):
        return {}
    ballot_id = row["id"]
    trustees = await service.trustees_of(ballot_id)
    people = [
        {
            "index": tr["position"],
            "name": tr["name"],
            "box_key": bool(tr["box_key"]),
            "dealt": bool(tr["commitments"]),
            "checked": tr["checked_at"] is not None,
            "share_posted": tr["share_posted_at"] is not None,
        }
        for tr in trustees
    ]
    voted = await BoardEntry.raw(
        "SELECT COUNT(DISTINCT alias) AS n FROM ballot_board WHERE ballot = {} AND kind IN ('ballot', 'vote')",
        ballot_id,
    )
    at = now()
    return {
        "ballot_id": ballot_id,
        "status": row["status"],
        "status_term": STATUS_TERMS[BallotStatus(row["status"])],
        "secret": row["secrecy"] == BallotSecrecy.secret.value,
        "step": _next_step(row),
        "trustees": people,
        "t": row["t"],
        "n": row["n"],
        "keygen_done": sum(1 for p in people if p["checked"]),
        "shares_posted": sum(1 for p in people if p["share_posted"]),
        "keygen_command": KEYGEN_COMMAND.format(id=ballot_id),
        "decrypt_command": DECRYPT_COMMAND.format(id=ballot_id),
        "failure": row["failure"],
        "opens_at": row["opens_at"],
        "closes_at": row["closes_at"],
        "not_started": at < row["opens_at"],
        "early": at < row["closes_at"],
        "roster_size": await RosterEntry.count().where(RosterEntry.ballot == ballot_id),
        "voted": int(voted[0]["n"]) if voted else 0,
        "live_proxies": await Proxy.count().where((Proxy.ballot == ballot_id) & Proxy.revoked_at.is_null()),
        "proxies_open": row["status"] not in CLOSED,
        "proxies_url": f"/ballots/{ballot_id}/proxies",
        "record_url": f"/api/v1/ballots/{ballot_id}/record.zip",
    }


async def _managed_row(principal: Principal, ballot_id: int) -> dict[str, Any]:
    row = await service.visible_row(principal, ballot_id)
    service.managed(principal, row)
    return row


def _back(request: Req, ballot_id: int, form: Any) -> str:
    """Where a panel button returns: the page it was pressed on, if it is this ballot's."""
    home = f"/ballots/{ballot_id}"
    target = safe_next(_text(form, "next"), home)
    return target if target == home or target.startswith(home + "/") else home


def _text(form: Any, key: str) -> str:
    value = form.get(key)
    return value if isinstance(value, str) else ""


def _zone(request: Req) -> ZoneInfo:
    return ZoneInfo(settings_of(request).timezone)


async def _form_page(
    request: Req, principal: Principal, form: manage_form.BallotForm, error: DomainError | None = None
) -> Template:
    places = await manage_form.places(principal)
    chosen = form.values["proposal_id"]
    return Template(
        "ballots/manage_new.html",
        context={
            "f": form.values,
            "questions": form.questions,
            "trustee_ids": set(form.trustee_ids),
            "places": places,
            "matters": await manage_form.matters(principal, int(chosen) if chosen.isdigit() else None),
            "supervisors": await manage_form.supervisors([p["path"] for p in places]),
            "kinds": manage_form.KIND_TERMS,
            "presets": manage_form.PRESET_TERMS,
            "thresholds": manage_form.THRESHOLD_TERMS,
            "max_questions": service.MAX_QUESTIONS,
            "max_budget": MAX_BUDGET,
            "zone": settings_of(request).timezone,
            "error": error.detail() if error else "",
        },
        status_code=error.status_code if error else 200,
    )


def _creator(request: Req) -> Principal:
    principal = require_principal(request)
    if not manage_form.managed_paths(principal):
        raise Forbidden(N_("Only council members, hosts and staff of this place can manage its ballots."))
    return principal


class BallotManagePages(Controller):
    path = "/ballots"
    guards = [requires_login]
    include_in_schema = False

    @get("/new")
    async def new(self, request: Req, proposal: str = "") -> Template:
        principal = _creator(request)
        chosen = await manage_form.matter(principal, int(proposal)) if proposal.isdigit() else None
        form = manage_form.blank_form(_zone(request), chosen)
        places = await manage_form.places(principal)
        if not form.values["scope_id"] and places:
            form.values["scope_id"] = str(places[0]["id"])
        form.trustee_ids = [s["id"] for s in await manage_form.supervisors([p["path"] for p in places])]
        return await _form_page(request, principal, form)

    @post("/new")
    async def create(self, request: Req) -> Template | Redirect:
        principal = _creator(request)
        form = manage_form.read_form(await request.form())
        try:
            new_id = await service.create(principal, **manage_form.create_args(form, _zone(request)))
        except DomainError as error:
            return await _form_page(request, principal, form, error)
        flash(request, N_("The ballot has been created as a draft."))
        return redirect(f"/ballots/{new_id}")

    @get("/{ballot_id:int}/manage")
    async def panel(self, request: Req, ballot_id: int) -> Template:
        principal = require_principal(request)
        row = await _managed_row(principal, ballot_id)
        return Template(
            "ballots/manage_panel.html",
            context={"b": row, "manage": await manage_context(principal, row)},
        )

    @post("/{ballot_id:int}/setup")
    async def setup(self, request: Req, ballot_id: int) -> Redirect:
        form = await request.form()
        await service.setup(require_principal(request), ballot_id)
        flash(request, N_("Sent to the trustees: each of them now generates a key share."))
        return redirect(_back(request, ballot_id, form))

    @post("/{ballot_id:int}/restart-keygen")
    async def restart_keygen(self, request: Req, ballot_id: int) -> Redirect:
        form = await request.form()
        from council.ballots import trustees

        await trustees.restart_keygen(require_principal(request), ballot_id)
        flash(request, N_("Key generation starts again: every trustee runs the keygen command once more."))
        return redirect(_back(request, ballot_id, form))

    @post("/{ballot_id:int}/open")
    async def open(self, request: Req, ballot_id: int) -> Redirect:
        form = await request.form()
        await service.open_ballot(require_principal(request), ballot_id)
        flash(
            request, N_("The ballot is open: residents can vote from its opening time to its closing time.")
        )
        return redirect(_back(request, ballot_id, form))

    @post("/{ballot_id:int}/close")
    async def close(self, request: Req, ballot_id: int) -> Redirect:
        form = await request.form()
        principal = require_principal(request)
        early = form.get("early") not in (None, "", "0", "off", "false")
        await service.close(principal, ballot_id, early=early)
        row = await service.get_row(ballot_id)
        if row["secrecy"] == BallotSecrecy.secret.value:
            flash(
                request, N_("Voting is closed. The trustees have been asked to post their decryption shares.")
            )
        else:
            flash(request, N_("Voting is closed and the result is published."))
        return redirect(_back(request, ballot_id, form))

    @get("/{ballot_id:int}/proxies")
    async def proxies(
        self, request: Req, ballot_id: int, delegator_q: str = "", delegate_q: str = ""
    ) -> Template:
        principal = require_principal(request)
        row = await _managed_row(principal, ballot_id)
        values = {"delegator_q": delegator_q[:64], "delegate_q": delegate_q[:64]}
        return await _proxies_page(row, values)

    @post("/{ballot_id:int}/proxies")
    async def add_proxy(self, request: Req, ballot_id: int) -> Template | Redirect:
        principal = require_principal(request)
        row = await _managed_row(principal, ballot_id)
        form = await request.form()
        keys = ("delegator_q", "delegate_q", "delegator_id", "delegate_id", "consent")
        values = {k: _text(form, k)[:500] for k in keys}
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


# Proxies ---------------------------------------------------------------------------------


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
    """Active residents of the ballot's place whose name, ID or household ("3栋2单元301",
    "2单元", "301") matches; the chosen one is kept in the list."""
    query = query.strip()[:64]
    if not query and not chosen.isdigit():
        return {"query": query, "items": [], "more": False}
    places = await household_labels(row["scope_path"])
    squeezed = "".join(query.split())
    households = [h for h, label in places.items() if squeezed and squeezed in label]
    condition: Any = (Resident.active == True) & Resident.household.is_in(list(places) or [-1])  # noqa: E712
    match: Any = Resident.id == (int(chosen) if chosen.isdigit() else -1)
    if query:
        match = (
            match
            | Resident.name.like(f"%{query}%")
            | Resident.code.like(f"%{query}%")
            | Resident.household.is_in(households[:2000] or [-1])
        )
    residents = await Resident.select(
        Resident.id, Resident.name, Resident.code, Resident.household, Resident.is_representative
    ).where(condition & match)
    residents.sort(key=lambda r: (places.get(r["household"], ""), not r["is_representative"], r["code"]))
    shown = residents[:SEARCH_LIMIT]
    if chosen.isdigit() and int(chosen) not in [r["id"] for r in shown]:
        shown += [r for r in residents if r["id"] == int(chosen)]
    aliases = await _roster_aliases(row["id"], [r["id"] for r in shown])
    return {
        "query": query,
        "items": [_described(r, places.get(r["household"], ""), aliases.get(r["id"])) for r in shown],
        "more": len(residents) > SEARCH_LIMIT,
    }


HANDLERS = [BallotManagePages]
