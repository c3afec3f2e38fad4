"""What the proposals API takes and gives."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from council.proposals.tables import Category, ProposalKind
from council.structs import Strict

Title = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=5000)]
Reason = Annotated[str, msgspec.Meta(max_length=1000)]


class ProposalIn(Strict):
    title: Title
    description: Text
    scope_id: int
    category: Category
    kind: ProposalKind = ProposalKind.matter
    submit: bool = True


class ProposalEditIn(Strict):
    title: Title
    description: Text
    category: Category


class CosignIn(Strict):
    show_name: bool = False


class CommentIn(Strict):
    body: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]


class ReasonIn(Strict):
    reason: Reason = ""


class MergeIn(Strict):
    into_id: int
    reason: Reason


class DispatchIn(Strict):
    assignee_id: int
    days: int = 7


class NoteIn(Strict):
    body: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]


class ConfirmIn(Strict):
    rating: Annotated[int, msgspec.Meta(ge=1, le=5)]
    comment: Annotated[str, msgspec.Meta(max_length=500)] = ""


class RulesIn(Strict):
    cosign_basis: Annotated[str, msgspec.Meta(pattern="^(resident|household)$")]
    threshold_kind: Annotated[str, msgspec.Meta(pattern="^(count|share)$")]
    threshold_value: Annotated[int, msgspec.Meta(ge=1, le=100000)]
    response_days: Annotated[int, msgspec.Meta(ge=1, le=365)]


class ProposalOut(msgspec.Struct):
    id: int
    title: str
    kind: str
    category: str
    status: str
    scope_id: int
    scope_name: str
    cosign_count: int
    threshold: int
    submitted_at: datetime | None
    response_due_at: datetime | None


class ProposalPage(msgspec.Struct):
    items: list[ProposalOut]
    total: int
    offset: int
    limit: int


class CosignOut(msgspec.Struct):
    count: int
    qualified: bool


class CreatedOut(msgspec.Struct):
    id: int
    url: str
