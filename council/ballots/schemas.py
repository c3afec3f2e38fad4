"""What the ballots API takes and gives. Ciphertexts and proofs stay loose JSON here: the
crypto code checks them and names the failed check."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec

from council.ballots.tables import BallotSecrecy, WeightBasis
from council.structs import Strict

Hex64 = Annotated[str, msgspec.Meta(min_length=64, max_length=64, pattern="^[0-9a-f]{64}$")]


class QuestionIn(Strict):
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
    options: Annotated[
        list[Annotated[str, msgspec.Meta(min_length=1, max_length=200)]],
        msgspec.Meta(min_length=1, max_length=50),
    ]
    min: int = 1
    max: int = 1
    costs: list[int] | None = None
    budget: int | None = None


class BallotIn(Strict):
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    scope_id: int
    questions: Annotated[list[QuestionIn], msgspec.Meta(min_length=1, max_length=20)]
    opens_at: datetime
    closes_at: datetime
    secrecy: BallotSecrecy = BallotSecrecy.secret
    weight_basis: WeightBasis = WeightBasis.household
    rule: dict[str, Any] = msgspec.field(default_factory=lambda: {"preset": "resident_meeting"})
    trustee_ids: list[int] = msgspec.field(default_factory=list)
    threshold: int | None = None
    description: Annotated[str, msgspec.Meta(max_length=5000)] = ""
    proposal_id: int | None = None


class WithdrawIn(Strict):
    reason: Annotated[str, msgspec.Meta(max_length=500)]


class CloseIn(Strict):
    early: bool = False


class CastIn(Strict):
    answers: list[Any]
    for_alias: str | None = None


class AuditIn(Strict):
    answers: list[Any]
    reveal: list[Any]
    for_alias: str | None = None


class VoteIn(Strict):
    choices: list[list[int]]
    for_alias: str | None = None


class ProxyIn(Strict):
    delegator_id: int
    delegate_id: int
    consent: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]


class BoxKeyIn(Strict):
    box_key: Hex64


class DealingIn(Strict):
    commitments: list[Any]
    pok: dict[str, Any]
    sealed: dict[str, Any]


class ComplaintIn(Strict):
    dealer: int
    reason: Annotated[str, msgspec.Meta(max_length=500)] = ""


class SharesIn(Strict):
    shares: list[Any]


class ReceiptOut(msgspec.Struct):
    seq: int
    tracking_code: str
    short_code: str
    head: str


class CreatedOut(msgspec.Struct):
    id: int
    url: str
