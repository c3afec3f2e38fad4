"""The ballot form, new or changing a draft: what it offers (places, matters, supervisors),
how a posted form becomes drafts.create's (and drafts.update's) arguments, and how a
draft becomes the form again (form_of).

Plain HTML first: the page shows QUESTION_SLOTS question slots and ignores the empty ones;
ballot-form.js only hides what does not apply and adds slots. Times are typed in the
community's zone (settings.timezone) and become aware UTC datetimes here. Anything wrong
is an Invalid naming the field, so the page can show it with the values kept.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from council.accounts.principal import Principal
from council.accounts.tables import Role, RoleAssignment
from council.ballots.encrypt import MAX_BUDGET
from council.ballots.record import question_shapes
from council.ballots.rules import PRESETS, THRESHOLDS, rule_plan
from council.ballots.service import CREATOR_ROLES, MAX_OPTIONS, MAX_QUESTIONS, loads
from council.ballots.tables import BallotSecrecy, WeightBasis
from council.community.service import places_under
from council.community.tables import NodeKind
from council.errors import Invalid
from council.i18n import N_, Term
from council.proposals.queries import accepted_matters
from council.web import form_slots, form_text

QUESTION_SLOTS = 3
YES_NO_OPTIONS = ("赞成", "反对", "弃权")
KIND_TERMS = {
    "yes_no": Term(N_("Yes / No / Abstain")),
    "choose": Term(N_("Choose up to k")),
    "approval": Term(N_("Approval (tick any number)")),
    "budget": Term(N_("Budget (share out units)")),
}
PRESET_TERMS = {
    "resident_meeting": Term(
        N_("Residents' meeting (居民会议): more than half take part, more than half of the votes say yes")
    ),
    "household_meeting": Term(
        N_(
            "Household meeting (户代表会议): at least two thirds take part, more than half of the votes say yes"
        )
    ),
    "two_thirds": Term(
        N_("Weighty matter: more than half take part, at least two thirds of the votes say yes")
    ),
    "custom": Term(N_("Custom rule (set below)")),
}
THRESHOLD_TERMS = {
    "simple": Term(N_("more than half")),
    "two_thirds": Term(N_("at least two thirds")),
    "three_quarters": Term(N_("at least three quarters")),
}
PLACE_KINDS = (NodeKind.community, NodeKind.grid, NodeKind.building, NodeKind.unit)
TIME_FORMAT = "%Y-%m-%dT%H:%M"
QUESTION_FIELDS = ("text", "kind", "options", "k", "costs", "budget")


@dataclass
class BallotForm:
    """The form as typed: strings, so a re-rendered form shows exactly what was sent."""

    values: dict[str, str]
    questions: list[dict[str, str]]
    trustee_ids: list[int] = field(default_factory=list)


def _blank_question() -> dict[str, str]:
    return {"text": "", "kind": "yes_no", "options": "", "k": "1", "costs": "", "budget": ""}


def blank_form(zone: ZoneInfo, proposal: Mapping[str, Any] | None = None) -> BallotForm:
    """Defaults: opens now, closes in a week at 20:00, a yes/no question, all supervisors."""
    here = datetime.now(zone).replace(second=0, microsecond=0)
    closes = (here + timedelta(days=7)).replace(hour=20, minute=0)
    values = {
        "title": str(proposal["title"]) if proposal else "",
        "description": "",
        "proposal_id": str(proposal["id"]) if proposal else "",
        "scope_id": str(proposal["scope"]) if proposal else "",
        "secrecy": BallotSecrecy.secret.value,
        "weight_basis": WeightBasis.household.value,
        "opens_at": here.strftime(TIME_FORMAT),
        "closes_at": closes.strftime(TIME_FORMAT),
        "preset": "resident_meeting",
        "quorum": "500",
        "of": "cast",
        "threshold": "simple",
        "abstain_counts": "1",
        "t": "",
    }
    first = _blank_question()
    if proposal:
        first["text"] = str(proposal["title"])
    return BallotForm(values, [first] + [_blank_question() for _ in range(QUESTION_SLOTS - 1)], [])


def read_form(form: Any) -> BallotForm:
    """The posted form (a multi-dict) as strings, one dict per question slot."""
    keys = [
        *("title", "description", "proposal_id", "scope_id", "secrecy", "weight_basis", "opens_at"),
        *("closes_at", "preset", "quorum", "of", "threshold", "t"),
    ]
    values = {key: form_text(form, key) for key in keys}
    values["abstain_counts"] = "1" if form_text(form, "abstain_counts") else ""
    questions = form_slots(form, "q", QUESTION_FIELDS, MAX_QUESTIONS, _blank_question, QUESTION_SLOTS)
    trustees = []
    for value in form.getall("trustee_ids", []):
        if isinstance(value, str) and value.strip().isdigit():
            trustees.append(int(value))
    return BallotForm(values, questions, trustees)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.replace("\r", "").split("\n") if line.strip()]


def _whole(text: str, message: str, **params: Any) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise Invalid(message, **params) from None


def parse_time(text: str, zone: ZoneInfo, what: str) -> datetime:
    """A date and time typed in the community's zone, as an aware UTC datetime."""
    try:
        moment = datetime.fromisoformat(text.strip().replace(" ", "T"))
    except ValueError:
        raise Invalid(
            N_("The {what} time is not a date and time (for example 2025-06-01 09:00)."), what=what
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)


def _is_empty(question: Mapping[str, str]) -> bool:
    return not (question["text"].strip() or question["options"].strip() or question["costs"].strip())


def _question(number: int, raw: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """One slot as a service question and its plan in the rule."""
    kind = raw["kind"] if raw["kind"] in KIND_TERMS else "yes_no"
    text = raw["text"].strip()
    options = _lines(raw["options"])
    if kind == "yes_no":
        if options:
            raise Invalid(
                N_(
                    "Question {number} is a yes / no / abstain question: its options are fixed. "
                    "Leave the options empty, or choose another kind."
                ),
                number=number,
            )
        if not text:
            raise Invalid(N_("Question {number} needs its text."), number=number)
        question = {"text": text, "options": list(YES_NO_OPTIONS), "min": 1, "max": 1}
        return question, {"method": "majority", "yes_option": 0, "abstain_option": 2}
    if not text or not options or len(options) > MAX_OPTIONS:
        raise Invalid(
            N_("Question {number} needs a text and 1 to {max} options, none empty."),
            number=number,
            max=MAX_OPTIONS,
        )
    if len(set(options)) != len(options):
        raise Invalid(N_("Question {number} lists an option twice."), number=number)
    if kind == "budget":
        costs = [
            _whole(c, N_("Question {number}: each cost is a whole number of units."), number=number)
            for c in _lines(raw["costs"])
        ]
        if len(costs) != len(options):
            raise Invalid(
                N_("Question {number}: give one cost per option ({options} options, {costs} costs)."),
                number=number,
                options=len(options),
                costs=len(costs),
            )
        if any(c < 1 for c in costs):
            raise Invalid(N_("Question {number}: each cost is at least 1 unit."), number=number)
        budget = _whole(
            raw["budget"], N_("Question {number}: the budget is a whole number of units."), number=number
        )
        if not 1 <= budget <= MAX_BUDGET:
            raise Invalid(
                N_("Question {number}: the budget is 1 to {max} units."), number=number, max=MAX_BUDGET
            )
        question = {"text": text, "options": options, "min": 0, "max": len(options)}
        return {**question, "costs": costs, "budget": budget}, {"method": "budget"}
    k = _whole(raw["k"] or "1", N_("Question {number}: k is a whole number."), number=number)
    if not 1 <= k <= len(options):
        raise Invalid(
            N_("Question {number}: k is between 1 and the number of options ({n})."),
            number=number,
            n=len(options),
        )
    low = 1 if kind == "choose" else 0
    high = k if kind == "choose" else len(options)
    return {"text": text, "options": options, "min": low, "max": high}, {"method": "top", "seats": k}


def _rule(values: Mapping[str, str], plans: list[dict[str, Any]]) -> dict[str, Any]:
    preset = values["preset"]
    if preset in PRESETS:
        return {"preset": preset, "questions": plans}
    if preset != "custom":
        raise Invalid(N_("Choose an outcome rule."))
    quorum: dict[str, Any] | None = None
    if values["quorum"].strip():
        permille = _whole(values["quorum"], N_("The quorum is a whole number of per mille (0 to 1000)."))
        if not 0 <= permille <= 1000:
            raise Invalid(N_("The quorum is a whole number of per mille (0 to 1000)."))
        quorum = {"basis": "eligible_weight", "more_than_permille": permille}
    of = values["of"] if values["of"] in ("cast", "eligible") else "cast"
    threshold = values["threshold"] if values["threshold"] in THRESHOLDS else "simple"
    majority = {"of": of, "threshold": threshold, "abstain_counts": bool(values["abstain_counts"])}
    return {"quorum": quorum, "majority": majority, "questions": plans}


def _int_or_none(text: str, message: str) -> int | None:
    return _whole(text, message) if text.strip() else None


def create_args(form: BallotForm, zone: ZoneInfo) -> dict[str, Any]:
    """drafts.create's (and update's) keyword arguments, or Invalid naming what to fix."""
    values = form.values
    scope_id = _int_or_none(values["scope_id"], N_("Choose the place the ballot is for."))
    if scope_id is None:
        raise Invalid(N_("Choose the place the ballot is for."))
    questions, plans = [], []
    for number, raw in enumerate(form.questions, start=1):
        if _is_empty(raw):
            continue
        question, plan = _question(number, raw)
        questions.append({"costs": None, "budget": None, **question})
        plans.append(plan)
    secrecy = BallotSecrecy.open if values["secrecy"] == "open" else BallotSecrecy.secret
    secret = secrecy is BallotSecrecy.secret
    weight = WeightBasis.resident if values["weight_basis"] == "resident" else WeightBasis.household
    return {
        "title": values["title"][:100],
        "description": values["description"][:5000],
        "scope_id": scope_id,
        "secrecy": secrecy,
        "weight_basis": weight,
        "questions": questions,
        "rule": _rule(values, plans),
        "opens_at": parse_time(values["opens_at"], zone, Term(N_("opening"))),
        "closes_at": parse_time(values["closes_at"], zone, Term(N_("closing"))),
        # An open ballot has no trustees: boxes left ticked from the default are dropped.
        "trustee_ids": form.trustee_ids if secret else [],
        "threshold": _int_or_none(values["t"], N_("The threshold is a whole number.")) if secret else None,
        "proposal_id": _int_or_none(values["proposal_id"], N_("Choose a matter from the list.")),
    }


# A draft as the form --------------------------------------------------------------------


def _slot(question: Mapping[str, Any], method: str, seats: int) -> dict[str, str]:
    """One stored question as the form's slot (the reverse of _question)."""
    options = [str(o) for o in question["options"]]
    slot = {**_blank_question(), "text": str(question["text"])}
    if question.get("budget") is not None:
        costs = question.get("costs") or []
        return {
            **slot,
            "kind": "budget",
            "options": "\n".join(options),
            "costs": "\n".join(str(c) for c in costs),
            "budget": str(question["budget"]),
        }
    if method == "majority" and tuple(options) == YES_NO_OPTIONS:
        return slot
    kind = "choose" if int(question["min"]) >= 1 else "approval"
    k = seats if method == "top" else int(question["max"])
    return {**slot, "kind": kind, "options": "\n".join(options), "k": str(k)}


def form_of(row: Mapping[str, Any], trustees: Sequence[Mapping[str, Any]], zone: ZoneInfo) -> BallotForm:
    """A stored draft (its ballot row and trustee rows) as the form that would make it, times
    in the community's zone. A draft made through the API may use what the form cannot say
    (another yes option, a quorum in thirds): `form_keeps` tells whether this form does."""
    questions = loads(row["questions"])
    rule = loads(row["rule"])
    try:
        quorum, plans = rule_plan(rule, question_shapes(questions))
    except ValueError:
        quorum, plans = None, []
    methods = [(p.method, p.seats) for p in plans] or [("top", 1)] * len(questions)
    majority = next((p for p in plans if p.method == "majority"), None)
    preset = rule.get("preset")
    custom = preset not in PRESETS or "quorum" in rule or "majority" in rule
    secret = row["secrecy"] == BallotSecrecy.secret.value
    values = {
        "title": str(row["title"]),
        "description": str(row["description"]),
        "proposal_id": "" if row["proposal"] is None else str(row["proposal"]),
        "scope_id": str(row["scope"]),
        "secrecy": str(row["secrecy"]),
        "weight_basis": str(row["weight_basis"]),
        "opens_at": row["opens_at"].astimezone(zone).strftime(TIME_FORMAT),
        "closes_at": row["closes_at"].astimezone(zone).strftime(TIME_FORMAT),
        "preset": "custom" if custom else str(preset),
        "quorum": "500",
        "of": "cast",
        "threshold": "simple",
        "abstain_counts": "1",
        "t": str(row["t"]) if secret else "",
    }
    if custom:
        values["quorum"] = "" if quorum is None else str(quorum[0] * 1000 // quorum[1])
        if majority is not None:
            values["of"] = majority.of
            values["threshold"] = next(
                (k for k, v in THRESHOLDS.items() if v == majority.threshold), "simple"
            )
            values["abstain_counts"] = "1" if majority.abstain_counts else ""
    slots = [_slot(q, method, seats) for q, (method, seats) in zip(questions, methods, strict=True)]
    while len(slots) < QUESTION_SLOTS:
        slots.append(_blank_question())
    return BallotForm(values, slots, [int(tr["user"]) for tr in trustees] if secret else [])


def form_keeps(row: Mapping[str, Any], form: BallotForm, zone: ZoneInfo) -> bool:
    """Whether saving `form` (from form_of) keeps the draft's questions and rule as they are."""
    try:
        args = create_args(form, zone)
        stored = loads(row["questions"])
        shapes = question_shapes(stored)
        return bool(
            args["questions"] == stored
            and rule_plan(args["rule"], shapes) == rule_plan(loads(row["rule"]), shapes)
        )
    except (Invalid, ValueError, KeyError):
        return False


# What the form offers ------------------------------------------------------------------


def managed_paths(principal: Principal) -> list[str]:
    return [g.node_path for g in principal.scopes(*CREATOR_ROLES)]


async def places(principal: Principal) -> list[dict[str, Any]]:
    """The places where the principal may create a ballot, the widest first."""
    return await places_under(managed_paths(principal), PLACE_KINDS)


async def matters(principal: Principal, chosen: int | None) -> list[dict[str, Any]]:
    """Accepted matters in the principal's places, and the chosen one whatever its status."""
    return await accepted_matters(managed_paths(principal), chosen)


async def matter(principal: Principal, proposal_id: int) -> dict[str, Any] | None:
    found = await matters(principal, proposal_id)
    return next((m for m in found if m["id"] == proposal_id), None)


async def supervisors(paths: Sequence[str]) -> list[dict[str, Any]]:
    """Active users holding the supervisor role over at least one of these places, with the
    paths they supervise (the page hides the ones who do not cover the chosen place)."""
    rows = await RoleAssignment.select(
        RoleAssignment.user,
        RoleAssignment.user.display_name,
        RoleAssignment.user.username,
        RoleAssignment.user.active,
        RoleAssignment.node.path,
        RoleAssignment.node.name,
    ).where(RoleAssignment.role == Role.supervisor.value)
    people: dict[int, dict[str, Any]] = {}
    for row in rows:
        path = row["node.path"]
        if not row["user.active"] or not any(p.startswith(path) for p in paths):
            continue
        person = people.setdefault(
            row["user"],
            {
                "id": row["user"],
                "name": row["user.display_name"] or row["user.username"],
                "paths": [],
                "places": [],
            },
        )
        person["paths"].append(path)
        person["places"].append(row["node.name"])
    return sorted(people.values(), key=lambda p: p["id"])
