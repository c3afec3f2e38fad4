"""The result: counts, the outcome under the rule, the `result` board entry and result.json.

Open ballots are counted in clear at close; secret ballots once t trustees have posted
decryption shares (trustees.post_shares calls publish_secret in the same transaction).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from council.ballots import board as ballot_board
from council.ballots import tally
from council.ballots.record import Json, question_shapes, sums_from_json
from council.ballots.rules import evaluate_outcome
from council.ballots.tables import Ballot, BallotStatus, RosterEntry
from council.canonical import canonical_bytes


def _dumps(value: Any) -> str:
    return canonical_bytes(value).decode("utf-8")


async def _publish(
    locked: dict[str, Any],
    row: Mapping[str, Any],
    *,
    counted: Sequence[str],
    weights: Mapping[str, int],
    counts: list[list[int]],
    sums: list[Any],
    shares: list[Json],
) -> Json:
    shapes = question_shapes(json.loads(row["questions"]))
    weight_cast = sum(weights[a] for a in counted)
    weight_eligible = sum(weights.values())
    outcome = evaluate_outcome(
        json.loads(row["rule"]), shapes, counts, weight_cast=weight_cast, weight_eligible=weight_eligible
    )
    entry = await ballot_board.append(locked, "result", {"counts": counts, "outcome": outcome})
    result: Json = {
        "counted": list(counted),
        "sums": sums,
        "shares": shares,
        "counts": counts,
        "turnout": {"weight_cast": weight_cast, "weight_eligible": weight_eligible},
        "outcome": outcome,
        "head": entry["hash"],
    }
    await Ballot.update(
        {
            Ballot.result: _dumps(result),
            Ballot.status: BallotStatus.tallied.value,
            Ballot.tallied_at: datetime.now(UTC),
        }
    ).where(Ballot.id == locked["id"])
    return result


async def weights_of(ballot_id: int) -> dict[str, int]:
    rows = await RosterEntry.select(RosterEntry.alias, RosterEntry.weight).where(
        RosterEntry.ballot == ballot_id
    )
    return {r["alias"]: r["weight"] for r in rows}


async def publish_open(
    locked: dict[str, Any],
    row: Mapping[str, Any],
    counted: Sequence[str],
    weights: Mapping[str, int],
    choices: Mapping[str, list[list[int]]],
) -> Json:
    """An open ballot's counts in clear, weighted, from the last vote of each counted alias."""
    shapes = question_shapes(json.loads(row["questions"]))
    counts = [[0] * shape.options for shape in shapes]
    for alias in counted:
        for q, marks in enumerate(choices[alias]):
            for k, mark in enumerate(marks):
                counts[q][k] += weights[alias] * mark
    return await _publish(locked, row, counted=counted, weights=weights, counts=counts, sums=[], shares=[])


async def publish_secret(locked: dict[str, Any], row: Mapping[str, Any], shares: Sequence[Json]) -> Json:
    """Combines t trustees' verified shares (board payloads) into the counts and publishes them."""
    counted: list[str] = json.loads(row["counted"])
    weights = await weights_of(locked["id"])
    sums_json = json.loads(row["sums"])
    sums = sums_from_json(sums_json)
    posted = {int(p["trustee"]): tally.shares_from_json(p["shares"]) for p in shares}
    bound = sum(weights[a] for a in counted)
    counts = await asyncio.to_thread(tally.decrypt_sums, sums, posted, int(row["t"]), bound)
    return await _publish(
        locked, row, counted=counted, weights=weights, counts=counts, sums=sums_json, shares=list(shares)
    )
