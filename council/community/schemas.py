"""What the roster API takes and gives."""

from __future__ import annotations

from typing import Annotated

import msgspec

from council.community.tables import NodeKind
from council.structs import Strict

PlaceName = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
PersonName = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
ResidentCode = Annotated[str, msgspec.Meta(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_\-]+$")]
Phone = Annotated[str, msgspec.Meta(max_length=20)]


class NodeIn(Strict):
    name: PlaceName
    kind: NodeKind
    parent_id: int | None = None


class NodeRenameIn(Strict):
    name: PlaceName


class NodeMoveIn(Strict):
    parent_id: int


class ResidentIn(Strict):
    code: ResidentCode
    name: PersonName
    household_id: int
    phone: Phone = ""
    is_representative: bool = False


class ResidentUpdateIn(Strict):
    name: PersonName
    phone: Phone = ""
    is_representative: bool = False


class ResidentMoveIn(Strict):
    household_id: int


class NodeOut(msgspec.Struct):
    id: int
    kind: NodeKind
    name: str
    parent_id: int | None
    path: str
    active: bool
    children: int = 0
    residents: int = 0


class ResidentOut(msgspec.Struct):
    id: int
    code: str
    name: str
    phone: str
    household_id: int
    household: str
    is_representative: bool
    active: bool
    place: str = ""


class ResidentPage(msgspec.Struct):
    items: list[ResidentOut]
    total: int
    offset: int
    limit: int


class ImportProblem(msgspec.Struct):
    row: int
    field: str
    message: str


class ImportReport(msgspec.Struct):
    ok: bool
    imported: int
    households_created: int
    problems: list[ImportProblem]
