"""What the hearings API takes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec

from council.hearings.tables import HearingKind, Invitees, Outcome
from council.structs import Strict

Title = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Name = Annotated[str, msgspec.Meta(max_length=100)]


class ItemIn(Strict):
    title: Annotated[str, msgspec.Meta(max_length=100)] = ""
    proposal_id: int | None = None
    minutes_budget: Annotated[int, msgspec.Meta(ge=1, le=480)] = 15


class HearingIn(Strict):
    kind: HearingKind
    title: Title
    scope_id: int
    starts_at: datetime
    host_id: int
    place: Annotated[str, msgspec.Meta(max_length=200)] = ""
    online: bool = True
    secretary_id: int | None = None
    invitees: Invitees = Invitees.residents
    quorum_permille: Annotated[int, msgspec.Meta(ge=0, le=1000)] = 500
    speaking_seconds: Annotated[int, msgspec.Meta(ge=30, le=3600)] = 180
    description: Annotated[str, msgspec.Meta(max_length=5000)] = ""
    items: list[ItemIn] = msgspec.field(default_factory=list)


class MoveIn(Strict):
    position: int


class ReasonIn(Strict):
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]


class CheckInIn(Strict):
    code: Annotated[str, msgspec.Meta(max_length=100)] | None = None


class PresentIn(Strict):
    resident_id: int


class LeaveIn(Strict):
    attendance_id: int | None = None


class SpeakerIn(Strict):
    name: Name = ""
    resident_id: int | None = None


class FloorIn(Strict):
    speaker_id: int | None = None


class ExtendIn(Strict):
    seconds: Annotated[int, msgspec.Meta(ge=10, le=600)] = 60


class SkipIn(Strict):
    speaker_id: int


class CloseItemIn(Strict):
    outcome: Outcome
    text: Annotated[str, msgspec.Meta(max_length=5000)] = ""
    defer_to: int | None = None
    assignee_id: int | None = None
    ballot: dict[str, Any] | None = None


class StatementIn(Strict):
    speaker_name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    summary: Annotated[str, msgspec.Meta(min_length=1, max_length=5000)]
    item_id: int | None = None
    resident_id: int | None = None
    spoken_at: datetime | None = None


class StatementEditIn(Strict):
    summary: Annotated[str, msgspec.Meta(min_length=1, max_length=5000)]


class MotionIn(Strict):
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=5000)]
    moved_by: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    seconded_by: Name = ""
    item_id: int | None = None
    amends: int | None = None
