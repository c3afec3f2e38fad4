"""The roster snapshot a ballot freezes when it opens: who may vote, under which public
alias (the household's building-unit-room, or that and the resident's code), with which
weight."""

from __future__ import annotations

from typing import Any

from council.ballots.tables import WeightBasis
from council.community.service import household_labels
from council.community.tables import Resident


async def household_aliases(scope_path: str) -> dict[int, str]:
    """Each household's public label: building-unit-room, unique within the scope."""
    labels = await household_labels(scope_path, "-")
    seen: dict[str, int] = {}
    for household, label in sorted(labels.items()):
        if label in seen:
            labels[household] = f"{label}#{household}"
        seen[label] = household
    return labels


async def snapshot(scope_path: str, weight_basis: str) -> list[dict[str, Any]]:
    """Who may vote, as roster entries: per resident, or per household through its
    representative (the first active resident when none is marked)."""
    labels = await household_aliases(scope_path)
    residents = (
        await Resident.select(
            Resident.id, Resident.code, Resident.name, Resident.household, Resident.is_representative
        )
        .where((Resident.active == True) & Resident.household.is_in(list(labels) or [-1]))  # noqa: E712
        .order_by(Resident.id)
    )
    entries: list[dict[str, Any]] = []
    if weight_basis == WeightBasis.household.value:
        chosen: dict[int, dict[str, Any]] = {}
        for resident in residents:
            current = chosen.get(resident["household"])
            if current is None or (resident["is_representative"] and not current["is_representative"]):
                chosen[resident["household"]] = resident
        for household in sorted(chosen, key=lambda h: labels[h]):
            resident = chosen[household]
            entries.append(
                {
                    "alias": labels[household],
                    "resident": resident["id"],
                    "household": household,
                    **_names(resident),
                }
            )
    else:
        for resident in sorted(residents, key=lambda r: (labels[r["household"]], r["code"])):
            entries.append(
                {
                    "alias": f"{labels[resident['household']]}·{resident['code']}",
                    "resident": resident["id"],
                    "household": resident["household"],
                    **_names(resident),
                }
            )
    return entries


def _names(resident: dict[str, Any]) -> dict[str, Any]:
    return {"voter_name": resident["name"], "weight": 1}
