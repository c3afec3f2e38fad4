"""Outcome rules: how a ballot's counts decide it (the manifest's `rule`, the result's `outcome`).

Pure and small: the tally, the simulation and the independent verifier all evaluate the
rule the same way, in exact integer arithmetic.

Rule JSON (the manifest's `rule`, bound by F₀ as written):

    {"preset": "resident_meeting",                 optional: PRESETS; other keys override
     "quorum": {"basis": "eligible_weight", "more_than_permille": 500} | null,
     "majority": {"of": "cast" | "eligible", "threshold": "simple" | "two_thirds" |
                  "three_quarters", "abstain_counts": true},
     "yes_option": 0, "abstain_option": 2 | null,
     "questions": [{"method": "majority", "yes_option"?, "abstain_option"?, "majority"?}
                   | {"method": "top", "seats": k} | {"method": "budget"}]}   optional

quorum: met when weight_cast / weight_eligible reaches the fraction, given as
`at_least_permille` / `more_than_permille` (p/1000) or `at_least` / `more_than` ([p, q]);
null or absent means no quorum. majority: base = the question's votes (Σ counts; minus
the abstentions unless abstain_counts) for "cast", or weight_eligible for "eligible";
passes when yes > base/2 ("simple"), yes ≥ 2/3 base, or yes ≥ 3/4 base, and base > 0.
top: options ranked by count (ties by option order); the first `seats` with a count
above 0 are elected, except that options tied across the last seat are listed as `tied`
and not elected. budget: options ranked by count are funded in turn while their cost
fits in what is left of the budget (an option that does not fit is skipped, a cheaper
one after it may still be funded); options without votes are never funded. Without
`questions`: a budget question is "budget", exactly-one-of-2-or-3 is "majority", any
other is "top" with seats = max (or 1 when max = the number of options). Defaults:
yes_option 0, abstain_option null, majority {"of": "cast", "threshold": "simple",
"abstain_counts": true}. Outcome: {quorum_met, questions: [{method: "majority", yes,
base, passed} | {method: "top", seats, ranking, elected, tied} | {method: "budget",
budget, ranking, funded, spent}]}; when the quorum is not met nothing passes, is
elected or funded.

Presets (`PRESETS`): "resident_meeting" (居民会议: more than half of the eligible weight
takes part, more than half of those cast vote yes, abstentions counting as cast),
"household_meeting" (户代表会议: at least two thirds take part, then the same majority),
"two_thirds" (more than half take part, at least two thirds of those cast vote yes).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from council.ballots.encrypt import QuestionShape

Json = dict[str, Any]


def is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


Fraction = tuple[int, int, bool]  # p, q, strict: reached when x·q > p·total (strict) or ≥
THRESHOLDS: Final[Mapping[str, Fraction]] = {
    "simple": (1, 2, True),
    "two_thirds": (2, 3, False),
    "three_quarters": (3, 4, False),
}
DEFAULT_MAJORITY: Final[Mapping[str, Any]] = {"of": "cast", "threshold": "simple", "abstain_counts": True}
PRESETS: Final[Mapping[str, Mapping[str, Any]]] = {
    # 居民会议: more than half of the eligible weight takes part, more than half of those cast vote yes.
    "resident_meeting": {
        "quorum": {"basis": "eligible_weight", "more_than_permille": 500},
        "majority": dict(DEFAULT_MAJORITY),
    },
    # 户代表会议: at least two thirds of the households take part, more than half of those cast vote yes.
    "household_meeting": {
        "quorum": {"basis": "eligible_weight", "at_least": [2, 3]},
        "majority": dict(DEFAULT_MAJORITY),
    },
    # Weighty matters: more than half take part, at least two thirds of those cast vote yes.
    "two_thirds": {
        "quorum": {"basis": "eligible_weight", "more_than_permille": 500},
        "majority": {**DEFAULT_MAJORITY, "threshold": "two_thirds"},
    },
}
RULE_KEYS: Final = frozenset({"preset", "quorum", "majority", "yes_option", "abstain_option", "questions"})


@dataclass(frozen=True, slots=True)
class Plan:
    """How one question is decided."""

    method: str  # "majority", "top" or "budget"
    yes: int = 0
    abstain: int | None = None
    of: str = "cast"
    threshold: Fraction = THRESHOLDS["simple"]
    abstain_counts: bool = True
    seats: int = 1


def _quorum(spec: object) -> Fraction | None:
    if spec is None:
        return None
    if not isinstance(spec, dict) or spec.get("basis") != "eligible_weight" or len(spec) != 2:
        raise ValueError('quorum is null or {"basis": "eligible_weight", <one fraction>}')
    (form,) = set(spec) - {"basis"}
    value = spec[form]
    if form in ("at_least_permille", "more_than_permille"):
        p, q = value, 1000
    elif form in ("at_least", "more_than") and isinstance(value, list) and len(value) == 2:
        p, q = value
    else:
        raise ValueError(
            f"quorum: {form!r} is not one of at_least_permille, more_than_permille, at_least, more_than"
        )
    if not (is_int(p) and is_int(q)) or not 0 <= p <= q or q == 0:
        raise ValueError("quorum: a fraction p/q with 0 ≤ p ≤ q")
    return (p, q, form.startswith("more_than"))


def _majority(spec: object) -> Mapping[str, Any]:
    if not isinstance(spec, dict) or not set(spec) <= set(DEFAULT_MAJORITY):
        raise ValueError("majority has the keys of, threshold, abstain_counts")
    merged = {**DEFAULT_MAJORITY, **spec}
    if merged["of"] not in ("cast", "eligible") or merged["threshold"] not in THRESHOLDS:
        raise ValueError('majority: of is "cast" or "eligible", threshold one of ' + ", ".join(THRESHOLDS))
    if not isinstance(merged["abstain_counts"], bool):
        raise ValueError("majority: abstain_counts is true or false")
    return merged


def _option(value: object, options: int, what: str, *, nullable: bool) -> int | None:
    if value is None and nullable:
        return None
    if not is_int(value) or not 0 <= value < options:  # type: ignore[operator]
        raise ValueError(f"{what} must be an option index below {options}")
    return value  # type: ignore[return-value]


def rule_plan(rule: object, shapes: Sequence[QuestionShape]) -> tuple[Fraction | None, list[Plan]]:
    """The quorum and one Plan per question; ValueError says what is wrong with the rule."""
    if not isinstance(rule, dict) or not set(rule) <= RULE_KEYS:
        raise ValueError("rule has only the keys " + ", ".join(sorted(RULE_KEYS)))
    preset = rule.get("preset")
    if preset is not None and (not isinstance(preset, str) or preset not in PRESETS):
        raise ValueError("rule.preset is one of " + ", ".join(PRESETS))
    merged = {**(PRESETS[preset] if preset else {}), **{k: v for k, v in rule.items() if k != "preset"}}
    quorum = _quorum(merged.get("quorum"))
    per_question = merged.get("questions")
    if per_question is not None and (not isinstance(per_question, list) or len(per_question) != len(shapes)):
        raise ValueError("rule.questions has one entry per question")
    plans: list[Plan] = []
    for q, shape in enumerate(shapes):
        spec = per_question[q] if per_question is not None else {"method": _default_method(shape)}
        if not isinstance(spec, dict):
            raise ValueError(f"rule.questions[{q}] is an object")
        method = spec.get("method")
        allowed = {
            "majority": {"yes_option", "abstain_option", "majority"},
            "top": {"seats"},
            "budget": set(),
        }
        if method not in allowed or not set(spec) - {"method"} <= allowed[method]:
            raise ValueError(f'rule.questions[{q}]: method "majority", "top" or "budget" with its own keys')
        if (method == "budget") != (shape.budget is not None):
            raise ValueError(f"rule.questions[{q}]: the budget method is for budget questions only")
        if method == "majority":
            majority = _majority(spec.get("majority", merged.get("majority", {})))
            yes = _option(
                spec.get("yes_option", merged.get("yes_option", 0)),
                shape.options,
                "yes_option",
                nullable=False,
            )
            abstain = _option(
                spec.get("abstain_option", merged.get("abstain_option")),
                shape.options,
                "abstain_option",
                nullable=True,
            )
            if yes is None or yes == abstain:
                raise ValueError(f"rule.questions[{q}]: yes_option and abstain_option differ")
            threshold = THRESHOLDS[majority["threshold"]]
            plans.append(
                Plan("majority", yes, abstain, majority["of"], threshold, majority["abstain_counts"])
            )
        elif method == "top":
            seats = spec.get("seats", shape.max if 0 < shape.max < shape.options else 1)
            if not is_int(seats) or not 1 <= seats <= shape.options:
                raise ValueError(f"rule.questions[{q}]: seats is 1..{shape.options}")
            plans.append(Plan("top", seats=seats))
        else:
            plans.append(Plan("budget"))
    return quorum, plans


def _default_method(shape: QuestionShape) -> str:
    if shape.budget is not None:
        return "budget"
    return "majority" if shape.min == shape.max == 1 and shape.options in (2, 3) else "top"


def check_rule(rule: object, shapes: Sequence[QuestionShape]) -> None:
    rule_plan(rule, shapes)


def _reaches(x: int, total: int, fraction: Fraction) -> bool:
    p, q, strict = fraction
    return x * q > p * total if strict else x * q >= p * total


def _ranking(row: Sequence[int]) -> list[int]:
    return sorted(range(len(row)), key=lambda j: (-row[j], j))


def evaluate_outcome(
    rule: object,
    shapes: Sequence[QuestionShape],
    counts: Sequence[Sequence[int]],
    *,
    weight_cast: int,
    weight_eligible: int,
) -> Json:
    """The outcome document under the rule (see the module docstring)."""
    quorum, plans = rule_plan(rule, shapes)
    if [len(row) for row in counts] != [s.options for s in shapes]:
        raise ValueError("one count per question and option")
    met = quorum is None or _reaches(weight_cast, weight_eligible, quorum)
    decided: list[Json] = []
    for plan, shape, row in zip(plans, shapes, counts, strict=True):
        ranking = _ranking(row)
        if plan.method == "majority":
            yes = row[plan.yes]
            abstain = row[plan.abstain] if plan.abstain is not None else 0
            base = (
                weight_eligible
                if plan.of == "eligible"
                else sum(row) - (0 if plan.abstain_counts else abstain)
            )
            passed = met and base > 0 and _reaches(yes, base, plan.threshold)
            decided.append({"method": "majority", "yes": yes, "base": base, "passed": passed})
        elif plan.method == "top":
            voted = [j for j in ranking if row[j] > 0] if met else []
            elected, tied = voted[: plan.seats], []
            if len(voted) > plan.seats and row[voted[plan.seats]] == row[voted[plan.seats - 1]]:
                cut = row[voted[plan.seats - 1]]
                elected = [j for j in voted if row[j] > cut]
                tied = [j for j in voted if row[j] == cut]
            decided.append(
                {"method": "top", "seats": plan.seats, "ranking": ranking, "elected": elected, "tied": tied}
            )
        else:
            budget, costs = shape.budget or 0, shape.costs or ()
            funded: list[int] = []
            left = budget
            for j in ranking if met else []:
                if row[j] > 0 and costs[j] <= left:
                    funded.append(j)
                    left -= costs[j]
            decided.append(
                {
                    "method": "budget",
                    "budget": budget,
                    "ranking": ranking,
                    "funded": funded,
                    "spent": budget - left,
                }
            )
    return {"quorum_met": met, "questions": decided}
