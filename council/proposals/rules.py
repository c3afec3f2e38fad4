"""Per-community rules of the propose step: how co-signs are counted and when a proposal
qualifies, and how long the council has to answer."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

from council.accounts.principal import Principal
from council.accounts.tables import Role
from council.audit import service as audit
from council.community.tables import Node, NodeKind
from council.db import write_transaction
from council.errors import Forbidden, Invalid
from council.i18n import N_
from council.proposals.tables import CommunityRules


@dataclass(frozen=True)
class Rules:
    cosign_basis: str = "resident"
    threshold_kind: str = "count"
    threshold_value: int = 10
    response_days: int = 7


def community_id_of(path: str) -> int:
    return int(path.strip("/").split("/")[0])


async def rules_for(path: str) -> Rules:
    row = await CommunityRules.select().where(CommunityRules.community == community_id_of(path)).first()
    if row is None:
        return Rules()
    return Rules(row["cosign_basis"], row["threshold_kind"], row["threshold_value"], row["response_days"])


async def threshold_for(rules: Rules, scope_path: str) -> int:
    if rules.threshold_kind == "count":
        return max(1, rules.threshold_value)
    households = await Node.count().where(
        Node.path.like(f"{scope_path}%") & (Node.kind == NodeKind.household.value) & (Node.active == True)  # noqa: E712
    )
    return max(1, math.ceil(int(households) * rules.threshold_value / 1000))


async def set_rules(principal: Principal, community_id: int, rules: Rules) -> None:
    community = await Node.select(Node.path, Node.kind).where(Node.id == community_id).first()
    if community is None or community["kind"] != NodeKind.community.value:
        raise Invalid(N_("Rules are set per community."))
    if not principal.can(community["path"], Role.staff):
        raise Forbidden(N_("This place is outside your scope."))
    if rules.cosign_basis not in ("resident", "household") or rules.threshold_kind not in ("count", "share"):
        raise Invalid(N_("Unknown rule."))
    if not (1 <= rules.threshold_value <= (1000 if rules.threshold_kind == "share" else 100_000)):
        raise Invalid(N_("The threshold is out of range."))
    if not 1 <= rules.response_days <= 365:
        raise Invalid(N_("The response time must be between 1 and 365 days."))
    now = datetime.now(UTC)
    async with write_transaction():
        existing = await CommunityRules.exists().where(CommunityRules.community == community_id)
        if existing:
            await CommunityRules.update(
                {
                    CommunityRules.cosign_basis: rules.cosign_basis,
                    CommunityRules.threshold_kind: rules.threshold_kind,
                    CommunityRules.threshold_value: rules.threshold_value,
                    CommunityRules.response_days: rules.response_days,
                    CommunityRules.updated_at: now,
                }
            ).where(CommunityRules.community == community_id)
        else:
            await CommunityRules(
                community=community_id,
                cosign_basis=rules.cosign_basis,
                threshold_kind=rules.threshold_kind,
                threshold_value=rules.threshold_value,
                response_days=rules.response_days,
                updated_at=now,
            ).save()
        await audit.record(
            principal.actor,
            "set_rules",
            "node",
            community_id,
            {
                "cosign_basis": rules.cosign_basis,
                "threshold_kind": rules.threshold_kind,
                "threshold_value": rules.threshold_value,
                "response_days": rules.response_days,
            },
        )
