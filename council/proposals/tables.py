from __future__ import annotations

from enum import Enum

from piccolo.columns import Boolean, ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from council.accounts.tables import User
from council.community.tables import Node, Resident
from council.i18n import N_, Term


class ProposalKind(str, Enum):
    matter = "matter"
    small_wish = "small_wish"
    rectification = "rectification"


class ProposalStatus(str, Enum):
    draft = "draft"
    submitted = "submitted"
    qualified = "qualified"
    accepted = "accepted"
    merged = "merged"
    dispatched = "dispatched"
    rejected = "rejected"
    closed = "closed"


class Category(str, Enum):
    environment = "environment"
    repairs = "repairs"
    safety = "safety"
    care = "care"
    parking = "parking"
    other = "other"


CATEGORY_TERMS = {
    Category.environment: Term(N_("Environment and sanitation")),
    Category.repairs: Term(N_("Repairs")),
    Category.safety: Term(N_("Safety")),
    Category.care: Term(N_("Elderly and child care")),
    Category.parking: Term(N_("Parking")),
    Category.other: Term(N_("Other")),
}
KIND_TERMS = {
    ProposalKind.matter: Term(N_("Matter for the council")),
    ProposalKind.small_wish: Term(N_("Small wish")),
    ProposalKind.rectification: Term(N_("Rectification")),
}
STATUS_TERMS = {
    ProposalStatus.draft: Term(N_("Draft")),
    ProposalStatus.submitted: Term(N_("Collecting co-signs")),
    ProposalStatus.qualified: Term(N_("Qualified, awaiting triage")),
    ProposalStatus.accepted: Term(N_("Accepted for a hearing")),
    ProposalStatus.merged: Term(N_("Merged")),
    ProposalStatus.dispatched: Term(N_("Dispatched")),
    ProposalStatus.rejected: Term(N_("Rejected")),
    ProposalStatus.closed: Term(N_("Closed")),
}
# Open for co-signs and comments.
OPEN_STATUSES = (ProposalStatus.submitted.value, ProposalStatus.qualified.value)


class Proposal(Table, tablename="proposal"):
    """A resident's request to put a matter on the agenda: the start of every matter's dossier."""

    id = Serial(primary_key=True)
    title = Varchar(length=100)
    description = Text()
    kind = Varchar(length=16, choices=ProposalKind)
    category = Varchar(length=16, choices=Category)
    status = Varchar(length=16, choices=ProposalStatus, index=True)
    scope = ForeignKey(Node, on_delete=OnDelete.restrict, index=True)
    scope_path = Varchar(length=255, index=True)
    proposer = ForeignKey(User, on_delete=OnDelete.restrict, index=True)
    threshold = Integer(default=0)
    cosign_count = Integer(default=0)
    merged_into: ForeignKey[Proposal] = ForeignKey("self", null=True, on_delete=OnDelete.restrict)
    decision_reason = Text(default="")
    # Title and description together, lower-cased, for substring search of Chinese text.
    search_text = Text(default="")
    created_at = Timestamptz()
    updated_at = Timestamptz()
    submitted_at = Timestamptz(null=True, default=None)
    qualified_at = Timestamptz(null=True, default=None)
    response_due_at = Timestamptz(null=True, default=None)
    decided_at = Timestamptz(null=True, default=None)


class Cosign(Table, tablename="cosign"):
    """A resident's support. `dedupe_key` is the resident or, when the community counts
    households, the household: one live co-sign per key (a partial unique index)."""

    id = Serial(primary_key=True)
    proposal = ForeignKey(Proposal, on_delete=OnDelete.restrict, index=True)
    user = ForeignKey(User, on_delete=OnDelete.restrict)
    resident = ForeignKey(Resident, on_delete=OnDelete.restrict)
    household = ForeignKey(Node, on_delete=OnDelete.restrict)
    dedupe_key = Varchar(length=32)
    show_name = Boolean(default=False)
    created_at = Timestamptz()
    withdrawn_at = Timestamptz(null=True, default=None)


class Comment(Table, tablename="comment"):
    id = Serial(primary_key=True)
    proposal = ForeignKey(Proposal, on_delete=OnDelete.restrict, index=True)
    author = ForeignKey(User, on_delete=OnDelete.restrict)
    body = Text()
    created_at = Timestamptz()
    hidden_at = Timestamptz(null=True, default=None)
    hidden_reason = Varchar(length=200, default="")
    hidden_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.restrict)


class ProposalPhoto(Table, tablename="proposal_photo"):
    """A photo, re-encoded without metadata, stored under the data dir by its SHA-256."""

    id = Serial(primary_key=True)
    proposal = ForeignKey(Proposal, on_delete=OnDelete.restrict, index=True)
    sha256 = Varchar(length=64)
    content_type = Varchar(length=32)
    width = Integer()
    height = Integer()
    size = Integer()
    position = Integer(default=0)
    created_at = Timestamptz()


class CommunityRules(Table, tablename="community_rules"):
    """Per-community settings of the propose step."""

    id = Serial(primary_key=True)
    community = ForeignKey(Node, on_delete=OnDelete.restrict, unique=True)
    cosign_basis = Varchar(length=16, default="resident")  # resident | household
    threshold_kind = Varchar(length=16, default="count")  # count | share
    # A count of co-signs, or a share of the scope's households in per mille.
    threshold_value = Integer(default=10)
    response_days = Integer(default=7)
    updated_at = Timestamptz()


class OrderStatus(str, Enum):
    dispatched = "dispatched"
    taken = "taken"
    done = "done"
    closed = "closed"


ORDER_STATUS_TERMS = {
    OrderStatus.dispatched: Term(N_("Dispatched, waiting to be taken")),
    OrderStatus.taken: Term(N_("Taken, in progress")),
    OrderStatus.done: Term(N_("Done, waiting for the resident")),
    OrderStatus.closed: Term(N_("Closed out")),
}


class Order(Table, tablename="wish_order"):
    """Three-order dispatch (三单制): the resident's wish is ordered, the council dispatches
    it, a member or volunteer takes it; closed out only when the resident confirms."""

    id = Serial(primary_key=True)
    proposal = ForeignKey(Proposal, on_delete=OnDelete.restrict, unique=True)
    status = Varchar(length=16, choices=OrderStatus, index=True)
    dispatcher = ForeignKey(User, on_delete=OnDelete.restrict)
    assignee = ForeignKey(User, on_delete=OnDelete.restrict, index=True)
    dispatched_at = Timestamptz()
    due_at = Timestamptz()
    taken_at = Timestamptz(null=True, default=None)
    done_at = Timestamptz(null=True, default=None)
    closed_at = Timestamptz(null=True, default=None)
    rating = Integer(null=True, default=None)
    rating_comment = Varchar(length=500, default="")
    reopen_count = Integer(default=0)


class OrderNote(Table, tablename="wish_order_note"):
    id = Serial(primary_key=True)
    order = ForeignKey(Order, on_delete=OnDelete.restrict, index=True)
    author = ForeignKey(User, on_delete=OnDelete.restrict)
    kind = Varchar(length=16, default="progress")  # progress | done | reopen | confirm
    body = Text(default="")
    created_at = Timestamptz()
