"""Plain words for the ballot pages: the phase a ballot is in, its rule and its outcome.

Everything a resident reads about how a ballot is decided is composed here from the
rule JSON (council/ballots/rules.py) and the result, translated for the request's
language. No database, no HTTP.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from math import gcd
from typing import Any

from council.ballots.record import question_shapes
from council.ballots.rules import Fraction, rule_plan
from council.i18n import N_, gettext

PHASES = {
    "draft": N_("Being prepared"),
    "keygen": N_("Being prepared: the trustees are making the ballot's key"),
    "failed": N_("Preparation stopped"),
    "ready": N_("Ready, not open yet"),
    "upcoming": N_("Not started yet"),
    "voting": N_("Voting now"),
    "ended": N_("Voting time is over, counting soon"),
    "closed": N_("Voting has closed, the votes are being counted"),
    "tallied": N_("Result published"),
    "withdrawn": N_("Withdrawn before voting"),
}

KINDS = {
    "ballot": N_("Cast ballot"),
    "audited": N_("Audited ballot"),
    "vote": N_("Vote"),
    "close": N_("Voting closed"),
    "share": N_("Decryption share"),
    "result": N_("Result"),
}


def now() -> datetime:
    return datetime.now(UTC)


def phase_of(status: str, opens_at: datetime, closes_at: datetime, at: datetime | None = None) -> str:
    """The status in the voter's terms: an open ballot is upcoming, voting or ended by the clock."""
    if status != "open":
        return status
    at = at or now()
    if at < opens_at:
        return "upcoming"
    if at >= closes_at:
        return "ended"
    return "voting"


def parse_time(value: object) -> datetime | None:
    """An RFC 3339 time from a board payload (…Z), for the `localtime` filter."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _share(fraction: Fraction) -> str:
    p, q, strict = fraction
    d = gcd(p, q) or 1
    named = {
        (1, 2): N_("half"),
        (2, 3): N_("two thirds"),
        (3, 4): N_("three quarters"),
        (1, 1): N_("all"),
    }
    key = (p // d, q // d)
    amount = gettext(named[key]) if key in named else f"{p * 100 / q:.4g}%"
    if strict:
        return gettext("more than {amount}").format(amount=amount)
    return gettext("at least {amount}").format(amount=amount)


def voters_word(weight_basis: str) -> str:
    return gettext("households") if weight_basis == "household" else gettext("residents")


def questions_of(questions: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Each question as the vote form shows it: how many to choose, in plain words."""
    out = []
    for q, question in enumerate(questions):
        options = list(question["options"])
        costs = question.get("costs")
        budget = question.get("budget")
        low, high = int(question["min"]), int(question["max"])
        if budget is not None:
            kind = "budget"
            hint = gettext("Choose what to fund: at most {budget} units in all.").format(budget=budget)
        elif low == high == 1:
            kind = "one"
            hint = gettext("Choose one.")
        else:
            kind = "many"
            if low == high:
                hint = gettext("Choose exactly {n}.").format(n=low)
            elif low == 0:
                hint = gettext("Choose up to {max}.").format(max=high)
            else:
                hint = gettext("Choose {min} to {max}.").format(min=low, max=high)
        out.append(
            {
                "index": q,
                "text": question["text"],
                "kind": kind,
                "min": low,
                "max": high,
                "budget": budget,
                "hint": hint,
                "options": [
                    {"index": j, "label": label, "cost": costs[j] if costs else None}
                    for j, label in enumerate(options)
                ],
            }
        )
    return out


def rule_words(summary: Mapping[str, Any]) -> dict[str, Any]:
    """How the ballot is decided: a sentence on turnout and one per question."""
    questions = summary["questions"]
    voters = voters_word(summary["weight_basis"])
    try:
        quorum, plans = rule_plan(summary["rule"], question_shapes(questions))
    except ValueError:
        return {"quorum": json.dumps(summary["rule"], ensure_ascii=False), "questions": []}
    if quorum is None:
        quorum_text = gettext("There is no minimum turnout.")
    else:
        quorum_text = gettext(
            "The result is valid only if {share} of the {voters} on the roster vote."
        ).format(share=_share(quorum), voters=voters)
    lines = []
    for plan, question in zip(plans, questions, strict=True):
        options = question["options"]
        if plan.method == "majority":
            if plan.of == "eligible":
                text = gettext("Passes if {share} of all {voters} on the roster choose “{yes}”.").format(
                    share=_share(plan.threshold), voters=voters, yes=options[plan.yes]
                )
            else:
                text = gettext("Passes if {share} of the votes cast choose “{yes}”.").format(
                    share=_share(plan.threshold), yes=options[plan.yes]
                )
                if plan.abstain is not None:
                    if plan.abstain_counts:
                        text += " " + gettext("“{abstain}” counts as a vote cast.").format(
                            abstain=options[plan.abstain]
                        )
                    else:
                        text += " " + gettext("“{abstain}” is not counted.").format(
                            abstain=options[plan.abstain]
                        )
        elif plan.method == "top":
            if plan.seats == 1:
                text = gettext("The option with the most votes wins.")
            else:
                text = gettext("The {seats} options with the most votes win.").format(seats=plan.seats)
        else:
            text = gettext(
                "Options are funded in order of their votes, as long as they fit in the budget of {budget} units."
            ).format(budget=question.get("budget"))
        lines.append(text)
    return {"quorum": quorum_text, "questions": lines}


def _names(options: Sequence[str], indexes: Sequence[int]) -> str:
    return "、".join(options[j] for j in indexes)


def outcome_words(summary: Mapping[str, Any]) -> dict[str, Any] | None:
    """The published result in plain words: turnout, quorum, and per question the counts and
    what was decided. None before the result."""
    result = summary.get("result")
    if not result:
        return None
    turnout = result["turnout"]
    cast, eligible = int(turnout["weight_cast"]), int(turnout["weight_eligible"])
    outcome = result["outcome"]
    voters = voters_word(summary["weight_basis"])
    percent = _percent(cast, eligible)
    met = bool(outcome["quorum_met"])
    try:
        _, plans = rule_plan(summary["rule"], question_shapes(summary["questions"]))
    except ValueError:
        plans = []
    out: dict[str, Any] = {
        "turnout": gettext("{cast} of {eligible} {voters} voted ({percent}).").format(
            cast=cast, eligible=eligible, voters=voters, percent=percent
        ),
        "quorum_met": met,
        "cast": cast,
        "quorum": gettext("Enough voted: the result is valid.")
        if met
        else gettext("Not enough voted: the minimum turnout was not reached, so nothing is decided."),
        "questions": [],
    }
    for q, question in enumerate(summary["questions"]):
        options = question["options"]
        counts = result["counts"][q]
        decided = outcome["questions"][q]
        winners: set[int] = set()
        method = decided["method"]
        if method == "majority":
            yes = plans[q].yes if plans else 0
            if decided["passed"]:
                winners = {yes}
                words = gettext("Passed: {yes} of {base} votes chose “{option}”.")
            elif not met:
                words = gettext("Not decided, too few voted: {yes} of {base} votes chose “{option}”.")
            else:
                words = gettext("Not passed: {yes} of {base} votes chose “{option}”.")
            text = words.format(yes=decided["yes"], base=decided["base"], option=options[yes])
        elif not met:
            text = gettext("Not decided: too few voted.")
        elif method == "top":
            winners = set(decided["elected"])
            parts = []
            if decided["elected"]:
                parts.append(gettext("Chosen: {names}.").format(names=_names(options, decided["elected"])))
            if decided["tied"]:
                parts.append(
                    gettext("Tied, so not decided by this vote: {names}.").format(
                        names=_names(options, decided["tied"])
                    )
                )
            if not parts:
                parts.append(gettext("Nothing was chosen."))
            text = " ".join(parts)
        else:
            winners = set(decided["funded"])
            if decided["funded"]:
                text = gettext("Funded: {names} ({spent} of {budget} units).").format(
                    names=_names(options, decided["funded"]), spent=decided["spent"], budget=decided["budget"]
                )
            else:
                text = gettext("Nothing was funded.")
        total = sum(counts)
        out["questions"].append(
            {
                "text": question["text"],
                "decision": text,
                "rows": [
                    {
                        "label": label,
                        "count": counts[j],
                        "cost": (question.get("costs") or [None] * len(options))[j],
                        "winner": j in winners,
                        "percent": _percent(counts[j], cast),
                    }
                    for j, label in enumerate(options)
                ],
                "total": total,
            }
        )
    return out


def _percent(part: int, whole: int) -> str:
    """A share for people: whole percents, one decimal below 10%."""
    if not whole:
        return "0%"
    value = part * 100 / whole
    return f"{value:.1f}%" if 0 < value < 10 else f"{value:.0f}%"
