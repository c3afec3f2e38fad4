"""HTML pages of the decide step for residents: the list of ballots, a ballot's page, the
voting page and the public board with its tracking-code search.

A secret ballot is encrypted in the voter's browser (static/js/ballot-page.js over
vote.js) and cast through the JSON API; an open (roll-call) ballot is a plain form that
works without JavaScript. The management buttons live in manage_pages.py and
templates/ballots/_manage.html, included by the ballot's page for those who may manage it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, get, post
from litestar.datastructures import FormMultiDict
from litestar.response import Redirect, Template

from council.accounts.guards import principal_of, requires_login
from council.accounts.principal import Principal
from council.ballots import casting, queries
from council.ballots.page_words import (
    KINDS,
    PHASES,
    outcome_words,
    parse_time,
    phase_of,
    questions_of,
    rule_words,
    voters_word,
)
from council.ballots.service import CREATOR_ROLES, UNPUBLISHED, can_manage, get_row
from council.ballots.tables import STATUS_TERMS, BallotSecrecy, BallotStatus
from council.errors import DomainError, Invalid
from council.i18n import N_
from council.web import Paging, flash, redirect, require_principal

Req = Request[Any, Any, Any]
PUBLISHED = [s for s in BallotStatus if s.value not in UNPUBLISHED]
PREPARING = ("draft", "keygen", "failed", "ready")


def _context(principal: Principal | None, b: dict[str, Any]) -> dict[str, Any]:
    """What every page of one ballot shows about it."""
    phase = phase_of(b["status"], b["opens_at"], b["closes_at"])
    return {
        "b": b,
        "phase": phase,
        "phases": PHASES,
        "principal": principal,
        "voters": voters_word(b["weight_basis"]),
        "secret": b["secrecy"] == BallotSecrecy.secret.value,
    }


class BallotPages(Controller):
    path = "/ballots"
    include_in_schema = False

    @get("/", opt={"public": True})
    async def index(self, request: Req, status: str = "", offset: int = 0, limit: int = 20) -> Template:
        page = Paging.of(offset, limit, default=20)
        principal = principal_of(request)
        wanted = status if status in {s.value for s in BallotStatus} else ""
        rows, total = await queries.find(
            principal, status=wanted or None, offset=page.offset, limit=page.limit
        )
        voting = await queries.ballots_voted_in(
            principal, [r["id"] for r in rows if r["status"] == BallotStatus.open.value]
        )
        for row in rows:
            row["phase"] = phase_of(row["status"], row["opens_at"], row["closes_at"])
            # Visitors are asked to log in by the vote page; others see it if they vote.
            row["votes_here"] = principal is None or row["id"] in voting
        query = urlencode({"status": wanted}) if wanted else ""
        return Template(
            "ballots/index.html",
            context={
                "rows": rows,
                "total": total,
                "page": page,
                "status": wanted,
                "statuses": {s.value: STATUS_TERMS[s] for s in PUBLISHED},
                "phases": PHASES,
                "base": f"/ballots?{query}" if query else "/ballots",
                "manage": principal is not None and principal.has_role(*CREATOR_ROLES),
            },
        )

    @get("/{ballot_id:int}", opt={"public": True})
    async def show(self, request: Req, ballot_id: int) -> Template:
        principal = principal_of(request)
        b = await queries.summary(principal, ballot_id)
        mine = await casting.my_entries(principal, ballot_id) if b["fingerprint"] else []
        voting = b["status"] == BallotStatus.open.value
        return Template(
            "ballots/show.html",
            context={
                **_context(principal, b),
                "votes_here": principal is None
                or (voting and ballot_id in await queries.ballots_voted_in(principal, [ballot_id])),
                "not_on_roster": casting.NOT_ON_ROSTER,
                "rule": rule_words(b),
                "outcome": outcome_words(b),
                "mine": mine,
                "short": casting.short_code,
                "manage": await _manage(principal, ballot_id),
            },
        )

    @get("/{ballot_id:int}/vote", opt={"public": True})
    async def vote_form(self, request: Req, ballot_id: int) -> Template | Redirect:
        principal = principal_of(request)
        b = await queries.summary(principal, ballot_id)  # a draft is not found for the public
        if principal is None:
            return redirect("/login?" + urlencode({"next": f"/ballots/{ballot_id}/vote"}))
        return await _vote_page(principal, b)

    @post("/{ballot_id:int}/vote", guards=[requires_login])
    async def vote(self, request: Req, ballot_id: int) -> Template | Redirect:
        """An open ballot's vote from the plain form: radio buttons and checkboxes become 0/1 marks."""
        principal = require_principal(request)
        b = await queries.summary(principal, ballot_id)
        form = await request.form()
        picked = _picked(form, b["questions"])
        for_alias = str(form.get("for_alias") or "").strip() or None
        try:
            _check_picked(picked, b["questions"])
            await casting.vote(principal, ballot_id, _marks(picked, b["questions"]), for_alias=for_alias)
        except DomainError as error:
            return await _vote_page(
                principal,
                b,
                error=error.detail(),
                picked=picked,
                for_alias=for_alias,
                status_code=error.status_code,
            )
        flash(
            request,
            N_("Your vote has been recorded. You can change it until voting closes: the last vote counts."),
        )
        return redirect(f"/ballots/{ballot_id}/vote")

    @get("/{ballot_id:int}/board", opt={"public": True})
    async def board(
        self, request: Req, ballot_id: int, code: str = "", offset: int = 0, limit: int = 50
    ) -> Template:
        principal = principal_of(request)
        page = Paging.of(offset, limit, default=50)
        b = await queries.summary(principal, ballot_id)
        context = _context(principal, b)
        if not b["fingerprint"]:
            return Template("ballots/board.html", context={**context, "started": False})
        board = await queries.board_page(principal, ballot_id, offset=page.offset, limit=page.limit)
        return Template(
            "ballots/board.html",
            context={
                **context,
                "started": True,
                "board": board,
                "entries": _board_rows(board["entries"], b),
                "page": page,
                "base": f"/ballots/{ballot_id}/board",
                "search": await _search(principal, b, code) if code.strip() else None,
                "code": code.strip()[:80],
                "kinds": KINDS,
            },
        )


async def _manage(principal: Principal | None, ballot_id: int) -> dict[str, Any]:
    """The management panel's context (manage_pages.py), only for those who may manage."""
    row = await get_row(ballot_id)
    if not can_manage(principal, row):
        return {}
    from council.ballots.manage_pages import manage_context

    return await manage_context(principal, row)


# The voting page ------------------------------------------------------------------------


def _picked(form: FormMultiDict, questions: Sequence[Mapping[str, Any]]) -> list[set[int]]:
    picked: list[set[int]] = []
    for q, question in enumerate(questions):
        values = form.getall(f"q{q}") if f"q{q}" in form else []
        chosen = {int(v) for v in values if isinstance(v, str) and v.isdigit()}
        picked.append({j for j in chosen if j < len(question["options"])})
    return picked


def _check_picked(picked: Sequence[set[int]], questions: Sequence[Mapping[str, Any]]) -> None:
    """The form's choices against each question's rule, in the words the page uses."""
    for q, (chosen, question) in enumerate(zip(picked, questions, strict=True)):
        number = q + 1
        if question.get("budget") is not None:
            spent = sum(question["costs"][j] for j in chosen)
            if spent > question["budget"]:
                raise Invalid(
                    N_("Question {number}: your choices cost {spent}, more than the budget of {budget}."),
                    number=number,
                    spent=spent,
                    budget=question["budget"],
                )
        elif question["min"] == question["max"] == 1 and len(chosen) != 1:
            raise Invalid(N_("Question {number}: please choose one option."), number=number)
        elif len(chosen) < question["min"]:
            raise Invalid(N_("Question {number}: choose at least {min}."), number=number, min=question["min"])
        elif len(chosen) > question["max"]:
            raise Invalid(N_("Question {number}: choose at most {max}."), number=number, max=question["max"])


def _marks(picked: Sequence[set[int]], questions: Sequence[Mapping[str, Any]]) -> list[list[int]]:
    return [
        [1 if j in chosen else 0 for j in range(len(question["options"]))]
        for chosen, question in zip(picked, questions, strict=True)
    ]


async def _vote_page(
    principal: Principal,
    b: dict[str, Any],
    *,
    error: str | None = None,
    picked: Sequence[set[int]] | None = None,
    for_alias: str | None = None,
    status_code: int = 200,
) -> Template:
    context = _context(principal, b)
    phase = context["phase"]
    entries = await casting.my_entries(principal, b["id"]) if b["fingerprint"] else []
    if phase in PREPARING:
        state = "preparing"
    elif phase == "withdrawn":
        state = "withdrawn"
    elif phase == "upcoming":
        state = "upcoming"
    elif phase in ("ended", "closed", "tallied"):
        state = "closed"
    elif not entries:
        state = "not_on_roster"
        status_code = 403 if status_code == 200 else status_code
    else:
        state = "voting"
    own = [e for e in entries if e["own"]]
    return Template(
        "ballots/vote.html",
        context={
            **context,
            "state": state,
            "entries": entries,
            "chosen_alias": for_alias or (own[0]["alias"] if own else entries[0]["alias"] if entries else ""),
            "questions": questions_of(b["questions"]),
            "picked": [sorted(p) for p in picked] if picked else None,
            "error": error,
            "short": casting.short_code,
        },
        status_code=status_code,
    )


# The board -------------------------------------------------------------------------------


def _labels(options: Sequence[str], marks: object) -> str:
    if not isinstance(marks, list):
        return ""
    return "、".join(options[j] for j, m in enumerate(marks) if m == 1 and j < len(options))


def _board_rows(entries: Sequence[Mapping[str, Any]], b: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Board entries as the page lists them: who, what, when, and the marks a voter looks for."""
    questions = b["questions"]
    trustees = {t["index"]: t["name"] for t in b["trustees"]}
    rows = []
    for entry in entries:
        payload = entry["payload"]
        code = entry.get("tracking_code")
        row: dict[str, Any] = {
            "seq": entry["seq"],
            "kind": entry["kind"],
            "hash": entry["hash"],
            "alias": payload.get("alias"),
            "code": code,
            "short": casting.short_code(code) if code else None,
            "at": parse_time(payload.get("cast_at") or payload.get("closed_at")),
            "superseded": bool(entry.get("superseded")),
            "by_proxy": bool(entry.get("by_proxy")),
            "choices": [],
        }
        if entry["kind"] == "vote":
            row["voter_name"] = payload.get("voter_name")
            row["choices"] = [
                (q["text"], _labels(q["options"], marks))
                for q, marks in zip(questions, payload.get("choices", []), strict=False)
            ]
        elif entry["kind"] == "audited":
            row["choices"] = [
                (q["text"], _labels(q["options"], reveal.get("m")))
                for q, reveal in zip(questions, payload.get("reveal", []), strict=False)
                if isinstance(reveal, dict)
            ]
        elif entry["kind"] == "share":
            row["trustee"] = trustees.get(payload.get("trustee"), str(payload.get("trustee")))
        rows.append(row)
    return rows


def _clean_code(code: str) -> str | None:
    cleaned = code.strip().lower().replace("-", "").replace(" ", "")
    if len(cleaned) in (8, 64) and all(ch in "0123456789abcdef" for ch in cleaned):
        return cleaned
    return None


async def _search(principal: Principal | None, b: Mapping[str, Any], code: str) -> dict[str, Any]:
    """Is this tracking code on the board, and does that ballot count?"""
    if _clean_code(code) is None:
        return {"valid": False, "found": []}
    found = []
    for hit in await queries.find_tracking_code(b["id"], code):
        item = {
            "seq": hit["seq"],
            "kind": hit["kind"],
            "alias": hit["alias"],
            "code": hit["tracking_code"],
            "superseded": False,
        }
        if hit["kind"] == "ballot":
            same = await queries.board_page(principal, b["id"], offset=0, limit=1000, alias=hit["alias"])
            item["superseded"] = any(e["seq"] == hit["seq"] and e.get("superseded") for e in same["entries"])
        found.append(item)
    return {"valid": True, "found": found}


HANDLERS = [BallotPages]
