from __future__ import annotations

from enum import Enum

from piccolo.columns import Boolean, ForeignKey, Serial, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from council.i18n import N_, Term


class NodeKind(str, Enum):
    community = "community"
    grid = "grid"
    building = "building"
    unit = "unit"
    household = "household"


KIND_TERMS: dict[NodeKind, Term] = {
    NodeKind.community: Term(N_("community")),
    NodeKind.grid: Term(N_("grid")),
    NodeKind.building: Term(N_("building")),
    NodeKind.unit: Term(N_("unit")),
    NodeKind.household: Term(N_("household")),
}

# Which kind may hang under which.
CHILD_KIND: dict[NodeKind, NodeKind] = {
    NodeKind.community: NodeKind.grid,
    NodeKind.grid: NodeKind.building,
    NodeKind.building: NodeKind.unit,
    NodeKind.unit: NodeKind.household,
}


class Node(Table, tablename="node"):
    id = Serial(primary_key=True)
    """A place in the territory tree: community → grid → building → unit → household.

    `path` lists the ids from the root down to this node ("/1/4/17/"), so "is X inside
    scope S" is a prefix test.
    """

    kind = Varchar(length=16, choices=NodeKind)
    name = Varchar(length=100)
    parent: ForeignKey[Node] = ForeignKey("self", null=True, on_delete=OnDelete.restrict)
    path = Varchar(length=255, index=True, default="")
    active = Boolean(default=True)
    created_at = Timestamptz()


class Resident(Table, tablename="resident"):
    """A person on the roster. Never deleted once on it: deactivated instead."""

    id = Serial(primary_key=True)
    code = Varchar(length=32, unique=True)
    name = Varchar(length=100)
    phone = Varchar(length=20, default="")
    household = ForeignKey(Node, on_delete=OnDelete.restrict, index=True)
    is_representative = Boolean(default=False)
    active = Boolean(default=True)
    created_at = Timestamptz()
    updated_at = Timestamptz()
