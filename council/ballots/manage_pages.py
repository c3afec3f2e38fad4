"""HTML pages for the people who manage ballots (council members, hosts, staff of the place):
the ballot form (new, or changing a draft) and the management panel's verbs (send to
trustees, open, close, withdraw). The proxies (委托) pages are in proxy_pages.py, the
residents' pages (list, ballot page, voting, board) in pages.py; the ballot page includes
templates/ballots/_manage.html, filled by `manage_context`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Template

from council.accounts.guards import requires_login
from council.accounts.principal import Principal
from council.ballots import drafts, manage_form, service
from council.ballots.encrypt import MAX_BUDGET
from council.ballots.tables import STATUS_TERMS, BallotSecrecy, BallotStatus, BoardEntry, Proxy, RosterEntry
from council.errors import DomainError, Forbidden
from council.i18n import N_
from council.web import flash, form_text, redirect, require_principal, safe_next, settings_of

Req = Request[Any, Any, Any]
KEYGEN_COMMAND = "council trustee keygen --ballot {id} --wait"
DECRYPT_COMMAND = "council trustee decrypt --ballot {id}"
CLOSED = (BallotStatus.closed.value, BallotStatus.tallied.value, BallotStatus.withdrawn.value)  # no proxies


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
    steps = {
        BallotStatus.keygen.value: "keygen",
        BallotStatus.failed.value: "failed",
        BallotStatus.withdrawn.value: "withdrawn",
    }
    return steps.get(status, "done")


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
        "editable": row["status"] == BallotStatus.draft.value,
        "edit_url": f"/ballots/{ballot_id}/edit",
        "withdrawable": row["status"] in drafts.WITHDRAWABLE,
        "max_reason": drafts.MAX_REASON,
        "withdraw_error": "",
        "withdraw_reason": "",
        "here": "",
        "withdrawn_at": row["withdrawn_at"],
        "withdrawn_reason": row["withdrawn_reason"] or "",
    }


async def managed_row(principal: Principal, ballot_id: int) -> dict[str, Any]:
    row = await service.visible_row(principal, ballot_id)
    service.managed(principal, row)
    return row


def _back(request: Req, ballot_id: int, form: Any) -> str:
    """Where a panel button returns: the page it was pressed on, if it is this ballot's."""
    home = f"/ballots/{ballot_id}"
    target = safe_next(form_text(form, "next"), home)
    return target if target == home or target.startswith(home + "/") else home


def _zone(request: Req) -> ZoneInfo:
    return ZoneInfo(settings_of(request).timezone)


async def _form_page(
    request: Req,
    principal: Principal,
    form: manage_form.BallotForm,
    error: DomainError | None = None,
    *,
    draft: dict[str, Any] | None = None,
    keeps: bool = True,
) -> Template:
    """The ballot form: new, or changing the ballot row `draft` (`keeps`: the form says all
    that the draft's questions and rule say)."""
    places = await manage_form.places(principal)
    chosen = form.values["proposal_id"]
    return Template(
        "ballots/manage_new.html",
        context={
            "draft": draft,
            "action": f"/ballots/{draft['id']}/edit" if draft else "/ballots/new",
            "keeps": keeps,
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
            new_id = await drafts.create(principal, **manage_form.create_args(form, _zone(request)))
        except DomainError as error:
            return await _form_page(request, principal, form, error)
        flash(request, N_("The ballot has been created as a draft."))
        return redirect(f"/ballots/{new_id}")

    @get("/{ballot_id:int}/edit")
    async def edit(self, request: Req, ballot_id: int) -> Template:
        principal = require_principal(request)
        row = await managed_row(principal, ballot_id)
        drafts.require_draft(row)
        zone = _zone(request)
        form = manage_form.form_of(row, await service.trustees_of(ballot_id), zone)
        if row["secrecy"] != BallotSecrecy.secret.value:
            # ticked as on a new form, should the draft become secret; dropped while it stays open
            places = await manage_form.places(principal)
            form.trustee_ids = [s["id"] for s in await manage_form.supervisors([p["path"] for p in places])]
        keeps = manage_form.form_keeps(row, form, zone)
        return await _form_page(request, principal, form, draft=row, keeps=keeps)

    @post("/{ballot_id:int}/edit")
    async def update(self, request: Req, ballot_id: int) -> Template | Redirect:
        principal = require_principal(request)
        row = await managed_row(principal, ballot_id)
        form = manage_form.read_form(await request.form())
        try:
            await drafts.update(principal, ballot_id, **manage_form.create_args(form, _zone(request)))
        except DomainError as error:
            return await _form_page(request, principal, form, error, draft=row)
        flash(request, N_("The draft has been changed."))
        return redirect(f"/ballots/{ballot_id}")

    @get("/{ballot_id:int}/manage")
    async def panel(self, request: Req, ballot_id: int) -> Template:
        principal = require_principal(request)
        row = await managed_row(principal, ballot_id)
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

    @post("/{ballot_id:int}/withdraw")
    async def withdraw(self, request: Req, ballot_id: int) -> Template | Redirect:
        """The panel's withdraw form; a refusal shows the panel again with the reason kept."""
        form = await request.form()
        principal = require_principal(request)
        reason = form_text(form, "reason")
        try:
            await drafts.withdraw(principal, ballot_id, reason)
        except DomainError as error:
            row = await managed_row(principal, ballot_id)
            manage = await manage_context(principal, row)
            manage.update(
                withdraw_error=error.detail(),
                withdraw_reason=reason[: drafts.MAX_REASON],
                here=_back(request, ballot_id, form),
            )
            return Template(
                "ballots/manage_panel.html",
                context={"b": row, "manage": manage},
                status_code=error.status_code,
            )
        flash(request, N_("The ballot has been withdrawn. Its page shows the reason to everyone."))
        return redirect(_back(request, ballot_id, form))


HANDLERS = [BallotManagePages]
